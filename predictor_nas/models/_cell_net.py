"""Cell networks of ``build_model``: cell ops, cells with ops on edges (NB201-like skeleton)
and on nodes (NB101-like skeleton).

See ``predictor_nas.models._generic`` (the module docstring, ``cell_edges`` and ``cell_nodes``)
for each skeleton and the simplifications made.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import torch
from torch import nn

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.models._nb201 import ReLUConvBN, ResNetBasicBlock

__all__ = ["CellEdgesNetwork", "CellNodesNetwork", "supported_ops"]


# --------------------------------------------------------------------------- cell ops
class _Zero(nn.Module):
    """The ``none`` operation: zeros of the input's shape (only where a node has no input)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> zeros (B, C, H, W)."""
        return torch.zeros_like(x)


def _sep_conv(c: int, k: int, dilation: int = 1, repeat: int = 2) -> nn.Sequential:
    """DARTS separable conv: (ReLU, depthwise k x k, pointwise 1x1, BN) ``repeat`` times."""
    pad = dilation * (k - 1) // 2
    mods: list[nn.Module] = []
    for _ in range(repeat):
        mods += [
            nn.ReLU(inplace=False),
            nn.Conv2d(c, c, k, padding=pad, dilation=dilation, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c),
        ]
    return nn.Sequential(*mods)


_OP_FORMS = (
    (re.compile(r"^(?:nor_)?conv_?(\d+)x\1$"), "relu_conv_bn"),
    (re.compile(r"^conv(\d+)x\1-bn-relu$"), "conv_bn_relu"),
    (re.compile(r"^avg_?pool_?(\d+)x\1$"), "avg"),
    (re.compile(r"^max_?pool_?(\d+)x\1$"), "max"),
    (re.compile(r"^sep_conv_(\d+)x\1$"), "sep"),
    (re.compile(r"^dil_conv_(\d+)x\1$"), "dil"),
)
_ZERO_NAMES = ("none", "zero")
_IDENTITY_NAMES = ("skip_connect", "identity", "skip")


def supported_ops() -> str:
    """The cell operation names ``build_model`` knows, as one line for messages."""
    return (
        "none/zero, skip_connect/identity, conv_KxK or nor_conv_KxK (ReLU-Conv-BN), "
        "convKxK-bn-relu (Conv-BN-ReLU), avg_pool_KxK, max_pool_KxK or maxpoolKxK, "
        "sep_conv_KxK, dil_conv_KxK (K odd)"
    )


def _make_cell_op(op: str, c: int, zero: frozenset[str], identity: frozenset[str]) -> nn.Module:
    """The stride-1, channel-keeping module of cell operation ``op`` (clear error if unknown)."""
    if op in zero or op in _ZERO_NAMES:
        return _Zero()
    if op in identity or op in _IDENTITY_NAMES:
        return nn.Identity()
    for pattern, form in _OP_FORMS:
        m = pattern.match(op)
        if m is None:
            continue
        k = int(m.group(1))
        if k % 2 == 0:
            break
        if form == "relu_conv_bn":
            return ReLUConvBN(c, c, k, 1, k // 2)
        if form == "conv_bn_relu":
            return nn.Sequential(
                nn.Conv2d(c, c, k, padding=k // 2, bias=False), nn.BatchNorm2d(c), nn.ReLU()
            )
        if form == "avg":
            return nn.AvgPool2d(k, stride=1, padding=k // 2, count_include_pad=False)
        if form == "max":
            return nn.MaxPool2d(k, stride=1, padding=k // 2)
        if form == "sep":
            return _sep_conv(c, k)
        return _sep_conv(c, k, dilation=2, repeat=1)
    raise InvalidParameterError(
        f"build_model has no cell operation {op!r}; supported: {supported_ops()}."
    )


# --------------------------------------------------------------------------- ops on edges
class _EdgeCell(nn.Module):
    """A cell with one op per edge; node ``j`` = sum of ``op(node i)`` over its edges."""

    def __init__(
        self,
        edges: Sequence[tuple[int, int]],
        ops: Sequence[str],
        channels: int,
        zero: frozenset[str],
        identity: frozenset[str],
    ) -> None:
        super().__init__()
        self.n_nodes = max(j for _, j in edges) + 1
        live = [not (o in zero or o in _ZERO_NAMES) for o in ops]
        self.sources = [i for i, _ in edges]
        self.targets = [j for _, j in edges]
        self.live = live
        self.ops = nn.ModuleList(_make_cell_op(o, channels, zero, identity) for o in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        nodes = [x]
        for j in range(1, self.n_nodes):
            total = torch.zeros_like(x)
            for k, op in enumerate(self.ops):
                if self.targets[k] == j and self.live[k]:
                    total = total + op(nodes[self.sources[k]])
            nodes.append(total)
        return nodes[-1]


class _Reduction(ResNetBasicBlock):
    """NB201's ResNet reduction block, its AvgPool shortcut in ceil mode (odd sizes agree)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(c_in, c_out, stride=2)
        self.downsample[0] = nn.AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=False)


class CellEdgesNetwork(nn.Module):
    """NB201's skeleton (stem, 3 stages of cells, 2 reduction blocks, head) around any edge cell.

    Args:
        cell: Factory ``channels -> cell module``.
        in_channels, num_classes: Input channels and classifier outputs.
        width: Channels of stage 0.
        depth: Cells per stage.
    """

    def __init__(
        self, cell: Callable[[int], nn.Module], in_channels: int, num_classes: int, width: int,
        depth: int,
    ) -> None:
        super().__init__()
        c = width
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(c))
        layers: list[nn.Module] = []
        for stage in range(3):
            cs = c * 2**stage
            if stage > 0:
                layers.append(_Reduction(cs // 2, cs))
            layers.extend(cell(cs) for _ in range(depth))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: (B, in_channels, H, W) -> (B, num_classes)."""
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.global_pooling(x).flatten(1))


# --------------------------------------------------------------------------- ops on nodes
class _NodeCell(nn.Module):
    """NB101-like cell of a pruned graph (see the module docstring for the simplification)."""

    def __init__(
        self, labels: Sequence[str], edges: Sequence[tuple[int, int]], c_in: int, c_out: int
    ) -> None:
        super().__init__()
        n = len(labels)
        self.n_nodes = n
        self.preds = [[i for i, j in edges if j == v] for v in range(n)]
        self.reads_input = [0 in self.preds[v] for v in range(n)]
        self.proj = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())
            if self.reads_input[v] and v > 0 else nn.Identity()
            for v in range(n)
        )
        self.ops = nn.ModuleList(
            nn.Identity() if v in (0, n - 1) else _make_cell_op(labels[v], c_out, frozenset(),
                                                                  frozenset())
            for v in range(n)
        )
        self.c_out = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, c_in, H, W) -> (B, c_out, H, W)."""
        nodes = [x]
        for v in range(1, self.n_nodes):
            total = torch.zeros(
                (x.shape[0], self.c_out, x.shape[2], x.shape[3]), dtype=x.dtype, device=x.device
            )
            if self.reads_input[v]:
                total = total + self.proj[v](x)
            for i in self.preds[v]:
                if i > 0:
                    total = total + nodes[i]
            nodes.append(self.ops[v](total) if v < self.n_nodes - 1 else total)
        return nodes[-1]


class CellNodesNetwork(nn.Module):
    """NB101-like skeleton: stem, 3 stacks of cells with max-pool downsampling, linear head.

    Args:
        labels, edges: The pruned cell graph.
        in_channels, num_classes: Input channels and classifier outputs.
        width: Channels of the stem and of stack 0 (doubled in each later stack).
        depth: Cells per stack.
    """

    def __init__(
        self, labels: Sequence[str], edges: Sequence[tuple[int, int]], in_channels: int,
        num_classes: int, width: int, depth: int,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        layers: list[nn.Module] = []
        c = width
        for stack in range(3):
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
            c_out = width * 2**stack
            for _ in range(depth):
                layers.append(_NodeCell(labels, edges, c, c_out))
                c = c_out
        self.cells = nn.Sequential(*layers)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: (B, in_channels, H, W) -> (B, num_classes)."""
        return self.classifier(self.global_pooling(self.cells(self.stem(x))).flatten(1))
