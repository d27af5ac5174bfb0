"""Features of partial learning curves for learned extrapolation models."""

from __future__ import annotations

import numpy as np

from predictor_nas.curves._base import last_observed
from predictor_nas.curves._last_value import heuristic_std

#: Fractions of the observed prefix at which the value (minus the last value) is a feature.
PREFIX_FRACTIONS = (0.0, 0.25, 0.5, 0.75)
#: Window lengths (epochs, clipped to the prefix) of the recent-slope and recent-mean features.
WINDOWS = (3, 10)

FEATURE_NAMES: tuple[str, ...] = (
    "t",
    "final_epoch",
    "fraction",
    "log_horizon",
    "last",
    "best_minus_last",
    *(f"mean{w}_minus_last" for w in WINDOWS),
    *(f"slope{w}" for w in WINDOWS),
    *(f"at{f:g}_minus_last" for f in PREFIX_FRACTIONS),
    "noise",
    "heuristic_std",
)


def _window_stats(z: np.ndarray, lengths: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and least-squares slope of the last min(w, t) observed values, each (n,)."""
    width = z.shape[1]
    k = np.minimum(lengths, w)
    j = np.arange(width)[None, :]
    inwin = (j < lengths[:, None]) & (j >= (lengths - k)[:, None])
    x = np.where(inwin, j, 0).astype(np.float64)
    y = np.where(inwin, z, 0.0)
    cnt = k.astype(np.float64)
    mx = x.sum(1) / cnt
    my = y.sum(1) / cnt
    dx = np.where(inwin, x - mx[:, None], 0.0)
    sxx = (dx**2).sum(1)
    slope = np.where(sxx > 0, (dx * (y - my[:, None])).sum(1) / np.where(sxx > 0, sxx, 1.0), 0.0)
    return my, slope


def curve_features(
    values: np.ndarray, lengths: np.ndarray, final_epoch: np.ndarray | int, sign: float
) -> np.ndarray:
    """Feature matrix of NaN-padded partial curves.

    All value features are taken on ``sign * values`` (increasing for a learning curve), so one
    model serves accuracy and loss curves alike. Columns are ``FEATURE_NAMES``: observed length
    t, final epoch F, t / F, log(F / t), last value, best minus last, mean of the last 3 / 10
    epochs minus last, least-squares slope over the last 3 / 10 epochs, the value at 0, 25, 50
    and 75% of the prefix minus last, the std of first differences (noise) and
    :func:`~predictor_nas.curves._last_value.heuristic_std`.

    Args:
        values: float array (n, T), NaN after each observed prefix.
        lengths: int array (n,) of observed lengths (>= 1).
        final_epoch: Final epoch per curve (n,) or one int for all.
        sign: +1 for accuracy, -1 for loss.

    Returns:
        float64 array (n, len(FEATURE_NAMES)).
    """
    n = len(lengths)
    z = sign * values
    f = np.broadcast_to(np.asarray(final_epoch, dtype=np.float64), (n,))
    t = lengths.astype(np.float64)
    rows = np.arange(n)
    last = last_observed(z, lengths)
    best = np.where(np.isnan(z), -np.inf, z).max(axis=1)
    cols = [t, f, t / f, np.log(f / t), last, best - last]
    stats = [_window_stats(z, lengths, w) for w in WINDOWS]
    cols += [m - last for m, _ in stats]
    cols += [s for _, s in stats]
    for frac in PREFIX_FRACTIONS:
        idx = np.rint(frac * (lengths - 1)).astype(np.int64)
        cols.append(z[rows, idx] - last)
    d = np.diff(z, axis=1)
    valid = ~np.isnan(d)
    cnt = np.maximum(valid.sum(1), 1)
    mu = np.where(valid, d, 0.0).sum(1) / cnt
    noise = np.sqrt((np.where(valid, d - mu[:, None], 0.0) ** 2).sum(1) / cnt)
    cols.append(noise)
    heur = heuristic_std(values, lengths, f)
    cols.append(heur)
    return np.column_stack(cols) if n else np.zeros((0, len(FEATURE_NAMES)))
