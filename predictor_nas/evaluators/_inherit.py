"""Weight inheritance: a child network starts from a trained parent's weights where they agree.

A *child* that differs from an already trained *parent* in a few edges of its cell (the space's
decisions: one operation per edge in NB201 and in declared cell spaces with ops on edges) starts
from the parent's final weights for every unchanged part: each parameter and BatchNorm buffer
(running mean / var, ``num_batches_tracked``) whose name and shape the two networks share and
which does not belong to a changed edge. The stem, reduction blocks, final BN, classifier and
the op modules of unchanged edges are copied; a changed edge keeps the child's own seeded
initialisation even where the shapes agree (``nor_conv_1x1`` and ``nor_conv_3x3`` both have a
BN of the same shape, at the same module path).

In both network builders each edge's op is its own module (``cells.<i>.edges.<k>.`` in
``NB201Network``, ``cells.<i>.ops.<k>.`` in ``CellEdgesNetwork``), and edge ``k`` is decision
``k`` of the space (``space.to_params`` order), so the tensors of an edge are found by their
module path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from predictor_nas._lazy import models, torch
from predictor_nas._validation import param_error
from predictor_nas.spaces import Arch, NB201Space, SearchSpace

__all__ = [
    "changed_edges",
    "edge_prefixes",
    "inherit_weights",
    "inheritable_tensors",
    "nearest_parent",
    "supports_inheritance",
]


def supports_inheritance(space: SearchSpace) -> bool:
    """Whether ``space``'s networks have one op module per edge (NB201, declared cell spaces
    with ops on edges)."""
    return isinstance(space, NB201Space) or getattr(space, "kind", None) == "cell_edges"


def changed_edges(space: SearchSpace, child: Arch, parent: Arch) -> list[int]:
    """Indices of the decisions (edges) where ``child`` and ``parent`` differ, ascending."""
    c, p = space.to_params(child), space.to_params(parent)
    return [k for k, name in enumerate(space.param_names) if c[name] != p[name]]


def nearest_parent(
    space: SearchSpace,
    arch: Arch,
    candidates: Sequence[tuple[Arch, float]],
    max_edges: int,
) -> tuple[int, int] | None:
    """The candidate closest to ``arch`` by edit distance on the decisions.

    Args:
        space: The search space.
        arch: The child.
        candidates: Trained ``(arch, final validation accuracy)`` pairs, in training order.
        max_edges: Largest number of differing decisions allowed (>= 1).

    Returns:
        ``(index into candidates, distance)``, or ``None`` when no candidate differs in
        ``1..max_edges`` decisions. Ties go to the higher accuracy, then the earlier candidate.
        A candidate identical to ``arch`` (distance 0) is never a parent.
    """
    best: tuple[int, float, int] | None = None
    for i, (a, acc) in enumerate(candidates):
        d = len(changed_edges(space, arch, a))
        if not 1 <= d <= max_edges:
            continue
        key = (d, -float(acc), i)
        if best is None or key < best:
            best = key
    return None if best is None else (best[2], best[0])


def edge_prefixes(net: Any) -> dict[int, list[str]]:
    """Module-path prefixes of each edge's op in ``net``: edge index -> ``["cells.0.edges.3.",
    ...]`` (one per cell).

    Raises:
        InvalidParameterError: ``net`` has no NB201 or edge cells.
    """
    out: dict[int, list[str]] = {}
    for name, mod in net.named_modules():
        attr = (
            "edges"
            if isinstance(mod, models.NB201Cell)
            else "ops"
            if isinstance(mod, models.EdgeCell)
            else None
        )
        if attr is None:
            continue
        for k in range(len(getattr(mod, attr))):
            out.setdefault(k, []).append(f"{name}.{attr}.{k}." if name else f"{attr}.{k}.")
    if not out:
        raise param_error(
            "net",
            "inherit_weights",
            "an NB201Network or CellEdgesNetwork (one module per edge)",
            type(net).__name__,
        )
    return out


def inheritable_tensors(
    net: Any, parent_state: Mapping[str, Any], changed: Iterable[int]
) -> list[str]:
    """Names of ``net``'s state-dict tensors that take the parent's values: present in
    ``parent_state`` with the same shape and dtype, and not under a changed edge's module."""
    prefixes = edge_prefixes(net)
    banned = tuple(p for k in changed for p in prefixes.get(int(k), []))
    names = []
    for name, t in net.state_dict().items():
        src = parent_state.get(name)
        if src is None or name.startswith(banned):
            continue
        if tuple(src.shape) == tuple(t.shape) and src.dtype == t.dtype:
            names.append(name)
    return names


def inherit_weights(net: Any, parent_state: Mapping[str, Any], changed: Iterable[int]) -> list[str]:
    """Copy the parent's unchanged tensors into ``net`` in place (see the module docstring).

    Args:
        net: The child network (its own initialisation stays where nothing is inherited).
        parent_state: The trained parent's ``state_dict`` (CPU tensors).
        changed: Edge indices where the child's op differs from the parent's.

    Returns:
        The names of the tensors copied, in state-dict order.
    """

    names = inheritable_tensors(net, parent_state, changed)
    own = net.state_dict()
    with torch.no_grad():
        for name in names:
            own[name].copy_(parent_state[name].to(own[name].device))
    return names
