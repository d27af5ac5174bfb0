"""Tabular feature encoders: a named vector encoding, optionally with table features appended."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from predictor_nas._validation import check_choice
from predictor_nas.encodings._onehot import onehot, onehot_names
from predictor_nas.encodings._paths import path_encoding, path_names
from predictor_nas.encodings._table_features import TableFeatures
from predictor_nas.spaces import Arch, SearchSpace

ENCODINGS: dict[str, tuple[Callable, Callable]] = {
    "onehot": (onehot, onehot_names),
    "path": (path_encoding, path_names),
}


class Encoder:
    """Turns architectures into a float32 feature matrix.

    Args:
        space: The search space.
        encoding: ``"onehot"``, ``"path"`` or ``"onehot+path"``.
        extra: Optional ``TableFeatures`` appended to the encoding (zero-cost proxies, cost).
    """

    def __init__(
        self, space: SearchSpace, encoding: str = "onehot", extra: TableFeatures | None = None
    ) -> None:
        parts = encoding.split("+")
        for p in parts:
            check_choice(p, "encoding", "Encoder", [*ENCODINGS, "onehot+path"])
        self.space = space
        self.encoding = encoding
        self.parts = parts
        self.extra = extra

    @property
    def names(self) -> list[str]:
        """Feature names, in column order."""
        names = [n for p in self.parts for n in ENCODINGS[p][1](self.space)]
        if self.extra is not None:
            names += self.extra.names
        return names

    def transform(self, archs: Sequence[Arch]) -> np.ndarray:
        """Feature matrix, float32 shape (n, len(names))."""
        archs = [self.space.coerce(a) for a in archs]
        blocks = [ENCODINGS[p][0](self.space, archs) for p in self.parts]
        if self.extra is not None:
            blocks.append(self.extra.transform(archs))
        return np.concatenate(blocks, axis=1).astype(np.float32)
