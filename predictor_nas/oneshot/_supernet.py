"""The NAS-Bench-201 supernet: every candidate op on every cell edge, weights shared by all cells.

The skeleton is ``NB201Network``'s (stem, 3 stages of ``depth`` cells, two ResNet reduction
blocks, BN + ReLU, pooling, linear head), built from the same modules (``ReLUConvBN``,
``ResNetBasicBlock`` and the op factory of ``predictor_nas.models._nb201``). A cell edge holds one
module per op of ``NB201_OPS`` (``none`` and ``skip_connect`` have no weights). The one cell
architecture is shared by every cell of the network (as in NB201's weight-sharing baselines), so
the architecture weights ``alphas`` have shape (6, 5): edge (NB201 string order) x op.

Forward modes (``supernet(x, weights=..., path=...)``):

- ``path`` only: the single-path sub-network (SPOS, inherited-weight evaluation). It computes the
  same function as ``NB201Cell``: a ``none`` edge adds nothing, a node without input is zero.
- ``weights`` only, shape (6, 5): DARTS's mixed op, edge output ``sum_o weights[e, o] op_o(x)``
  (the ``none`` term is zero and left out).
- both: GDAS's hard forward. Only the sampled op runs; its output is multiplied by
  ``weights[e, path[e]]`` (1 in value for a straight-through one-hot) and the other entries of the
  row are added as scalars (0 in value), so gradients reach every architecture weight of the row.

``extract(arch)`` returns the stand-alone ``NB201Network`` of ``arch`` holding copies of the
shared weights and BN statistics; it computes the same outputs as ``supernet(x, path=...)``.
"""

from __future__ import annotations

import torch
from torch import nn

from predictor_nas._validation import check_int, param_error
from predictor_nas.models._nb201 import (
    NB201Network,
    ResNetBasicBlock,
    _as_generator,
    _check_sizes,
    _init_weights,
    _make_op,
)
from predictor_nas.spaces import NB201_EDGES, NB201_OPS, Arch, SearchSpace, get_space

__all__ = ["MixedEdge", "NB201Supernet", "SuperCell", "build_supernet"]

_OWNER = "build_supernet"
_NONE = NB201_OPS.index("none")


class MixedEdge(nn.Module):
    """All candidate ops of one edge (``ops[o]`` is the module of ``NB201_OPS[o]``).

    Args:
        channels: Channels of the edge's input and output.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(_make_op(op, channels) for op in NB201_OPS)

    def single(self, x: torch.Tensor, o: int) -> torch.Tensor | None:
        """Output of op ``o`` on (B, C, H, W) ``x``; ``None`` for ``none`` (a zero term)."""
        return None if o == _NONE else self.ops[o](x)

    def mixed(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """DARTS mixed op: ``sum_o w[o] op_o(x)`` for a weight row ``w`` of shape (5,)."""
        total: torch.Tensor | None = None
        for o, op in enumerate(self.ops):
            if o == _NONE:
                continue
            term = op(x) * w[o]
            total = term if total is None else total + term
        assert total is not None
        return total

    def hard(self, x: torch.Tensor, w: torch.Tensor, o: int) -> torch.Tensor:
        """GDAS hard forward: ``op_o(x) * w[o] + sum_{k != o} w[k]`` (the others are 0 in value)."""
        others = w.sum() - w[o]
        if o == _NONE:
            return torch.zeros_like(x) * w[o] + others
        return self.ops[o](x) * w[o] + others


class SuperCell(nn.Module):
    """An NB201 cell whose 6 edges are ``MixedEdge``\\ s.

    Args:
        channels: Channels of the cell input, every node and the output.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedEdge(channels) for _ in NB201_EDGES)

    def forward(
        self,
        x: torch.Tensor,
        weights: torch.Tensor | None = None,
        path: tuple[int, ...] | None = None,
    ) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W); see the module docstring for the modes."""
        nodes = [x]
        for j in (1, 2, 3):
            total: torch.Tensor | None = None
            for k, (i, jj) in enumerate(NB201_EDGES):
                if jj != j:
                    continue
                edge = self.edges[k]
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
        return nodes[3]


class NB201Supernet(nn.Module):
    """The weight-sharing network of the NB201 space (see the module docstring).

    Build it with ``build_supernet`` (validated sizes, seeded initialisation).

    Args:
        width: Channels of the first stage.
        depth: Cells per stage.
        num_classes: Classifier outputs.
        in_channels: Input image channels.

    Attributes:
        alphas: Architecture weights, shape (6, 5) (edge x op, ``NB201_OPS`` order).
    """

    space_name = "nb201"

    def __init__(self, *, width: int, depth: int, num_classes: int, in_channels: int) -> None:
        super().__init__()
        self.width, self.depth = width, depth
        self.num_classes, self.in_channels = num_classes, in_channels
        c = width
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c)
        )
        layers: list[nn.Module] = []
        for stage in range(3):
            cs = c * 2**stage
            if stage > 0:
                layers.append(ResNetBasicBlock(cs // 2, cs, stride=2))
            layers.extend(SuperCell(cs) for _ in range(depth))
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * c, num_classes)
        self.alphas = nn.Parameter(torch.zeros(len(NB201_EDGES), len(NB201_OPS)))

    @property
    def space(self) -> SearchSpace:
        """The searched space (``get_space("nb201")``)."""
        return get_space(self.space_name)

    def weight_parameters(self) -> list[nn.Parameter]:
        """The shared network weights (everything but ``alphas``)."""
        return [p for n, p in self.named_parameters() if n != "alphas"]

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture weights ``[alphas]``."""
        return [self.alphas]

    def path_of(self, arch: Arch | str) -> tuple[int, ...]:
        """Op index (into ``NB201_OPS``) per edge of ``arch``, shape (6,)."""
        a = self.space.coerce(arch)
        return tuple(NB201_OPS.index(op) for op in a.ops)

    def arch_of(self, path: tuple[int, ...] | list[int]) -> Arch:
        """The architecture of a path of op indices (inverse of ``path_of``)."""
        return self.space.make([NB201_OPS[int(o)] for o in path])

    def forward(
        self,
        x: torch.Tensor,
        weights: torch.Tensor | None = None,
        path: tuple[int, ...] | None = None,
    ) -> torch.Tensor:
        """Logits: (B, in_channels, H, W) -> (B, num_classes).

        Args:
            x: Input images.
            weights: Architecture weights (6, 5) (DARTS mixture, or GDAS hard weights with
                ``path``); ``None`` with ``path``: the plain single path.
            path: Op index per edge, shape (6,).
        """
        if weights is None and path is None:
            raise param_error(
                "weights", "NB201Supernet.forward", "a (6, 5) tensor or a path", None
            )
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x, weights, path) if isinstance(layer, SuperCell) else layer(x)
        out = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(out)

    def subnet_state_dict(self, arch: Arch | str) -> dict[str, torch.Tensor]:
        """The state dict of ``NB201Network(arch)`` filled from the shared weights (copies)."""
        path = self.path_of(arch)
        out: dict[str, torch.Tensor] = {}
        for key, value in self.state_dict().items():
            if key == "alphas":
                continue
            parts = key.split(".")
            # cells.<layer>.edges.<edge>.ops.<op>.<rest> -> cells.<layer>.edges.<edge>.<rest>
            if len(parts) > 5 and parts[0] == "cells" and parts[2] == "edges":
                if int(parts[5]) != path[int(parts[3])]:
                    continue
                key = ".".join(parts[:4] + parts[6:])
            out[key] = value.detach().clone()
        return out

    def extract(self, arch: Arch | str) -> NB201Network:
        """The stand-alone network of ``arch`` with the shared weights and BN statistics copied.

        Returns:
            An ``NB201Network`` on the supernet's device, in training mode.
        """
        a = self.space.coerce(arch)
        dev = self.alphas.device
        with torch.device("meta"):
            net = NB201Network(
                a,
                width=self.width,
                depth=self.depth,
                num_classes=self.num_classes,
                in_channels=self.in_channels,
            )
        net = net.to_empty(device=dev)
        net.load_state_dict(self.subnet_state_dict(a), strict=True)
        return net


def build_supernet(
    space: str = "nb201",
    *,
    width: int = 8,
    depth: int = 1,
    num_classes: int = 10,
    in_channels: int = 3,
    seed: int | torch.Generator = 0,
) -> NB201Supernet:
    """Build the supernet of ``space`` with seeded weights (global torch RNG untouched).

    Weights get PyTorch's default initialisation drawn from ``seed`` (as ``build_nb201``), and the
    architecture weights ``1e-3 * N(0, 1)`` (DARTS), drawn after them from the same generator.

    Args:
        space: The cell space; only ``"nb201"`` is supported.
        width: Channels of the first stage.
        depth: Cells per stage.
        num_classes: Classifier outputs.
        in_channels: Input image channels.
        seed: Int seed (>= 0) or a CPU ``torch.Generator``.

    Returns:
        The supernet on the CPU, in training mode.

    Raises:
        InvalidParameterError: an unsupported space, a size that is not an int >= 1, a bad seed.
    """
    if not (isinstance(space, str) and space == "nb201"):
        raise param_error("space", _OWNER, "'nb201' (the only supernet space so far)", space)
    width, depth, num_classes, in_channels = _check_sizes(
        _OWNER, width, depth, num_classes, in_channels
    )
    if not isinstance(seed, torch.Generator):
        seed = check_int(seed, "seed", _OWNER, minimum=0)
    generator = _as_generator(seed, _OWNER)
    with torch.device("meta"):
        net = NB201Supernet(
            width=width, depth=depth, num_classes=num_classes, in_channels=in_channels
        )
    net = net.to_empty(device="cpu")
    _init_weights(net, generator)
    with torch.no_grad():
        net.alphas.copy_(1e-3 * torch.randn(net.alphas.shape, generator=generator))
    return net


def softmax_rows(alphas: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Row softmax of (6, 5) architecture weights at temperature ``tau``."""
    return torch.softmax(alphas / tau, dim=-1)
