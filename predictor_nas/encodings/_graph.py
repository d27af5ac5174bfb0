"""Architectures as graphs (``torch_geometric.data.Data``) with operations on nodes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictor_nas._lazy import torch, torch_geometric_data
from predictor_nas.spaces import INPUT, LABEL_SEP, OUTPUT, Arch, SearchSpace

__all__ = ["INPUT", "OUTPUT", "graph_arrays", "node_types", "to_pyg"]


def node_types(space: SearchSpace) -> list[str]:
    """Node feature names: ``input``, ``output``, then every label token of the space."""
    return list(space.node_labels())


def graph_arrays(space: SearchSpace, arch: Arch) -> tuple[np.ndarray, np.ndarray]:
    """Node features and edge list of ``space.graph(arch)``.

    For a cell with ops on edges (NB201) every edge is a node carrying its op, with an input
    node (0) and an output node (E + 1); see ``predictor_nas.spaces.ArchGraph``. A node's
    feature row is the multi-hot of its label's tokens (one token per node in cell spaces;
    ``conv|filters=32|kernel_size=3`` sets three in a chain space).

    Returns:
        ``x``: float32 node features, shape (n_nodes, len(node_types(space)));
        ``edge_index``: int64 shape (2, n_edges), rows = source, target.
    """
    g = space.graph(space.validate(arch))
    vocab = {t: c for c, t in enumerate(node_types(space))}
    x = np.zeros((g.n_nodes, len(vocab)), dtype=np.float32)
    for i, label in enumerate(g.labels):
        for t in label.split(LABEL_SEP):
            x[i, vocab[t]] = 1.0
    edge_index = np.array([[s for s, _ in g.edges], [d for _, d in g.edges]], dtype=np.int64)
    return x, edge_index.reshape(2, len(g.edges))


def to_pyg(space: SearchSpace, archs: Sequence[Arch], y: Sequence[float] | None = None) -> list:
    """``torch_geometric.data.Data`` per architecture (imports torch lazily).

    Args:
        space: Any space with ``graph``.
        archs: (n,) architectures.
        y: Optional (n,) targets stored as ``data.y`` (shape (1,)).

    Returns:
        List of n ``Data`` with ``x`` (n_nodes, n_node_types) and ``edge_index`` (2, n_edges).
    """

    graphs = []
    for r, arch in enumerate(archs):
        x, ei = graph_arrays(space, arch)
        d = torch_geometric_data.Data(x=torch.from_numpy(x), edge_index=torch.from_numpy(ei))
        if y is not None:
            d.y = torch.tensor([float(y[r])], dtype=torch.float32)
        graphs.append(d)
    return graphs
