"""Chain networks of ``build_model``: the layers in order, global pooling, a linear head.

See ``predictor_nas.models._generic`` (the module docstring, ``chain``) for the layer types,
their settings and the padding / skip rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces import Arch, ChainSpace

__all__ = ["CHAIN_LAYER_TYPES", "ChainNetwork"]

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
