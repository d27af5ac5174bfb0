"""What a comparison keeps: one RunRecord per search, the ComparisonResult, and their JSON form."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Self

import numpy as np

from predictor_nas import __version__


class JSONRecord:
    """``to_dict`` / ``from_dict`` of a dataclass record (one line of a run cache)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Inverse of ``to_dict`` (extra keys are ignored)."""
        fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
        return cls(**{k: d[k] for k in fields if k in d})


@dataclass(frozen=True)
class RunRecord(JSONRecord):
    """One search of a comparison (what the per-run cache stores as a JSON line).

    Attributes:
        strategy, dataset, seed, budget: What was run.
        n_queries: Completed queries.
        best_arch: Final incumbent (chosen by validation).
        best_val: Its mean validation value.
        best_test: Its test value, or None where the table has no test metric.
        regret_val: Final validation regret (>= 0).
        wall_seconds: Wall seconds of the search loop.
        trajectory_regret_val: (n_queries,) anytime validation regret.
        trajectory_val: (n_queries,) anytime incumbent's mean validation value.
        trajectory_test: (n_queries,) anytime incumbent's test value, or None.
        best_val_observed: The objective value the search saw for the incumbent (a drawn
            training trial with ``draw_seed``); None in caches written before it was kept.
    """

    strategy: str
    dataset: str
    seed: int
    budget: int
    n_queries: int
    best_arch: str
    best_val: float
    best_test: float | None
    regret_val: float
    wall_seconds: float
    trajectory_regret_val: list[float] = field(repr=False)
    trajectory_val: list[float] = field(repr=False)
    trajectory_test: list[float | None] | None = field(default=None, repr=False)
    best_val_observed: float | None = None


@dataclass
class ComparisonResult:
    """Outcome of ``compare``; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        config: Space, table (name and content hash; no file path, so that reports carry no
            machine paths), metric, draw_seed, datasets, strategies, seeds, budget, thresholds.
        runs: One ``RunRecord`` per (dataset, strategy, seed), in that order.
        datasets: Per dataset: table reference values and, per strategy, the statistics (see
            ``summarize``), including anytime curves.
        strategies: Per strategy, the same scalar statistics over all datasets (per seed the mean
            over datasets, then a bootstrap interval over seeds; hit rate and queries-to-reach
            pooled over runs). With one dataset this equals that dataset's entry without curves.
        wall_seconds: Wall seconds of the whole comparison (cached runs cost nothing).
        n_cached: Runs taken from the cache instead of being run.
        jobs: Worker processes used.
    """

    config: dict[str, Any]
    runs: list[RunRecord]
    datasets: dict[str, dict[str, Any]]
    strategies: dict[str, dict[str, Any]]
    wall_seconds: float
    n_cached: int = 0
    jobs: int = 1

    def to_dict(self, *, runs: bool = False, curves: bool = True) -> dict[str, Any]:
        """JSON-able dict (NaN -> None).

        Args:
            runs: Include every ``RunRecord`` (with trajectories) under ``"runs"``.
            curves: Include the per-step mean/CI curves of each dataset x strategy.
        """
        return comparison_dict(self, runs=runs, curves=curves)


def comparison_dict(result: Any, *, runs: bool, curves: bool, **head: Any) -> dict[str, Any]:
    """The JSON-able dict of a ``ComparisonResult`` or ``MOComparisonResult`` (NaN -> None).

    Args:
        result: The comparison result.
        runs: Include every run record (with trajectories) under ``"runs"``.
        curves: Include the per-step curves of each dataset x strategy.
        **head: Entries placed after the configuration (``mode`` for multi-objective).
    """

    def strip(entries: dict[str, Any]) -> dict[str, Any]:
        return {
            s: (v if curves else {k: x for k, x in v.items() if k != "curves"})
            for s, v in entries.items()
        }

    ds = {n: {**e, "strategies": strip(e["strategies"])} for n, e in result.datasets.items()}
    d: dict[str, Any] = {
        **result.config,
        **head,
        "strategies": strip(result.strategies),
        "datasets": ds,
        "n_runs": len(result.runs),
        "n_cached": result.n_cached,
        "jobs": result.jobs,
        "wall_seconds": result.wall_seconds,
        "version": __version__,
    }
    if runs:
        d["runs"] = [r.to_dict() for r in result.runs]
    return _jsonable(d)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
