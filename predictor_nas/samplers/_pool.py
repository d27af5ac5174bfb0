"""The proposal core: candidate pools, unused-architecture draws and fit-and-rank.

Every predictor-steered proposer of the package (``PredictorGuidedSampler``,
``MOPredictorGuidedSampler``, ``TopKSampler`` (the ``topk`` real search), the multi-fidelity
proposer, the distributed coordinator's scorer) and the random-unused draws of ``SpaceSampler``
build their proposals from these pieces, so a pool means the same thing everywhere:

* ``CandidatePool``: candidates in the order they were added, one per dedup key, never a key that
  is already used (a trial of the study, a planned arch), optionally only those ``accept`` takes;
* ``mutants``: ``n`` mutations per parent, ``1, 2, ..., max_edits`` edits in turn;
* ``draw_unused``: rejection sampling of unused candidates from a draw;
* ``top_k`` / ``fit_and_rank``: the acquisition's best candidates (ties: higher predicted mean,
  then pool order);
* ``PredictorScorer``: a predictor refitted when the results change, scoring single proposals.

The order in which random numbers are drawn is part of each function's contract (the committed
trajectories reproduce bit for bit), so it is documented per function.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from predictor_nas.predictors import make_predictor
from predictor_nas.samplers._acquisition import acquisition_scores, expected_improvement, top_k

if TYPE_CHECKING:
    from predictor_nas.spaces import Arch, SearchSpace

T = TypeVar("T")

__all__ = [
    "CandidatePool",
    "PredictorScorer",
    "draw_unused",
    "fit_and_rank",
    "mutants",
    "mutation_pool",
    "top_k",
]


class CandidatePool(Generic[T]):
    """Distinct, unused candidates in the order they were added.

    Args:
        key: Dedup key of a candidate (``canonical_key``, exact operations, a memoised key...).
        used: Keys that never enter (copied; the caller's set is not modified).
        accept: Optional filter; a candidate it refuses is dropped (its key stays free).
    """

    def __init__(
        self,
        key: Callable[[T], Hashable],
        used: Iterable[Hashable] = (),
        accept: Callable[[T], bool] | None = None,
    ) -> None:
        self.key = key
        self.seen: set[Hashable] = set(used)
        self.accept = accept
        self.items: list[T] = []

    def add(self, item: T) -> bool:
        """Add ``item`` unless its key is used or seen (or ``accept`` refuses it)."""
        k = self.key(item)
        if k in self.seen or (self.accept is not None and not self.accept(item)):
            return False
        self.seen.add(k)
        self.items.append(item)
        return True

    def extend(self, items: Iterable[T]) -> CandidatePool[T]:
        """``add`` every item in turn; returns the pool."""
        for item in items:
            self.add(item)
        return self

    def fill(self, draw: Callable[[], T], size: int, max_draws: int) -> CandidatePool[T]:
        """Add ``draw()`` results until the pool holds ``size`` (at most ``max_draws`` draws)."""
        draws = 0
        while len(self.items) < size and draws < max_draws:
            self.add(draw())
            draws += 1
        return self

    def __len__(self) -> int:
        return len(self.items)


def mutants(
    space: SearchSpace,
    parents: Iterable[Arch],
    n_per_parent: int,
    rng: np.random.Generator,
    *,
    max_edits: int = 2,
) -> Iterator[Arch]:
    """``n_per_parent`` mutations of each parent in turn, lazily.

    The ``j``-th mutation of a parent applies ``space.mutate`` ``j % max_edits + 1`` times (1, 2,
    ..., ``max_edits`` edits in turn; two moves may undo each other). Random numbers are drawn
    only for the mutations consumed, so ``itertools.islice`` caps the draws too.
    """
    for p in parents:
        for j in range(n_per_parent):
            child = space.mutate(p, rng)
            for _ in range(j % max_edits):
                child = space.mutate(child, rng)
            yield child


def mutation_pool(
    space: SearchSpace,
    rng: np.random.Generator,
    parents: Sequence[Arch],
    exclude: set[str],
    size: int,
    n_mutations: int,
) -> list[Arch]:
    """Mutations of ``parents`` (alternately 1 and 2 edits), topped up with uniform random archs
    (at most ``50 * size`` draws) to ``size``; canonical keys outside ``exclude`` only, one per key.

    The ``topk`` real search's pool (``TopKSampler``).
    """
    pool = CandidatePool(space.canonical_key, exclude)
    pool.extend(mutants(space, parents, n_mutations, rng))
    pool.fill(lambda: space.sample(rng), size, 50 * size)
    return pool.items[:size]


def draw_unused(
    draw: Callable[[], T],
    key: Callable[[T], Hashable],
    used: Iterable[Hashable],
    *,
    n: int = 1,
    tries: int,
    accept: Callable[[T], bool] | None = None,
) -> list[T]:
    """Up to ``n`` distinct candidates from ``draw()`` whose keys are not in ``used``.

    Draws until ``n`` are found or ``tries`` draws were made (rejection sampling); the caller
    decides what to do when fewer came back (enumerate the space, allow a repeat, give up).
    """
    pool: CandidatePool[T] = CandidatePool(key, used, accept)
    for _ in range(tries):
        if len(pool) >= n:
            break
        pool.add(draw())
    return pool.items


def fit_and_rank(
    model: Any,
    archs: Sequence[Any],
    y: np.ndarray,
    pool: Sequence[Any],
    k: int,
    *,
    acquisition: str = "ei",
    best: float | None = None,
    rng: np.random.Generator | None = None,
    kappa: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Fit ``model`` on ``(archs, y)`` (``None`` archs: ``model`` is already fitted), score
    ``pool`` by the acquisition and return the ``top_k`` indices with the predicted mean and std.

    Args:
        model: An unfitted ``Predictor`` (or a fitted one with ``archs=None``).
        archs: (n,) training inputs, or None.
        y: (n,) targets, higher = better.
        pool: (m,) candidates.
        k: How many to return.
        acquisition: A name of ``ACQUISITIONS``.
        best: The EI incumbent (default: ``max(y)``).
        rng: Generator of Thompson draws (default: seeded 0).
        kappa: UCB's exploration weight.

    Returns:
        ``(idx, mean, std)``: (min(k, m),) indices, (m,) means and (m,) stds (None without one).
    """
    if archs is not None:
        model.fit(archs, y)
    pred = model.predict(pool)
    best = float(np.max(y)) if best is None else best
    rng = np.random.default_rng(0) if rng is None else rng
    scores = acquisition_scores(acquisition, pred.mean, pred.std, best=best, rng=rng, kappa=kappa)
    return top_k(scores, pred.mean, k), pred.mean, pred.std


class PredictorScorer:
    """A predictor's score of single proposals, refitted whenever new results have arrived.

    The distributed coordinator stores it on every proposal (``predictor_score`` user attr).

    Args:
        space: The search space.
        predictor: A registered predictor name.
        kwargs: Its constructor arguments.
        seed: Its seed.
    """

    def __init__(self, space: SearchSpace, predictor: str, kwargs: dict, seed: int) -> None:
        self.space = space
        self.name = predictor
        self.kwargs = kwargs
        self.seed = seed
        self._key: tuple | None = None
        self._model: Any = None
        self._best = -np.inf
        self._n = 0

    def refit(self, complete: Sequence[Any], maximize: bool, min_fit: int = 5) -> None:
        """Refit on COMPLETE trials (``FrozenTrial``) unless they are the last fit's; no model
        below ``min_fit`` of them."""
        key = tuple(t.number for t in complete)
        if key == self._key:
            return
        self._key = key
        if len(complete) < min_fit:
            self._model = None
            return

        archs = [self.space.from_params(t.params) for t in complete]
        y = np.array([t.value if maximize else -t.value for t in complete], dtype=np.float64)
        self._model = make_predictor(self.name, seed=self.seed, space=self.space, **self.kwargs)
        self._model.fit(archs, y)
        self._best = float(y.max())
        self._n = len(complete)

    def score(self, arch: Arch) -> dict[str, Any]:
        """``{"predictor_score": {mean, std, expected_improvement, predictor, n_fit}}``, or
        ``{}`` before the first fit."""
        if self._model is None:
            return {}
        pred = self._model.predict([arch])
        std = None if pred.std is None else float(pred.std[0])
        ei = expected_improvement(pred.mean, pred.std, self._best)[0]
        return {
            "predictor_score": {
                "mean": float(pred.mean[0]),
                "std": std,
                "expected_improvement": float(ei),
                "predictor": self.name,
                "n_fit": self._n,
            }
        }
