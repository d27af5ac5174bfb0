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
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas import __version__
from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.compare._run import (
    HIT_TOL,
    _jsonable,
    _names,
    _read_jsonl,
    parse_seeds,
    run_tasks,
)
from predictor_nas.compare._stats import (
    mean_ci,
    mean_ci_columns,
    queries_to_reach,
    reach_summary,
    wilson_ci,
)

log = logging.getLogger(__name__)

OWNER = "compare"
#: Every multi-objective strategy of ``run_mo_search`` (compared when none are named).
DEFAULT_MO_STRATEGIES = ("mo-guided", "mo-rea", "nsga2", "nsga3", "motpe", "random")
#: Normalised hypervolume regrets reported as "queries to reach" (0.01 = 99 % of the true HV).
DEFAULT_MO_THRESHOLDS = (0.01,)
#: Queries at which the report tabulates the mean regret (those within the budget).
CHECKPOINTS = (10, 30, 50, 100)


@dataclass(frozen=True)
class MORunRecord:
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MORunRecord:
        """Inverse of ``to_dict`` (extra keys are ignored)."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


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

        def strip(entries: dict[str, Any]) -> dict[str, Any]:
            return {
                s: (v if curves else {k: x for k, x in v.items() if k != "curves"})
                for s, v in entries.items()
            }

        ds = {n: {**e, "strategies": strip(e["strategies"])} for n, e in self.datasets.items()}
        d: dict[str, Any] = {
            **self.config,
            "mode": "multi-objective",
            "strategies": strip(self.strategies),
            "datasets": ds,
            "n_runs": len(self.runs),
            "n_cached": self.n_cached,
            "jobs": self.jobs,
            "wall_seconds": self.wall_seconds,
            "version": __version__,
        }
        if runs:
            d["runs"] = [r.to_dict() for r in self.runs]
        return _jsonable(d)


# --------------------------------------------------------------------------- anytime
def anytime_regret(
    evaluated: Any, true_front: Any, reference: Any, signs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Anytime normalised hypervolume regret and front coverage of a search's evaluated points.

    Args:
        evaluated: (n, m) objective values in query order, in the objectives' own units; rows
            with a non-finite value add nothing.
        true_front: (k, m) the true front's values (same units), k >= 1.
        reference: (m,) the reference point (same units).
        signs: (m,) +1 for a minimised objective, -1 for a maximised one.

    Returns:
        ``(regret, coverage)``, each of shape (n,): after query i, ``1 - HV(first i+1 points) /
        HV(true front)`` clipped to [0, 1] (0 where the true front has no hypervolume), and the
        share of the true front's points whose values were evaluated by then.
    """
    from predictor_nas.multiobjective import hypervolume, is_non_dominated

    s = np.asarray(signs, dtype=np.float64)
    ev = np.asarray(evaluated, dtype=np.float64).reshape(-1, s.size) * s
    tf = np.asarray(true_front, dtype=np.float64).reshape(-1, s.size) * s
    ref = np.asarray(reference, dtype=np.float64) * s
    true_hv = hypervolume(tf, ref)
    first: dict[tuple[float, ...], int] = {}
    for i, row in enumerate(ev):
        first.setdefault(tuple(row), i)
    hit_at = np.array([first.get(tuple(r), ev.shape[0]) for r in tf])
    coverage = np.array([(hit_at <= i).mean() for i in range(ev.shape[0])], dtype=np.float64)
    regret = np.empty(ev.shape[0], dtype=np.float64)
    front = np.empty((0, s.size))
    hv = 0.0
    for i, p in enumerate(ev):
        improves = (
            np.all(np.isfinite(p)) and np.all(p < ref) and not np.any(np.all(front <= p, axis=1))
        )
        if improves:  # a point weakly dominated by the current front leaves its HV unchanged
            front = np.vstack([front, p])
            front = front[is_non_dominated(front)]
            hv = hypervolume(front, ref)
        regret[i] = min(max(1.0 - hv / true_hv, 0.0), 1.0) if true_hv > 0 else 0.0
    return regret, coverage


# --------------------------------------------------------------------------- running
def _run_one_mo(task: dict[str, Any]) -> MORunRecord:
    """One ``run_mo_search`` in memory; ``task`` holds its keyword arguments."""
    from predictor_nas.search import run_mo_search

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
    from predictor_nas.search import mo_strategies
    from predictor_nas.search._mo import parse_constraints, parse_objectives
    from predictor_nas.spaces import get_space, is_space_file
    from predictor_nas.tables import open_table

    budget = check_int(budget, "budget", OWNER, minimum=1)
    jobs = check_int(jobs, "jobs", OWNER, minimum=1)
    seed_list = parse_seeds(seeds)
    names = _names(strategies, "strategies")
    for s in names:
        check_choice(s, "strategies", OWNER, mo_strategies())
    ths = [check_float(t, "thresholds", OWNER, minimum=0.0) for t in thresholds]
    if any(t > 1 for t in ths):
        raise param_error(
            "thresholds", OWNER, "normalised hypervolume regrets in [0, 1]", list(thresholds)
        )
    tbl = open_table(table)
    sp = get_space(tbl.space if space is None else space)
    if tbl.space != sp.name:
        raise param_error(
            "table", OWNER, f"a table of space {sp.name!r}", f"{tbl.name} ({tbl.space})"
        )
    ds_list = _names(datasets, "datasets")
    objs: list[str] = []
    cons: list[str] = []
    for d in ds_list:
        check_choice(d, "dataset", OWNER, tbl.datasets)
        objs = [str(o) for o in parse_objectives(objectives, tbl, d)]
        cons = [str(c) for c in parse_constraints(constraints, tbl, d)]
    config = {
        "space": sp.name,
        "table": tbl.name,
        "table_content_hash": tbl.content_hash,
        "objectives": objs,
        "constraints": cons,
        "budget": budget,
        "seeds": seed_list,
        "dataset_names": ds_list,
        "strategy_names": names,
        "thresholds": ths,
    }
    base = {
        "space": sp.name,
        "space_file": str(space) if is_space_file(space) else None,
        "table": str(tbl.path),
        "budget": budget,
        "objectives": objs,
        "constraints": cons,
    }
    tasks = [
        {**base, "dataset": d, "strategy": s, "seed": sd}
        for sd in seed_list
        for d in ds_list
        for s in names
    ]
    cache_path = None if cache is None else Path(cache)
    done: dict[str, MORunRecord] = {}
    for k, v in ({} if cache_path is None else _read_jsonl(cache_path)).items():
        try:
            done[k] = MORunRecord.from_dict(v)
        except TypeError:
            log.warning("skipping an unreadable run of %s", cache_path)
    keys = [_cache_key(t, tbl.content_hash) for t in tasks]
    results = {k: done[k] for k in keys if k in done}
    todo = [(k, t) for k, t in zip(keys, tasks) if k not in results]
    n_cached = len(results)
    log.info("compare_mo: %d runs (%d cached), %d job(s)", len(tasks), n_cached, jobs)
    t0 = time.perf_counter()
    run_tasks(
        todo,
        _run_one_mo,
        results,
        jobs=jobs,
        cache_path=cache_path,
        progress=progress,
        total=len(tasks),
    )
    wall = time.perf_counter() - t0

    runs = [results[k] for k in keys]
    order = {(d, s): i for i, (d, s) in enumerate((d, s) for d in ds_list for s in names)}
    runs.sort(key=lambda r: (order[(r.dataset, r.strategy)], seed_list.index(r.seed)))
    per_ds = {}
    for d in ds_list:
        rs = [r for r in runs if r.dataset == d]
        per_ds[d] = {
            "reference_point": rs[0].reference_point,
            "true_hypervolume": rs[0].true_hypervolume,
            "true_front_size": rs[0].true_front_size,
            "strategies": summarize_mo(rs, names, thresholds=ths, budget=budget),
        }
    return MOComparisonResult(
        config=config,
        runs=runs,
        datasets=per_ds,
        strategies=summarize_mo(runs, names, thresholds=ths, budget=budget),
        wall_seconds=wall,
        n_cached=n_cached,
        jobs=jobs,
    )


# --------------------------------------------------------------------------- statistics
def _padded(traj: list[float], budget: int, fill: float) -> list[float]:
    """A trajectory of ``budget`` steps: a run with fewer evaluated queries keeps its last
    value (``fill`` if it has none)."""
    last = traj[-1] if traj else fill
    return list(traj[:budget]) + [last] * (budget - len(traj))


def _curve(a: np.ndarray) -> dict[str, list[float]]:
    m, lo, hi = mean_ci_columns(a)
    return {"mean": m.tolist(), "ci95_low": lo.tolist(), "ci95_high": hi.tolist()}


def leads_from(means: dict[str, Sequence[float]]) -> dict[str, int | None]:
    """Per strategy, the first query from which its mean is the lowest (ties included) at every
    later query, or None when it is not the lowest at the last one.

    Args:
        means: Strategy -> (n_steps,) mean regret per query (same length for all).

    Returns:
        Strategy -> 1-based query or None.
    """
    names = list(means)
    a = np.array([means[s] for s in names], dtype=np.float64)  # (k, n)
    lowest = a <= a.min(axis=0) + 1e-15
    out: dict[str, int | None] = {}
    for i, s in enumerate(names):
        if not lowest[i, -1]:
            out[s] = None
            continue
        misses = np.flatnonzero(~lowest[i])
        out[s] = int(misses[-1]) + 2 if misses.size else 1
    return out


def summarize_mo(
    runs: Sequence[MORunRecord],
    strategies: Sequence[str],
    *,
    thresholds: Sequence[float] = DEFAULT_MO_THRESHOLDS,
    budget: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Per strategy: final regret and coverage, hit rate, queries to thresholds, curves.

    Runs of several datasets are combined per seed (mean over the datasets, then a seeded
    percentile-bootstrap interval over seeds, which never leaves the range of the values: a
    regret interval never goes below 0); hit rates and queries-to-reach are pooled over runs.

    Args:
        runs: Records of one or more datasets.
        strategies: Strategies to summarize, in order (one without runs is left out).
        thresholds: Normalised regrets for the queries-to-reach statistics.
        budget: Length of the curves (default: the longest trajectory).

    Returns:
        ``{strategy: {"n_seeds", "n_runs", "budget", "mean_regret", "ci95_regret",
        "median_regret", "mean_hv_share", "mean_coverage", "ci95_coverage", "hit_rate",
        "ci95_hit_rate", "reach_share", "queries_to_reach", "mean_rank", "mean_infeasible",
        "seconds_per_query", "checkpoints", "leads_from", "curves"}}``; ``hit_rate`` = share of
        runs with regret <= ``HIT_TOL`` (the whole true front's hypervolume; with one objective:
        the constrained optimum found), ``checkpoints`` = mean regret and interval at
        ``CHECKPOINTS`` within the budget, ``leads_from`` = ``leads_from`` of the mean curves.
    """
    from scipy.stats import rankdata

    n_steps = budget or max((len(r.trajectory_regret) for r in runs), default=1)
    final: dict[tuple[str, int], dict[str, float]] = {}
    for r in runs:
        final.setdefault((r.dataset, r.seed), {})[r.strategy] = r.regret
    ranks: dict[str, list[float]] = {s: [] for s in strategies}
    for per in final.values():
        names = [s for s in strategies if s in per]
        for s, rk in zip(names, rankdata([per[s] for s in names])):
            ranks[s].append(float(rk))

    out: dict[str, dict[str, Any]] = {}
    for s in strategies:
        rs = [r for r in runs if r.strategy == s]
        if not rs:
            continue
        seeds = sorted({r.seed for r in rs})
        datasets = sorted({r.dataset for r in rs})
        by = {(r.dataset, r.seed): r for r in rs}

        def per_seed(
            get: Any, seeds: list[int] = seeds, datasets: list[str] = datasets, by: dict = by
        ) -> np.ndarray:
            """(n_seeds, ...) per seed the mean over its datasets of ``get(record)``."""
            return np.array(
                [
                    np.mean([get(by[(d, sd)]) for d in datasets if (d, sd) in by], axis=0)
                    for sd in seeds
                ],
                dtype=np.float64,
            )

        regret = per_seed(lambda r: r.regret)
        coverage = per_seed(lambda r: r.front_coverage)
        traj = per_seed(lambda r: _padded(r.trajectory_regret, n_steps, 1.0))
        cov_traj = per_seed(lambda r: _padded(r.trajectory_coverage, n_steps, 0.0))
        m_reg, ci_reg = mean_ci(regret)
        m_cov, ci_cov = mean_ci(coverage)
        hits = sum(r.regret <= HIT_TOL for r in rs)
        run_traj = np.array([_padded(r.trajectory_regret, n_steps, 1.0) for r in rs])
        curve = _curve(traj)
        checkpoints = {
            str(q): {
                "mean": curve["mean"][q - 1],
                "ci95": [curve["ci95_low"][q - 1], curve["ci95_high"][q - 1]],
            }
            for q in CHECKPOINTS
            if q <= n_steps
        }
        out[s] = {
            "n_seeds": len(seeds),
            "n_runs": len(rs),
            "budget": n_steps,
            "mean_regret": m_reg,
            "ci95_regret": None if ci_reg is None else list(ci_reg),
            "median_regret": float(np.median(regret)),
            "mean_hv_share": None if m_reg is None else 1.0 - m_reg,
            "mean_coverage": m_cov,
            "ci95_coverage": None if ci_cov is None else list(ci_cov),
            "hit_rate": hits / len(rs),
            "ci95_hit_rate": list(wilson_ci(hits, len(rs))),
            "queries_to_reach": {
                f"{t:g}": reach_summary(queries_to_reach(run_traj, t)) for t in thresholds
            },
            "mean_rank": float(np.mean(ranks[s])) if ranks[s] else None,
            "mean_infeasible": float(np.mean([r.n_infeasible for r in rs])),
            "seconds_per_query": float(
                sum(r.wall_seconds for r in rs) / max(1, sum(r.n_queries for r in rs))
            ),
            "checkpoints": checkpoints,
            "curves": {"regret": curve, "coverage": _curve(cov_traj)},
        }
    leads = leads_from({s: e["curves"]["regret"]["mean"] for s, e in out.items()})
    for s, q in leads.items():
        out[s]["leads_from"] = q
    return out


# --------------------------------------------------------------------------- report
def _ci_text(m: float | None, ci: list[float] | None, nd: int = 2, scale: float = 100.0) -> str:
    if m is None:
        return "n/a"
    text = f"{scale * m:.{nd}f}"
    if ci is not None:
        text += f" [{scale * ci[0]:.{nd}f}, {scale * ci[1]:.{nd}f}]"
    return text


def _mo_rows(entries: dict[str, dict[str, Any]], thresholds: list[str]) -> list[str]:
    budget = max(e["budget"] for e in entries.values())
    cps = [q for q in map(str, CHECKPOINTS) if int(q) < budget]
    head = [
        "strategy",
        f"HV regret @{budget} (%) mean [95% CI]",
        "median (%)",
        *(f"@{q} (%)" for q in cps),
        "front coverage (%) [95% CI]",
        "whole front's HV (hit rate) [95% CI]",
        *(f"queries to regret ≤ {100 * float(t):g}% (median; reached)" for t in thresholds),
        "lowest mean from query",
        "mean rank",
        "refused / run",
        "ms / query",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, e in entries.items():
        reach = []
        for t in thresholds:
            q = e["queries_to_reach"][t]
            med = f">{e['budget']}" if q["median"] is None else f"{q['median']:g}"
            reach.append(f"{med}; {100 * q['reached']:.0f}%")
        hl, hh = e["ci95_hit_rate"]
        lead = e.get("leads_from")
        row = [
            f"`{name}`",
            _ci_text(e["mean_regret"], e["ci95_regret"]),
            f"{100 * e['median_regret']:.2f}",
            *(f"{100 * e['checkpoints'][q]['mean']:.2f}" for q in cps),
            _ci_text(e["mean_coverage"], e["ci95_coverage"], nd=1),
            f"{100 * e['hit_rate']:.0f}% [{100 * hl:.0f}, {100 * hh:.0f}]",
            *reach,
            "—" if lead is None else str(lead),
            "n/a" if e["mean_rank"] is None else f"{e['mean_rank']:.2f}",
            f"{e['mean_infeasible']:.1f}",
            f"{1e3 * e['seconds_per_query']:.2f}",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def markdown_report_mo(result: Any, *, command: str | None = None, plot: str | None = None) -> str:
    """The Markdown report of a multi-objective comparison.

    Args:
        result: A ``MOComparisonResult`` or its ``to_dict()``.
        command: The command that produced it, quoted in the report.
        plot: File name of the regret PNG to embed (relative to the report).

    Returns:
        The report text.
    """
    from predictor_nas.compare._report import seeds_text

    d = result.to_dict(curves=False) if hasattr(result, "to_dict") else result
    if not isinstance(d, dict) or "objectives" not in d or "datasets" not in d:
        raise param_error(
            "result",
            "markdown_report_mo",
            "a MOComparisonResult or its to_dict()",
            type(result).__name__,
        )
    thresholds = [f"{t:g}" for t in d["thresholds"]]
    objs = ", ".join(f"`{o}`" for o in d["objectives"])
    cons = ", ".join(f"`{c}`" for c in d["constraints"]) or "none"
    lines = [
        f"# Multi-objective strategy comparison on {d['space']} (table `{d['table']}`)",
        "",
        f"Objectives {objs}; constraints {cons}. Every strategy searched every dataset once per "
        f"seed (`run_mo_search(..., storage=None)`), {d['budget']} evaluated queries each "
        "(proposals that break a constraint are refused before evaluation and cost no query). "
        "**HV regret** = (hypervolume of the table's true front − hypervolume of the points "
        "evaluated so far) / hypervolume of the true front, in % (0 = the whole true front's "
        "hypervolume found, lower is better); both hypervolumes use the reference point of "
        "`run_mo_search`: objectives minimised, the worst value of each over every "
        "architecture of the table plus 10 % of its range. The true front is the Pareto front "
        "of the table's architectures that meet the constraints. **Front coverage** = share of "
        "the true front's points whose objective values the search evaluated. **Hit rate** = "
        "share of runs with regret 0 (with one objective: the constrained optimum was found; "
        "Wilson 95% interval). **Queries to regret ≤ t** = median over runs of the first query "
        "with regret ≤ t (>budget: half of the runs or more never got there) and the share "
        "that did. **Lowest mean from query** = first query from which the strategy's mean "
        "regret is the lowest of all strategies (ties included) at every later query (— : not "
        "the lowest at the end). **Refused / run** = proposals refused for breaking a "
        "constraint. Intervals of means are 95% percentile-bootstrap intervals over seeds "
        "(10,000 resamples, fixed seed; they stay within the range of the values, so a regret "
        "interval never goes below 0).",
        "",
    ]
    if command:
        lines += ["```", command, "```", ""]
    lines += [
        f"- seeds: {seeds_text(d['seeds'])} ({len(d['seeds'])}); budget {d['budget']} queries; "
        f"datasets {', '.join(d['dataset_names'])}",
        f"- table: `{d['table']}` content hash `{d['table_content_hash']}`",
        f"- runs: {d['n_runs']} ({d['n_cached']} from the cache); wall time "
        f"{d['wall_seconds']:.1f} s with {d['jobs']} job(s); predictor-nas {d['version']}",
        "",
    ]
    if plot:
        lines += [f"![hypervolume regret vs queries]({plot})", ""]
    for ds, entry in d["datasets"].items():
        ref = ", ".join(f"{v:.4g}" for v in entry["reference_point"])
        lines += [
            f"## {ds}",
            "",
            f"True front: {entry['true_front_size']} points, hypervolume "
            f"{entry['true_hypervolume']:.6g}; reference point ({ref}).",
            "",
        ]
        lines += _mo_rows(entry["strategies"], thresholds)
        lines.append("")
    if len(d["datasets"]) > 1:
        lines += [
            "## All datasets",
            "",
            "Per seed the mean over datasets, then the interval over seeds; hit rate and "
            "queries-to-reach pooled over all runs.",
            "",
            *_mo_rows(d["strategies"], thresholds),
            "",
        ]
    return "\n".join(lines)


#: The regret axis is symmetric-log in %: linear from 0 to this value, logarithmic above, so a
#: regret of exactly 0 is drawn at 0.
LOG_FLOOR_PCT = 1e-2


def plot_regret_mo(result: Any, path: str | os.PathLike) -> str:
    """Write normalised HV regret (%) vs queries, one panel per dataset (plus all datasets).

    Mean and 95% bootstrap band per strategy; a log y axis, or symlog (linear below
    ``LOG_FLOOR_PCT``) in a panel where a curve or band reaches 0; the legend sits below each
    panel, outside the curves.

    Args:
        result: A ``MOComparisonResult`` or its ``to_dict()`` (with curves).
        path: Output PNG file.

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    d = result.to_dict() if hasattr(result, "to_dict") else result
    datasets = d.get("datasets") if isinstance(d, dict) else None
    if not datasets or any(
        "curves" not in e for entry in datasets.values() for e in entry["strategies"].values()
    ):
        raise param_error(
            "result",
            "plot_regret_mo",
            "a MOComparisonResult or its to_dict() with curves",
            type(result).__name__,
        )
    panels = {ds: e["strategies"] for ds, e in datasets.items()}
    if len(panels) > 1:
        panels["all datasets (mean per seed)"] = d["strategies"]
    n = len(panels)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    n_strat = max(len(v) for v in panels.values())
    fig = Figure(figsize=(max(6.4, 5.4 * ncol), (4.2 + 0.2 * -(-n_strat // 2)) * nrow), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, (title, entries) in zip(axes.flat, panels.items()):
        n_seeds, budget, low = 0, 1, np.inf
        for name, e in entries.items():
            c = e["curves"]["regret"]
            m = 100 * _arr(c["mean"])
            lo, hi = 100 * _arr(c["ci95_low"]), 100 * _arr(c["ci95_high"])
            x = np.arange(1, m.size + 1)
            (line,) = ax.plot(x, m, lw=1.8, label=f"{name} ({100 * e['mean_regret']:.2f}%)")
            ok = np.isfinite(lo) & np.isfinite(hi)
            if ok.any():
                ax.fill_between(x, lo, hi, where=ok, color=line.get_color(), alpha=0.18, lw=0)
            n_seeds = max(n_seeds, e["n_seeds"])
            budget = max(budget, m.size)
            low = min(low, np.nanmin(np.where(ok, lo, m)))
        ylabel = "HV regret (% of true front's HV)"
        if np.isfinite(low) and low > 0:  # no curve reaches 0: a plain log axis
            ax.set_yscale("log")
            ax.set_ylim(bottom=low / 1.5)
            ylabel += ", log"
        else:
            ax.set_yscale("symlog", linthresh=LOG_FLOOR_PCT, linscale=0.5)
            ax.set_ylim(bottom=0.0)
            ylabel += f"\nsymlog: linear below {LOG_FLOOR_PCT:g}"
        ax.set_xlim(1, max(2, budget))
        ax.set_title(f"{title} ({n_seeds} seeds)", fontsize=11)
        ax.set_xlabel("queries")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.4)
        ax.grid(True, which="minor", alpha=0.12)
        ax.legend(
            title="strategy (final mean regret)",
            fontsize=9,
            title_fontsize=9,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16),
            ncol=2,
            frameon=False,
        )
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    what = ", ".join(d["objectives"]) + (
        f" | {', '.join(d['constraints'])}" if d.get("constraints") else ""
    )
    fig.suptitle(f"{d.get('table', '')}: hypervolume regret, mean and 95% CI ({what})", fontsize=11)
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, format="png")
    return out


def _arr(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def write_mo_report(
    result: MOComparisonResult, out: str | os.PathLike, *, command: str | None = None
) -> list[str]:
    """Write ``compare.json``, ``compare.md``, ``regret.png`` and ``index.html`` into ``out``.

    Returns:
        The paths written.
    """
    from predictor_nas.compare._html import write_html_report

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    plot_regret_mo(result, folder / "regret.png")
    data = result.to_dict()
    (folder / "compare.json").write_text(
        json.dumps(data, sort_keys=True, allow_nan=False), encoding="utf-8"
    )
    (folder / "compare.md").write_text(
        markdown_report_mo(result, command=command, plot="regret.png"), encoding="utf-8"
    )
    html = write_html_report(folder / "compare.md")
    return [str(folder / n) for n in ("compare.json", "compare.md", "regret.png")] + [html]
