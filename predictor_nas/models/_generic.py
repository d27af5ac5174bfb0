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

The networks of each kind are built in ``_chain_net`` (chain), ``_cell_net`` (cell ops, both
cell kinds) and ``_macro_net`` (macro); this module checks the arguments and dispatches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from predictor_nas._validation import check_float, check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.models._cell_net import (
    CellEdgesNetwork,
    CellNodesNetwork,
    _EdgeCell,
    _make_cell_op,
    supported_ops,
)
from predictor_nas.models._chain_net import CHAIN_LAYER_TYPES, ChainNetwork, _chain_network
from predictor_nas.models._macro_net import MacroNetwork, _macro_network
from predictor_nas.models._nb201 import _as_generator, _init_weights, build_nb201
from predictor_nas.spaces import (
    Arch,
    CellEdgesSpace,
    CellNodesSpace,
    ChainSpace,
    MacroSpace,
    NB201Space,
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
    "takes_cell_sizes",
]

_OWNER = "build_model"

_DEFAULT_CELL_WIDTH = 16
_DEFAULT_DEPTH = {"cell_edges": 5, "cell_nodes": 3}


# --------------------------------------------------------------------------- entry point
def takes_cell_sizes(space: SearchSpace) -> bool:
    """Whether ``build_model`` reads ``width`` as a cell network's channels and ``depth`` as
    its cells per stage (NB201 and cell spaces), rather than a channel multiplier (chain, macro)."""
    return isinstance(space, (NB201Space, CellEdgesSpace, CellNodesSpace))


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

    See the module docstring for the network of each kind and its rules. The built-in NB201
    space gets ``build_nb201``'s network (``width`` default 16, ``depth`` default 5), so every
    caller builds any space through this one function.

    Args:
        space: A ``ChainSpace``, ``CellEdgesSpace``, ``CellNodesSpace``, ``MacroSpace`` or the
            ``NB201Space``.
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
    if isinstance(space, NB201Space):
        return build_nb201(
            a, width=_cell_width(width),
            depth=5 if depth is None else check_int(depth, "depth", _OWNER, minimum=1),
            num_classes=num_classes, in_channels=in_channels, seed=generator,
        )  # fmt: skip
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
            "chain, cell_edges, cell_nodes and macro spaces and NB201."
        )
    with torch.device("meta"):
        model = builder()
    model = model.to_empty(device="cpu")
    _init_weights(model, generator)
    return model
