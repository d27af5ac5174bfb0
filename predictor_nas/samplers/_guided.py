"""BANANAS-style predictor-guided search as an Optuna sampler (White et al., 2021)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.samplers._acquisition import ACQUISITIONS, acquisition_scores, best_index
from predictor_nas.spaces import Arch, SearchSpace, get_space

if TYPE_CHECKING:
    from predictor_nas.predictors import Predictor

_OWNER = "PredictorGuidedSampler"


class PredictorGuidedSampler(BaseSampler):
    """Propose the candidate architecture an accuracy predictor likes best (BANANAS-style).

    The first ``n_warmup`` completed trials are uniform random architectures (never a repeat).
    After that, every proposal

    1. refits the predictor on all COMPLETE trials (architecture from the params, target = the
       trial's value, negated for a minimised study, so the predictor always maximises);
    2. builds a candidate pool: ``n_mutations_per_parent`` mutations of each of the ``n_parents``
       best architectures (alternately 1 and 2 edits), topped up with uniform random
       architectures to ``n_candidates`` in all;
    3. drops every candidate whose ``canonical_key`` (isomorphic cells share one) belongs to a
       trial that is complete, pruned, running or waiting, and duplicates within the pool;
       failed trials gave no result, so their architectures may be proposed again;
    4. scores the rest with the acquisition and proposes the best (ties: higher predicted mean,
       then pool order):

       * ``"ei"``: expected improvement over the best observed (not predicted) target, with the
         predictor's mean and std as a Gaussian;
       * ``"ucb"``: ``mean + ucb_kappa * std``;
       * ``"ts"``: independent Thompson sampling, one draw per candidate from ``N(mean, std^2)``.

       A predictor without uncertainty (``std is None``) is scored with ``std = 0``.

    **Parallel workers (batch proposals).** RUNNING/WAITING trials of other workers are pending:
    their keys are excluded from the pool and they enter the fit with a *kriging believer* value,
    the mean the predictor (fitted on the complete trials) gives them; the predictor is then
    refitted on complete + pending. So the acquisition sees the pending archs as already
    evaluated at their predicted value and the next worker is steered elsewhere. The EI
    incumbent stays the best *observed* target. (Two fits per proposal while anything is pending.)

    **State** is the study itself (as for ``RegularizedEvolutionSampler``): a resumed or shared
    study needs nothing else. Everything random (warm-up draws, mutations, random candidates,
    Thompson draws, the predictors' seed) comes from one ``numpy`` Generator seeded by ``seed``,
    so the same study and seed give the same proposal. The fit on the complete trials is cached
    on the instance and reused while they do not change (parallel workers adding pending trials).

    Args:
        space: The search space (or its name); its params must be in the study as categoricals.
        predictor: A registered predictor name (``"xgb"``, ``"ridge"``, ``"gin"``), a callable
            ``seed -> Predictor`` (any predictor plugs in), or an unfitted ``Predictor`` instance
            (deep-copied for each fit, so it keeps its own seed and is never modified).
        predictor_kwargs: Constructor arguments for a named predictor (``make_predictor``).
        acquisition: ``"ei"``, ``"ucb"`` or ``"ts"``.
        n_warmup: Completed trials before the predictor is used (>= 2; a fit needs 2 points).
        n_candidates: Size of the candidate pool (mutations + random top-up).
        n_mutations_per_parent: Mutations per parent.
        n_parents: How many of the best architectures are mutated.
        ucb_kappa: Exploration weight of UCB.
        seed: Seed of the sampler's random generator.
    """

    def __init__(
        self,
        space: SearchSpace | str = "nb201",
        *,
        predictor: str | Callable[[int], Predictor] | Predictor = "xgb",
        predictor_kwargs: Mapping[str, Any] | None = None,
        acquisition: str = "ei",
        n_warmup: int = 10,
        n_candidates: int = 200,
        n_mutations_per_parent: int = 10,
        n_parents: int = 10,
        ucb_kappa: float = 2.0,
        seed: int | None = None,
    ) -> None:
        self.space = get_space(space) if isinstance(space, str) else space
        if not isinstance(self.space, SearchSpace):
            raise param_error("space", _OWNER, "a SearchSpace or a space name", space)
        if not (isinstance(predictor, str) or callable(predictor) or _is_predictor(predictor)):
            raise param_error(
                "predictor", _OWNER, "a predictor name, a callable seed -> Predictor", predictor
            )
        if isinstance(predictor, str):
            from predictor_nas.predictors import PREDICTORS

            check_choice(predictor, "predictor", _OWNER, sorted(PREDICTORS))
        self.predictor = predictor
        self.predictor_kwargs = dict(predictor_kwargs or {})
        self.acquisition = check_choice(acquisition, "acquisition", _OWNER, ACQUISITIONS)
        self.n_warmup = check_int(n_warmup, "n_warmup", _OWNER, minimum=2)
        self.n_candidates = check_int(n_candidates, "n_candidates", _OWNER, minimum=1)
        self.n_mutations_per_parent = check_int(
            n_mutations_per_parent, "n_mutations_per_parent", _OWNER, minimum=0
        )
        self.n_parents = check_int(n_parents, "n_parents", _OWNER, minimum=1)
        self.ucb_kappa = check_float(ucb_kappa, "ucb_kappa", _OWNER, minimum=0.0)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=None if seed is None else int(self._rng.integers(2**31)))
        #: Seed of every predictor this instance fits (the data, not the seed, changes per fit).
        self._predictor_seed = int(self._rng.integers(2**31))
        self._names = list(self.space.param_names)
        self._fit_cache: tuple[Any, Any] | None = None
        #: Wall seconds of each ``sample_relative`` call (warm-up ones included).
        self.proposal_seconds: list[float] = []
        #: Per proposal: ``"warmup"``, ``"predictor"`` or ``"fallback"`` (pool empty).
        self.proposal_kinds: list[str] = []

    def reseed_rng(self) -> None:
        """Reseed from fresh OS entropy (Optuna calls this for parallel workers)."""
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    # ----------------------------------------------------------------- Optuna API
    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The space's categorical params, when every completed trial has them.

        As for the evolution sampler the relative space is the intersection over completed
        trials, restricted to categoricals; it is used only when it holds all of the space's
        decisions (otherwise everything falls back to ``sample_independent``).
        """
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete:
            return {}
        inter = optuna.search_space.intersection_search_space(complete)
        space = {
            k: d
            for k, d in inter.items()
            if k in self._names and isinstance(d, CategoricalDistribution)
        }
        if set(space) != set(self._names):
            return {}
        return {n: space[n] for n in self._names}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Propose all of the space's params at once: random in warm-up, then the acquisition's
        best candidate."""
        if not search_space:
            return {}
        if len(study.directions) > 1:
            raise ValueError(f"{_OWNER} supports single-objective studies only.")
        t0 = time.perf_counter()
        arch, kind = self._propose(study, trial)
        self.proposal_seconds.append(time.perf_counter() - t0)
        self.proposal_kinds.append(kind)
        return self.space.to_params(arch)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Params outside the relative space (first trial, other params) are uniform random."""
        if isinstance(param_distribution, CategoricalDistribution):
            choices = param_distribution.choices
            return choices[int(self._rng.integers(len(choices)))]
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # ----------------------------------------------------------------- the proposal
    def _arch(self, params: Mapping[str, Any]) -> Arch | None:
        """The architecture of a trial's params, or None if it lacks a decision / is invalid."""
        try:
            return self.space.make([params[n] for n in self._names])
        except (KeyError, ValueError):
            return None

    def _propose(self, study: Study, trial: FrozenTrial) -> tuple[Arch, str]:
        complete: list[tuple[Arch, float]] = []
        pending: list[Arch] = []
        used: set[str] = set()
        maximize = study.direction == StudyDirection.MAXIMIZE
        for t in study.get_trials(deepcopy=False):
            if t.state == TrialState.FAIL or t.number == trial.number:
                continue
            a = self._arch(t.params)
            if a is None:
                continue
            used.add(self.space.canonical_key(a))
            if t.state == TrialState.COMPLETE and t.value is not None and np.isfinite(t.value):
                complete.append((a, float(t.value) if maximize else -float(t.value)))
            elif t.state in (TrialState.RUNNING, TrialState.WAITING):
                pending.append(a)
        if len(complete) < self.n_warmup:
            return self._random_unused(used), "warmup"

        candidates = self._candidates(complete, used)
        if not candidates:
            return self._random_unused(used), "fallback"
        model = self._fit(complete, pending)
        pred = model.predict(candidates)
        best = max(y for _, y in complete)
        scores = acquisition_scores(
            self.acquisition, pred.mean, pred.std, best=best, rng=self._rng, kappa=self.ucb_kappa
        )
        return candidates[best_index(scores, pred.mean)], "predictor"

    def _random_unused(self, used: set[str], tries: int = 1000) -> Arch:
        """A uniform random architecture whose key is unused (any one if none is found)."""
        arch = self.space.sample(self._rng)
        for _ in range(tries):
            if self.space.canonical_key(arch) not in used:
                return arch
            arch = self.space.sample(self._rng)
        return arch

    def _candidates(self, complete: Sequence[tuple[Arch, float]], used: set[str]) -> list[Arch]:
        """Mutations of the best archs, then random archs; unused keys only, no duplicates."""
        order = sorted(range(len(complete)), key=lambda i: (-complete[i][1], i))
        parents = [complete[i][0] for i in order[: self.n_parents]]
        seen = set(used)
        out: list[Arch] = []

        def add(a: Arch) -> None:
            k = self.space.canonical_key(a)
            if k not in seen:
                seen.add(k)
                out.append(a)

        n_mut = 0
        for p in parents:
            for j in range(self.n_mutations_per_parent):
                if n_mut >= self.n_candidates:
                    break
                child = self.space.mutate(p, self._rng)
                if j % 2 == 1:  # two edits: mutate again (may hit the same decision)
                    child = self.space.mutate(child, self._rng)
                add(child)
                n_mut += 1
        for _ in range(max(self.n_candidates - n_mut, 0)):
            add(self.space.sample(self._rng))
        return out

    def _new_predictor(self) -> Predictor:
        seed = self._predictor_seed
        if isinstance(self.predictor, str):
            from predictor_nas.predictors import make_predictor

            kwargs = {"space": self.space, **self.predictor_kwargs}
            return make_predictor(self.predictor, seed=seed, **kwargs)
        if _is_predictor(self.predictor):
            return copy.deepcopy(self.predictor)  # never refit the caller's object in place
        return self.predictor(seed)  # type: ignore[operator,misc]

    def _fit(self, complete: Sequence[tuple[Arch, float]], pending: Sequence[Arch]) -> Predictor:
        """Fit on the complete trials, then (if any) again with the pending ones at the mean
        predicted for them (kriging believer).

        The fit on the complete trials is cached on the instance and reused while they are
        unchanged, e.g. by a worker whose later proposals only add pending trials.
        """
        archs = [a for a, _ in complete]
        y = np.array([v for _, v in complete], dtype=np.float64)
        key = (tuple(a.ops for a in archs), y.tobytes())
        if self._fit_cache is not None and self._fit_cache[0] == key:
            model = self._fit_cache[1]
        else:
            model = self._new_predictor().fit(archs, y)
            self._fit_cache = (key, model)
        if not pending:
            return model
        believed = model.predict(list(pending)).mean
        return self._new_predictor().fit([*archs, *pending], np.concatenate([y, believed]))


def _is_predictor(obj: Any) -> bool:
    return hasattr(obj, "fit") and hasattr(obj, "predict") and not isinstance(obj, type)
