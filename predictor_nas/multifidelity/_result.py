"""The result of ``run_multifidelity`` and how it is read off a finished search."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas._validation import param_error
from predictor_nas.multifidelity._settings import OWNER

if TYPE_CHECKING:
    from predictor_nas.multifidelity._search import _Search


@dataclass
class MultiFidelityResult:
    """Outcome of a multi-fidelity search; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        best_arch: Incumbent: best observed value among the evaluations at the highest fidelity
            reached (the final fidelity once any arch got there). Chosen by validation only.
        best_fidelity: Fidelity at which the incumbent was chosen.
        best_val_observed: Its value at that fidelity.
        best_val: Its true value at the final fidelity (table mean / surrogate prediction).
        best_test: Its test accuracy at the final fidelity where the benchmark has one.
        optimum_val: Best final value of the whole space when known (tables), else None.
        regret_val: ``optimum_val - best_val`` when known, else None.
        n_evaluations: Evaluations (trials) made, promotions included.
        n_full_evaluations: Evaluations at the final fidelity.
        n_archs: Distinct architectures evaluated.
        simulated_seconds: Charged simulated training seconds.
        ladder: Rung fidelities of the schedule.
        trajectory_cost_s: (n_evaluations,) cumulative simulated seconds after each evaluation.
        trajectory_val: (n_evaluations,) ``best_val`` of the incumbent after each evaluation.
        trajectory_test: (n_evaluations,) its test accuracy (None where the benchmark has none).
        stop_reason: Why the search stopped, e.g. ``"time budget of 20000 s reached after 61
            evaluations (20130.0 s spent)"``.
    """

    best_arch: str
    best_fidelity: int
    best_val_observed: float
    best_val: float
    best_test: float | None
    optimum_val: float | None
    regret_val: float | None
    n_evaluations: int
    n_full_evaluations: int
    n_archs: int
    simulated_seconds: float
    method: str
    schedule: str
    proposer: str
    promotion: str
    eta: int
    ladder: list[int]
    seed: int
    benchmark: dict[str, Any]
    study_name: str
    storage: str
    resumed_from: int
    wall_seconds: float
    stop_reason: str | None = None
    trajectory_cost_s: list[float] = field(default_factory=list, repr=False)
    trajectory_val: list[float] = field(default_factory=list, repr=False)
    trajectory_test: list[float | None] = field(default_factory=list, repr=False)

    def to_dict(self, *, trajectory: bool = False) -> dict[str, Any]:
        """JSON-able dict; the trajectories are left out unless asked for."""
        d = asdict(self)
        if not trajectory:
            for k in ("trajectory_cost_s", "trajectory_val", "trajectory_test"):
                d.pop(k)
        return d

    def val_at(self, seconds: float) -> float:
        """Incumbent's final value once ``seconds`` simulated seconds were spent (NaN before the
        first evaluation finished)."""
        i = int(np.searchsorted(np.asarray(self.trajectory_cost_s), seconds, side="right")) - 1
        return float(self.trajectory_val[i]) if i >= 0 else math.nan

    def test_at(self, seconds: float) -> float:
        """Incumbent's test accuracy at ``seconds`` (NaN before any result or without test)."""
        i = int(np.searchsorted(np.asarray(self.trajectory_cost_s), seconds, side="right")) - 1
        v = self.trajectory_test[i] if i >= 0 else None
        return math.nan if v is None else float(v)


def search_result(
    search: _Search,
    method: str,
    sched: str,
    prop: str,
    promo: str,
    eta: int,
    ladder: list[int],
    seed: int,
    name: str,
    storage: str | None,
    wall: float,
) -> MultiFidelityResult:
    """The ``MultiFidelityResult`` of a finished ``search`` (incumbents, trajectories, regret)."""
    evals = search.evals
    if not evals:
        raise param_error("time_budget", OWNER, "large enough for one evaluation", 0)
    inc = search.incumbents()
    distinct = sorted(set(inc))
    archs = [evals[i].arch for i in distinct]
    finals = dict(zip(distinct, search.ev.final_values(archs)))
    tests_arr = search.ev.test_values(archs)
    tests = dict(zip(distinct, tests_arr)) if tests_arr is not None else {}
    best = evals[inc[-1]]
    optimum = search.ev.optimum()
    best_val = float(finals[inc[-1]])

    def test_of(i: int) -> float | None:
        v = tests.get(i)
        return None if v is None or v != v else float(v)

    return MultiFidelityResult(
        best_arch=search.space.format(best.arch),
        best_fidelity=best.fidelity,
        best_val_observed=best.value,
        best_val=best_val,
        best_test=test_of(inc[-1]),
        optimum_val=optimum,
        regret_val=None if optimum is None else float(optimum - best_val),
        n_evaluations=len(evals),
        n_full_evaluations=sum(e.fidelity == search.top for e in evals),
        n_archs=len(search.by_key),
        simulated_seconds=float(search.spent),
        method=method,
        schedule=sched,
        proposer=prop,
        promotion=promo,
        eta=eta,
        ladder=ladder,
        seed=seed,
        benchmark=search.ev.describe(),
        study_name=name,
        storage=storage or "memory",
        resumed_from=search.resumed_from,
        wall_seconds=wall,
        stop_reason=search.stop_reason,
        trajectory_cost_s=[float(c) for c in np.cumsum([e.cost for e in evals])],
        trajectory_val=[float(finals[i]) for i in inc],
        trajectory_test=[test_of(i) for i in inc],
    )
