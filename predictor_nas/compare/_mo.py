"""Multi-objective comparison: strategies x seeds x datasets, anytime hypervolume regret.

``compare_mo(objectives=..., constraints=...)`` runs one in-memory
``predictor_nas.search.run_mo_search`` per (dataset, strategy, seed) and keeps, per query, the
**normalised hypervolume regret** of the points evaluated so far::

    regret_k = (HV(true front) - HV(first k evaluated points)) / HV(true front)

Both hypervolumes use the documented reference point of ``run_mo_search`` (objectives turned to
minimisation; the worst value of each objective over *every* architecture of the table plus 10 %
of its range, see ``predictor_nas.multiobjective.reference_point``), so one point serves every
strategy, seed and constraint of a dataset. The true front is the Pareto front of the table's
architectures that satisfy the constraints. ``regret = 0`` means the search found the whole true
front's hypervolume, ``0.01`` that it misses 1 % of it; the regret of a run never increases.
With one objective and constraints (a constrained single-objective search) the regret is 0
exactly when the constrained optimum was evaluated. **Front coverage** is the share of the true
front's points whose objective values the search evaluated.

Runs are cached in a JSON-lines file like ``compare``'s (same configuration: not rerun) and run
in ``jobs`` spawned worker processes; the results do not depend on ``jobs``.

The anytime regret and the per-strategy statistics live in ``_mo_stats``, the Markdown report,
the PNG and the report folder in ``_mo_report``; their names are re-exported here.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from predictor_nas import __version__
from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.compare._args import (
    _names,
    parse_seeds,
)
from predictor_nas.compare._mo_report import (
    LOG_FLOOR_PCT,
    markdown_report_mo,
    plot_regret_mo,
    write_mo_report,
)
from predictor_nas.compare._mo_stats import (
    CHECKPOINTS,
    DEFAULT_MO_THRESHOLDS,
    anytime_regret,
    leads_from,
    summarize_mo,
)
from predictor_nas.compare._records import (
    JSONRecord,
    comparison_dict,
)
from predictor_nas.compare._run import (
    _read_jsonl,
    plan_tasks,
    run_cached,
)
from predictor_nas.search import mo_strategies, parse_constraints, parse_objectives, run_mo_search
from predictor_nas.spaces import get_space
from predictor_nas.tables import open_table

__all__ = [
    "CHECKPOINTS",
    "DEFAULT_MO_STRATEGIES",
    "DEFAULT_MO_THRESHOLDS",
    "LOG_FLOOR_PCT",
    "MOComparisonResult",
    "MORunRecord",
    "anytime_regret",
    "compare_mo",
    "leads_from",
    "markdown_report_mo",
    "plot_regret_mo",
    "summarize_mo",
    "write_mo_report",
]

log = logging.getLogger(__name__)

OWNER = "compare"
#: Every multi-objective strategy of ``run_mo_search`` (compared when none are named).
DEFAULT_MO_STRATEGIES = ("mo-guided", "mo-rea", "nsga2", "nsga3", "motpe", "random")


@dataclass(frozen=True)
class MORunRecord(JSONRecord):
    """One multi-objective search of a comparison (a line of the run cache).

    Attributes:
        strategy, dataset, seed, budget: What was run.
        n_queries: Evaluated queries (a table row with a missing objective value is a failed
            trial and is not counted).
        n_infeasible: Proposals refused because they broke a constraint (cost no budget).
        reference_point: (m,) the reference point, in the objectives' own units.
        true_hypervolume: Hypervolume of the true front.
        true_front_size: Its points.
        hypervolume: Hypervolume of all evaluated points.
        regret: Final normalised hypervolume regret (module docstring), in [0, 1].
        front_coverage: Final share of the true front's points evaluated.
        wall_seconds: Wall seconds of the search loop.
        trajectory_regret: (n_queries,) anytime normalised regret, non-increasing.
        trajectory_coverage: (n_queries,) anytime front coverage, non-decreasing.
    """

    strategy: str
    dataset: str
    seed: int
    budget: int
    n_queries: int
    n_infeasible: int
    reference_point: list[float]
    true_hypervolume: float
    true_front_size: int
    hypervolume: float
    regret: float
    front_coverage: float
    wall_seconds: float
    trajectory_regret: list[float] = field(repr=False)
    trajectory_coverage: list[float] = field(repr=False)


@dataclass
class MOComparisonResult:
    """Outcome of ``compare_mo``; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        config: Space, table (name, content hash), objectives, constraints, datasets,
            strategies, seeds, budget, thresholds.
        runs: One ``MORunRecord`` per (dataset, strategy, seed), in that order.
        datasets: Per dataset: reference point, true hypervolume and front size, feasible
            architectures, and per strategy the statistics of ``summarize_mo`` with curves.
        strategies: Per strategy the same statistics over all datasets (per seed the mean over
            datasets, then the interval over seeds), with curves.
        wall_seconds: Wall seconds of the whole comparison (cached runs cost nothing).
        n_cached: Runs taken from the cache.
        jobs: Worker processes used.
    """

    config: dict[str, Any]
    runs: list[MORunRecord]
    datasets: dict[str, dict[str, Any]]
    strategies: dict[str, dict[str, Any]]
    wall_seconds: float
    n_cached: int = 0
    jobs: int = 1

    def to_dict(self, *, runs: bool = False, curves: bool = True) -> dict[str, Any]:
        """JSON-able dict (NaN -> None); ``runs`` adds every record, ``curves`` the curves."""
        return comparison_dict(self, runs=runs, curves=curves, mode="multi-objective")


# --------------------------------------------------------------------------- running
def _run_one_mo(task: dict[str, Any]) -> MORunRecord:
    """One ``run_mo_search`` in memory; ``task`` holds its keyword arguments."""

    r = run_mo_search(
        objectives=task["objectives"],
        constraints=task["constraints"] or None,
        space=task.get("space_file") or task["space"],
        table=task["table"],
        dataset=task["dataset"],
        strategy=task["strategy"],
        budget=task["budget"],
        seed=task["seed"],
        storage=None,
    )
    signs = [-1.0 if o.endswith(":max") else 1.0 for o in r.objectives]
    regret, coverage = anytime_regret(r.evaluated, r.true_front, r.reference_point, signs)
    return MORunRecord(
        strategy=r.strategy,
        dataset=r.dataset,
        seed=r.seed,
        budget=task["budget"],
        n_queries=r.n_queries,
        n_infeasible=r.n_infeasible,
        reference_point=list(r.reference_point),
        true_hypervolume=r.true_hypervolume,
        true_front_size=r.true_front_size,
        hypervolume=r.hypervolume,
        regret=float(regret[-1]) if regret.size else 1.0,
        front_coverage=r.front_coverage,
        wall_seconds=r.wall_seconds,
        trajectory_regret=regret.tolist(),
        trajectory_coverage=coverage.tolist(),
    )


def _cache_key(task: dict[str, Any], table_hash: str) -> str:
    key = {k: task[k] for k in ("space", "dataset", "strategy", "seed", "budget")}
    key.update(
        mode="multi-objective",
        objectives=task["objectives"],
        constraints=task["constraints"],
        table_content_hash=table_hash,
        version=__version__,
    )
    return json.dumps(key, sort_keys=True)


def compare_mo(
    *,
    objectives: str | Sequence[str],
    constraints: str | Sequence[str] | None = None,
    space: str | None = None,
    table: str | os.PathLike = "nb201-rich",
    datasets: str | Sequence[str] = "cifar10",
    strategies: str | Sequence[str] = DEFAULT_MO_STRATEGIES,
    budget: int = 100,
    seeds: int | str | Iterable[int] = 20,
    jobs: int = 1,
    thresholds: Sequence[float] = DEFAULT_MO_THRESHOLDS,
    cache: str | os.PathLike | None = None,
    progress: bool = False,
) -> MOComparisonResult:
    """Run every multi-objective strategy on every dataset with every seed; anytime HV regret.

    Args:
        objectives: ``"val_acc:max,hw_edgegpu_latency:min"`` or a list (see ``run_mo_search``);
            one objective with ``constraints`` is a constrained single-objective comparison.
        constraints: ``"hw_raspi4_latency<=20"`` or a list; ``None``: unconstrained.
        space: Search-space name or YAML declaration file; None = the table's space.
        table: Table name or path (default ``nb201-rich``, which has hardware metrics).
        datasets: Dataset name(s) of the table; a comma text or a sequence.
        strategies: Names from ``predictor_nas.search.mo_strategies()``.
        budget: Evaluated queries per search.
        seeds: See ``parse_seeds``.
        jobs: Worker processes (spawned); the results do not depend on it.
        thresholds: Normalised regrets for "queries to reach regret <= t" (0.01: 99 % of the
            true front's hypervolume), each in [0, 1].
        cache: JSON-lines file of finished runs: runs found there (same configuration) are not
            rerun, new ones are appended as they finish, so an interrupted sweep resumes.
        progress: Progress bar over runs on stderr.

    Returns:
        The ``MOComparisonResult``.

    Raises:
        InvalidParameterError: a bad objective, constraint, strategy, dataset, budget, seeds,
            jobs or threshold (checked before anything runs).
        TableError: the table cannot be found or read.
    """

    budget = check_int(budget, "budget", OWNER, minimum=1)
    jobs = check_int(jobs, "jobs", OWNER, minimum=1)
    seed_list = parse_seeds(seeds)
    names = _names(strategies, "strategies")
    for s in names:
        check_choice(s, "strategies", OWNER, mo_strategies())
    ths = _check_thresholds(thresholds)
    tbl, sp = _open_table_space(table, space)
    ds_list = _names(datasets, "datasets")
    objs, cons = _parse_goals(objectives, constraints, tbl, ds_list)
    config, tasks = plan_tasks(
        sp,
        tbl,
        space,
        budget=budget,
        seed_list=seed_list,
        ds_list=ds_list,
        names=names,
        ths=ths,
        config_fields={"objectives": objs, "constraints": cons},
        task_fields={"objectives": objs, "constraints": cons},
    )
    cache_path = None if cache is None else Path(cache)
    done = _read_mo_cache(cache_path)
    keys = [_cache_key(t, tbl.content_hash) for t in tasks]
    results, n_cached, wall = run_cached(
        tasks, keys, done, _run_one_mo, cache_path, jobs, progress, "compare_mo"
    )

    runs = [results[k] for k in keys]
    order = {(d, s): i for i, (d, s) in enumerate((d, s) for d in ds_list for s in names)}
    runs.sort(key=lambda r: (order[(r.dataset, r.strategy)], seed_list.index(r.seed)))
    per_ds = {d: _dataset_entry(runs, d, names, ths, budget) for d in ds_list}
    return MOComparisonResult(
        config=config,
        runs=runs,
        datasets=per_ds,
        strategies=summarize_mo(runs, names, thresholds=ths, budget=budget),
        wall_seconds=wall,
        n_cached=n_cached,
        jobs=jobs,
    )


def _check_thresholds(thresholds: Sequence[float]) -> list[float]:
    """The thresholds as floats, each a normalised regret in [0, 1]."""
    ths = [check_float(t, "thresholds", OWNER, minimum=0.0) for t in thresholds]
    if any(t > 1 for t in ths):
        raise param_error(
            "thresholds", OWNER, "normalised hypervolume regrets in [0, 1]", list(thresholds)
        )
    return ths


def _open_table_space(table: str | os.PathLike, space: str | None) -> tuple[Any, Any]:
    """``(table, space)``: the opened table and its space (``space`` must match the table's)."""

    tbl = open_table(table)
    sp = get_space(tbl.space if space is None else space)
    if tbl.space != sp.name:
        raise param_error(
            "table", OWNER, f"a table of space {sp.name!r}", f"{tbl.name} ({tbl.space})"
        )
    return tbl, sp


def _parse_goals(
    objectives: str | Sequence[str],
    constraints: str | Sequence[str] | None,
    tbl: Any,
    ds_list: list[str],
) -> tuple[list[str], list[str]]:
    """``(objectives, constraints)`` as texts, checked against every dataset of ``ds_list``."""

    objs: list[str] = []
    cons: list[str] = []
    for d in ds_list:
        check_choice(d, "dataset", OWNER, tbl.datasets)
        objs = [str(o) for o in parse_objectives(objectives, tbl, d)]
        cons = [str(c) for c in parse_constraints(constraints, tbl, d)]
    return objs, cons


def _read_mo_cache(cache_path: Path | None) -> dict[str, MORunRecord]:
    """The finished runs of a run cache by key (unreadable records are skipped with a warning)."""
    done: dict[str, MORunRecord] = {}
    for k, v in ({} if cache_path is None else _read_jsonl(cache_path)).items():
        try:
            done[k] = MORunRecord.from_dict(v)
        except TypeError:
            log.warning("skipping an unreadable run of %s", cache_path)
    return done


def _dataset_entry(
    runs: list[MORunRecord], dataset: str, names: list[str], ths: list[float], budget: int
) -> dict[str, Any]:
    """A dataset's entry of ``MOComparisonResult.datasets``: its true front and statistics."""
    rs = [r for r in runs if r.dataset == dataset]
    return {
        "reference_point": rs[0].reference_point,
        "true_hypervolume": rs[0].true_hypervolume,
        "true_front_size": rs[0].true_front_size,
        "strategies": summarize_mo(rs, names, thresholds=ths, budget=budget),
    }
