"""Architectures as graphs (``torch_geometric.data.Data``) with operations on nodes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces import Arch, SearchSpace

INPUT, OUTPUT = "input", "output"


def node_types(space: SearchSpace) -> list[str]:
    """Node feature names: ``input``, ``output``, then the space's operations."""
    return [INPUT, OUTPUT, *space.choices]


def graph_arrays(space: SearchSpace, arch: Arch) -> tuple[np.ndarray, np.ndarray]:
    """Node features and edge list of the op-on-node graph of a cell.

    The cell's DAG has ops on edges; here every edge becomes a node carrying its op, with an
    extra input node (cell input) and output node (cell output). Node 0 is the input, nodes
    1..E the edges in ``space.edges`` order, node E+1 the output. A directed edge links op node
    (i -> j) to every op node (j -> k), input to every op node leaving cell node 0, and every op
    node entering the last cell node to the output.

    Returns:
        ``x``: float32 one-hot node types, shape (E + 2, 2 + n_ops);
        ``edge_index``: int64 shape (2, n_edges), rows = source, target.
    """
    edges = getattr(space, "edges", None)
    if edges is None:
        raise InvalidParameterError(
            f"Space {space.name!r} has no cell DAG; graph encoding needs one."
        )
    ops = space.validate(arch).ops
    if len(ops) != len(edges):
        raise InvalidParameterError(
            f"The graph encoding needs one operation per edge of the cell DAG (NB201); "
            f"{space.name!r} archs have {len(ops)} decisions for {len(edges)} edges."
        )
    types = node_types(space)
    n_nodes = len(edges) + 2
    out_node = n_nodes - 1
    last = max(j for _, j in edges)
    x = np.zeros((n_nodes, len(types)), dtype=np.float32)
    x[0, 0] = 1.0
    x[out_node, 1] = 1.0
    for k, op in enumerate(ops):
        x[k + 1, types.index(op)] = 1.0
    src, dst = [], []
    for k, (i, j) in enumerate(edges):
        if i == 0:
            src.append(0)
            dst.append(k + 1)
        if j == last:
            src.append(k + 1)
            dst.append(out_node)
        for m, (i2, _) in enumerate(edges):
            if i2 == j:
                src.append(k + 1)
                dst.append(m + 1)
    return x, np.array([src, dst], dtype=np.int64)


def to_pyg(space: SearchSpace, archs: Sequence[Arch], y: Sequence[float] | None = None) -> list:
    """``torch_geometric.data.Data`` per architecture (imports torch lazily).

    Args:
        space: A cell space with ``edges`` (NB201).
        archs: (n,) architectures.
        y: Optional (n,) targets stored as ``data.y`` (shape (1,)).

    Returns:
        List of n ``Data`` with ``x`` (E + 2, 2 + n_ops) and ``edge_index`` (2, n_edges).
    """
    import torch
    from torch_geometric.data import Data

    graphs = []
    for r, arch in enumerate(archs):
        x, ei = graph_arrays(space, arch)
        d = Data(x=torch.from_numpy(x), edge_index=torch.from_numpy(ei))
        if y is not None:
            d.y = torch.tensor([float(y[r])], dtype=torch.float32)
        graphs.append(d)
    return graphs
