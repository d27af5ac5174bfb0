"""Predicting the final value of a partially trained architecture, for promotions.

* On a table with two fidelities (NB201: 12 and 200 epochs) there is no curve to extrapolate:
  :class:`LinearFidelityMapping` learns ``final ~ a + b * low`` from the architectures the search
  has evaluated at both fidelities.
* With learning curves (NB301 surrogate) a curve model from ``predictor_nas.curves`` (by name,
  ``make_curve_model``) extrapolates the observed prefix to the final epoch.
* :func:`combine_gaussians` merges such an estimate with the accuracy predictor's (both as
  Gaussians, precision-weighted) and :func:`calibration_scale` rescales a model's std so that its
  past errors have unit RMS z-score.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np

from predictor_nas._validation import check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.predictors import NotFittedError, Prediction


class LinearFidelityMapping:
    """Least-squares line from the value at a low fidelity to the value at the final one.

    The predictive std is the ordinary-least-squares one,
    ``s * sqrt(1 + 1/m + (x - mean(x))^2 / Sxx)`` with ``s`` the residual standard error, so few
    or clustered pairs give wide predictions.

    Args:
        min_pairs: Pairs needed to fit (>= 3: two parameters and one degree of freedom).
    """

    def __init__(self, *, min_pairs: int = 5) -> None:
        self.min_pairs = min_pairs

    def fit(self, low: Sequence[float] | np.ndarray, final: Sequence[float] | np.ndarray) -> Self:
        """Fit on (m,) low-fidelity values and their (m,) final values; returns ``self``."""
        owner = "LinearFidelityMapping.fit"
        check_int(self.min_pairs, "min_pairs", "LinearFidelityMapping", minimum=3)
        x = np.asarray(low, dtype=np.float64)
        y = np.asarray(final, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape:
            raise param_error(
                "final", owner, f"an array of the same shape as low {x.shape}", f"shape {y.shape}"
            )
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise InvalidParameterError(f"{owner} got non-finite values.")
        if len(x) < self.min_pairs:
            raise param_error(
                "low", owner, f"at least min_pairs={self.min_pairs} pairs", f"{len(x)} pairs"
            )
        m = len(x)
        self.x_mean_ = float(x.mean())
        self.sxx_ = float(((x - self.x_mean_) ** 2).sum())
        if self.sxx_ <= 1e-12:
            self.slope_ = 0.0
        else:
            self.slope_ = float(((x - self.x_mean_) * (y - y.mean())).sum() / self.sxx_)
        self.intercept_ = float(y.mean() - self.slope_ * self.x_mean_)
        resid = y - (self.intercept_ + self.slope_ * x)
        self.resid_std_ = float(np.sqrt((resid**2).sum() / (m - 2)))
        self.n_pairs_ = m
        return self

    def predict(self, low: Sequence[float] | np.ndarray) -> Prediction:
        """Predicted final value (mean (n,), std (n,)) for (n,) low-fidelity values."""
        if not hasattr(self, "n_pairs_"):
            raise NotFittedError(
                "This LinearFidelityMapping is not fitted yet; call fit(low, final) first."
            )
        x = np.asarray(low, dtype=np.float64).reshape(-1)
        mean = self.intercept_ + self.slope_ * x
        lever = 1.0 + 1.0 / self.n_pairs_
        if self.sxx_ > 1e-12:
            lever = lever + (x - self.x_mean_) ** 2 / self.sxx_
        std = np.maximum(self.resid_std_ * np.sqrt(lever), 1e-9)
        return Prediction(mean, std)


def calibration_scale(
    mean: Sequence[float], std: Sequence[float], observed: Sequence[float], *, min_count: int = 5
) -> float | None:
    """Factor that makes past predictions' z-scores have unit root mean square.

    Args:
        mean, std: (k,) past predictions (std > 0).
        observed: (k,) the values that were observed later.
        min_count: Fewest pairs to calibrate on.

    Returns:
        ``sqrt(mean(((observed - mean) / std)^2))`` (>= 1e-3), or ``None`` with fewer than
        ``min_count`` pairs.
    """
    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(std, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    ok = np.isfinite(m) & np.isfinite(s) & np.isfinite(o) & (s > 0)
    if ok.sum() < min_count:
        return None
    z = (o[ok] - m[ok]) / s[ok]
    return float(max(np.sqrt(np.mean(z**2)), 1e-3))


def combine_gaussians(
    mean_a: np.ndarray, std_a: np.ndarray, mean_b: np.ndarray, std_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Precision-weighted product of two Gaussian estimates per item; NaN in b = use a alone.

    Args:
        mean_a, std_a: (n,) first estimate (std > 0).
        mean_b, std_b: (n,) second estimate; rows with NaN are ignored.

    Returns:
        ``(mean (n,), std (n,))`` of the combination.
    """
    ma, sa = np.asarray(mean_a, np.float64), np.asarray(std_a, np.float64)
    mb, sb = np.asarray(mean_b, np.float64), np.asarray(std_b, np.float64)
    wa = 1.0 / np.maximum(sa, 1e-12) ** 2
    has_b = np.isfinite(mb) & np.isfinite(sb) & (sb > 0)
    wb = np.where(has_b, 1.0 / np.maximum(np.where(has_b, sb, 1.0), 1e-12) ** 2, 0.0)
    mean = (wa * ma + wb * np.where(has_b, mb, 0.0)) / (wa + wb)
    return mean, 1.0 / np.sqrt(wa + wb)
