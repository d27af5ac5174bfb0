"""The NAS-Bench-201 network: the official macro skeleton around a searched cell.

Layout (NAS-Bench-201 paper, Dong & Yang 2020; NATS-Bench topology search space), for width ``C``
and depth ``N``::

    stem            Conv3x3(in_channels -> C, pad 1, no bias) + BN(C)
    stage 0         N cells on C channels            (H x W)
    reduction 1     ResNet basic block C -> 2C, stride 2
    stage 1         N cells on 2C channels           (H/2 x W/2)
    reduction 2     ResNet basic block 2C -> 4C, stride 2
    stage 2         N cells on 4C channels           (H/4 x W/4)
    head            BN(4C) + ReLU, global average pooling, Linear(4C -> num_classes)

ResNet basic block (``C_in -> C_out``, stride 2): ``ReLU-Conv3x3(stride 2)-BN``, then
``ReLU-Conv3x3-BN``, added to the shortcut ``AvgPool2d(2) + Conv1x1`` (no BN, no bias).

Cell: node 0 is the cell input, node ``j`` (1..3) is the sum over ``i < j`` of ``op_ij(node i)``,
node 3 is the output. Operations keep channels and resolution: ``none`` (zero), ``skip_connect``
(identity), ``nor_conv_1x1`` / ``nor_conv_3x3`` (ReLU-Conv-BN, no conv bias, affine BN with running
statistics) and ``avg_pool_3x3`` (stride 1, pad 1, ``count_include_pad=False``).

With the defaults (C = 16, N = 5) the parameter count equals NAS-Bench-201's ``params`` column for
every one of the 15,625 cells (see ``tests/models/test_nb201_model.py``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from predictor_nas._validation import check_int, param_error
from predictor_nas.spaces import NB201_EDGES, Arch, get_space

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["NB201Network", "build_nb201", "nb201_num_params"]

_OWNER = "build_nb201"


class ReLUConvBN(nn.Sequential):
    """``ReLU -> Conv2d (no bias) -> BatchNorm2d`` (affine, tracking running statistics).

    Args:
        c_in: Input channels.
        c_out: Output channels.
        kernel_size: Square kernel size.
        stride: Convolution stride.
        padding: Convolution padding.
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's reduction block: two ReLU-Conv3x3-BN plus an AvgPool + Conv1x1 shortcut.

    Args:
        c_in: Input channels.
        c_out: Output channels.
        stride: Stride of the first convolution and of the shortcut pooling (2 in NB201).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 2) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=stride, stride=stride, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, c_in, H, W) -> (B, c_out, H / stride, W / stride)."""
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def _make_op(op: str, channels: int) -> nn.Module:
    """The module of one cell operation on ``channels`` channels (``none`` is an empty Identity)."""
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    # skip_connect is the identity; none is never called (its term is zero and is left out)
    return nn.Identity()


class NB201Cell(nn.Module):
    """One NAS-Bench-201 cell: 4 nodes, one operation per edge ``i -> j`` (``i < j``).

    ``none`` edges contribute nothing (the official ``x * 0`` term is left out, which gives the
    same values and gradients). A node whose incoming edges are all ``none`` is a zero tensor, and
    the operations reading from it still run, as in the official network (so their parameters
    exist and BN shifts still receive gradients).

    Args:
        ops: The 6 operation names in NB201 string order (edges (0,1), (0,2), (1,2), (0,3), (1,3),
            (2,3)).
        channels: Channels of the cell input, every node and the output.
    """

    def __init__(self, ops: tuple[str, ...], channels: int) -> None:
        super().__init__()
        self.ops = tuple(ops)
        self.edges = nn.ModuleList(_make_op(op, channels) for op in self.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        nodes = [x]
        for j in (1, 2, 3):
            total: torch.Tensor | None = None
            for k, (i, jj) in enumerate(NB201_EDGES):
                if jj != j or self.ops[k] == "none":
                    continue
                term = self.edges[k](nodes[i])
                total = term if total is None else total + term
            nodes.append(torch.zeros_like(x) if total is None else total)
        return nodes[3]


class NB201Network(nn.Module):
    """The NAS-Bench-201 network for one cell (see the module docstring for the layout).

    Build it with ``build_nb201``, which validates the arguments and initialises the weights from
    a seed.

    Args:
        arch: The (validated) NB201 architecture.
        width: Channels ``C`` of the first stage (stages have C, 2C, 4C).
        depth: Cells per stage ``N``.
        num_classes: Outputs of the linear classifier.
        in_channels: Channels of the input images.

    Attributes:
        arch: The architecture.
        stem: Conv3x3 + BN.
        cells: The ``3 * depth`` cells and the 2 reduction blocks, in forward order.
        lastact: BN + ReLU after the last stage.
        global_pooling: Adaptive average pooling to 1 x 1.
        classifier: ``Linear(4 * width, num_classes)``.
    """

    def __init__(
        self, arch: Arch, *, width: int, depth: int, num_classes: int, in_channels: int
    ) -> None:
        super().__init__()
        self.arch = arch
        self.width = width
        self.depth = depth
        self.num_classes = num_classes
        self.in_channels = in_channels
        c = width
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c)
        )
        layers: list[nn.Module] = []
        for stage in range(3):
            c_stage = c * 2**stage
            if stage > 0:
                layers.append(ResNetBasicBlock(c_stage // 2, c_stage, stride=2))
            layers.extend(NB201Cell(arch.ops, c_stage) for _ in range(depth))
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * c, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map before global pooling: (B, in_channels, H, W) -> (B, 4C, H/4, W/4).

        It is the output of the final BN + ReLU. H and W must be multiples of 4 (each reduction
        block halves them exactly, as in the official network).
        """
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] % 4 or x.shape[3] % 4:
            raise param_error(
                "x",
                "NB201Network.forward",
                f"a (B, {self.in_channels}, H, W) tensor with H and W multiples of 4",
                tuple(x.shape),
            )
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x)
        return self.lastact(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: (B, in_channels, H, W) -> (B, num_classes)."""
        out = self.global_pooling(self.forward_features(x)).flatten(1)
        return self.classifier(out)

    def extra_repr(self) -> str:
        """Shown by ``repr``: the cell string and the skeleton's sizes."""
        return (
            f"arch={get_space('nb201').format(self.arch)!r}, width={self.width}, "
            f"depth={self.depth}, num_classes={self.num_classes}, in_channels={self.in_channels}"
        )


def _weighted_modules(model: nn.Module) -> Iterator[nn.Module]:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
            yield m


@torch.no_grad()
def _init_weights(model: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation, drawn from ``generator`` (global RNG untouched).

    Conv2d / Linear: weight ~ Kaiming-uniform with a = sqrt(5) (i.e. U(-1/sqrt(fan_in),
    1/sqrt(fan_in))), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). BatchNorm: weight 1, bias 0,
    running mean 0, running variance 1.
    """
    for m in _weighted_modules(model):
        if isinstance(m, nn.BatchNorm2d):
            m.reset_parameters()  # deterministic: ones, zeros, fresh running statistics
            continue
        nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
        if m.bias is not None:
            fan_in = m.weight[0].numel()
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(m.bias, -bound, bound, generator=generator)


def _as_generator(seed: int | torch.Generator, owner: str) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    s = check_int(seed, "seed", owner, minimum=0)
    g = torch.Generator(device="cpu")
    g.manual_seed(s)
    return g


def _check_sizes(
    owner: str, width: object, depth: object, num_classes: object, in_channels: object
) -> tuple[int, int, int, int]:
    return (
        check_int(width, "width", owner, minimum=1),
        check_int(depth, "depth", owner, minimum=1),
        check_int(num_classes, "num_classes", owner, minimum=1),
        check_int(in_channels, "in_channels", owner, minimum=1),
    )


def build_nb201(
    arch: Arch | str,
    *,
    width: int = 16,
    depth: int = 5,
    num_classes: int = 10,
    in_channels: int = 3,
    seed: int | torch.Generator = 0,
) -> NB201Network:
    """Build the NAS-Bench-201 network of ``arch`` with freshly initialised weights.

    The modules are created on the ``meta`` device and then materialised on the CPU and
    initialised from ``seed`` (PyTorch's default initialisation schemes), so the global torch RNG
    is neither read nor advanced, and the same seed gives the same weights. Move the model with
    ``.to(device)`` afterwards.

    Args:
        arch: An NB201 ``Arch`` or its string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.
        width: Channels of the first stage (NB201: 16).
        depth: Cells per stage (NB201: 5).
        num_classes: Classifier outputs (CIFAR-10: 10, CIFAR-100: 100, ImageNet16-120: 120).
        in_channels: Input image channels.
        seed: Int seed (>= 0) or a CPU ``torch.Generator`` the weights are drawn from.

    Returns:
        The network in training mode; ``model(x)`` maps (B, in_channels, H, W) to
        (B, num_classes).

    Raises:
        InvalidArchitectureError: ``arch`` is not an NB201 architecture.
        InvalidParameterError: a size is not an int >= 1, or the seed is invalid.
    """
    a = get_space("nb201").coerce(arch)
    width, depth, num_classes, in_channels = _check_sizes(
        _OWNER, width, depth, num_classes, in_channels
    )
    if isinstance(seed, torch.Generator) and seed.device.type != "cpu":
        raise param_error("seed", _OWNER, "an int >= 0 or a CPU torch.Generator", seed)
    generator = _as_generator(seed, _OWNER)
    with torch.device("meta"):
        model = NB201Network(
            a, width=width, depth=depth, num_classes=num_classes, in_channels=in_channels
        )
    model = model.to_empty(device="cpu")
    _init_weights(model, generator)
    return model


def nb201_num_params(
    arch: Arch | str,
    *,
    width: int = 16,
    depth: int = 5,
    num_classes: int = 10,
    in_channels: int = 3,
) -> int:
    """Number of trainable parameters of ``build_nb201(arch, ...)``, computed without building it.

    Counts conv weights, BN scales and shifts and the classifier (NAS-Bench-201's ``params``
    column is this number / 1e6 for width 16, depth 5). Operations on edges that the input never
    reaches still count, as in the official network.

    Args:
        arch: An NB201 ``Arch`` or its string.
        width: Channels of the first stage.
        depth: Cells per stage.
        num_classes: Classifier outputs.
        in_channels: Input image channels.

    Returns:
        The parameter count.
    """
    a = get_space("nb201").coerce(arch)
    c, n, k, cin = _check_sizes("nb201_num_params", width, depth, num_classes, in_channels)
    n3 = a.ops.count("nor_conv_3x3")
    n1 = a.ops.count("nor_conv_1x1")
    total = cin * c * 9 + 2 * c  # stem conv + BN
    for stage in range(3):
        cs = c * 2**stage
        total += n * (n3 * (9 * cs * cs + 2 * cs) + n1 * (cs * cs + 2 * cs))
        if stage > 0:
            cp = cs // 2
            total += 9 * cp * cs + 2 * cs + 9 * cs * cs + 2 * cs + cp * cs  # reduction block
    total += 2 * 4 * c + 4 * c * k + k  # last BN + classifier
    return total
