"""Baseline: the final value is the last observed value."""

from __future__ import annotations

import numpy as np

from predictor_nas.curves._base import CurveModel, last_observed

#: Without a corpus and with a single observed epoch, std = this fraction of |value|.
SINGLE_EPOCH_REL_STD = 0.1


def heuristic_std(
    values: np.ndarray, lengths: np.ndarray, final_epoch: int | np.ndarray
) -> np.ndarray:
    """Corpus-free spread of ``final - last`` for NaN-padded prefixes.

    With t >= 2 observed epochs: the recent slope ``d`` (mean change per epoch over the last
    ``k = min(t - 1, 3)`` epochs) is taken to decay like 1/epoch, as on a power-law curve, so the
    curve may still move by ``|d| * t * log(final / t)``; this is combined in quadrature with the
    epoch-to-epoch noise ``std(first differences) / sqrt(2)`` of the prefix. With one observed
    epoch there is no scale but the value itself: ``0.1 * |value|``.

    Args:
        values: float array (n, T), NaN after each observed prefix.
        lengths: int array (n,) of observed lengths (>= 1).
        final_epoch: Epoch to extrapolate to (>= every length), one int or one per curve (n,).

    Returns:
        float64 array (n,) (>= 0).
    """
    n = len(lengths)
    rows = np.arange(n)
    t = lengths.astype(np.float64)
    last = last_observed(values, lengths)
    k = np.clip(lengths - 1, 1, 3)
    prev = values[rows, np.maximum(lengths - 1 - k, 0)]
    slope = np.where(lengths >= 2, (last - prev) / k, 0.0)
    diffs = np.diff(values, axis=1)  # NaN past the prefix
    valid = ~np.isnan(diffs)
    cnt = np.maximum(valid.sum(axis=1), 1)
    d0 = np.where(valid, diffs, 0.0)
    mu = d0.sum(axis=1) / cnt
    var = (np.where(valid, diffs - mu[:, None], 0.0) ** 2).sum(axis=1) / cnt
    noise = np.sqrt(var / 2.0)
    remaining = np.abs(slope) * t * np.log(final_epoch / t)
    std = np.sqrt(remaining**2 + noise**2)
    return np.where(lengths >= 2, std, SINGLE_EPOCH_REL_STD * np.abs(last))


class LastValueCurveModel(CurveModel):
    """Predict that the curve stays at its last observed value.

    The std is, after ``fit(curves)``, the root mean square of ``curve[F] - curve[t]`` over the
    corpus for the same observed length t and final epoch F (the spread about zero, since the
    mean is the last value; for F beyond the corpus length L the pair with the same fraction
    ``t / F`` at F = L is used). Without a corpus it is :func:`heuristic_std`.

    Args:
        kind: ``"accuracy"`` or ``"loss"`` (does not change the mean; kept for the common API).
        bounds: Optional ``(low, high)`` the mean is clipped to.
        seed: Unused (the model is deterministic); kept for the common API.
    """

    name = "last-value"
    requires_fit = False

    def _fit(self, curves: np.ndarray | None, extra: np.ndarray | None) -> None:
        if curves is None:
            self.rms_ = None
            return
        length = curves.shape[1]
        rms = np.zeros((length, length))
        for f in range(length):  # rms[t - 1, F - 1] over the corpus, for t <= F
            d = curves[:, f : f + 1] - curves[:, : f + 1]
            rms[: f + 1, f] = np.sqrt(np.mean(d**2, axis=0))
        self.rms_ = rms

    def _predict(
        self, values: np.ndarray, lengths: np.ndarray, final_epoch: int, extra: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        mean = last_observed(values, lengths)
        rms = getattr(self, "rms_", None)
        if rms is None:
            return mean, heuristic_std(values, lengths, final_epoch)
        length = rms.shape[0]
        if final_epoch <= length:
            std = rms[lengths - 1, final_epoch - 1]
        else:
            t = np.clip(np.rint(lengths * length / final_epoch).astype(np.int64), 1, length)
            std = rms[t - 1, length - 1]
        return mean, std
