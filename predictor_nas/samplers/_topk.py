"""``TopKSampler``: the ``topk`` strategy of the real-training search as an Optuna sampler.

Round by round (the plans are stored in the study, so any instance with the same seed continues
where another stopped):

1. build a candidate pool of ``pool_size`` architectures (``mutation_pool``):
   ``n_mutations_per_parent`` mutations (1 or 2 edits) of each of the ``n_parents`` best
   finished trials, topped up with uniform random ones; a cell isomorphic to one already
   finished or planned (same ``canonical_key``) never enters;
2. pick from the pool: round 0 takes ``n_init`` archs at random, or the ``n_init`` best by a
   warm-start prior (``TablePrior``, ``ProxyPrior``, ``SupernetPrior``); later rounds fit the
   predictor (the prior's score as an extra feature when given) on every finished trial of the
   earlier rounds (a pruned one with the target ``fit_targets`` extrapolates) and take the
   ``top_k`` best by the acquisition (``fit_and_rank``);
3. propose the planned archs one trial at a time, the first one not finished yet; a new round is
   planned once every arch of the last plan finished.

Each proposed trial gets the user attributes ``round``, ``rank`` (its place in the round's
plan), ``pred_mean`` and ``pred_std`` (the predictor's mean and std, ``None`` in round 0 without
a prior); each round's plan is the study user attribute ``plan_<r>`` (a list of ``{round, rank,
arch, key, pred_mean, pred_std}``). Round ``r``'s plan depends only on the seed and the trials of
rounds ``< r`` (ordered by round, rank and number), so a crashed search resumes exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.predictors import PREDICTORS, make_predictor
from predictor_nas.samplers._acquisition import ACQUISITIONS
from predictor_nas.samplers._pool import fit_and_rank, mutation_pool
from predictor_nas.samplers._space_sampler import SpaceSampler
from predictor_nas.spaces import Arch, SearchSpace

__all__ = ["PLAN_ATTR", "TOPK_ATTRS", "TopKSampler", "complete_curves", "fit_targets"]

log = logging.getLogger(__name__)

#: Prefix of the study user attributes holding the round plans (``plan_0``, ``plan_1``...).
PLAN_ATTR = "plan_"
#: Trial user attributes ``TopKSampler`` sets on every trial it proposes.
TOPK_ATTRS = ("round", "rank", "pred_mean", "pred_std")
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _curve(t: FrozenTrial) -> np.ndarray:
    """(n,) intermediate values of ``t`` in step order."""
    steps = sorted(t.intermediate_values)
    return np.array([t.intermediate_values[s] for s in steps], dtype=np.float64)


def complete_curves(trials: Sequence[FrozenTrial], epochs: int) -> np.ndarray:
    """Learning curves of the COMPLETE trials that reported all ``epochs`` steps.

    Args:
        trials: Any trials (others are skipped).
        epochs: Length of a full curve.

    Returns:
        (m, epochs) float64 array, one row per such trial in the order given.
    """
    rows = [
        c
        for c in (_curve(t) for t in trials if t.state == TrialState.COMPLETE)
        if len(c) == epochs
    ]
    return np.array(rows, dtype=np.float64).reshape(len(rows), epochs)


def fit_targets(
    trials: Sequence[FrozenTrial],
    epochs: int | None,
    *,
    maximize: bool = True,
    max_target: float | None = None,
) -> np.ndarray:
    """Targets of the predictor fit (larger is better), one per COMPLETE or PRUNED trial.

    A COMPLETE trial's target is its value. A pruned trial's is its last reported value plus the
    mean gain that the complete ``epochs``-step curves made from that step to the last (its last
    value alone while there is none, or with ``epochs=None``; 0 if it reported nothing), capped
    at ``max_target``. When minimising, values and curves are negated first.

    Args:
        trials: COMPLETE or PRUNED trials.
        epochs: Length of a full curve (``None``: no extrapolation of pruned runs).
        maximize: Whether the study maximises.
        max_target: Cap of a pruned run's extrapolated target in larger-is-better terms (100 for
            an accuracy in percent); ``None``: no cap.

    Returns:
        (n,) float64 targets in the order of ``trials``.
    """
    sign = 1.0 if maximize else -1.0
    full = sign * complete_curves(trials, epochs) if epochs else np.zeros((0, 1))
    out = []
    for t in trials:
        if t.state == TrialState.COMPLETE:
            out.append(sign * float(t.value))
            continue
        c = sign * _curve(t)
        last = float(c[-1]) if len(c) else 0.0
        gain = float(np.mean(full[:, -1] - full[:, len(c) - 1])) if len(full) and len(c) else 0.0
        out.append(last + gain if max_target is None else min(max_target, last + gain))
    return np.array(out, dtype=np.float64)


def _step_seed(seed: int, *keys: int) -> int:
    """A 32-bit seed derived from ``(seed, *keys)``."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0])


def _set_user_attr(study: Study, trial: FrozenTrial, key: str, value: Any) -> None:
    """Store a user attribute on the trial being asked, also in Optuna's cached copy of it."""
    study._storage.set_trial_user_attr(trial._trial_id, key, value)
    trial.user_attrs[key] = value


class TopKSampler(SpaceSampler):
    """Predictor-in-the-loop rounds: train the top-k of a mutation pool (see module docstring).

    The ``topk`` strategy of ``run_real_search``; it works in any single-objective study whose
    objective asks the space's decisions (a table objective too). Every proposal is a pure
    function of the seed and the study (the plans are stored there), so a fresh instance resumes
    an interrupted search exactly.

    Args:
        space: The search space (or its name).
        seed: Seed of the pools, the predictor and the acquisition; ``None`` draws one.
        top_k: Architectures per round after round 0.
        n_init: Architectures of round 0 (>= 2; default ``max(top_k, 2)``).
        pool_size: Candidates scored per round.
        n_parents: Best finished architectures whose mutations enter the pool.
        n_mutations_per_parent: Mutations per parent.
        predictor: A registered predictor name (``predictor_nas.predictors.PREDICTORS``).
        predictor_kwargs: Its constructor arguments (``space`` is given).
        acquisition: ``"ei"``, ``"ucb"`` or ``"ts"`` (``ACQUISITIONS``).
        prior: Warm start: an object with ``score(archs) -> (n,)`` (higher is better) and
            ``features`` (an extra predictor feature), e.g. ``TablePrior`` or ``ProxyPrior``;
            round 0 takes its ``n_init`` best.
        epochs: Length of a full learning curve, to extrapolate pruned trials' targets
            (``fit_targets``); ``None``: a pruned trial counts with its last value.
        max_target: Cap of a pruned trial's extrapolated target (100 for accuracies in percent).

    Raises:
        InvalidParameterError: An argument out of range, or (when asked) the pool is empty
            because every architecture of the space was finished or planned already.
    """

    _owner = "TopKSampler"

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        seed: int | None = None,
        top_k: int = 4,
        n_init: int | None = None,
        pool_size: int = 500,
        n_parents: int = 5,
        n_mutations_per_parent: int = 20,
        predictor: str = "xgb",
        predictor_kwargs: Mapping[str, Any] | None = None,
        acquisition: str = "ei",
        prior: Any = None,
        epochs: int | None = None,
        max_target: float | None = None,
    ) -> None:
        super().__init__(space, canonical=True, seed=seed)
        owner = self._owner
        self.top_k = check_int(top_k, "top_k", owner, minimum=1)
        self.n_init = check_int(max(self.top_k, 2) if n_init is None else n_init, "n_init",
                                owner, minimum=2)
        self.pool_size = check_int(pool_size, "pool_size", owner, minimum=1)
        self.n_parents = check_int(n_parents, "n_parents", owner, minimum=0)
        self.n_mutations = check_int(n_mutations_per_parent, "n_mutations_per_parent", owner,
                                     minimum=0)

        self.predictor = check_choice(predictor, "predictor", owner, sorted(PREDICTORS))
        if predictor_kwargs is not None and not isinstance(predictor_kwargs, Mapping):
            raise param_error("predictor_kwargs", owner, "None or a mapping", predictor_kwargs)
        self.predictor_kwargs = dict(predictor_kwargs or {})
        self.acquisition = check_choice(acquisition, "acquisition", owner, ACQUISITIONS)
        if prior is not None and not callable(getattr(prior, "score", None)):
            raise param_error("prior", owner, "None or an object with score(archs), e.g. a "
                              "TablePrior or a ProxyPrior", prior)
        self.prior = prior
        self.epochs = None if epochs is None else check_int(epochs, "epochs", owner, minimum=1)
        self.max_target = (
            None if max_target is None else check_float(max_target, "max_target", owner)
        )

    @staticmethod
    def n_rounds(study: Study) -> int:
        """How many rounds have been planned in ``study`` (its ``plan_<r>`` user attributes)."""
        attrs = study.user_attrs
        r = 0
        while f"{PLAN_ATTR}{r}" in attrs:
            r += 1
        return r

    # ----------------------------------------------------------------- proposals
    def _proposal(self, study: Study, trial: FrozenTrial) -> dict[str, Any]:
        """The params of the first planned arch not finished yet, computed once per trial;
        sets the trial's ``TOPK_ATTRS``."""
        tag = (study.study_name, trial.number)
        if self._cache is not None and self._cache[0] == tag:
            return self._cache[1]
        if len(study.directions) > 1:
            raise ValueError(f"{self._owner} supports single-objective studies only.")
        item = self._next_item(study)
        params = self.space.to_params(self.space.parse(item["arch"]))
        for k in TOPK_ATTRS:
            _set_user_attr(study, trial, k, item[k])
        self._cache = (tag, params)
        return params

    def _finished(self, study: Study) -> list[tuple[FrozenTrial, Arch]]:
        """The study's COMPLETE and PRUNED trials holding an arch of the space, by number."""
        out = []
        for t in sorted(study.get_trials(deepcopy=False, states=_FINISHED),
                        key=lambda t: t.number):
            arch = self._arch(t.params)
            if arch is not None:
                out.append((t, arch))
        return out

    def _next_item(self, study: Study) -> dict[str, Any]:
        """The first planned arch not finished yet, planning a new round when all are."""
        finished = self._finished(study)
        done = {self.key(a) for _, a in finished}
        attrs = study.user_attrs
        r = 0
        while True:
            plan = attrs.get(f"{PLAN_ATTR}{r}")
            if plan is None:
                before = [
                    (t, a) for t, a in finished
                    if t.user_attrs.get("round", 0) < r
                    and (t.state == TrialState.PRUNED or np.isfinite(t.value))
                ]
                plan = self._plan(study, r, before)
                study.set_user_attr(f"{PLAN_ATTR}{r}", plan)
                attrs = study.user_attrs
                if not plan:
                    raise InvalidParameterError(
                        "The candidate pool is empty: every architecture of the space was "
                        "trained already."
                    )
            for item in plan:
                if item["key"] not in done:
                    return item
            r += 1

    def _plan(
        self, study: Study, r: int, before: list[tuple[FrozenTrial, Arch]]
    ) -> list[dict[str, Any]]:
        """Round ``r``'s plan from the finished trials of the earlier rounds ``before``."""
        space = self.space
        rng = np.random.default_rng([self._base, r, 1])
        before = sorted(before, key=lambda ta: (ta[0].user_attrs.get("round", 0),
                                                ta[0].user_attrs.get("rank", 0), ta[0].number))
        trials = [t for t, _ in before]
        archs = [a for _, a in before]
        maximize = study.direction == StudyDirection.MAXIMIZE
        y = fit_targets(trials, self.epochs, maximize=maximize, max_target=self.max_target)
        planned = set()
        for q in range(r):
            planned |= {it["key"] for it in study.user_attrs.get(f"{PLAN_ATTR}{q}", [])}
        exclude = planned | {self.key(a) for a in archs}
        order = np.argsort(-y, kind="stable") if len(y) else np.array([], dtype=int)
        parents = [archs[i] for i in order[: self.n_parents]] if r > 0 else []
        pool = mutation_pool(space, rng, parents, exclude, self.pool_size, self.n_mutations)
        if r == 0 or not len(y):
            idx, mean, std = self._pick_initial(pool, self.n_init if r == 0 else self.top_k)
        else:
            idx, mean, std = self._pick_ranked(r, archs, trials, y, pool, maximize)
        plan = [
            {
                "round": r,
                "rank": rank,
                "arch": space.format(pool[int(i)]),
                "key": self.key(pool[int(i)]),
                "pred_mean": None if mean is None else float(mean[i]),
                "pred_std": None if std is None else float(std[i]),
            }
            for rank, i in enumerate(idx)
        ]
        log.info("round %d: planned %d archs from a pool of %d", r, len(plan), len(pool))
        return plan

    def _pick_initial(
        self, pool: list[Arch], k: int
    ) -> tuple[np.ndarray, np.ndarray | None, None]:
        """The first ``k`` of the (random) pool, or its ``k`` best by the prior."""
        if self.prior is None:
            return np.arange(min(k, len(pool))), None, None
        mean = self.prior.score(pool)
        return np.lexsort((np.arange(len(pool)), -mean))[:k], mean, None

    def _pick_ranked(
        self,
        r: int,
        archs: list[Arch],
        trials: list[FrozenTrial],
        y: np.ndarray,
        pool: list[Arch],
        maximize: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The ``top_k`` of ``pool`` by the acquisition of a predictor fitted on ``(archs, y)``."""

        pred = make_predictor(
            self.predictor, seed=_step_seed(self._base, r, 2),
            extra=None if self.prior is None else self.prior.features,
            **{"space": self.space, **self.predictor_kwargs},
        )
        sign = 1.0 if maximize else -1.0
        complete = [sign * t.value for t in trials if t.state == TrialState.COMPLETE]
        best = max(complete) if complete else float(np.max(y))
        return fit_and_rank(
            pred, archs, y, pool, self.top_k, acquisition=self.acquisition, best=best,
            rng=np.random.default_rng([self._base, r, 3]),
        )
