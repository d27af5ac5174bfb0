"""Macro networks of ``build_model`` (MobileNetV2-like): stem, blocks stage by stage, head.

See ``predictor_nas.models._generic`` (the module docstring, ``macro``) for the channel and
stride rules and the blocks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from torch import nn

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces import Arch, MacroSpace

__all__ = ["MacroNetwork"]


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
