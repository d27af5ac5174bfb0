"""The ``topk`` strategy's round plans (``_Planner``) and the predictor-fit targets of trained
runs (see ``predictor_nas.search._real`` for the strategy)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.samplers import ProxyPrior, TablePrior, fit_and_rank, mutation_pool
from predictor_nas.spaces import SearchSpace

log = logging.getLogger(__name__)


def _step_seed(seed: int, *keys: int) -> int:
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0])


def _curve(t: FrozenTrial) -> np.ndarray:
    steps = sorted(t.intermediate_values)
    return np.array([t.intermediate_values[s] for s in steps], dtype=np.float64)


def _complete_curves(trials: Sequence[FrozenTrial], epochs: int) -> np.ndarray:
    """Validation curves (m, epochs) of the runs that trained all ``epochs``."""
    rows = [
        c
        for c in (_curve(t) for t in trials if t.state == TrialState.COMPLETE)
        if len(c) == epochs
    ]
    return np.array(rows, dtype=np.float64).reshape(len(rows), epochs)


def _fit_targets(trials: Sequence[FrozenTrial], epochs: int) -> np.ndarray:
    """Targets of the predictor fit: a finished run's final validation accuracy; a pruned run's
    last value plus the mean gain from that epoch to the last over the finished runs (its last
    value alone, while none finished)."""
    full = _complete_curves(trials, epochs)
    out = []
    for t in trials:
        if t.state == TrialState.COMPLETE:
            out.append(float(t.value))
            continue
        c = _curve(t)
        last = float(c[-1]) if len(c) else 0.0
        gain = float(np.mean(full[:, -1] - full[:, len(c) - 1])) if len(full) and len(c) else 0.0
        out.append(min(100.0, last + gain))
    return np.array(out, dtype=np.float64)


#: The ``topk`` pool (kept under its old name for callers and tests).
_candidate_pool = mutation_pool


@dataclass(eq=False)
class _Planner:
    """Round plans of the ``"topk"`` strategy, stored in the study as user attrs ``plan_<r>``.

    Round ``r``'s plan depends only on the runs of rounds ``< r`` (sorted by round and rank) and
    the seed, so recomputing it after a crash gives the same plan; it is stored anyway so that
    the study shows what was planned and predicted. Settings as ``run_real_search`` checked
    them (``n_mutations`` per parent).
    """

    space: SearchSpace
    study: optuna.Study
    _: KW_ONLY
    seed: int
    top_k: int
    n_init: int
    pool_size: int
    n_parents: int
    n_mutations: int
    predictor: str
    predictor_kwargs: Mapping[str, Any]
    acquisition: str
    prior: TablePrior | ProxyPrior | None
    epochs: int

    def n_rounds(self) -> int:
        attrs = self.study.user_attrs
        r = 0
        while f"plan_{r}" in attrs:
            r += 1
        return r

    def next_item(self, finished: Sequence[FrozenTrial]) -> dict[str, Any]:
        """The first planned arch not trained yet, planning a new round when all are."""
        done = {t.user_attrs.get("canonical_key") for t in finished}
        attrs = self.study.user_attrs
        r = 0
        while True:
            plan = attrs.get(f"plan_{r}")
            if plan is None:
                plan = self._plan(r, [t for t in finished if t.user_attrs.get("round", 0) < r])
                self.study.set_user_attr(f"plan_{r}", plan)
                if not plan:
                    raise InvalidParameterError(
                        "The candidate pool is empty: every architecture of the space was "
                        "trained already."
                    )
            for item in plan:
                if item["key"] not in done:
                    return item
            r += 1

    def _plan(self, r: int, before: list[FrozenTrial]) -> list[dict[str, Any]]:
        space = self.space
        rng = np.random.default_rng([self.seed, r, 1])
        before = sorted(before, key=lambda t: (t.user_attrs.get("round", 0),
                                               t.user_attrs.get("rank", 0), t.number))
        archs = [space.parse(t.user_attrs["arch"]) for t in before]
        y = _fit_targets(before, self.epochs)
        planned = set()
        for q in range(r):
            planned |= {it["key"] for it in self.study.user_attrs.get(f"plan_{q}", [])}
        exclude = planned | {space.canonical_key(a) for a in archs}
        order = np.argsort(-y, kind="stable") if len(y) else np.array([], dtype=int)
        parents = [archs[i] for i in order[: self.n_parents]] if r > 0 else []
        pool = _candidate_pool(space, rng, parents, exclude, self.pool_size, self.n_mutations)
        k = self.n_init if r == 0 else self.top_k
        mean = std = None
        if r == 0:
            if self.prior is not None:
                mean = self.prior.score(pool)
                idx = np.lexsort((np.arange(len(pool)), -mean))[:k]
            else:
                idx = np.arange(min(k, len(pool)))
        else:
            from predictor_nas.predictors import make_predictor

            pred = make_predictor(
                self.predictor, seed=_step_seed(self.seed, r, 2),
                extra=None if self.prior is None else self.prior.features,
                **{"space": self.space, **self.predictor_kwargs},
            )
            complete = [t.value for t in before if t.state == TrialState.COMPLETE]
            best = max(complete) if complete else float(np.max(y))
            idx, mean, std = fit_and_rank(
                pred, archs, y, pool, k, acquisition=self.acquisition, best=best,
                rng=np.random.default_rng([self.seed, r, 3]),
            )
        plan = []
        for rank, i in enumerate(idx):
            a = pool[int(i)]
            plan.append({
                "round": r,
                "rank": rank,
                "arch": space.format(a),
                "key": space.canonical_key(a),
                "pred_mean": None if mean is None else float(mean[i]),
                "pred_std": None if std is None else float(std[i]),
            })
        log.info("round %d: planned %d archs from a pool of %d", r, len(plan), len(pool))
        return plan
