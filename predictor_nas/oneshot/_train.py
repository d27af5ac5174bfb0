"""Train a supernet: DARTS (first- or second-order), GDAS or SPOS; seeded and checkpointed.

Recipes (NAS-Bench-201's weight-sharing baselines, Dong & Yang 2020, shortened):

- **weights**: SGD, momentum 0.9, weight decay 3e-4, learning rate ``lr`` annealed to
  ``lr / 25`` by a cosine schedule over the planned epochs (stepped once per epoch), gradient norm
  clipped at 5, cross-entropy.
- **darts / gdas**: the training split is split in two halves by a seeded permutation: weight
  steps see the first half, architecture steps the second (bilevel DARTS). Each step is an
  architecture step (Adam, lr 3e-4, betas (0.5, 0.999), weight decay 1e-3) on a batch of the
  architecture half, then a weight step on a batch of the weight half. DARTS mixes every op with
  ``softmax(alphas)``; ``order=2`` uses DARTS's unrolled gradient (one virtual SGD step; the
  Hessian-vector product by double backpropagation, exact, instead of DARTS's finite
  difference). GDAS samples one op per edge from Gumbel-softmax(alphas / tau) in both steps
  (hard one-hot, straight-through), tau annealed linearly from 10 to 0.1 over the epochs.
- **spos**: weight steps only, on the whole training split; every step trains the single path of
  a cell drawn uniformly (each edge's op uniform and independent).

Randomness: initialisation, splits, batch order, Gumbel noise and SPOS paths all come from
``seed`` (a CPU ``torch.Generator``; the global torch RNG is forked and restored), so on CPU the
same seed gives bit-identical weights. Checkpoints follow the trainer's conventions
(``predictor_nas.training._trainer``): written atomically after each epoch, resumed when the file
exists (same result as an uninterrupted run), refused when written with other settings, read
with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.oneshot._optim import _Optim
from predictor_nas.oneshot._supernet import Supernet
from predictor_nas.training import (
    CHECKPOINT_FORMAT,
    ImageData,
    evaluate_accuracy,
    resolve_amp,
    resolve_device,
)
from predictor_nas.training import augment_batch as _augment
from predictor_nas.training import autocast as _autocast
from predictor_nas.training import load_checkpoint as _load_checkpoint
from predictor_nas.training import save_checkpoint as _save_checkpoint
from predictor_nas.training import torch_threads as _threads

log = logging.getLogger(__name__)

_OWNER = "train_supernet"
#: Supernet training modes.
SUPERNET_MODES = ("darts", "gdas", "spos")
#: ``kind`` stored in a supernet checkpoint (a trainer checkpoint has none).
CHECKPOINT_KIND = "supernet"
GRAD_CLIP = 5.0
TAU_MAX, TAU_MIN = 10.0, 0.1


@dataclass
class SupernetResult:
    """What one supernet training run recorded.

    Attributes:
        mode: ``"darts"``, ``"gdas"`` or ``"spos"``.
        order: DARTS order (1 or 2; 1 for the other modes).
        train_loss: Mean training loss of the weight steps per epoch, shape (epochs,).
        val_acc: Validation accuracy (%) per epoch of the DARTS mixture / the GDAS argmax path
            with the supernet's BN statistics; empty for SPOS (see ``inherited_accuracy``).
        alphas: Architecture weights after each epoch, shape (epochs, n_edges, n_ops) (empty
            for SPOS).
        epochs: Epochs trained.
        seconds: Wall seconds summed over epochs (including those before a resume).
        device: Device used.
        amp: Autocast dtype name or ``None``.
        resumed_from: Epochs loaded from the checkpoint (0 = a fresh run).
        supernet: The trained supernet (not serialised by ``to_dict``).
    """

    mode: str
    order: int
    train_loss: list[float]
    val_acc: list[float]
    alphas: list[list[list[float]]]
    epochs: int
    seconds: float
    device: str
    amp: str | None
    resumed_from: int
    supernet: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict without the supernet."""
        d = asdict(self)
        d.pop("supernet")
        return d


def _gumbel_hard(
    alphas: torch.Tensor, tau: float, gen: torch.Generator
) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Straight-through Gumbel-softmax sample: hard (n_edges, n_ops) weights and the op per edge."""
    u = torch.rand(alphas.shape, generator=gen).clamp_(1e-10, 1.0 - 1e-7).to(alphas.device)
    g = -torch.log(-torch.log(u))
    soft = torch.softmax((alphas.float() + g) / tau, dim=-1)
    index = soft.argmax(dim=-1)
    one_hot = torch.zeros_like(soft).scatter_(-1, index[:, None], 1.0)
    hard = one_hot - soft.detach() + soft
    return hard, tuple(int(i) for i in index.cpu())


def _uniform_path(n_edges: int, n_ops: int, gen: torch.Generator) -> tuple[int, ...]:
    """One op per edge, uniform and independent: (n_edges,) ints in [0, n_ops)."""
    return tuple(int(i) for i in torch.randint(0, n_ops, (n_edges,), generator=gen))


def gdas_tau(epoch: int, epochs: int) -> float:
    """GDAS temperature in epoch ``epoch`` (0-based): linear from 10 to 0.1."""
    if epochs <= 1:
        return TAU_MAX
    return TAU_MAX - (TAU_MAX - TAU_MIN) * epoch / (epochs - 1)


def _darts_unrolled_step(
    net: Supernet,
    loss_fn: nn.Module,
    xw: torch.Tensor,
    yw: torch.Tensor,
    xa: torch.Tensor,
    ya: torch.Tensor,
    xi: float,
    weight_decay: float,
    amp_dtype: Any,
) -> None:
    """Set ``alphas.grad`` to DARTS's second-order gradient (Liu et al. 2019, eq. 6-7).

    ``w' = w - xi (grad_w L_train(w, a) + wd w)``; grad = ``grad_a L_val(w', a) - xi
    grad_a (grad_w L_train(w, a) . v)`` with ``v = grad_w' L_val(w', a)``: the exact gradient of
    ``L_val(w'(a), a)``. The mixed Hessian-vector product is computed by double
    backpropagation instead of DARTS's finite difference ``(grad_a L_train(w + eps v) -
    grad_a L_train(w - eps v)) / 2 eps``: on ReLU networks the latter crosses activation kinks
    (measured on a width-4 supernet in float64: relative error 0.2-4.6 for eps ||v|| between
    1e-3 and 1e-6, exact only at 1e-7), at the cost of one double backward.
    """
    names = [n for n, _ in net.named_parameters() if n != "alphas"]
    params = [p for n, p in net.named_parameters() if n != "alphas"]
    buffers = dict(net.named_buffers())
    alphas = net.alphas

    def loss_at(ws: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        state = {**dict(zip(names, ws, strict=True)), "alphas": alphas, **buffers}
        with _autocast(x.device, amp_dtype):
            out = functional_call(net, state, (x,), {"weights": torch.softmax(alphas, -1)})
            return loss_fn(out, y)  # cross-entropy runs in float32 under autocast

    g_train = torch.autograd.grad(loss_at(params, xw, yw), params, create_graph=True)
    with torch.no_grad():
        virtual = [p - xi * (g + weight_decay * p) for p, g in zip(params, g_train, strict=True)]
    virtual = [v.requires_grad_() for v in virtual]
    grads = torch.autograd.grad(loss_at(virtual, xa, ya), [alphas, *virtual])
    d_alpha, v = grads[0], grads[1:]
    dot = sum((g * vi.detach()).sum() for g, vi in zip(g_train, v, strict=True))
    (mixed,) = torch.autograd.grad(dot, [alphas])
    alphas.grad = d_alpha - xi * mixed


def _check_args(
    supernet: Any, data: Any, mode: Any, order: Any, epochs: Any, batch_size: Any, lr: Any,
    seed: Any,
) -> tuple[str, int, int, int, float, int]:
    if not isinstance(supernet, Supernet):
        raise param_error(
            "supernet", _OWNER, "a Supernet (see build_supernet)", type(supernet).__name__
        )
    if not isinstance(data, ImageData):
        raise param_error(
            "data", _OWNER, "an ImageData (see load_digits_data)", type(data).__name__
        )
    mode = check_choice(mode, "mode", _OWNER, SUPERNET_MODES)
    if isinstance(order, bool) or order not in (1, 2):
        raise param_error("order", _OWNER, "1 (first-order) or 2 (second-order)", order)
    if order == 2 and mode != "darts":
        raise InvalidParameterError(
            f"The 'order' parameter of {_OWNER} is 2 only for mode 'darts'. Got mode {mode!r}."
        )
    return (
        mode,
        order,
        check_int(epochs, "epochs", _OWNER, minimum=1),
        check_int(batch_size, "batch_size", _OWNER, minimum=2),
        check_float(lr, "lr", _OWNER, minimum=0.0, exclusive=True),
        check_int(seed, "seed", _OWNER, minimum=0),
    )


def train_supernet(
    supernet: Supernet,
    data: ImageData,
    *,
    mode: str,
    epochs: int,
    order: int = 1,
    batch_size: int = 64,
    lr: float = 0.025,
    weight_decay: float = 3e-4,
    seed: int = 0,
    device: str | None = None,
    amp: bool | str | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    num_threads: int | None = None,
    callback: Callable[[int, dict[str, list]], None] | None = None,
) -> SupernetResult:
    """Train ``supernet`` (in place) with DARTS, GDAS or SPOS; see the module docstring.

    Args:
        supernet: From ``build_supernet`` (its ``num_classes`` must cover ``data``'s labels).
        data: The dataset; its training split is the only one trained on, validation accuracy is
            measured on its validation split.
        mode: ``"darts"``, ``"gdas"`` or ``"spos"``.
        epochs: Planned epochs (>= 1); an epoch is one pass over the weight-step data.
        order: DARTS order, 1 (first-order) or 2 (unrolled second-order).
        batch_size: Batch size of weight and architecture steps (>= 2).
        lr: Initial weight learning rate.
        weight_decay: Weight decay of the weight optimiser.
        seed: Seed of splits, batch order, Gumbel noise and sampled paths.
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
        amp: Mixed precision as in ``train`` (``None``: on with CUDA).
        checkpoint: Optional checkpoint path (resumed when it exists).
        num_threads: Torch CPU threads during the run (restored afterwards).
        callback: Called as ``callback(epoch, history)`` after each epoch (1-based, after the
            checkpoint is written) with the lists ``train_loss``, ``val_acc``, ``alphas`` and
            ``epoch_seconds`` so far; an exception it raises stops the run.

    Returns:
        The ``SupernetResult``; ``supernet`` itself is trained and left on ``device``.
    """
    mode, order, epochs, batch_size, lr, seed = _check_args(
        supernet, data, mode, order, epochs, batch_size, lr, seed
    )
    weight_decay = check_float(weight_decay, "weight_decay", _OWNER, minimum=0.0)
    if int(data.y_train.max()) >= supernet.num_classes:
        raise InvalidParameterError(
            f"The 'supernet' parameter of {_OWNER} has {supernet.num_classes} outputs but data "
            f"{data.name!r} has {data.num_classes} classes; build it with "
            f"num_classes={data.num_classes}."
        )
    if len(data.y_train) < (4 if mode != "spos" else 2):
        raise InvalidParameterError(
            f"The 'data' parameter of {_OWNER} needs at least 4 training images for {mode} (two "
            f"halves of >= 2). Got {len(data.y_train)}."
        )
    dev = resolve_device(device)
    amp_dtype = resolve_amp(amp, dev)
    ckpt = None if checkpoint is None else Path(checkpoint)
    config = {
        "kind": CHECKPOINT_KIND, "mode": mode, "order": order, "epochs": epochs,
        "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay, "seed": seed,
        "amp": None if amp_dtype is None else str(amp_dtype).removeprefix("torch."),
        "data": data.fingerprint, "width": supernet.width, "depth": supernet.depth,
        "space": supernet.space.name,
    }
    cuda_devices = [dev.index or 0] if dev.type == "cuda" else []
    with _threads(num_threads), torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        return _run(supernet, data, config, dev, amp_dtype, ckpt, cuda_devices, callback)


def _run(
    net: Supernet, data: ImageData, config: dict[str, Any], dev: torch.device,
    amp_dtype: Any, ckpt: Path | None, cuda_devices: list[int], callback: Any,
) -> SupernetResult:
    mode, order, epochs = config["mode"], config["order"], config["epochs"]
    batch_size, wd = config["batch_size"], config["weight_decay"]
    net.to(dev)
    gen = torch.Generator().manual_seed(config["seed"])
    opt = _Optim.build(net, config, dev, amp_dtype, gen, len(data.y_train))
    w_opt, sched, a_opt, w_batches, a_batches = (
        opt.w_opt, opt.sched, opt.a_opt, opt.w_batches, opt.a_batches
    )
    w_scaler, a_scaler = opt.w_scaler, opt.a_scaler
    hist: dict[str, list] = {"train_loss": [], "val_acc": [], "alphas": [], "epoch_seconds": []}
    start = 0
    if ckpt is not None and ckpt.exists():
        state = _load_checkpoint(ckpt, config)
        net.load_state_dict(state["model"])
        opt.load(state)
        torch.set_rng_state(state["rng_cpu"])
        if cuda_devices and state["rng_cuda"] is not None:
            torch.cuda.set_rng_state(state["rng_cuda"], cuda_devices[0])
        gen.set_state(state["generator"])
        hist = {k: list(state[k]) for k in hist}
        start = int(state["epoch"])
        log.info("resuming supernet training from %s after epoch %d of %d", ckpt, start, epochs)

    x_tr, y_tr = torch.from_numpy(data.x_train).to(dev), torch.from_numpy(data.y_train).to(dev)
    x_va, y_va = torch.from_numpy(data.x_val).to(dev), torch.from_numpy(data.y_val).to(dev)
    mean = torch.tensor(data.mean, dtype=torch.float32, device=dev).reshape(1, -1, 1, 1)
    std = torch.tensor(data.std, dtype=torch.float32, device=dev).reshape(1, -1, 1, 1)
    loss_fn = nn.CrossEntropyLoss()
    steps = max(1, len(w_batches.idx) // batch_size)

    def batch(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        idx = idx.to(dev)
        xb = _augment(x_tr[idx].float(), data.augment, gen, dev)
        return (xb - mean) / std, y_tr[idx]

    for epoch in range(start, epochs):
        t0 = time.perf_counter()
        net.train()
        tau = gdas_tau(epoch, epochs)
        loss_sum, seen = torch.zeros((), dtype=torch.float64, device=dev), 0
        for _ in range(steps):
            if a_opt is not None:
                xa, ya = batch(a_batches.next())  # type: ignore[union-attr]
                a_opt.zero_grad(set_to_none=True)
                if mode == "darts" and order == 2:
                    xw2, yw2 = batch(w_batches.next())
                    _darts_unrolled_step(
                        net, loss_fn, xw2, yw2, xa, ya, sched.get_last_lr()[0], wd, amp_dtype
                    )
                    a_opt.step()
                else:
                    with _autocast(dev, amp_dtype):
                        if mode == "darts":
                            out = net(xa, weights=torch.softmax(net.alphas, -1))
                        else:
                            hard, path = _gumbel_hard(net.alphas, tau, gen)
                            out = net(xa, weights=hard, path=path)
                        a_loss = loss_fn(out.float(), ya)
                    a_scaler.scale(a_loss).backward()
                    a_scaler.step(a_opt)
                    a_scaler.update()
            xw, yw = batch(w_batches.next())
            w_opt.zero_grad(set_to_none=True)
            with _autocast(dev, amp_dtype):
                if mode == "darts":
                    out = net(xw, weights=torch.softmax(net.alphas.detach(), -1))
                elif mode == "gdas":
                    hard, path = _gumbel_hard(net.alphas.detach(), tau, gen)
                    out = net(xw, weights=hard, path=path)
                else:
                    out = net(xw, path=_uniform_path(*net.alphas.shape, gen))
                loss = loss_fn(out.float(), yw)
            w_scaler.scale(loss).backward()
            w_scaler.unscale_(w_opt)
            nn.utils.clip_grad_norm_(net.weight_parameters(), GRAD_CLIP)
            w_scaler.step(w_opt)
            w_scaler.update()
            if net.alphas.grad is not None:
                net.alphas.grad = None
            loss_sum += loss.detach().double() * len(yw)
            seen += len(yw)
        sched.step()
        hist["train_loss"].append(float(loss_sum) / seen)
        if mode != "spos":
            hist["val_acc"].append(_supernet_val_acc(net, mode, x_va, y_va, mean, std, amp_dtype))
            hist["alphas"].append(net.alphas.detach().float().cpu().tolist())
        hist["epoch_seconds"].append(time.perf_counter() - t0)
        if not math.isfinite(hist["train_loss"][-1]):
            log.warning("supernet epoch %d: training loss is not finite", epoch + 1)
        if ckpt is not None:
            _save_checkpoint(ckpt, {
                "format": CHECKPOINT_FORMAT, "config": config, "epoch": epoch + 1,
                "model": net.state_dict(), **opt.state(), "rng_cpu": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state(cuda_devices[0]) if cuda_devices else None,
                "generator": gen.get_state(), **hist,
            })
        if callback is not None:
            callback(epoch + 1, hist)
    return SupernetResult(
        mode=mode, order=order, train_loss=[float(v) for v in hist["train_loss"]],
        val_acc=[float(v) for v in hist["val_acc"]], alphas=hist["alphas"], epochs=epochs,
        seconds=float(sum(hist["epoch_seconds"])), device=str(dev), amp=config["amp"],
        resumed_from=start, supernet=net,
    )


def _supernet_val_acc(
    net: Supernet, mode: str, x: torch.Tensor, y: torch.Tensor, mean: torch.Tensor,
    std: torch.Tensor, amp_dtype: Any,
) -> float:
    """Validation accuracy (%) of the DARTS mixture or the GDAS argmax path (supernet BN stats)."""
    if mode == "darts":
        weights = torch.softmax(net.alphas.detach(), -1)

        class _Mix(nn.Module):
            def forward(self, xb: torch.Tensor) -> torch.Tensor:
                return net(xb, weights=weights)
    else:
        path = tuple(int(i) for i in net.alphas.detach().argmax(-1).cpu())

        class _Mix(nn.Module):  # type: ignore[no-redef]
            def forward(self, xb: torch.Tensor) -> torch.Tensor:
                return net(xb, path=path)

    was = net.training
    net.eval()
    try:
        return evaluate_accuracy(_Mix(), x, y, mean, std, amp=amp_dtype)
    finally:
        net.train(was)


def as_numpy_alphas(result: SupernetResult) -> np.ndarray:
    """The recorded architecture weights as an array of shape (epochs, n_edges, n_ops)."""
    return np.asarray(result.alphas, dtype=np.float64)
