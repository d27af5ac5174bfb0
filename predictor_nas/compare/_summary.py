"""Summaries of a comparison's runs.

Per strategy: means, intervals, hit rates, queries to reach a regret, anytime curves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from predictor_nas.compare._records import RunRecord
from predictor_nas.compare._stats import (
    final_ranks,
    mean_ci,
    mean_ci_columns,
    queries_to_reach,
    reach_summary,
    wilson_ci,
)
from predictor_nas.search import TEST_METRIC

#: Final regret at or below this counts as having found the table's best-validation architecture.
HIT_TOL = 1e-9


#: Default regret thresholds of "queries to reach regret <= t".
DEFAULT_THRESHOLDS = (0.1,)


def _test_of_row(
    tbl: Any, dataset: str, row: int, fidelity: int, metric: str | None = None
) -> float | None:
    """Test value (``metric``, default ``test_acc``) of a table row at ``fidelity``, or None
    without that metric there."""

    metric = metric or TEST_METRIC
    if metric not in tbl.metrics(dataset) or fidelity not in tbl.fidelities(
        metric, dataset=dataset
    ):
        return None
    v = float(tbl.query_many(np.array([row]), metric, dataset=dataset, fidelity=fidelity)[0])
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------- statistics
def _curve(a: np.ndarray) -> dict[str, list[float]]:
    m, lo, hi = mean_ci_columns(a)
    return {"mean": m.tolist(), "ci95_low": lo.tolist(), "ci95_high": hi.tolist()}


def _ci(values: np.ndarray) -> tuple[float | None, list[float] | None]:
    m, ci = mean_ci(values)
    return m, None if ci is None else list(ci)


def summarize(
    runs: Sequence[RunRecord],
    strategies: Sequence[str],
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    curves: bool = True,
) -> dict[str, dict[str, Any]]:
    """Per strategy: final regret, best val, test acc, hit rate, queries to thresholds, timing.

    Runs of several datasets are combined per seed (mean over the datasets, then a seeded
    percentile-bootstrap interval over seeds, see ``mean_ci``), so each seed counts once; hit
    rates and queries-to-reach are pooled over runs. Bootstrap intervals stay inside the range
    of the per-seed values: a regret interval never goes below 0.

    Args:
        runs: Records of one or more datasets; every (dataset, seed) of a strategy must have the
            same budget.
        strategies: Strategies to summarize, in order (a strategy without runs is left out).
        thresholds: Regrets for the queries-to-reach statistics.
        curves: Include per-step mean and 95% bootstrap interval of regret, best val and test acc
            (only meaningful for one dataset).

    Returns:
        ``{strategy: {"n_seeds", "n_runs", "budget", "mean_regret_val", "ci95_regret_val",
        "median_regret_val", "mean_best_val", "ci95_best_val", "mean_test_acc",
        "ci95_test_acc", "hit_rate", "ci95_hit_rate", "queries_to_reach", "mean_rank",
        "seconds_per_query", ["curves"]}}``. Test values are None where the table has none.
    """

    # Mean rank of final regret per (dataset, seed) among the strategies (1 = best, ties share).
    ranks = final_ranks(runs, strategies, lambda r: r.regret_val)

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
            a = np.array(
                [
                    [_num(get(by[(d, sd)])) if (d, sd) in by else np.nan for d in datasets]
                    for sd in seeds
                ],
                dtype=np.float64,
            )
            with np.errstate(invalid="ignore"):
                # A seed's mean over datasets; NaN if any dataset lacks the value.
                return a.mean(axis=1)

        regret = per_seed(lambda r: r.regret_val)
        best_val = per_seed(lambda r: r.best_val)
        test = per_seed(lambda r: r.best_test)
        m_reg, ci_reg = _ci(regret)
        m_val, ci_val = _ci(best_val)
        m_test, ci_test = _ci(test)
        hits = sum(r.regret_val <= HIT_TOL for r in rs)
        traj = np.array([r.trajectory_regret_val for r in rs], dtype=np.float64)
        entry: dict[str, Any] = {
            "n_seeds": len(seeds),
            "n_runs": len(rs),
            "budget": max(r.budget for r in rs),
            "mean_regret_val": m_reg,
            "ci95_regret_val": ci_reg,
            "median_regret_val": float(np.median(regret)),
            "mean_best_val": m_val,
            "ci95_best_val": ci_val,
            "mean_test_acc": m_test,
            "ci95_test_acc": ci_test,
            "hit_rate": hits / len(rs),
            "ci95_hit_rate": list(wilson_ci(hits, len(rs))),
            "queries_to_reach": {
                _threshold_key(t): reach_summary(queries_to_reach(traj, t)) for t in thresholds
            },
            "mean_rank": float(np.mean(ranks[s])) if ranks[s] else None,
            "seconds_per_query": float(
                sum(r.wall_seconds for r in rs) / max(1, sum(r.n_queries for r in rs))
            ),
        }
        if curves:
            has_test = all(r.trajectory_test is not None for r in rs)
            entry["curves"] = {
                "regret_val": _curve(traj),
                "best_val": _curve(np.array([r.trajectory_val for r in rs], dtype=np.float64)),
                "test_acc": _curve(
                    np.array([[_num(v) for v in r.trajectory_test] for r in rs], dtype=np.float64)
                )
                if has_test
                else None,
            }
        out[s] = entry
    return out


def _num(v: float | None) -> float:
    return np.nan if v is None else float(v)


def _threshold_key(t: float) -> str:
    """``0.1`` -> ``"0.1"``, ``1.0`` -> ``"1"`` (JSON object keys)."""
    return f"{t:g}"
