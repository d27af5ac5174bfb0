"""Path encoding (BANANAS, White et al. 2021): which operation sequences lead input to output."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cache

import numpy as np

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces import Arch, SearchSpace

#: Operations that carry no signal: a path through one of them contributes nothing.
ZERO_OPS = frozenset({"none"})


@cache
def _routes(space_name: str) -> tuple[tuple[int, ...], ...]:
    """Edge-index sequences of every input-to-output route of the cell DAG."""
    from predictor_nas.spaces import get_space

    space = get_space(space_name)
    edges = getattr(space, "edges", None)
    if edges is None:
        raise InvalidParameterError(
            f"Space {space_name!r} has no cell DAG; path encoding needs one."
        )
    out_node = max(j for _, j in edges)
    routes = []

    def walk(node: int, acc: tuple[int, ...]) -> None:
        if node == out_node:
            routes.append(acc)
            return
        for k, (i, j) in enumerate(edges):
            if i == node:
                walk(j, (*acc, k))

    walk(0, ())
    return tuple(sorted(routes, key=lambda r: (len(r), r)))


@cache
def _path_index(space_name: str) -> dict[tuple[str, ...], int]:
    from predictor_nas.spaces import get_space

    space = get_space(space_name)
    ops = [o for o in space.choices if o not in ZERO_OPS]
    lengths = sorted({len(r) for r in _routes(space_name)})
    index: dict[tuple[str, ...], int] = {}
    for length in lengths:
        for seq in itertools.product(ops, repeat=length):
            index[seq] = len(index)
    return index


def path_encoding(space: SearchSpace, archs: Sequence[Arch]) -> np.ndarray:
    """Count of input-to-output paths per operation sequence.

    A path is a route through the cell DAG; its operation sequence is the ops on its edges. Paths
    through a zero op (``none``) carry no signal and are dropped. For NB201 there are 4 routes
    (lengths 1, 2, 2, 3) and 4 + 16 + 64 = 84 possible sequences.

    Args:
        space: A cell space with an ``edges`` attribute (NB201).
        archs: (n,) architectures.

    Returns:
        float32 array of shape (n, n_sequences) of path counts (0, 1 or 2 for NB201).
    """
    routes = _routes(space.name)
    index = _path_index(space.name)
    out = np.zeros((len(archs), len(index)), dtype=np.float32)
    for r, arch in enumerate(archs):
        ops = space.validate(arch).ops
        for route in routes:
            seq = tuple(ops[k] for k in route)
            if not ZERO_OPS.intersection(seq):
                out[r, index[seq]] += 1.0
    return out


def path_names(space: SearchSpace) -> list[str]:
    """Feature names of ``path_encoding``: ops joined by ``>``."""
    return [">".join(seq) for seq in _path_index(space.name)]
