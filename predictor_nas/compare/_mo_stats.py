"""Statistics of a multi-objective comparison: anytime hypervolume regret, per-strategy summary.

``anytime_regret`` turns a search's evaluated points into its anytime normalised hypervolume
regret and front coverage (see ``predictor_nas.compare._mo``); ``summarize_mo`` combines the
records of many runs into per-strategy statistics and curves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas.compare._stats import (
    final_ranks,
    mean_ci,
    mean_ci_columns,
    queries_to_reach,
    reach_summary,
    wilson_ci,
)
from predictor_nas.compare._summary import (
    HIT_TOL,
)
from predictor_nas.multiobjective import hypervolume, is_non_dominated

if TYPE_CHECKING:
    from predictor_nas.compare._mo import MORunRecord

#: Normalised hypervolume regrets reported as "queries to reach" (0.01 = 99 % of the true HV).
DEFAULT_MO_THRESHOLDS = (0.01,)
#: Queries at which the report tabulates the mean regret (those within the budget).
CHECKPOINTS = (10, 30, 50, 100)


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
    n_steps = budget or max((len(r.trajectory_regret) for r in runs), default=1)
    ranks = final_ranks(runs, strategies, lambda r: r.regret)

    out: dict[str, dict[str, Any]] = {}
    for s in strategies:
        rs = [r for r in runs if r.strategy == s]
        if rs:
            out[s] = _strategy_summary(rs, n_steps, thresholds, ranks[s])
    leads = leads_from({s: e["curves"]["regret"]["mean"] for s, e in out.items()})
    for s, q in leads.items():
        out[s]["leads_from"] = q
    return out


def _per_seed(rs: Sequence[MORunRecord], get: Any) -> np.ndarray:
    """(n_seeds, ...) per seed (sorted) the mean over its datasets of ``get(record)``."""
    seeds = sorted({r.seed for r in rs})
    datasets = sorted({r.dataset for r in rs})
    by = {(r.dataset, r.seed): r for r in rs}
    return np.array(
        [np.mean([get(by[(d, sd)]) for d in datasets if (d, sd) in by], axis=0) for sd in seeds],
        dtype=np.float64,
    )


def _strategy_summary(
    rs: Sequence[MORunRecord], n_steps: int, thresholds: Sequence[float], ranks: list[float]
) -> dict[str, Any]:
    """One strategy's entry of ``summarize_mo`` (without ``leads_from``) from its runs."""
    seeds = sorted({r.seed for r in rs})
    regret = _per_seed(rs, lambda r: r.regret)
    coverage = _per_seed(rs, lambda r: r.front_coverage)
    traj = _per_seed(rs, lambda r: _padded(r.trajectory_regret, n_steps, 1.0))
    cov_traj = _per_seed(rs, lambda r: _padded(r.trajectory_coverage, n_steps, 0.0))
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
    return {
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
        "mean_rank": float(np.mean(ranks)) if ranks else None,
        "mean_infeasible": float(np.mean([r.n_infeasible for r in rs])),
        "seconds_per_query": float(
            sum(r.wall_seconds for r in rs) / max(1, sum(r.n_queries for r in rs))
        ),
        "checkpoints": checkpoints,
        "curves": {"regret": curve, "coverage": _curve(cov_traj)},
    }
