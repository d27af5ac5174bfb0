"""Supernets of cell spaces with ops on edges: every candidate op on every edge, shared weights.

``NB201Supernet`` mirrors ``NB201Network`` (stem, 3 stages of ``depth`` cells, two ResNet
reduction blocks, BN + ReLU, pooling, linear head) and is built from the same modules
(``ReLUConvBN``, ``ResNetBasicBlock`` and the op factory of ``predictor_nas.models._nb201``);
``CellEdgesSupernet`` mirrors the generic builder's ``CellEdgesNetwork`` for any declared
``CellEdgesSpace`` (its op factory and reduction block). A cell edge holds one module per
candidate op (zero and identity ops have no weights). One cell architecture is shared by every
cell of the network (as in NB201's weight-sharing baselines), so the architecture weights
``alphas`` have shape (n_edges, n_ops): (6, 5) for NB201, edges and ops in the space's order.

Forward modes (``supernet(x, weights=..., path=...)``):

- ``path`` only: the single-path sub-network (SPOS, inherited-weight evaluation). It computes the
  same function as the stand-alone cell: a zero edge adds nothing, a node without input is zero.
- ``weights`` only, shape (n_edges, n_ops): DARTS's mixed op, edge output
  ``sum_o weights[e, o] op_o(x)`` (the zero-op terms are left out).
- both: GDAS's hard forward. Only the sampled op runs; its output is multiplied by
  ``weights[e, path[e]]`` (1 in value for a straight-through one-hot) and the other entries of the
  row are added as scalars (0 in value), so gradients reach every architecture weight of the row.

``extract(arch)`` returns the stand-alone network of ``arch`` (``build_nb201`` /
``build_model``'s) holding copies of the shared weights and BN statistics; it computes the same
outputs as ``supernet(x, path=...)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from predictor_nas._validation import check_int, param_error
from predictor_nas.models import (
    ZERO_OP_NAMES,
    CellEdgesNetwork,
    EdgeCell,
    NB201Network,
    ReductionBlock,
    ResNetBasicBlock,
    as_generator,
    check_sizes,
    init_weights,
    make_cell_op,
    make_nb201_op,
)
from predictor_nas.spaces import (
    NB201_EDGES,
    NB201_OPS,
    Arch,
    CellEdgesSpace,
    NB201Space,
    SearchSpace,
    get_space,
)

__all__ = [
    "CellEdgesSupernet",
    "MixedEdge",
    "NB201Supernet",
    "SuperCell",
    "Supernet",
    "build_supernet",
]

_OWNER = "build_supernet"


class MixedEdge(nn.Module):
    """All candidate ops of one edge (``ops[o]`` is the module of the space's ``o``-th op).

    Args:
        modules: One module per candidate op (stride 1, channels kept).
        zero: Per op, whether it is a zero op (``none``): its term is left out.
    """

    def __init__(self, modules: list[nn.Module], zero: tuple[bool, ...]) -> None:
        super().__init__()
        self.ops = nn.ModuleList(modules)
        self.zero = tuple(zero)

    def single(self, x: torch.Tensor, o: int) -> torch.Tensor | None:
        """Output of op ``o`` on (B, C, H, W) ``x``; ``None`` for a zero op (a zero term)."""
        return None if self.zero[o] else self.ops[o](x)

    def mixed(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """DARTS mixed op: ``sum_o w[o] op_o(x)`` for a weight row ``w`` of shape (n_ops,)."""
        total: torch.Tensor | None = None
        for o, op in enumerate(self.ops):
            if self.zero[o]:
                continue
            term = op(x) * w[o]
            total = term if total is None else total + term
        return torch.zeros_like(x) if total is None else total

    def hard(self, x: torch.Tensor, w: torch.Tensor, o: int) -> torch.Tensor:
        """GDAS hard forward: ``op_o(x) * w[o] + sum_{k != o} w[k]`` (the others are 0 in value)."""
        others = w.sum() - w[o]
        if self.zero[o]:
            return torch.zeros_like(x) * w[o] + others
        return self.ops[o](x) * w[o] + others


class SuperCell(nn.Module):
    """A cell whose edges are ``MixedEdge``\\ s; node ``j`` sums its incoming edges' outputs.

    A node without a (non-zero) incoming term is a zero tensor; the last node is the output.

    Args:
        edges: The ``(i, j)`` edges, ``i < j``, in the space's order.
        make_edge: Factory of one edge's ``MixedEdge``.
        container: Attribute name of the edge list (the stand-alone cell's: ``edges`` for
            ``NB201Cell``, ``ops`` for the generic builder's cell), so state-dict keys line up.
    """

    def __init__(
        self, edges: tuple[tuple[int, int], ...], make_edge: Any, container: str = "edges"
    ) -> None:
        super().__init__()
        self.edge_list = tuple(edges)
        self.n_nodes = max(j for _, j in self.edge_list) + 1
        self.container = container
        setattr(self, container, nn.ModuleList(make_edge() for _ in self.edge_list))

    def forward(
        self,
        x: torch.Tensor,
        weights: torch.Tensor | None = None,
        path: tuple[int, ...] | None = None,
    ) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W); see the module docstring for the modes."""
        mods = getattr(self, self.container)
        nodes = [x]
        for j in range(1, self.n_nodes):
            total: torch.Tensor | None = None
            for k, (i, jj) in enumerate(self.edge_list):
                if jj != j:
                    continue
                edge = mods[k]
                if path is None:
                    assert weights is not None
                    term: torch.Tensor | None = edge.mixed(nodes[i], weights[k])
                elif weights is None:
                    term = edge.single(nodes[i], path[k])
                else:
                    term = edge.hard(nodes[i], weights[k], path[k])
                if term is not None:
                    total = term if total is None else total + term
            nodes.append(torch.zeros_like(x) if total is None else total)
        return nodes[-1]


class Supernet(nn.Module):
    """The weight-sharing network of a cell space with ops on edges (see the module docstring).

    NB201's skeleton: stem, 3 stages of ``depth`` ``SuperCell``\\ s on ``width``, ``2 width``,
    ``4 width`` channels with a reduction block between stages, BN + ReLU, pooling, linear
    head. Subclasses say which op modules, reduction block and stand-alone network they mirror.
    Build one with ``build_supernet`` (validated sizes, seeded initialisation).

    Args:
        space: The searched space.
        width: Channels of the first stage.
        depth: Cells per stage.
        num_classes: Classifier outputs.
        in_channels: Input image channels.

    Attributes:
        alphas: Architecture weights, shape (n_edges, n_ops) (the space's edge and op order).
        op_names: The candidate ops, in ``alphas``'s column order.
    """

    #: Attribute name of a stand-alone cell's edge list (state-dict keys line up with it).
    container = "edges"

    def __init__(
        self, space: SearchSpace, *, width: int, depth: int, num_classes: int, in_channels: int
    ) -> None:
        super().__init__()
        self._space = space
        self.width, self.depth = width, depth
        self.num_classes, self.in_channels = num_classes, in_channels
        self.op_names: tuple[str, ...] = tuple(self._ops())
        edges = tuple(tuple(e) for e in self._edges())
        zero = tuple(self._is_zero(op) for op in self.op_names)
        c = width
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c)
        )
        layers: list[nn.Module] = []
        for stage in range(3):
            cs = c * 2**stage
            if stage > 0:
                layers.append(self._reduction(cs // 2, cs))
            for _ in range(depth):
                layers.append(SuperCell(
                    edges,
                    lambda cs=cs: MixedEdge([self._op(op, cs) for op in self.op_names], zero),
                    self.container,
                ))
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * c, num_classes)
        self.alphas = nn.Parameter(torch.zeros(len(edges), len(self.op_names)))

    # hooks of the space kind
    def _ops(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _edges(self) -> tuple[tuple[int, int], ...]:
        raise NotImplementedError

    def _is_zero(self, op: str) -> bool:
        raise NotImplementedError

    def _op(self, op: str, channels: int) -> nn.Module:
        raise NotImplementedError

    def _reduction(self, c_in: int, c_out: int) -> nn.Module:
        raise NotImplementedError

    def _standalone(self, arch: Arch) -> nn.Module:
        raise NotImplementedError

    @property
    def space(self) -> SearchSpace:
        """The searched space."""
        return self._space

    def weight_parameters(self) -> list[nn.Parameter]:
        """The shared network weights (everything but ``alphas``)."""
        return [p for n, p in self.named_parameters() if n != "alphas"]

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture weights ``[alphas]``."""
        return [self.alphas]

    def path_of(self, arch: Arch | str) -> tuple[int, ...]:
        """Op index (into ``op_names``) per edge of ``arch``, shape (n_edges,)."""
        a = self.space.coerce(arch)
        return tuple(self.op_names.index(op) for op in a.ops)

    def arch_of(self, path: tuple[int, ...] | list[int]) -> Arch:
        """The architecture of a path of op indices (inverse of ``path_of``)."""
        return self.space.make([self.op_names[int(o)] for o in path])

    def forward(
        self,
        x: torch.Tensor,
        weights: torch.Tensor | None = None,
        path: tuple[int, ...] | None = None,
    ) -> torch.Tensor:
        """Logits: (B, in_channels, H, W) -> (B, num_classes).

        Args:
            x: Input images.
            weights: Architecture weights (n_edges, n_ops) (DARTS mixture, or GDAS hard
                weights with ``path``); ``None`` with ``path``: the plain single path.
            path: Op index per edge, shape (n_edges,).
        """
        if weights is None and path is None:
            raise param_error(
                "weights", "Supernet.forward", "an (n_edges, n_ops) tensor or a path", None
            )
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x, weights, path) if isinstance(layer, SuperCell) else layer(x)
        out = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(out)

    def subnet_state_dict(self, arch: Arch | str) -> dict[str, torch.Tensor]:
        """The state dict of ``arch``'s stand-alone network filled from the shared weights
        (copies)."""
        path = self.path_of(arch)
        out: dict[str, torch.Tensor] = {}
        for key, value in self.state_dict().items():
            if key == "alphas":
                continue
            parts = key.split(".")
            # cells.<l>.<container>.<edge>.ops.<op>.<rest> -> cells.<l>.<container>.<edge>.<rest>
            if len(parts) > 5 and parts[0] == "cells" and parts[2] == self.container:
                if int(parts[5]) != path[int(parts[3])]:
                    continue
                key = ".".join(parts[:4] + parts[6:])
            out[key] = value.detach().clone()
        return out

    def extract(self, arch: Arch | str) -> nn.Module:
        """The stand-alone network of ``arch`` with the shared weights and BN statistics copied.

        Returns:
            ``NB201Network`` (NB201) or ``CellEdgesNetwork`` (declared spaces) on the
            supernet's device, in training mode; the same network ``build_nb201`` /
            ``build_model`` builds for ``arch``.
        """
        a = self.space.coerce(arch)
        with torch.device("meta"):
            net = self._standalone(a)
        net = net.to_empty(device=self.alphas.device)
        net.load_state_dict(self.subnet_state_dict(a), strict=True)
        return net


class NB201Supernet(Supernet):
    """The NB201 supernet: ``NB201Network``'s modules (``make_nb201_op``, ``ResNetBasicBlock``)."""

    def _ops(self) -> tuple[str, ...]:
        return tuple(NB201_OPS)

    def _edges(self) -> tuple[tuple[int, int], ...]:
        return tuple(NB201_EDGES)

    def _is_zero(self, op: str) -> bool:
        return op == "none"

    def _op(self, op: str, channels: int) -> nn.Module:
        return make_nb201_op(op, channels)

    def _reduction(self, c_in: int, c_out: int) -> nn.Module:
        return ResNetBasicBlock(c_in, c_out, stride=2)

    def _standalone(self, arch: Arch) -> nn.Module:
        return NB201Network(arch, width=self.width, depth=self.depth,
                            num_classes=self.num_classes, in_channels=self.in_channels)


class CellEdgesSupernet(Supernet):
    """The supernet of a declared ``CellEdgesSpace``: the generic builder's modules
    (``_make_cell_op``, ``_Reduction``, ``CellEdgesNetwork``)."""

    container = "ops"

    def _ops(self) -> tuple[str, ...]:
        return tuple(self._space.ops)

    def _edges(self) -> tuple[tuple[int, int], ...]:
        return tuple(self._space.edges)

    def _is_zero(self, op: str) -> bool:
        return op in self._space.zero_ops or op in ZERO_OP_NAMES

    def _op(self, op: str, channels: int) -> nn.Module:
        sp = self._space
        return make_cell_op(op, channels, sp.zero_ops, sp.identity_ops)

    def _reduction(self, c_in: int, c_out: int) -> nn.Module:
        return ReductionBlock(c_in, c_out)

    def _standalone(self, arch: Arch) -> nn.Module:
        sp = self._space
        return CellEdgesNetwork(
            lambda ch: EdgeCell(sp.edges, arch.ops, ch, sp.zero_ops, sp.identity_ops),
            self.in_channels, self.num_classes, self.width, self.depth,
        )


def build_supernet(
    space: str | SearchSpace = "nb201",
    *,
    width: int = 8,
    depth: int = 1,
    num_classes: int = 10,
    in_channels: int = 3,
    seed: int | torch.Generator = 0,
) -> Supernet:
    """Build the supernet of a cell space with ops on edges, with seeded weights.

    Weights get PyTorch's default initialisation drawn from ``seed`` (as ``build_nb201`` and
    ``build_model``), and the architecture weights ``1e-3 * N(0, 1)`` (DARTS), drawn after them
    from the same generator; the global torch RNG is untouched.

    Args:
        space: ``"nb201"``, a ``CellEdgesSpace`` or the name / YAML file of one.
        width: Channels of the first stage.
        depth: Cells per stage.
        num_classes: Classifier outputs.
        in_channels: Input image channels.
        seed: Int seed (>= 0) or a CPU ``torch.Generator``.

    Returns:
        ``NB201Supernet`` or ``CellEdgesSupernet`` on the CPU, in training mode.

    Raises:
        InvalidParameterError: a space without ops on edges, a size that is not an int >= 1,
            an op the generic builder does not know, a bad seed.
    """
    sp = get_space(space) if isinstance(space, str) else space
    if isinstance(sp, NB201Space):
        cls: type[Supernet] = NB201Supernet
    elif isinstance(sp, CellEdgesSpace):
        cls = CellEdgesSupernet
    else:
        raise param_error(
            "space", _OWNER, "'nb201' or a cell space with ops on edges (CellEdgesSpace)",
            getattr(sp, "name", sp),
        )
    width, depth, num_classes, in_channels = check_sizes(
        _OWNER, width, depth, num_classes, in_channels
    )
    if not isinstance(seed, torch.Generator):
        seed = check_int(seed, "seed", _OWNER, minimum=0)
    generator = as_generator(seed, _OWNER)
    with torch.device("meta"):
        net = cls(sp, width=width, depth=depth, num_classes=num_classes, in_channels=in_channels)
    net = net.to_empty(device="cpu")
    init_weights(net, generator)
    with torch.no_grad():
        net.alphas.copy_(1e-3 * torch.randn(net.alphas.shape, generator=generator))
    return net


def softmax_rows(alphas: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Row softmax of (n_edges, n_ops) architecture weights at temperature ``tau``."""
    return torch.softmax(alphas / tau, dim=-1)
