"""Tabular feature encoders: a named vector encoding, optionally with table features appended."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from predictor_nas._validation import check_choice, param_error
from predictor_nas.encodings._onehot import onehot, onehot_names
from predictor_nas.encodings._paths import (
    path_encoding,
    path_names,
    path_stats,
    path_stats_names,
)
from predictor_nas.encodings._table_features import TableFeatures
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces import INPUT, LABEL_SEP, OUTPUT, Arch, SearchSpace


def op_counts(space: SearchSpace, archs: Sequence[Arch]) -> np.ndarray:
    """How often each node-label token occurs in an architecture's graph.

    Args:
        space: Any space with ``graph``.
        archs: (n,) architectures of ``space``.

    Returns:
        float32 array of shape (n, len(op_count_names(space))): column ``c`` counts the inner
        nodes whose label has token ``space.node_labels()[c + 2]`` (for NB201: each of the 5
        ops, ``none`` included). On pruned cells (``Encoder(prune=True)``) these are the counts
        of the live operations.
    """
    tokens = _count_tokens(space)
    col = {t: c for c, t in enumerate(tokens)}
    out = np.zeros((len(archs), len(tokens)), dtype=np.float32)
    for r, arch in enumerate(archs):
        labels = space.graph(space.validate(arch)).labels
        for label in labels[1:-1]:
            for t in label.split(LABEL_SEP):
                if t in col:
                    out[r, col[t]] += 1.0
    return out


def _count_tokens(space: SearchSpace) -> list[str]:
    return [t for t in space.node_labels() if t not in (INPUT, OUTPUT)]


def op_count_names(space: SearchSpace) -> list[str]:
    """Feature names of ``op_counts``: ``"count=<token>"``."""
    return [f"count={t}" for t in _count_tokens(space)]


ENCODINGS: dict[str, tuple[Callable, Callable]] = {
    "onehot": (onehot, onehot_names),
    "path": (path_encoding, path_names),
    "counts": (op_counts, op_count_names),
    "pathstats": (path_stats, path_stats_names),
}


@lru_cache(maxsize=1 << 15)
def _pruned(space: SearchSpace, arch: Arch) -> Arch:
    return space.prune(arch)


def prune_archs(space: SearchSpace, archs: Sequence[Arch]) -> list[Arch]:
    """``space.prune(a)`` of every arch (cached: a search encodes the same archs again and again).

    Raises:
        InvalidParameterError: The space has no ``prune`` (only cell spaces such as NB201 do).
    """
    if not callable(getattr(space, "prune", None)):
        raise InvalidParameterError(
            f"Space {space.name!r} has no prune(arch); encoding pruned cells needs one."
        )
    return [_pruned(space, a) for a in archs]


class Encoder:
    """Turns architectures into a float32 feature matrix.

    Args:
        space: The search space.
        encoding: Names from ``ENCODINGS`` joined by ``+``: ``"onehot"``, ``"path"``,
            ``"counts"`` (operation counts), ``"pathstats"`` (path count and lengths per op
            subset), e.g. ``"onehot+counts"``.
        extra: Optional ``TableFeatures`` appended to the encoding (zero-cost proxies, cost).
        prune: Encode ``space.prune(arch)`` instead of ``arch``: every operation that cannot
            change the cell's function (on an edge the input never reaches, or that never reaches
            the output) becomes ``none``, so cells that differ only in dead operations get one
            encoding. The ``extra`` features are still looked up for ``arch`` itself. Needs a
            space with ``prune`` (NB201).
    """

    def __init__(
        self,
        space: SearchSpace,
        encoding: str = "onehot",
        extra: TableFeatures | None = None,
        *,
        prune: bool = False,
    ) -> None:
        if not isinstance(encoding, str):
            raise param_error("encoding", "Encoder", "a string such as 'onehot+path'", encoding)
        parts = encoding.split("+")
        for p in parts:
            check_choice(p, "encoding", "Encoder", list(ENCODINGS))
        if len(set(parts)) != len(parts):
            raise param_error("encoding", "Encoder", "encoding names without repeats", encoding)
        if not isinstance(prune, bool):
            raise param_error("prune", "Encoder", "a bool", prune)
        if prune and not callable(getattr(space, "prune", None)):
            raise InvalidParameterError(
                f"The 'prune' parameter of Encoder needs a space with prune(arch); "
                f"{space.name!r} has none."
            )
        self.space = space
        self.encoding = encoding
        self.parts = parts
        self.extra = extra
        self.prune = prune

    @property
    def names(self) -> list[str]:
        """Feature names, in column order."""
        names = [n for p in self.parts for n in ENCODINGS[p][1](self.space)]
        if self.extra is not None:
            names += self.extra.names
        return names

    def transform(self, archs: Sequence[Arch]) -> np.ndarray:
        """Feature matrix, float32 shape (n, len(names)).

        The encoding's rows are memoised per architecture (every encoding is a pure function of
        one arch, so a row is the same alone or in a batch): a search that refits on all its
        trials at every proposal encodes each trial once. ``extra`` features are not memoised.
        """
        archs = [self.space.coerce(a) for a in archs]
        if not archs:
            return np.zeros((0, len(self.names)), dtype=np.float32)
        memo = _row_memo(self.space, self.encoding, self.prune)
        got = [memo.get(a) for a in archs]  # one read each: safe if another thread clears
        new = list(dict.fromkeys(a for a, row in zip(archs, got) if row is None))
        if new:
            encoded = prune_archs(self.space, new) if self.prune else new
            fresh = dict(zip(new, np.concatenate(
                [ENCODINGS[p][0](self.space, encoded) for p in self.parts], axis=1
            ).astype(np.float32)))
            if len(memo) + len(new) > _MAX_ROWS:
                memo.clear()
            memo.update(fresh)
            got = [fresh[a] if row is None else row for a, row in zip(archs, got)]
        base = np.array(got, dtype=np.float32)
        if self.extra is None:
            return base
        return np.concatenate([base, self.extra.transform(archs)], axis=1).astype(np.float32)


#: Rows memoised per (space, encoding, prune) before the memo is cleared.
_MAX_ROWS = 1 << 17
_ROWS: weakref.WeakKeyDictionary[SearchSpace, dict[tuple[str, bool], dict[Arch, np.ndarray]]] = (
    weakref.WeakKeyDictionary()
)


def _row_memo(space: SearchSpace, encoding: str, prune: bool) -> dict[Arch, np.ndarray]:
    """The memo of ``Encoder.transform``'s encoding rows for one space and setting."""
    per_space = _ROWS.get(space)
    if per_space is None:
        per_space = _ROWS[space] = {}
    return per_space.setdefault((encoding, prune), {})
