"""The proxy registry and ``compute_proxies``: build an architecture's real network, score it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.models import build_model, takes_cell_sizes
from predictor_nas.proxies import _measures as _m
from predictor_nas.spaces import Arch, SearchSpace, get_space

__all__ = ["PROXIES", "ProxyInfo", "compute_proxies", "noise_batch", "proxy_seeds"]

#: ``compute(model, x, y, seed) -> float``
ProxyFn = Callable[[nn.Module, torch.Tensor, torch.Tensor, int], float]


@dataclass(frozen=True)
class ProxyInfo:
    """One zero-cost proxy.

    Attributes:
        name: Registry name.
        compute: ``compute(model, x, y, seed) -> float`` with ``x`` (B, C, H, W), ``y`` (B,).
        uses_data: Whether the values of ``x`` / ``y`` matter (``False``: only the shape).
        higher_is_better: Sign of its expected correlation with accuracy (NAS-Bench-Suite-Zero
            orientation; every proxy here is oriented so that higher is better).
        unit: Unit of the value.
        table_metric: Name of the same proxy in the ``nb201-rich`` table (``zc_<name>``).
        description: One line.
    """

    name: str
    compute: ProxyFn
    uses_data: bool
    higher_is_better: bool
    unit: str
    table_metric: str
    description: str


def _info(
    name: str, fn: ProxyFn, uses_data: bool, unit: str, description: str
) -> tuple[str, ProxyInfo]:
    return name, ProxyInfo(name, fn, uses_data, True, unit, f"zc_{name}", description)


#: Every proxy by name (insertion order = the order ``compute_proxies`` reports them in).
PROXIES: dict[str, ProxyInfo] = dict(
    [
        _info("params", lambda m, x, y, s: _m.num_params(m), False, "M", "trainable parameters"),
        _info("flops", lambda m, x, y, s: _m.flops(m, x), False, "MFLOPs", "FLOPs per image"),
        _info("synflow", lambda m, x, y, s: _m.synflow(m, x), False, "log", "log synaptic flow"),
        _info("zen", lambda m, x, y, s: _m.zen(m, x, seed=s), False, "log", "Zen-score"),
        _info("snip", lambda m, x, y, s: _m.snip(m, x, y), True, "", "sum |w * dL/dw|"),
        _info("grasp", lambda m, x, y, s: _m.grasp(m, x, y), True, "", "sum -w * H dL/dw"),
        _info("fisher", lambda m, x, y, s: _m.fisher(m, x, y), True, "", "activation Fisher"),
        _info("grad_norm", lambda m, x, y, s: _m.grad_norm(m, x, y), True, "", "sum ||dL/dw||"),
        _info("jacov", lambda m, x, y, s: _m.jacov(m, x), True, "", "Jacobian covariance"),
        _info("nwot", lambda m, x, y, s: _m.nwot(m, x), True, "log", "NASWOT log|det K|"),
    ]
)


def proxy_seeds(seed: int) -> tuple[int, int, int]:
    """Independent seeds (weights, data, proxy) derived from one seed via ``SeedSequence``."""
    a, b, c = np.random.SeedSequence(seed).generate_state(3, dtype=np.uint32)
    return int(a), int(b), int(c)


def noise_batch(
    batch_size: int, in_channels: int, input_size: int, num_classes: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded stand-in batch: ``x`` ~ N(0, 1) (B, C, S, S) float32, ``y`` uniform (B,) int64."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((batch_size, in_channels, input_size, input_size), generator=g)
    y = torch.randint(0, num_classes, (batch_size,), generator=g)
    return x, y


def _check_names(names: Sequence[str] | None, owner: str) -> list[str]:
    if names is None:
        return list(PROXIES)
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise param_error("names", owner, "a non-empty sequence of proxy names", names)
    out = [check_choice(n, "names", owner, PROXIES) for n in names]
    if len(set(out)) != len(out):
        raise param_error("names", owner, "a sequence of distinct proxy names", names)
    return out


def _check_data(
    data: tuple[torch.Tensor, torch.Tensor], in_channels: int, num_classes: int, owner: str
) -> tuple[torch.Tensor, torch.Tensor]:
    allowed = (
        f"None or a pair (x, y) with x a float tensor (B, {in_channels}, H, W), H and W "
        f"multiples of 4, B >= 2, and y an int tensor (B,) of labels in [0, {num_classes - 1}]"
    )
    if not isinstance(data, tuple) or len(data) != 2:
        raise param_error("data", owner, allowed, type(data).__name__)
    x, y = data
    ok = (
        isinstance(x, torch.Tensor)
        and isinstance(y, torch.Tensor)
        and x.is_floating_point()
        and x.ndim == 4
        and x.shape[0] >= 2
        and x.shape[1] == in_channels
        and x.shape[2] % 4 == 0
        and x.shape[3] % 4 == 0
        and y.ndim == 1
        and y.shape[0] == x.shape[0]
        and not y.is_floating_point()
        and (y.numel() == 0 or (int(y.min()) >= 0 and int(y.max()) < num_classes))
    )
    if not ok:
        shapes = tuple(getattr(t, "shape", type(t).__name__) for t in data)
        raise param_error("data", owner, allowed, shapes)
    return x.float(), y.long()


def compute_proxies(
    arch: Arch | str,
    names: Sequence[str] | None = None,
    *,
    space: SearchSpace | str | None = None,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    seed: int = 0,
    width: int = 16,
    depth: int = 5,
    num_classes: int = 10,
    in_channels: int = 3,
    input_size: int = 32,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Zero-cost proxies of the freshly initialised network of ``arch``, in any space.

    The network is ``build_model(space, arch, ...)`` with weights from ``seed`` (NB201: the
    NB201 network of ``build_nb201``). Data-dependent proxies use ``data`` or, when it is
    ``None``, a seeded Gaussian-noise batch with uniform random labels (``noise_batch``). The
    weight, data and proxy (zen) seeds are derived from ``seed`` (``proxy_seeds``); same seed,
    same values.

    Args:
        arch: An ``Arch`` or its string in ``space``.
        names: Proxies to compute (keys of ``PROXIES``); ``None`` = all.
        space: The space of ``arch`` (a ``SearchSpace``, a name or a YAML file); ``None``: the
            ``Arch``'s own space, or NB201 for a string.
        data: ``(x, y)``: x (B, in_channels, H, W) float, y (B,) int labels; ``None`` = noise.
        seed: Seed (int >= 0).
        width: Channels of the first stage (NB201 and cell spaces; chain and macro spaces keep
            their declared channels).
        depth: Cells per stage (NB201 and cell spaces).
        num_classes: Classifier outputs.
        in_channels: Input channels.
        input_size: Side of the square noise images (when ``data`` is None); multiple of 4.
        batch_size: Images in the noise batch (when ``data`` is None), >= 2.
        device: Where the network runs (weights and noise are drawn on the CPU first, so a
            seed gives the same network on every device).

    Returns:
        ``{name: value}`` in the order of ``names``. Degenerate networks (output independent of
        the input) give NaN for jacov and -inf for zen / nwot.
    """

    owner = "compute_proxies"
    chosen = _check_names(names, owner)
    seed = check_int(seed, "seed", owner, minimum=0)
    w_seed, d_seed, p_seed = proxy_seeds(seed)
    if space is None:
        space = arch.space if isinstance(arch, Arch) else "nb201"
    sp = get_space(space)
    if data is None:
        size = check_int(input_size, "input_size", owner, minimum=4)
        if size % 4:
            raise param_error("input_size", owner, "an int >= 4 and a multiple of 4", input_size)
        batch = check_int(batch_size, "batch_size", owner, minimum=2)
        x, y = noise_batch(batch, in_channels, size, num_classes, d_seed)
    else:
        x, y = _check_data(data, in_channels, num_classes, owner)
    sizes = {"width": width, "depth": depth} if takes_cell_sizes(sp) else {}
    model = build_model(
        sp, arch, in_channels=in_channels, num_classes=num_classes, seed=w_seed,
        image_size=tuple(x.shape[-2:]), **sizes,
    )  # fmt: skip
    model, x, y = model.to(device), x.to(device), y.to(device)
    out: dict[str, float] = {}
    shared = [n for n in chosen if n in _m.LOSS_GRADIENT_PROXIES]
    if len(shared) > 1:  # one backward pass serves them all
        out.update(_m.loss_gradient_proxies(model, x, y, shared))
    for name in chosen:
        if name not in out:
            out[name] = float(PROXIES[name].compute(model, x, y, p_seed))
    return {name: out[name] for name in chosen}
