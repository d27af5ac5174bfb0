"""A PyTorch network for any declared search space: chain, cell (ops on edges or on nodes), macro.

``build_model(space, arch, ...)`` reads the architecture through the space (``layers(arch)``,
``edges`` / ``ops``, ``graph(arch).pruned()``) and builds, per kind:

``chain`` (``ChainSpace``)
    The layers in order, then global average pooling and ``Linear(channels, num_classes)``; no
    stem (the chain *is* the network). Layer types (settings in brackets, defaults after ``=``):

    - ``conv`` [filters=16, kernel_size=3, stride=1, padding=same, activation=relu]:
      ``Conv2d`` (no bias) + ``BatchNorm2d`` + activation.
    - ``dwconv`` / ``depthwise`` [same settings]: depthwise ``k x k`` conv + BN + activation, then
      pointwise ``1 x 1`` conv to ``filters`` + BN + activation (filters default: unchanged).
    - ``pool`` / ``maxpool`` [kernel_size=2, stride=kernel_size, padding=valid]: max pooling.
    - ``avgpool`` [same]: average pooling (padding excluded from the mean).
    - ``identity`` []: nothing.

    ``padding`` is ``same``, ``valid`` or an int. **same** pads ``kernel_size - 1`` pixels in
    total per axis, ``(kernel_size - 1) // 2`` before (PyTorch's own split), so the output is
    ``ceil(H / stride)`` at every stride (exactly ``H`` at stride 1). PyTorch's
    ``padding="same"`` refuses stride > 1 and TensorFlow's split at stride 2 depends on ``H``;
    this rule has TensorFlow's output size with a fixed alignment. ``width`` multiplies every
    ``filters`` (rounded, at least 1). A layer with ``skip = 1`` adds its input to its output:
    unchanged when the shapes agree, else through a ``1 x 1`` conv (stride = the layer's) + BN
    projection, applied to the input cropped so that each output pixel meets the input pixel
    at its window's centre. A layer whose input is too small for it (``valid`` padding or strides
    shrinking an 8x8 image below one pixel) is refused before anything is built, naming the
    layer (this check needs ``image_size``).

``cell_edges`` (``CellEdgesSpace``)
    NB201's skeleton around the cell: stem ``Conv3x3 + BN`` to ``width`` channels, 3 stages of
    ``depth`` cells on ``width``, ``2 width``, ``4 width`` channels, NB201's ResNet reduction
    block between stages (its ``AvgPool2d(2)`` shortcut in ceil mode, so odd sizes work too),
    ``BN + ReLU``, global pooling, linear head. Cell node ``j`` = sum over edges ``i -> j`` of
    ``op(node i)``; zero ops add nothing, the last node is the output. With NB201's ops, 4 nodes,
    width 16 and depth 5 the parameter count equals ``nb201_num_params``.

``cell_nodes`` (``CellNodesSpace``, NB101-like)
    Stem ``Conv3x3 + BN + ReLU`` to ``width`` channels, 3 stacks of ``depth`` cells, a 2x2 max
    pool (ceil mode) between stacks and twice the channels in each later stack, global pooling,
    linear head. The cell is the *pruned* graph: an intermediate node applies its op to the sum
    of its inputs; the cell input reaches a node through a ``1 x 1`` conv-BN-ReLU projection to
    the cell's channels. **Simplification of NB101**: every node has the cell's full channel
    count (NB101 splits the output channels among the nodes feeding the output and
    concatenates them), and the cell output is the *sum* of the nodes feeding it (the projected
    input included when it feeds the output directly).

``macro`` (``MacroSpace``, MobileNetV2-like)
    Stem ``Conv3x3 + BN + ReLU6`` to stage 0's channels, the layers stage by stage, global
    pooling, linear head. Stage ``s`` has ``channels`` (declared, else ``16 * 2**s``) times its
    ``width`` decision (if any) times ``width``, and its first layer has the stage's ``stride``
    (declared, else 1 for stage 0 and 2 after). Blocks: ``ir_<k>x<k>_t<e>`` is MobileNetV2's
    inverted residual (``1x1`` expand to ``e`` times the input channels + BN + ReLU6 (left out
    when ``e = 1``), depthwise ``k x k`` + BN + ReLU6, ``1x1`` project + BN, plus the input when
    stride 1 and channels agree); ``identity`` passes the input through, or is a ``1x1`` conv +
    BN projection on a layer that changes stride or channels.

Weights: every model is created on the ``meta`` device, materialised on the CPU and initialised
from ``seed`` with PyTorch's default schemes (the same ``_init_weights`` as ``build_nb201``):
the same seed gives the same weights and the global torch RNG is untouched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from predictor_nas._validation import check_float, check_int, param_error
from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.models._nb201 import ReLUConvBN, ResNetBasicBlock, _as_generator, _init_weights
from predictor_nas.spaces import (
    Arch,
    CellEdgesSpace,
    CellNodesSpace,
    ChainSpace,
    MacroSpace,
    SearchSpace,
)

__all__ = [
    "CHAIN_LAYER_TYPES",
    "CellEdgesNetwork",
    "CellNodesNetwork",
    "ChainNetwork",
    "MacroNetwork",
    "build_model",
    "supported_ops",
]

_OWNER = "build_model"

#: Chain layer type -> the settings it reads (``skip`` is allowed on every type).
CHAIN_LAYER_TYPES: dict[str, tuple[str, ...]] = {
    "conv": ("filters", "kernel_size", "stride", "padding", "activation"),
    "dwconv": ("filters", "kernel_size", "stride", "padding", "activation"),
    "depthwise": ("filters", "kernel_size", "stride", "padding", "activation"),
    "pool": ("kernel_size", "stride", "padding"),
    "maxpool": ("kernel_size", "stride", "padding"),
    "avgpool": ("kernel_size", "stride", "padding"),
    "identity": (),
}

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=False),
    "relu6": lambda: nn.ReLU6(inplace=False),
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "linear": nn.Identity,
    "none": nn.Identity,
}

_DEFAULT_CELL_WIDTH = 16
_DEFAULT_DEPTH = {"cell_edges": 5, "cell_nodes": 3}


# --------------------------------------------------------------------------- geometry
def _pad_pair(padding: Any, kernel: int) -> tuple[int, int]:
    """(before, after) padding of one axis for ``same`` / ``valid`` / an int."""
    if padding == "same":
        before = (kernel - 1) // 2
        return before, kernel - 1 - before
    if padding == "valid":
        return 0, 0
    return int(padding), int(padding)


def _out_size(size: int, kernel: int, stride: int, pad: tuple[int, int]) -> int:
    """Output length of a window op: floor((size + pads - kernel) / stride) + 1 (may be <= 0)."""
    span = size + pad[0] + pad[1] - kernel
    return span // stride + 1 if span >= 0 else 0


class _Pad(nn.Module):
    """Asymmetric constant padding ``(before, after)`` on both spatial axes."""

    def __init__(self, pad: tuple[int, int], value: float = 0.0) -> None:
        super().__init__()
        self.pad = (pad[0], pad[1], pad[0], pad[1])
        self.value = float(value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H + before + after, W + before + after)."""
        return nn.functional.pad(x, self.pad, value=self.value)


def _padded(op: Callable[[int], nn.Module], pad: tuple[int, int], fill: float) -> nn.Module:
    """``op(p)`` with symmetric padding ``p`` built in, or an explicit pad before ``op(0)``."""
    if pad[0] == pad[1]:
        return op(pad[0])
    return nn.Sequential(_Pad(pad, fill), op(0))


# --------------------------------------------------------------------------- chain
class _ChainLayer(nn.Module):
    """One chain layer, optionally with its residual edge.

    Args:
        body: The layer's module.
        c_in, c_out: Channels in and out.
        stride: The layer's stride.
        offset: Input pixels before the centre of the first output's window (crop of the skip).
        skip: Add the (projected) input to the output.
    """

    def __init__(
        self, body: nn.Module, c_in: int, c_out: int, stride: int, offset: int, skip: bool,
        same_shape: bool,
    ) -> None:
        super().__init__()
        self.body = body
        self.skip = bool(skip)
        self.offset = int(offset)
        self.project = bool(skip and not same_shape)
        self.shortcut: nn.Module = nn.Identity()
        if self.project:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, c_in, H, W) -> (B, c_out, H', W')."""
        y = self.body(x)
        if not self.skip:
            return y
        if self.project:
            s = self.shortcut(x[:, :, self.offset :, self.offset :])
            return y + s[:, :, : y.shape[2], : y.shape[3]]
        return y + x


class ChainNetwork(nn.Module):
    """The layers of a chain architecture, global average pooling and a linear classifier.

    Args:
        layers: The ``_ChainLayer`` modules in order.
        channels: Channels of the last layer's output.
        num_classes: Classifier outputs.
    """

    def __init__(self, layers: Sequence[nn.Module], channels: int, num_classes: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(*layers)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: (B, in_channels, H, W) -> (B, num_classes)."""
        return self.classifier(self.global_pooling(self.layers(x)).flatten(1))


def _layer_setting(layer: Mapping[str, Any], key: str, default: Any, lay: int, what: str) -> Any:
    v = layer.get(key, default)
    if key == "padding":
        if v in ("same", "valid") or (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
            return v
        raise InvalidArchitectureError(
            f"Layer {lay} ({what}): padding must be 'same', 'valid' or an int >= 0. Got {v!r}."
        )
    if key == "activation":
        if v in _ACTIVATIONS:
            return v
        raise InvalidArchitectureError(
            f"Layer {lay} ({what}): unknown activation {v!r}; supported: "
            f"{', '.join(_ACTIVATIONS)}."
        )
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise InvalidArchitectureError(
            f"Layer {lay} ({what}): {key} must be an int >= 1. Got {v!r}."
        )
    return v


def _conv_bn_act(
    c_in: int, c_out: int, k: int, stride: int, pad: tuple[int, int], act: str, groups: int = 1
) -> nn.Sequential:
    conv = _padded(
        lambda p: nn.Conv2d(c_in, c_out, k, stride=stride, padding=p, groups=groups, bias=False),
        pad,
        0.0,
    )
    return nn.Sequential(conv, nn.BatchNorm2d(c_out), _ACTIVATIONS[act]())


def _chain_network(
    space: ChainSpace,
    arch: Arch,
    in_channels: int,
    num_classes: int,
    width: float,
    image_size: tuple[int, int] | None,
) -> ChainNetwork:
    text = space.format(arch)
    modules: list[nn.Module] = []
    c = in_channels
    hw = image_size
    for lay, layer in enumerate(space.layers(arch)):
        t = layer["type"]
        if t not in CHAIN_LAYER_TYPES:
            raise InvalidParameterError(
                f"Layer {lay} of {text!r} has type {t!r}, which build_model cannot build; "
                f"supported layer types: {', '.join(CHAIN_LAYER_TYPES)}."
            )
        extra = sorted(set(layer) - {"type", "skip", *CHAIN_LAYER_TYPES[t]})
        if extra:
            raise InvalidParameterError(
                f"Layer {lay} ({t}) of {text!r} has setting(s) {', '.join(extra)} that a {t} "
                f"layer does not use; it reads: {', '.join(CHAIN_LAYER_TYPES[t]) or 'nothing'}."
            )
        is_pool = t in ("pool", "maxpool", "avgpool")
        k = 1 if t == "identity" else _layer_setting(layer, "kernel_size", 2 if is_pool else 3,
                                                     lay, t)
        stride = 1 if t == "identity" else _layer_setting(layer, "stride", k if is_pool else 1,
                                                          lay, t)
        padding = "valid" if t == "identity" else _layer_setting(
            layer, "padding", "valid" if is_pool else "same", lay, t
        )
        pad = _pad_pair(padding, k)
        desc = f"{t}, kernel_size={k}, stride={stride}, padding={padding}"
        if is_pool and max(pad) > k // 2:
            raise InvalidArchitectureError(
                f"Layer {lay} ({desc}) of {text!r}: a pool's padding must be at most half its "
                f"kernel ({k // 2})."
            )
        if hw is not None:
            new = (_out_size(hw[0], k, stride, pad), _out_size(hw[1], k, stride, pad))
            if min(new) < 1:
                raise InvalidArchitectureError(
                    f"Layer {lay} ({desc}) of {text!r} gets a {hw[0]}x{hw[1]} input and would "
                    f"output {max(new[0], 0)}x{max(new[1], 0)} pixels: the kernel is larger than "
                    "the padded input. Use padding 'same', a smaller kernel or fewer strided "
                    "layers before it, or larger images."
                )
        c_out = c
        if t in ("conv", "dwconv", "depthwise"):
            act = _layer_setting(layer, "activation", "relu", lay, t)
            default = 16 if t == "conv" else c
            filters = _layer_setting(layer, "filters", default, lay, t)
            c_out = max(1, round(filters * width)) if "filters" in layer or t == "conv" else c
            if t == "conv":
                body: nn.Module = _conv_bn_act(c, c_out, k, stride, pad, act)
            else:
                body = nn.Sequential(
                    _conv_bn_act(c, c, k, stride, pad, act, groups=c),
                    _conv_bn_act(c, c_out, 1, 1, (0, 0), act),
                )
        elif t in ("pool", "maxpool"):
            body = _padded(lambda p, k=k, s=stride: nn.MaxPool2d(k, s, p), pad, -math.inf)
        elif t == "avgpool":
            body = _padded(
                lambda p, k=k, s=stride: nn.AvgPool2d(k, s, p, count_include_pad=False),
                pad,
                0.0,
            )
        else:
            body = nn.Identity()
        offset = (k - 1) // 2 - pad[0]
        if layer.get("skip") == 1 and (offset < 0 or pad[1] > k - 1 - (k - 1) // 2):
            raise InvalidArchitectureError(
                f"Layer {lay} ({desc}) of {text!r} has a skip connection but pads more than "
                "'same' does, so its output is larger than its input; use padding 'same', "
                "'valid' or a smaller int."
            )
        same_shape = c_out == c and stride == 1 and pad[0] + pad[1] == k - 1
        modules.append(
            _ChainLayer(body, c, c_out, stride, offset, layer.get("skip") == 1, same_shape)
        )
        c = c_out
        if hw is not None:
            hw = new
    return ChainNetwork(modules, c, num_classes)


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


# --------------------------------------------------------------------------- macro
_IR = re.compile(r"^ir_(\d+)x\1_t(\d+)$")


class _InvertedResidual(nn.Module):
    """MobileNetV2 inverted residual: expand 1x1, depthwise k x k, project 1x1 (+ input)."""

    def __init__(self, c_in: int, c_out: int, k: int, expansion: int, stride: int) -> None:
        super().__init__()
        hidden = c_in * expansion
        mods: list[nn.Module] = []
        if expansion != 1:
            mods += [nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        mods += [
            nn.Conv2d(hidden, hidden, k, stride=stride, padding=k // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.body = nn.Sequential(*mods)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, c_in, H, W) -> (B, c_out, ceil(H / stride), ceil(W / stride))."""
        y = self.body(x)
        return y + x if self.residual else y


def _macro_block(block: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if block == "identity":
        if stride == 1 and c_in == c_out:
            return nn.Identity()
        return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                             nn.BatchNorm2d(c_out))
    m = _IR.match(block)
    if m is None or int(m.group(1)) % 2 == 0 or int(m.group(2)) < 1:
        raise InvalidParameterError(
            f"build_model has no macro block {block!r}; supported: identity and "
            "ir_<k>x<k>_t<e> (MobileNetV2 inverted residual, k odd, expansion e >= 1), e.g. "
            "ir_3x3_t3."
        )
    return _InvertedResidual(c_in, c_out, int(m.group(1)), int(m.group(2)), stride)


class MacroNetwork(nn.Module):
    """Stem, the blocks of every stage in order, global pooling and a linear classifier.

    Args:
        stem_channels: Channels of the stem.
        blocks: The block modules.
        channels: Channels of the last block's output.
        in_channels, num_classes: Input channels and classifier outputs.
    """

    def __init__(
        self, stem_channels: int, blocks: Sequence[nn.Module], channels: int, in_channels: int,
        num_classes: int,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(stem_channels),
            nn.ReLU6(),
        )
        self.blocks = nn.Sequential(*blocks)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: (B, in_channels, H, W) -> (B, num_classes)."""
        return self.classifier(self.global_pooling(self.blocks(self.stem(x))).flatten(1))


def _stage_int(space: MacroSpace, s: int, key: str, default: int) -> int:
    v = space.stages[s].get(key, default)
    if v is None:
        v = default
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise InvalidParameterError(
            f"Space {space.name!r}: stages[{s}].{key} must be an int >= 1 for build_model. "
            f"Got {v!r}."
        )
    return v


def _macro_network(
    space: MacroSpace, arch: Arch, in_channels: int, num_classes: int, width: float
) -> MacroNetwork:
    layers = space.layers(arch)
    base = [_stage_int(space, s, "channels", 16 * 2**s) for s in range(len(space.stages))]
    stride = [_stage_int(space, s, "stride", 1 if s == 0 else 2) for s in range(len(base))]
    stem = max(1, round(base[0] * width))
    c = stem
    blocks: list[nn.Module] = []
    seen: set[int] = set()
    for layer in layers:
        s = layer["stage"]
        mult = 1.0 if layer["width"] is None else float(layer["width"])
        c_out = max(1, round(base[s] * mult * width))
        st = 1 if s in seen else stride[s]
        seen.add(s)
        blocks.append(_macro_block(layer["block"], c, c_out, st))
        c = c_out
    return MacroNetwork(stem, blocks, c, in_channels, num_classes)


# --------------------------------------------------------------------------- entry point
def _image_size(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    vals = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = (
        isinstance(vals, Sequence)
        and len(vals) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in vals)
    )
    if not ok:
        raise param_error("image_size", _OWNER, "None, an int >= 1 or (H, W) ints >= 1", value)
    return int(vals[0]), int(vals[1])


def _cell_width(width: Any) -> int:
    if width is None:
        return _DEFAULT_CELL_WIDTH
    if isinstance(width, float) and width.is_integer():
        width = int(width)
    return check_int(width, "width", _OWNER + " (channels of a cell network's first stage)",
                     minimum=1)


def _multiplier(width: Any) -> float:
    if width is None:
        return 1.0
    return check_float(width, "width", _OWNER + " (a channel multiplier)", minimum=0.0,
                       exclusive=True)


def build_model(
    space: SearchSpace,
    arch: Arch | str,
    *,
    in_channels: int,
    num_classes: int,
    seed: int | torch.Generator = 0,
    width: float | None = None,
    depth: int | None = None,
    image_size: int | tuple[int, int] | None = None,
) -> nn.Module:
    """Build the PyTorch network of ``arch`` in a declared space, with seeded initial weights.

    See the module docstring for the network of each kind and its rules. Use ``build_nb201`` for
    the built-in ``nb201`` space.

    Args:
        space: A ``ChainSpace``, ``CellEdgesSpace``, ``CellNodesSpace`` or ``MacroSpace``.
        arch: An architecture of ``space`` or its string.
        in_channels: Channels of the input images.
        num_classes: Classifier outputs.
        seed: Int seed (>= 0) or a CPU ``torch.Generator`` for the initial weights.
        width: Chain and macro: multiplier of every layer's channels (default 1.0). Cell
            spaces: channels of the first stage, an int (default 16).
        depth: Cell spaces: cells per stage (default 5 for ops on edges, NB201's; 3 for ops on
            nodes, NB101's). Not used by chain and macro spaces (must be ``None``).
        image_size: ``H`` or ``(H, W)`` of the inputs: chain layers are checked against it
            (``None`` = not checked; a too-small input then fails in the forward pass).

    Returns:
        The network in training mode, on the CPU; ``model(x)`` maps (B, in_channels, H, W) to
        (B, num_classes).

    Raises:
        InvalidParameterError: a bad argument, a space kind without a builder, an unknown layer
            type, cell op or macro block.
        InvalidArchitectureError: ``arch`` is not in ``space``, or a chain layer's input is too
            small for it (the message names the layer).
    """
    if not isinstance(space, SearchSpace):
        raise param_error("space", _OWNER, "a SearchSpace", type(space).__name__)
    in_channels = check_int(in_channels, "in_channels", _OWNER, minimum=1)
    num_classes = check_int(num_classes, "num_classes", _OWNER, minimum=1)
    size = _image_size(image_size)
    if isinstance(seed, torch.Generator) and seed.device.type != "cpu":
        raise param_error("seed", _OWNER, "an int >= 0 or a CPU torch.Generator", seed)
    generator = _as_generator(seed, _OWNER)
    a = space.coerce(arch)
    kind = getattr(space, "kind", None)
    if kind not in _DEFAULT_DEPTH and depth is not None:
        raise param_error("depth", _OWNER, f"None for a {kind} space (cell spaces only)", depth)
    if kind in _DEFAULT_DEPTH:
        depth = _DEFAULT_DEPTH[kind] if depth is None else check_int(depth, "depth", _OWNER,
                                                                     minimum=1)
    builder: Callable[[], nn.Module]
    if isinstance(space, ChainSpace):
        mult = _multiplier(width)
        # validate (shapes, types) eagerly on the meta device: nothing is allocated
        builder = lambda: _chain_network(space, a, in_channels, num_classes, mult, size)  # noqa: E731
    elif isinstance(space, MacroSpace):
        mult = _multiplier(width)
        builder = lambda: _macro_network(space, a, in_channels, num_classes, mult)  # noqa: E731
    elif isinstance(space, CellEdgesSpace):
        c = _cell_width(width)
        zero, ident = space.zero_ops, space.identity_ops
        with torch.device("meta"):  # unknown op -> clear error; meta: no RNG draw
            for op in set(a.ops):
                _make_cell_op(op, 1, zero, ident)

        def builder() -> nn.Module:
            return CellEdgesNetwork(
                lambda ch: _EdgeCell(space.edges, a.ops, ch, zero, ident),
                in_channels, num_classes, c, depth,
            )
    elif isinstance(space, CellNodesSpace):
        c = _cell_width(width)
        g = space.graph(a).pruned()
        with torch.device("meta"):
            for op in set(g.labels[1:-1]):
                _make_cell_op(op, 1, frozenset(), frozenset())

        def builder() -> nn.Module:
            return CellNodesNetwork(g.labels, g.edges, in_channels, num_classes, c, depth)
    else:
        raise InvalidParameterError(
            f"build_model has no builder for space {space.name!r} (kind {kind!r}); it builds "
            "chain, cell_edges, cell_nodes and macro spaces (nb201: build_nb201)."
        )
    with torch.device("meta"):
        model = builder()
    model = model.to_empty(device="cpu")
    _init_weights(model, generator)
    return model
