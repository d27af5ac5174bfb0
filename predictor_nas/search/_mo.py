"""Multi-objective (and constrained) table search: an Optuna study with several directions.

Objectives are table metrics with a direction (``"val_acc:max"``, ``"params:min"``); constraints
bound table metrics (``"params<=1.5"``, ``"latency<0.02"``). A table search looks every metric
up, so every constraint is checked *before* the architecture is evaluated: a proposal that
breaks one is told FAIL with the user attribute ``infeasible`` (the violated constraints) and
costs no budget, as ``ask_arch`` does for a space's own constraints. Every trial, refused or
not, carries its constraint values the Optuna way (``Trial.set_constraint``, one value per
constraint named like ``"params<=1.5"``, <= 0 when satisfied; Optuna 5 replaced the samplers'
``constraints_func`` by these stored values, which NSGA-II/III and TPE read for their constrained
dominance). Optuna's samplers ignore failed trials, so only evaluated (feasible) trials reach
them; our samplers (``mo-rea``, ``mo-guided``) are given the constraints as a feasibility test and
never propose an infeasible architecture. After ``MAX_INFEASIBLE`` refusals in a row the query
takes a uniform random feasible unused architecture of the table, marked with the user attribute
``fallback`` and a warning in the log.

Hypervolume: objectives are turned to minimisation (maximised ones negated); the reference
point is ``reference_point`` over **every** architecture of the table (the worst value of each
objective plus 10 % of its range), so searches with different strategies, seeds or constraints
are compared against one point. The true front is the Pareto front of the table's architectures
that satisfy the constraints; the hypervolume regret is its hypervolume minus the found one's,
and ``front_coverage`` the share of its points whose objective values the search evaluated.

Parsing of objectives and constraints is in ``_mo_spec``, the strategies in ``_mo_strategies``
and the front plots in ``_mo_plot`` (their public names are importable from here too).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.multiobjective import (
    front_coverage,
    hypervolume,
    is_non_dominated,
    pareto_front,
    reference_point,
)
from predictor_nas.search._ask import ask_arch
from predictor_nas.search._mo_plot import draw_front as draw_front
from predictor_nas.search._mo_plot import plot_mo_front
from predictor_nas.search._mo_spec import _CONSTRAINT_RE as _CONSTRAINT_RE
from predictor_nas.search._mo_spec import DIRECTIONS as DIRECTIONS
from predictor_nas.search._mo_spec import (
    MAX_INFEASIBLE,
    OWNER,
    STATIC_METRICS,
    Constraint,
    Objective,
    _enqueue_fallback,
    _front_points,
    _infeasible_count,
    _refuse,
    _set_constraints,
    _used_keys,
    default_mo_study_name,
    parse_constraints,
    parse_objectives,
)
from predictor_nas.search._mo_spec import _split as _split
from predictor_nas.search._mo_strategies import MO_STRATEGIES, _Context, mo_strategies
from predictor_nas.search._run import (
    CONFIG_ATTR,
    JOURNAL_BUFFERED,
    JOURNAL_FSYNC_INTERVAL,
    _step_seed,
)
from predictor_nas.search._storage import make_storage
from predictor_nas.search._study import Budget, Progress, open_study
from predictor_nas.spaces import Arch, DeclaredSpace, SearchSpace, get_space
from predictor_nas.tables import DEFAULT_TABLE, Table, open_table

log = logging.getLogger(__name__)


# ----------------------------------------------------------------- result
@dataclass
class MOSearchResult:
    """Outcome of a multi-objective table search; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        objectives: The objectives, e.g. ``["val_acc:max", "params:min"]``.
        constraints: The constraints, e.g. ``["params<=1.5"]`` (empty: none).
        front: The Pareto front of the evaluated architectures, sorted by the first objective
            (best first): one dict per point, ``{"arch": str, "values": [v_1, ..., v_m]}`` in the
            objectives' own units and order (distinct architectures; equal values all kept).
        hypervolume: Hypervolume of the evaluated points (objectives minimised, i.e. maximised
            ones negated) against ``reference_point``.
        reference_point: (m,) in the objectives' own units: the table's worst value of each
            objective over all its architectures, 10 % of the range beyond it.
        true_hypervolume: Hypervolume of the table's true front (feasible architectures only).
        hypervolume_regret: ``true_hypervolume - hypervolume`` (>= 0).
        front_coverage: Share of the true front's points whose values the search evaluated.
        true_front_size: Points on the true front.
        n_queries: Evaluated (COMPLETE) trials; the budget counts these only.
        n_infeasible: Proposals refused before evaluation because they broke a constraint.
        n_feasible_archs: Table architectures that satisfy the constraints.
        evaluated: (n_queries, m) objective values of every evaluated trial (not in JSON unless
            asked for).
        evaluated_archs: (n_queries,) their architectures (same rule).
        true_front: (k, m) the true front's values, sorted like ``front`` (same rule).
        stop_reason: Why the search stopped (``"budget of 100 queries reached"``).
    """

    objectives: list[str]
    constraints: list[str]
    front: list[dict[str, Any]]
    hypervolume: float
    reference_point: list[float]
    true_hypervolume: float
    hypervolume_regret: float
    front_coverage: float
    true_front_size: int
    n_queries: int
    n_infeasible: int
    n_feasible_archs: int
    strategy: str
    dataset: str
    seed: int
    table: str
    study_name: str
    storage: str
    resumed_from: int
    wall_seconds: float
    stop_reason: str | None = None
    evaluated: list[list[float]] = field(default_factory=list, repr=False)
    evaluated_archs: list[str] = field(default_factory=list, repr=False)
    true_front: list[list[float]] = field(default_factory=list, repr=False)

    def to_dict(self, *, points: bool = False) -> dict[str, Any]:
        """JSON-able dict; the evaluated points and the true front are left out unless asked."""
        d = asdict(self)
        if not points:
            for k in ("evaluated", "evaluated_archs", "true_front"):
                d.pop(k)
        return d


def _column(table: Table, metric: str, dataset: str) -> np.ndarray:
    """(n_archs,) mean value of ``metric`` at its highest fidelity for every table row."""
    return table.query_many(np.arange(len(table.archs)), metric, dataset=dataset)


def run_mo_search(
    *,
    objectives: Sequence[str] | str,
    constraints: Sequence[str] | str | None = None,
    space: str | SearchSpace | None = None,
    table: str = DEFAULT_TABLE,
    dataset: str = "cifar10",
    strategy: str = "mo-guided",
    budget: int = 100,
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    progress: bool = False,
) -> MOSearchResult:
    """Search a table-backed space for the Pareto front of several metrics (module docstring).

    One objective with constraints is a constrained single-objective search.

    Args:
        objectives: ``["val_acc:max", "params:min"]`` or ``"val_acc:max,params:min"``: table
            metrics of ``dataset`` (mean over trials, highest fidelity) and directions.
        constraints: ``["params<=1.5", "latency<0.02"]`` (or one comma-separated string).
        space: Search-space name, YAML declaration or ``SearchSpace``; ``None``: the table's.
        table: Table name or path.
        dataset: Dataset of the table.
        strategy: One of ``mo_strategies()``.
        budget: Evaluated queries (refused infeasible proposals do not count).
        seed: Seed of the search; same seed, same result.
        storage: See ``make_storage``; ``None`` = in memory.
        study_name: Defaults to ``default_mo_study_name(...)``.
        progress: Show a progress bar on stderr.

    Returns:
        The ``MOSearchResult`` of the whole study (queries before a resume included).

    Raises:
        InvalidParameterError: A bad objective, constraint, strategy, budget or seed, or
            constraints no architecture of the table satisfies.
        StudyConfigMismatchError: The stored study was created with other options.
        StudyInUseError: Another process runs the same study in the same file.
    """
    limits = Budget.checked(OWNER, queries=budget)
    seed = check_int(seed, "seed", OWNER, minimum=0)
    check_choice(strategy, "strategy", OWNER, mo_strategies())
    tbl = open_table(table)
    sp = get_space(tbl.space if space is None else space)
    if tbl.space != sp.name:
        raise param_error("table", OWNER, f"a table of space {sp.name!r}", f"{table} ({tbl.space})")
    check_choice(dataset, "dataset", OWNER, tbl.datasets)
    objs = parse_objectives(objectives, tbl, dataset)
    cons = parse_constraints(constraints, tbl, dataset)

    columns, feasible_rows, signs, ref_min, true_pts, true_hv = _table_front(
        tbl, dataset, objs, cons
    )

    def violations(row: int) -> list[float]:
        return [c.violation(float(columns[c.metric][row])) for c in cons]

    ctx = _context(tbl, dataset, objs, cons, columns, feasible_rows)
    name = study_name or default_mo_study_name(
        sp.name, tbl.name, dataset, strategy, seed, objs, cons
    )
    config = {
        "kind": "multi-objective",
        "space": sp.name,
        "table": tbl.name,
        "table_content_hash": tbl.content_hash,
        "dataset": dataset,
        "objectives": [str(o) for o in objs],
        "constraints": [str(c) for c in cons],
        "strategy": strategy,
        "seed": seed,
    }
    if isinstance(sp, DeclaredSpace):
        config["space_spec"] = sp.spec()
    factory = MO_STRATEGIES[strategy][0]
    opened = open_study(
        storage=storage, name=name, config=config, attr=CONFIG_ATTR,
        creator="predictor-nas search", name_option="--study-name",
        store=make_storage(
            storage, journal_buffered=JOURNAL_BUFFERED,
            journal_fsync_interval=JOURNAL_FSYNC_INTERVAL,
        ),
        directions=[o.direction for o in objs], sampler=factory(sp, _step_seed(seed, 0), ctx),
        lock=True, distributions=sp.distributions() if sp.plain else None,
    )
    study = opened.study
    n = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    resumed_from = n
    distributions = sp.distributions()
    t0 = time.perf_counter()
    bar = Progress(progress, total=budget, initial=min(n, budget), desc=strategy, unit="query")
    try:
        while (reason := limits.stop_reason(queries=n)) is None:
            study.sampler = factory(sp, _step_seed(seed, n), ctx)
            trial, row, arch = _ask_feasible(
                study, sp, tbl, distributions, feasible_rows, cons, violations, seed, n
            )
            values = [float(columns[o.metric][row]) for o in objs]
            trial.set_user_attr("arch", sp.format(arch))
            trial.set_user_attr("canonical_key", sp.canonical_key(arch))
            trial.set_user_attr("metrics", {m: float(columns[m][row]) for m in columns})
            _set_constraints(trial, cons, violations(row))
            study.tell(trial, values)
            n += 1
            bar.advance(1)
    finally:
        opened.close()
        bar.close()
    wall = time.perf_counter() - t0

    return _mo_result(
        study, objs, cons, signs, ref_min, true_pts, true_hv,
        n_feasible_archs=int(feasible_rows.sum()), strategy=strategy, dataset=dataset,
        seed=seed, table=tbl.name, study_name=name, storage=storage or "memory",
        resumed_from=resumed_from, wall_seconds=wall, stop_reason=reason,
    )


def _context(
    tbl: Table,
    dataset: str,
    objs: Sequence[Objective],
    cons: Sequence[Constraint],
    columns: dict[str, np.ndarray],
    feasible_rows: np.ndarray,
) -> _Context:
    """What the samplers may know without a query: feasibility and the static objectives."""

    def row_of(arch: Arch) -> int:
        return int(tbl.row(arch))

    def lookup(metric: str) -> Callable[[Sequence[Arch]], np.ndarray]:
        return lambda archs: columns[metric][tbl.rows(list(archs))]

    static = {
        i: lookup(o.metric)
        for i, o in enumerate(objs)
        if o.metric in STATIC_METRICS or tbl.fidelities(o.metric, dataset=dataset) == (0,)
    }
    return _Context(
        feasible=(lambda a: bool(feasible_rows[row_of(a)])) if cons else None,
        known=static,
        n_objectives=len(objs),
    )


def _table_front(
    tbl: Table, dataset: str, objs: Sequence[Objective], cons: Sequence[Constraint]
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """What the table says before any query: ``(columns, feasible_rows, signs, ref_min,
    true_pts, true_hv)``: each needed metric's column (n_archs,), the feasible rows
    (n_archs,) bool, the objectives' signs (m,) (-1: maximised), the reference point (m,)
    (minimised units), the true front's points (k, m) and its hypervolume.

    Raises:
        InvalidParameterError: No architecture of the table satisfies the constraints.
    """
    # Every metric is a lookup: whole columns once, then rows.
    needed = {o.metric for o in objs} | {c.metric for c in cons}
    columns = {m: _column(tbl, m, dataset) for m in sorted(needed)}
    feasible_rows = np.ones(len(tbl.archs), dtype=bool)
    for c in cons:
        col = columns[c.metric]
        feasible_rows &= np.array([c.satisfied(float(v)) for v in col], dtype=bool)
    if not feasible_rows.any():
        shown = ", ".join(
            f"{c.metric} in [{np.nanmin(columns[c.metric]):.4g}, "
            f"{np.nanmax(columns[c.metric]):.4g}]"
            for c in cons
        )
        raise InvalidParameterError(
            f"No architecture of table {tbl.name!r} ({dataset}) satisfies the constraints "
            f"{', '.join(map(str, cons))}; the table's ranges: {shown}."
        )
    signs = np.array([-1.0 if o.direction == "maximize" else 1.0 for o in objs])
    table_pts = np.stack([columns[o.metric] for o in objs], axis=1)  # (n_archs, m)
    finite = np.all(np.isfinite(table_pts), axis=1)
    ref_min = reference_point(table_pts[finite] * signs)
    true_idx = np.flatnonzero(finite & feasible_rows)
    true_mask = is_non_dominated(table_pts[true_idx] * signs)
    true_pts = table_pts[true_idx][true_mask]
    true_hv = hypervolume(true_pts * signs, ref_min)
    return columns, feasible_rows, signs, ref_min, true_pts, true_hv


def _mo_result(
    study: optuna.Study,
    objs: Sequence[Objective],
    cons: Sequence[Constraint],
    signs: np.ndarray,
    ref_min: np.ndarray,
    true_pts: np.ndarray,
    true_hv: float,
    **kw: Any,
) -> MOSearchResult:
    """The ``MOSearchResult`` of the study's trials (``kw``: the run's own fields)."""
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    archs = [t.user_attrs["arch"] for t in done]
    pts = np.array([t.values for t in done], dtype=np.float64).reshape(len(done), len(objs))
    found_hv = hypervolume(pts * signs, ref_min) if len(done) else 0.0
    front = _front_points(
        done, pts, signs, lambda i: {"arch": archs[i], "values": [float(v) for v in pts[i]]}
    )
    order = pareto_front(true_pts * signs)
    return MOSearchResult(
        objectives=[str(o) for o in objs],
        constraints=[str(c) for c in cons],
        front=front,
        hypervolume=float(found_hv),
        reference_point=[float(v) for v in ref_min * signs],
        true_hypervolume=float(true_hv),
        hypervolume_regret=float(max(true_hv - found_hv, 0.0)),
        front_coverage=front_coverage(pts * signs if len(done) else pts, true_pts * signs),
        true_front_size=len(true_pts),
        n_queries=len(done),
        n_infeasible=_infeasible_count(trials),
        **kw,
        evaluated=[[float(v) for v in p] for p in pts],
        evaluated_archs=archs,
        true_front=[[float(v) for v in true_pts[i]] for i in order],
    )


def _ask_feasible(
    study: optuna.Study,
    sp: SearchSpace,
    tbl: Table,
    distributions: dict,
    feasible_rows: np.ndarray,
    cons: Sequence[Constraint],
    violations: Callable[[int], list[float]],
    seed: int,
    n: int,
) -> tuple[optuna.trial.Trial, int, Arch]:
    """A trial whose architecture satisfies the constraints; refused ones are told FAIL.

    Returns:
        ``(trial, table row, architecture)``.
    """
    for _ in range(MAX_INFEASIBLE):
        trial, arch = ask_arch(
            study, sp, distributions=distributions, rng=np.random.default_rng([seed, n, 2])
        )
        row = int(tbl.row(arch))
        if feasible_rows[row]:
            return trial, row, arch
        v = violations(row)
        trial.set_user_attr("arch", sp.format(arch))
        _set_constraints(trial, cons, v)
        _refuse(study, trial, cons, v)
    used = _used_keys(study)
    rng = np.random.default_rng([seed, n, 3])
    rows = [int(r) for r in np.flatnonzero(feasible_rows)]
    unused = [r for r in rows if sp.canonical_key(sp.parse(tbl.archs[r])) not in used] or rows
    _enqueue_fallback(study, sp, sp.parse(tbl.archs[unused[int(rng.integers(len(unused)))]]))
    trial = study.ask(fixed_distributions=distributions) if sp.plain else study.ask()
    if not sp.plain:
        arch = sp.suggest(trial)
    else:
        arch = sp.from_params(trial.params)
    return trial, int(tbl.row(arch)), arch


__all__ = [
    "MO_STRATEGIES",
    "Constraint",
    "MOSearchResult",
    "Objective",
    "default_mo_study_name",
    "mo_strategies",
    "parse_constraints",
    "parse_objectives",
    "plot_mo_front",
    "run_mo_search",
]
