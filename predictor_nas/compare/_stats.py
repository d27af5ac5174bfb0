"""Statistics of a comparison: means with t-intervals, Wilson intervals, queries to a regret."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from predictor_nas._validation import check_float, check_int, param_error


def _level(level: float, owner: str) -> float:
    v = check_float(level, "level", owner, minimum=0.0, exclusive=True)
    if v >= 1.0:
        raise param_error("level", owner, "a float in (0, 1)", level)
    return v


def _as_float_array(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    """Values as float64 with None -> NaN."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def mean_ci(
    values: Sequence[float | None] | np.ndarray, level: float = 0.95
) -> tuple[float | None, tuple[float, float] | None]:
    """Mean and two-sided Student-t interval of the mean over independent samples.

    Missing values (None / NaN) are left out.

    Args:
        values: Samples, shape (n,), one per seed.
        level: Confidence level of the interval.

    Returns:
        ``(mean, (low, high))``; the mean is None when no value is finite, the interval None
        when fewer than two are.
    """
    level = _level(level, "mean_ci")
    a = _as_float_array(values)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return None, None
    m = float(a.mean())
    if a.size < 2:
        return m, None
    from scipy.stats import t

    half = float(t.ppf(0.5 + level / 2, a.size - 1)) * float(a.std(ddof=1)) / math.sqrt(a.size)
    return m, (m - half, m + half)


def mean_ci_columns(
    a: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean and Student-t interval, e.g. of anytime curves over seeds.

    Args:
        a: Shape (n_seeds, n_steps); NaN marks a missing value.
        level: Confidence level.

    Returns:
        ``(mean, low, high)``, each of shape (n_steps,); NaN where a column has no finite value
        (mean) or fewer than two (interval).
    """
    level = _level(level, "mean_ci_columns")
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise param_error("a", "mean_ci_columns", "a 2-d array (n_seeds, n_steps)", a.shape)
    ok = np.isfinite(a)
    n = ok.sum(axis=0)
    filled = np.where(ok, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(ok, a - mean, 0.0)
        sd = np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1))
        from scipy.stats import t

        q = t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
        half = np.where(n >= 2, q * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return mean, mean - half, mean + half


def wilson_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial share ``k / n`` (e.g. a hit rate over seeds).

    Args:
        k: Successes, 0 <= k <= n.
        n: Trials, >= 1.
        level: Confidence level.

    Returns:
        ``(low, high)`` within [0, 1].
    """
    owner = "wilson_ci"
    level = _level(level, owner)
    n = check_int(n, "n", owner, minimum=1)
    k = check_int(k, "k", owner, minimum=0)
    if k > n:
        raise param_error("k", owner, f"an int <= n ({n})", k)
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def queries_to_reach(trajectories: np.ndarray, threshold: float) -> np.ndarray:
    """Queries each run needs until its anytime regret is <= ``threshold``.

    Args:
        trajectories: Anytime regret, shape (n_steps,) for one run or (n_runs, n_steps).
        threshold: Regret to reach (same unit as the trajectories).

    Returns:
        Float array of shape (n_runs,) (a 0-d array for one run): the 1-based query count at which
        the regret first is <= ``threshold``, or ``inf`` when the run never reaches it (censored
        at its budget; the median over runs stays correct while it is finite).
    """
    threshold = check_float(threshold, "threshold", "queries_to_reach", minimum=0.0)
    a = np.asarray(trajectories, dtype=np.float64)
    single = a.ndim == 1
    a = np.atleast_2d(a)
    hit = a <= threshold
    first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1.0, np.inf)
    return first[0] if single else first


def reach_summary(q: np.ndarray, level: float = 0.95) -> dict[str, float | list[float] | None]:
    """Median queries-to-threshold over runs and the share of runs that reached it.

    Args:
        q: What ``queries_to_reach`` returned for several runs, shape (n_runs,).
        level: Confidence level of the Wilson interval of the share.

    Returns:
        ``{"median": float | None, "reached": share, "ci95_reached": [low, high]}``; the median is
        None when half of the runs or more never reached the threshold within their budget.
    """
    q = np.asarray(q, dtype=np.float64).ravel()
    k = int(np.isfinite(q).sum())
    med = float(np.median(q)) if q.size else math.inf
    return {
        "median": med if math.isfinite(med) else None,
        "reached": k / q.size if q.size else None,
        "ci95_reached": list(wilson_ci(k, q.size, level)) if q.size else None,
    }
