"""Ranking and calibration scores of a predictor's predictions against the truth."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

from predictor_nas._lazy import scipy_stats
from predictor_nas._validation import param_error
from predictor_nas.exceptions import InvalidParameterError

#: Ideal coverage of the ±1σ and ±2σ intervals of a Gaussian.
IDEAL_COVERAGE = {"coverage_1sigma": 0.6827, "coverage_2sigma": 0.9545}

#: Smallest std used in the Gaussian log-likelihood (a zero std would give -inf).
_MIN_STD = 1e-9


# --------------------------------------------------------------------------- metrics
def ranking_metrics(
    y_true: Sequence[float] | np.ndarray,
    mean: Sequence[float] | np.ndarray,
    std: Sequence[float] | np.ndarray | None = None,
    *,
    top_k: Iterable[int] = (10, 50, 100),
    higher_is_better: bool = True,
) -> dict[str, float]:
    """Ranking quality of predictions, and their calibration when a std is given.

    Args:
        y_true: (n,) true values.
        mean: (n,) predicted values.
        std: (n,) predicted standard deviations, or ``None``.
        top_k: Sizes ``k`` of the top sets compared by precision@k (``k`` is capped at ``n``).
        higher_is_better: Direction of the metric: which end of the ranking is the "top".

    Returns:
        ``kendall_tau`` (tau-b) and ``spearman`` (``nan`` when either side is constant),
        ``precision_at_{k}`` for each ``k`` (fraction of the predicted top-k that is in the true
        top-k), and with ``std``: ``coverage_1sigma`` / ``coverage_2sigma`` (fraction of true values
        within mean ± 1σ / 2σ; ideal 0.683 / 0.954) and ``log_likelihood`` (mean Gaussian
        log-density of the true values, std floored at 1e-9).
    """

    y = np.asarray(y_true, dtype=np.float64)
    m = np.asarray(mean, dtype=np.float64)
    if y.ndim != 1 or m.shape != y.shape or len(y) < 2:
        raise InvalidParameterError(
            f"ranking_metrics needs y_true and mean as 1-d arrays of one common length >= 2; "
            f"got shapes {y.shape} and {m.shape}."
        )
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(m))):
        raise InvalidParameterError("ranking_metrics got non-finite values (NaN or inf).")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy_stats.ConstantInputWarning)
        out: dict[str, float] = {
            "kendall_tau": float(scipy_stats.kendalltau(y, m).statistic),
            "spearman": float(scipy_stats.spearmanr(y, m).statistic),
        }
    sign = 1.0 if higher_is_better else -1.0
    # Stable sorts: ties are broken by position, the same way on both sides.
    true_order = np.argsort(-sign * y, kind="stable")
    pred_order = np.argsort(-sign * m, kind="stable")
    for k in top_k:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise param_error("top_k", "ranking_metrics", "ints >= 1", k)
        kk = min(int(k), len(y))
        hits = np.intersect1d(true_order[:kk], pred_order[:kk], assume_unique=True).size
        out[f"precision_at_{int(k)}"] = hits / kk
    if std is not None:
        s = np.asarray(std, dtype=np.float64)
        if s.shape != y.shape or not np.all(np.isfinite(s)) or np.any(s < 0):
            raise InvalidParameterError(
                f"ranking_metrics needs std as finite values >= 0 of shape {y.shape}; "
                f"got shape {s.shape}."
            )
        err = np.abs(y - m)
        out["coverage_1sigma"] = float(np.mean(err <= s))
        out["coverage_2sigma"] = float(np.mean(err <= 2 * s))
        sf = np.maximum(s, _MIN_STD)
        ll = -0.5 * np.log(2 * np.pi * sf**2) - 0.5 * (err / sf) ** 2
        out["log_likelihood"] = float(np.mean(ll))
    return out


# --------------------------------------------------------------------------- helpers
