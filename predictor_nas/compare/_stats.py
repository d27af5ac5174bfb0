"""Statistics of a comparison: bootstrap intervals of means, Wilson intervals, queries to a regret.

Intervals of a mean are seeded percentile-bootstrap intervals by default: they are deterministic
(a fixed resampling seed), need numpy only, and never leave the range of the data, so a regret
(>= 0) never gets a negative bound, as a Student-t interval of skewed values does (cifar100,
``ls``: t [-0.051, 0.133]). Student-t stays available with ``method="t"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from predictor_nas._lazy import scipy_stats
from predictor_nas._validation import check_choice, check_float, check_int, param_error


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


#: Bootstrap resamples of an interval of a mean, and the seed of the resampling.
N_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
METHODS = ("bootstrap", "t")


def bootstrap_ci(
    values: np.ndarray, level: float = 0.95, *, n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Seeded percentile-bootstrap interval of the mean of finite samples.

    Resamples the values with replacement ``n_resamples`` times (numpy's PCG64 seeded with
    ``seed``, so the interval depends on the values and the seed only) and takes the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled means. The bounds lie
    within ``[min(values), max(values)]``: non-negative data give non-negative bounds. With few
    samples (n < 10) the percentile interval is narrower than the nominal level.

    Args:
        values: Finite samples, shape (n,), n >= 2.
        level: Confidence level in (0, 1).
        n_resamples: Bootstrap resamples (>= 100).
        seed: Seed of the resampling (>= 0).

    Returns:
        ``(low, high)``.
    """
    owner = "bootstrap_ci"
    level = _level(level, owner)
    n_resamples = check_int(n_resamples, "n_resamples", owner, minimum=100)
    seed = check_int(seed, "seed", owner, minimum=0)
    a = np.asarray(values, dtype=np.float64).ravel()
    if a.size < 2 or not np.all(np.isfinite(a)):
        raise param_error("values", owner, "at least 2 finite samples", f"{a.size} values")
    lo, hi = _bootstrap_columns(a[:, None], level, n_resamples, seed)
    return float(lo[0]), float(hi[0])


def _bootstrap_columns(
    a: np.ndarray, level: float, n_resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap bounds of the column means of a finite (n, k) array, n >= 2.

    Every column uses the same resamples of the n rows (counts (B, n) drawn from ``seed``), so
    the means are one matrix product and a column's interval equals :func:`bootstrap_ci` of it.
    """
    n = a.shape[0]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    counts = np.bincount(
        (idx + n * np.arange(n_resamples)[:, None]).ravel(), minlength=n_resamples * n
    ).reshape(n_resamples, n)
    means = counts @ a / n  # (B, k)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2], axis=0)
    # Rounding of the product must not leave the data's range.
    return np.maximum(lo, a.min(axis=0)), np.minimum(hi, a.max(axis=0))


def mean_ci(
    values: Sequence[float | None] | np.ndarray, level: float = 0.95, *, method: str = "bootstrap"
) -> tuple[float | None, tuple[float, float] | None]:
    """Mean and two-sided interval of the mean over independent samples.

    Missing values (None / NaN) are left out.

    Args:
        values: Samples, shape (n,), one per seed.
        level: Confidence level of the interval.
        method: ``"bootstrap"`` (:func:`bootstrap_ci`, bounded by the data's range) or ``"t"``
            (Student-t, symmetric; may cross 0 for non-negative data).

    Returns:
        ``(mean, (low, high))``; the mean is None when no value is finite, the interval None
        when fewer than two are.
    """
    level = _level(level, "mean_ci")
    check_choice(method, "method", "mean_ci", METHODS)
    a = _as_float_array(values)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return None, None
    m = float(a.mean())
    if a.size < 2:
        return m, None
    if method == "bootstrap":
        return m, bootstrap_ci(a, level)

    q = float(scipy_stats.t.ppf(0.5 + level / 2, a.size - 1))
    half = q * float(a.std(ddof=1)) / math.sqrt(a.size)
    return m, (m - half, m + half)


def mean_ci_columns(
    a: np.ndarray, level: float = 0.95, *, method: str = "bootstrap"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean and interval (as :func:`mean_ci`), e.g. of anytime curves over seeds.

    Args:
        a: Shape (n_seeds, n_steps); NaN marks a missing value.
        level: Confidence level.
        method: ``"bootstrap"`` or ``"t"``, as in :func:`mean_ci`.

    Returns:
        ``(mean, low, high)``, each of shape (n_steps,); NaN where a column has no finite value
        (mean) or fewer than two (interval).
    """
    level = _level(level, "mean_ci_columns")
    check_choice(method, "method", "mean_ci_columns", METHODS)
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise param_error("a", "mean_ci_columns", "a 2-d array (n_seeds, n_steps)", a.shape)
    if method == "bootstrap":
        ok = np.isfinite(a)
        n = ok.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, np.where(ok, a, 0.0).sum(axis=0) / np.maximum(n, 1), np.nan)
        low, high = np.full(a.shape[1], np.nan), np.full(a.shape[1], np.nan)
        masks: dict[bytes, list[int]] = {}
        for j in np.flatnonzero(n >= 2):  # columns with the same seeds share the resamples
            masks.setdefault(ok[:, j].tobytes(), []).append(int(j))
        for cols in masks.values():
            rows = ok[:, cols[0]]
            low[cols], high[cols] = _bootstrap_columns(
                a[np.ix_(rows, cols)], level, N_RESAMPLES, BOOTSTRAP_SEED
            )
        return mean, low, high
    ok = np.isfinite(a)
    n = ok.sum(axis=0)
    filled = np.where(ok, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(ok, a - mean, 0.0)
        sd = np.sqrt((dev**2).sum(axis=0) / np.maximum(n - 1, 1))

        q = scipy_stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
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

    z = float(scipy_stats.norm.ppf(0.5 + level / 2))
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


def final_ranks(
    runs: Sequence[Any], strategies: Sequence[str], value: Callable[[Any], float]
) -> dict[str, list[float]]:
    """Ranks of a final value among the strategies, per (dataset, seed) of the runs.

    Args:
        runs: Records with ``dataset``, ``seed`` and ``strategy`` attributes.
        strategies: Strategies to rank (a run of another strategy is ignored).
        value: The value of a record to rank (lower is better).

    Returns:
        Strategy -> one rank per (dataset, seed) it ran (1 = lowest; ties share the mean rank).
    """

    final: dict[tuple[str, int], dict[str, float]] = {}
    for r in runs:
        final.setdefault((r.dataset, r.seed), {})[r.strategy] = value(r)
    ranks: dict[str, list[float]] = {s: [] for s in strategies}
    for per in final.values():
        names = [s for s in strategies if s in per]
        for s, rk in zip(names, scipy_stats.rankdata([per[s] for s in names])):
            ranks[s].append(float(rk))
    return ranks
