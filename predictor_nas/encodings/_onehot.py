"""One-hot encoding of the operation on every decision (edge)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictor_nas.spaces import Arch, SearchSpace


def onehot(space: SearchSpace, archs: Sequence[Arch]) -> np.ndarray:
    """One-hot of each decision's operation.

    Args:
        space: The search space.
        archs: (n,) architectures of ``space``.

    Returns:
        float32 array of shape (n, len(space.param_names) * len(space.choices)); feature
        ``k * len(choices) + c`` is 1 when decision ``k`` uses operation ``choices[c]``.
    """
    n_ops = len(space.choices)
    codes = np.array([space.to_codes(a) for a in archs], dtype=np.int64).reshape(len(archs), -1)
    out = np.zeros((len(archs), codes.shape[1] * n_ops), dtype=np.float32)
    if len(archs):
        cols = codes + np.arange(codes.shape[1]) * n_ops
        out[np.arange(len(archs))[:, None], cols] = 1.0
    return out


def onehot_names(space: SearchSpace) -> list[str]:
    """Feature names of ``onehot``: ``"<decision>=<op>"``."""
    return [f"{p}={op}" for p in space.param_names for op in space.choices]
