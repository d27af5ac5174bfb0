"""Zero-cost proxies of an untrained network: one function per proxy.

Definitions follow NAS-Bench-Suite-Zero / NASLib (Krishnakumar et al. 2022), which collects
synflow, snip, grasp, fisher, grad_norm (Abdelfattah et al. 2021), jacov and nwot (Mellor et al.
2021) and zen (Lin et al. 2021). Gradient sums run over the weights of every ``Conv2d`` and
``Linear`` layer. No function changes the model it is given (each works on a deep copy), and the
network runs in training mode (batch statistics in BatchNorm), as in NASLib.

Conventions that matter when comparing with NAS-Bench-Suite-Zero numbers:

* ``synflow`` returns the natural log of the synflow sum (0.0 when the sum is 0), as NASLib
  stores it.
* ``fisher`` weighs each output channel's Fisher value by the number of weights feeding it
  (NASLib broadcasts the per-channel value over the weights before summing).
* ``flops`` counts per image like torchstat/tensorwatch, which NASLib uses: conv and linear
  multiply-accumulates, BatchNorm 2 (affine) per element, ReLU 1 per element, pooling k*k per
  output, adaptive average pooling planes * (window_h + 1) * (window_w + 1) per output cell.
* ``zen`` re-initialises the weights from N(0, 1) and reads BatchNorm's running variance after
  its two forward passes (default momentum 0.1), as the Zen-NAS and NASLib code do.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn
from torch.nn import functional

__all__ = [
    "fisher",
    "flops",
    "grad_norm",
    "grasp",
    "jacov",
    "num_params",
    "nwot",
    "snip",
    "synflow",
    "zen",
]


def _layers(model: nn.Module) -> Iterator[nn.Conv2d | nn.Linear]:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            yield m


def _train_copy(model: nn.Module) -> nn.Module:
    net = copy.deepcopy(model)
    net.train()
    net.zero_grad(set_to_none=True)
    return net


def _loss_backward(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    functional.cross_entropy(net(x), y).backward()


def _features(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    fwd = getattr(net, "forward_features", None)
    return fwd(x) if callable(fwd) else net(x)


# ------------------------------------------------------------------ data-free
def num_params(model: nn.Module) -> float:
    """Trainable parameters in millions (NAS-Bench-201's ``params``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6


def flops(model: nn.Module, x: torch.Tensor) -> float:
    """Floating-point operations of one image of ``x``'s shape, in millions (MFLOPs).

    Counted with forward hooks on a single image ``x[:1]`` (torchstat convention, see the module
    docstring); element-wise additions between modules are not counted.

    Args:
        model: The network.
        x: (B, C, H, W) batch; only the shape of one image is used.

    Returns:
        MFLOPs per image.
    """
    total = 0

    def hook(m: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        a = inp[0]
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            n = kh * kw * m.in_channels * (m.out_channels // m.groups) * out[0, 0].numel()
            total += n + (out[0].numel() if m.bias is not None else 0)
        elif isinstance(m, nn.BatchNorm2d):
            total += a[0].numel() * (2 if m.affine else 1)
        elif isinstance(m, nn.ReLU):
            total += a[0].numel()
        elif isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
            k = m.kernel_size
            kh, kw = (k, k) if isinstance(k, int) else k
            total += out[0].numel() * kh * kw
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            h, w = a.shape[2], a.shape[3]
            oh, ow = out.shape[2], out.shape[3]
            rows = sum(math.ceil((i + 1) * h / oh) - (i * h) // oh + 1 for i in range(oh))
            cols = sum(math.ceil((j + 1) * w / ow) - (j * w) // ow + 1 for j in range(ow))
            total += a.shape[1] * rows * cols
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features

    net = copy.deepcopy(model).eval()
    kinds = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.AvgPool2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d)
    handles = [
        m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (*kinds, nn.Linear))
    ]
    try:
        with torch.no_grad():
            net(x[:1])
    finally:
        for h in handles:
            h.remove()
    return total / 1e6


def synflow(model: nn.Module, x: torch.Tensor) -> float:
    """log of the synaptic-flow saliency sum: ``log sum |w * dR/dw|`` (0.0 when the sum is 0).

    ``R`` is the summed output for an all-ones input of one image's shape, computed in float64
    with every parameter and buffer replaced by its absolute value and BatchNorm bypassed
    (NASLib's ``synflow``, Tanaka et al. 2020). Data-free: only ``x.shape`` is used.

    Args:
        model: The network (its current weights are used).
        x: (B, C, H, W); only the shape of one image is used.

    Returns:
        The log score.
    """
    net = _train_copy(model).double()
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.abs_()
    for m in net.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.forward = _identity.__get__(m)  # type: ignore[method-assign]
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    net(ones).sum().backward()
    total = 0.0
    for m in _layers(net):
        if m.weight.grad is not None:
            total += float((m.weight.detach() * m.weight.grad).abs().sum())
    if total == 0.0:
        return 0.0
    return math.log(total)


def _identity(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x


def zen(model: nn.Module, x: torch.Tensor, *, seed: int = 0, mixup_gamma: float = 1e-2) -> float:
    """Zen-score (Lin et al. 2021): expected output change under a small input perturbation.

    On a copy with Gaussian weights (conv / linear weights ~ N(0, 1), biases 0, BN scale 1 and
    shift 0), two Gaussian batches ``x1, x2`` of ``x``'s shape give
    ``log mean_b ||f(x1) - f(x1 + gamma * x2)||_1 + sum_BN log sqrt(mean(running_var))``, where
    ``f`` is the feature map before global pooling (``forward_features`` when the model has it).
    Data-free: only ``x.shape`` is used.

    Args:
        model: The network (its weights are replaced on the copy).
        x: (B, C, H, W); only the shape is used.
        seed: Seed of the Gaussian weights and inputs.
        mixup_gamma: Perturbation scale ``gamma``.

    Returns:
        The score; ``-inf`` when the features do not depend on the input.
    """
    g = torch.Generator().manual_seed(seed)
    net = _train_copy(model)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()
        x1 = torch.randn(x.shape, generator=g).to(x.device)
        x2 = torch.randn(x.shape, generator=g).to(x.device)
        f1 = _features(net, x1)
        f2 = _features(net, x1 + mixup_gamma * x2)
        delta = float((f1 - f2).abs().flatten(1).sum(dim=1).mean())
        log_bn = 0.0
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d) and m.running_var is not None:
                log_bn += 0.5 * math.log(float(m.running_var.mean()))
    if delta == 0.0:
        return float("-inf")
    return math.log(delta) + log_bn


# ------------------------------------------------------------------ data-dependent
#: The proxies computed from one cross-entropy backward pass (``loss_gradient_proxies``).
LOSS_GRADIENT_PROXIES = ("snip", "grad_norm", "fisher")


def loss_gradient_proxies(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, names: tuple[str, ...] | list[str]
) -> dict[str, float]:
    """snip, grad_norm and / or fisher from a single forward / backward pass.

    Args:
        model: The network.
        x: (B, C, H, W) inputs.
        y: (B,) integer labels.
        names: Subset of ``LOSS_GRADIENT_PROXIES``.

    Returns:
        ``{name: value}`` for the requested names.
    """
    net = _train_copy(model)
    per_layer: list[torch.Tensor] = []
    handles = []

    def forward_hook(m: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if not out.requires_grad:
            return
        act = out.detach()
        fan = m.weight[0].numel()

        def grad_hook(grad: torch.Tensor) -> None:
            g = (act * grad).sum(dim=tuple(range(2, act.ndim))) if act.ndim > 2 else act * grad
            per_layer.append(0.5 * g.pow(2).mean(dim=0).abs().sum() * fan)

        out.register_hook(grad_hook)

    if "fisher" in names:
        handles = [m.register_forward_hook(forward_hook) for m in _layers(net)]
    try:
        _loss_backward(net, x, y)
    finally:
        for h in handles:
            h.remove()
    out: dict[str, float] = {}
    with torch.no_grad():
        graded = [m.weight for m in _layers(net) if m.weight.grad is not None]
        if "snip" in names:
            out["snip"] = float(sum((w * w.grad).abs().sum() for w in graded))
        if "grad_norm" in names:
            out["grad_norm"] = float(sum(w.grad.norm() for w in graded))
    if "fisher" in names:
        out["fisher"] = float(sum(per_layer)) if per_layer else 0.0
    return {n: out[n] for n in names}


def snip(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """SNIP (Lee et al. 2019): ``sum |w * dL/dw|`` for the cross-entropy loss on ``(x, y)``.

    Args:
        model: The network.
        x: (B, C, H, W) inputs.
        y: (B,) integer labels.

    Returns:
        The score (>= 0).
    """
    return loss_gradient_proxies(model, x, y, ("snip",))["snip"]


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Sum over conv / linear layers of the Euclidean norm of ``dL/dw`` (cross-entropy on x, y).

    Args:
        model: The network.
        x: (B, C, H, W) inputs.
        y: (B,) integer labels.

    Returns:
        The score (>= 0).
    """
    return loss_gradient_proxies(model, x, y, ("grad_norm",))["grad_norm"]


def fisher(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fisher information of the layer outputs (Turner et al. 2020, as in NASLib).

    For each conv / linear layer with output ``a`` (B, K, ...) and ``d = dL/da``, the channel
    value is ``0.5 * mean_b (sum_spatial a * d)^2``; the score sums it over channels weighted by
    the weights per output channel (``in_channels / groups * kh * kw``; ``in_features`` for
    linear layers), as NASLib does.

    Args:
        model: The network.
        x: (B, C, H, W) inputs.
        y: (B,) integer labels.

    Returns:
        The score (>= 0).
    """
    return loss_gradient_proxies(model, x, y, ("fisher",))["fisher"]


def grasp(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """GraSP (Wang et al. 2020) as in NASLib: ``sum -w * (H g)``, ``g = dL/dw``, H the Hessian.

    ``H g`` is the gradient of ``g_detached . g`` (a Hessian-vector product); the sign makes the
    score grow with accuracy, as NASLib chose.

    Args:
        model: The network.
        x: (B, C, H, W) inputs.
        y: (B,) integer labels.

    Returns:
        The score (any sign).
    """
    net = _train_copy(model)
    weights = [m.weight for m in _layers(net)]
    loss = functional.cross_entropy(net(x), y)
    grads = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = sum((g.detach() * g).sum() for g in grads if g is not None)
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        return 0.0
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    return float(sum((-w.detach() * h).sum() for w, h in zip(weights, hg) if h is not None))


def jacov(model: nn.Module, x: torch.Tensor) -> float:
    """Jacobian covariance (Mellor et al. 2021 v1, NASLib's variant).

    ``J`` is the gradient of the summed outputs w.r.t. each input image (B, C*H*W); with the
    eigenvalues ``v`` of its (B, B) correlation matrix the score is
    ``-sum(log(v + 1e-5) + 1 / (v + 1e-5))``.

    Args:
        model: The network.
        x: (B, C, H, W) inputs, B >= 2.

    Returns:
        The score (<= 0); NaN when a Jacobian row is constant (e.g. the output ignores the input).
    """
    net = _train_copy(model)
    xg = x.detach().clone().requires_grad_(True)
    out = net(xg)
    out.backward(torch.ones_like(out))
    if xg.grad is None:  # the output does not depend on the input
        return float("nan")
    jac = xg.grad.reshape(x.shape[0], -1).double().cpu().numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(jac)
    if not np.isfinite(corr).all():
        return float("nan")
    v = np.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


def nwot(model: nn.Module, x: torch.Tensor) -> float:
    """NASWOT (Mellor et al. 2021 v2): log|det K| of the ReLU activation-pattern kernel.

    Every ``nn.ReLU`` input is binarised per image (``> 0``); ``K[i, j]`` counts the units on
    which images i and j agree (``c c^T + (1 - c)(1 - c)^T`` summed over all ReLUs).

    Args:
        model: The network.
        x: (B, C, H, W) inputs.

    Returns:
        ``log|det K|``; ``-inf`` when K is singular (e.g. every image gives the same pattern).
    """
    net = _train_copy(model)
    n = x.shape[0]
    kernel = torch.zeros((n, n), dtype=torch.float64, device=x.device)

    def hook(m: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal kernel
        c = (inp[0].reshape(n, -1) > 0).double()
        kernel = kernel + c @ c.T + (1.0 - c) @ (1.0 - c).T

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    _, logabsdet = np.linalg.slogdet(kernel.cpu().numpy())
    return float(logabsdet)
