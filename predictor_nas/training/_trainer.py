"""Train an image classifier: seeded, device-aware, curve-reporting, atomically checkpointed.

The recipe is NAS-Bench-201's (Dong & Yang, 2020): SGD with Nesterov momentum 0.9, weight decay
5e-4, learning rate 0.1 annealed to 0 by a cosine schedule over the planned epochs (stepped once
per epoch), cross-entropy loss; CIFAR images get a random 32x32 crop of the 4-pixel zero-padded
image and a random horizontal flip. Batch size and epochs are the caller's (NB201: 256 x 200).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.training._datasets import AUGMENTATIONS, ImageData

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

_OWNER = "train"
#: Version of the checkpoint layout; a checkpoint of another version is refused.
CHECKPOINT_FORMAT = 1
#: Zero padding (pixels) of the random-crop augmentation.
CROP_PADDING = 4


@dataclass
class TrainResult:
    """What one training run measured.

    Attributes:
        val_acc: Validation accuracy (%) after each epoch run, shape (epochs_run,).
        train_loss: Mean training cross-entropy of each epoch, shape (epochs_run,).
        test_acc: Test accuracy (%) after the last epoch if the data has a test split and the run
            was not pruned, else ``None``.
        epochs: Planned epochs (the cosine schedule's length).
        epochs_run: Epochs actually trained (< ``epochs`` when pruned).
        pruned: Whether the trial's pruner stopped the run.
        seconds: Wall seconds of training + validation, summed over epochs (including those run
            before a resume).
        epoch_seconds: Wall seconds of each epoch, shape (epochs_run,).
        device: Device used, e.g. ``"cpu"`` or ``"cuda:0"``.
        amp: Autocast dtype (``"bfloat16"``, ``"float16"``) or ``None`` (full precision).
        resumed_from: Epochs loaded from the checkpoint (0 = a fresh run).
        n_params: Number of trainable parameters of the model.
        model: The trained model (on ``device``); not serialised by ``to_dict``.
    """

    val_acc: list[float]
    train_loss: list[float]
    test_acc: float | None
    epochs: int
    epochs_run: int
    pruned: bool
    seconds: float
    epoch_seconds: list[float]
    device: str
    amp: str | None
    resumed_from: int
    n_params: int
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def final_val_acc(self) -> float:
        """Validation accuracy after the last epoch run (%)."""
        return self.val_acc[-1]

    @property
    def best_val_acc(self) -> float:
        """Best validation accuracy over the epochs run (%)."""
        return max(self.val_acc)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict without the model."""
        d = asdict(self)
        d.pop("model")
        return d


# --------------------------------------------------------------------------- helpers
def resolve_device(device: str | None) -> torch.device:
    """``None``/``"auto"`` -> CUDA if available else CPU; otherwise ``torch.device(device)``."""
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise param_error("device", _OWNER, "'auto', 'cpu', 'cuda' or 'cuda:N'", device) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError(
            f"The 'device' parameter of train is {device!r} but CUDA is not available here; use "
            "'auto' or 'cpu'."
        )
    if dev.type not in ("cpu", "cuda"):
        raise param_error("device", _OWNER, "'auto', 'cpu', 'cuda' or 'cuda:N'", device)
    return dev


def resolve_amp(amp: bool | str | None, device: torch.device) -> torch.dtype | None:
    """Autocast dtype: ``None`` = auto (CUDA: bfloat16 where supported, else float16; CPU: off).

    ``True`` forces it on (bfloat16 on CPU), ``False`` off; ``"bfloat16"``/``"float16"`` pick.
    """
    import torch

    if amp is None:
        amp = device.type == "cuda"
    if amp is False:
        return None
    if amp is True:
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16
    check_choice(amp, "amp", _OWNER, ["bfloat16", "float16"])
    if amp == "float16" and device.type == "cpu":
        raise InvalidParameterError("float16 autocast needs CUDA; use amp='bfloat16' on CPU.")
    return getattr(torch, amp)


@contextlib.contextmanager
def _threads(num_threads: int | None) -> Iterator[None]:
    import torch

    if num_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _deterministic(on: bool) -> Iterator[None]:
    import torch

    if not on:
        yield
        return
    before = (
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[:2]
        torch.use_deterministic_algorithms(before[2], warn_only=before[3])


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    import torch

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def _augment(
    x: torch.Tensor, kind: str, gen: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Random crop of the zero-padded raw batch (+ horizontal flip); draws from ``gen`` (CPU)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    if kind == "none":
        return x
    b, _, h, w = x.shape
    p = CROP_PADDING
    xp = F.pad(x, (p, p, p, p))
    oy = torch.randint(0, 2 * p + 1, (b,), generator=gen).to(device)
    ox = torch.randint(0, 2 * p + 1, (b,), generator=gen).to(device)
    rows = oy[:, None] + torch.arange(h, device=device)
    cols = ox[:, None] + torch.arange(w, device=device)
    idx = torch.arange(b, device=device)[:, None, None]
    x = xp[idx, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (b, C, h, w)
    if kind == "crop_flip":
        flip = (torch.rand(b, generator=gen) < 0.5).to(device)
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    return x.contiguous()


def evaluate_accuracy(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    *,
    batch_size: int = 1024,
    amp: torch.dtype | None = None,
    channels_last: bool = False,
) -> float:
    """Top-1 accuracy (%) of ``model`` in eval mode on raw images ``x`` (n, C, H, W).

    ``mean`` and ``std`` have shape (1, C, 1, 1); batches are normalised as ``(x - mean) / std``.
    """
    import torch

    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=y.device)
    with torch.inference_mode():
        for start in range(0, len(y), batch_size):
            xb = ((x[start : start + batch_size].float() - mean) / std).contiguous(
                memory_format=fmt
            )
            with _autocast(y.device, amp):
                out = model(xb)
            correct += (out.argmax(1) == y[start : start + batch_size]).sum()
    return 100.0 * int(correct) / len(y)


def _report(trial: Any, value: float, step: int) -> None:
    with warnings.catch_warnings():  # re-reporting a step after a resume is ignored by Optuna
        warnings.filterwarnings("ignore", message=".*is already reported.*")
        trial.report(value, step)


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _load_checkpoint(path: Path, config: dict[str, Any]) -> dict[str, Any]:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise InvalidParameterError(
            f"The checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); delete it to "
            "start over."
        ) from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise InvalidParameterError(
            f"{path} is not a predictor_nas training checkpoint of format {CHECKPOINT_FORMAT}."
        )
    stored = state["config"]
    if stored != config:
        diff = ", ".join(
            f"{k}: stored {stored.get(k)!r}, now {config.get(k)!r}"
            for k in sorted(set(stored) | set(config))
            if stored.get(k) != config.get(k)
        )
        raise InvalidParameterError(
            f"The checkpoint {path} was written by a run with other settings ({diff}); use the "
            "original settings to resume, or another checkpoint path."
        )
    return state


# --------------------------------------------------------------------------- train
def _check_outputs(net: Any, data: ImageData, dev: Any, memory_format: Any) -> None:
    """Refuse a model with fewer logits than the data has classes (else: a raw IndexError).

    One forward pass of two training images in eval mode without gradients: it draws no random
    numbers and updates no BatchNorm statistics, so the run itself is unchanged.
    """
    import torch

    splits = (data.y_train, data.y_val, data.y_test)
    top = max(int(y.max()) for y in splits if y is not None and y.size)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            x = torch.from_numpy(data.x_train[:2]).to(dev).float()
            out = net(x.contiguous(memory_format=memory_format))
    finally:
        net.train(was_training)
    shape = tuple(getattr(out, "shape", ()))
    if len(shape) != 2 or shape[0] != len(x):
        raise param_error(
            "model",
            _OWNER,
            f"a network returning logits of shape (batch, num_classes={data.num_classes})",
            f"output of shape {shape} for a batch of {len(x)}",
        )
    if shape[1] <= top:
        raise InvalidParameterError(
            f"The 'model' parameter of train must output one logit per class: data "
            f"{data.name!r} has {data.num_classes} classes (labels up to {top}) but the model "
            f"outputs {shape[1]} values per image. Build it with num_classes={data.num_classes}."
        )


def train(
    model: torch.nn.Module | Callable[[], torch.nn.Module],
    data: ImageData,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 0.1,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float = 5e-4,
    seed: int = 0,
    device: str | None = None,
    amp: bool | str | None = None,
    augment: str | None = None,
    trial: Any = None,
    checkpoint: str | os.PathLike[str] | None = None,
    progress: bool = False,
    num_threads: int | None = None,
    eval_batch_size: int = 1024,
    channels_last: bool | None = None,
    deterministic: bool = False,
) -> TrainResult:
    """Train ``model`` on ``data.x_train`` and record the validation curve.

    Recipe: see the module docstring (NB201's SGD + cosine). Each epoch shuffles the training
    split (a leftover single image joins the last batch: BatchNorm cannot train on one image),
    then measures validation accuracy (%) in eval mode.

    **Seeding.** Everything runs inside ``torch.random.fork_rng`` seeded with ``seed``: a model
    factory's initialisation, dropout and any other use of torch's default generator; shuffling
    and augmentation draw from a separate ``torch.Generator`` seeded with ``seed``. The caller's
    global RNG state is restored afterwards. On CPU, the same seed and thread count give
    bit-identical curves; on CUDA, cuDNN kernels may differ in the last bits between runs.

    **Pruning.** With ``trial`` (an ``optuna.Trial``), epoch ``e`` (1-based) reports
    ``trial.report(val_acc, e)`` and then asks ``trial.should_prune()``; if it says yes the run
    stops and the result has ``pruned=True``. It does *not* raise ``optuna.TrialPruned``: the
    caller needs the curve and the epochs spent; in a plain objective write
    ``if r.pruned: raise optuna.TrialPruned()``. The study holds the curve either way (the
    reports are its intermediate values).

    **Checkpoints.** With ``checkpoint``, after every epoch the model, optimizer, scheduler,
    grad-scaler and RNG states (torch CPU/CUDA and the shuffling generator) and the curves are
    written to ``checkpoint + ".tmp"`` and moved over ``checkpoint`` with ``os.replace`` (atomic:
    a crash leaves the previous epoch's file). If ``checkpoint`` exists when ``train`` starts, the
    run resumes after its last epoch (epochs already done are re-reported to ``trial``) and gives
    the same result as an uninterrupted run; a checkpoint written with other settings (epochs,
    lr, seed, data...) is refused. A finished or pruned checkpoint returns its result at once.
    Loading uses ``torch.load(weights_only=True)``.

    Args:
        model: An ``nn.Module``, or a factory ``() -> nn.Module`` (called under the seed, so the
            initialisation is seeded too).
        data: The dataset (see ``load_digits_data``, ``load_cifar10``, ``from_arrays``).
        epochs: Planned epochs (>= 1).
        batch_size: Training batch size.
        lr: Initial learning rate.
        momentum: SGD momentum.
        nesterov: Nesterov momentum.
        weight_decay: L2 weight decay.
        seed: Seed of initialisation, shuffling and augmentation.
        device: ``None``/``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
        amp: Mixed precision: ``None`` = on with CUDA (bfloat16 where supported, else float16
            with a ``GradScaler``), off on CPU; ``True``/``False``; or the dtype name. Small
            networks are launch-bound and gain nothing: NB201 at width 16, batch 256 ran at 0.76x
            the fp32 speed under bfloat16 on an H100 (``benchmarks/results/training_speed.md``).
        augment: One of ``AUGMENTATIONS``; ``None`` = ``data.augment``.
        trial: Optional Optuna trial to report to.
        checkpoint: Optional checkpoint file path.
        progress: Show progress over epochs on stderr (``predictor_nas._progress``).
        num_threads: Torch CPU threads during the run (restored afterwards); ``None`` = leave as
            is.
        eval_batch_size: Batch size of validation/test passes.
        channels_last: Keep model and batches in channels-last memory format; ``None`` = on with
            CUDA (1.6x the images/s of NB201 on an H100, see ``benchmarks/training_speed.py``),
            off on CPU.
        deterministic: On CUDA, use deterministic kernels only (cuDNN deterministic, no
            autotuning, ``torch.use_deterministic_algorithms(True, warn_only=True)``) for the
            run, restoring the previous settings afterwards; slower. CPU runs are deterministic
            anyway.

    Returns:
        The ``TrainResult``.
    """
    import torch
    from torch import nn

    epochs = check_int(epochs, "epochs", _OWNER, minimum=1)
    batch_size = check_int(batch_size, "batch_size", _OWNER, minimum=1)
    eval_batch_size = check_int(eval_batch_size, "eval_batch_size", _OWNER, minimum=1)
    lr = check_float(lr, "lr", _OWNER, minimum=0.0, exclusive=True)
    momentum = check_float(momentum, "momentum", _OWNER, minimum=0.0)
    weight_decay = check_float(weight_decay, "weight_decay", _OWNER, minimum=0.0)
    seed = check_int(seed, "seed", _OWNER, minimum=0)
    if num_threads is not None:
        num_threads = check_int(num_threads, "num_threads", _OWNER, minimum=1)
    if not isinstance(data, ImageData):
        raise param_error(
            "data", _OWNER, "an ImageData (see load_digits_data, from_arrays)", type(data).__name__
        )
    if not (isinstance(model, nn.Module) or callable(model)):
        raise param_error(
            "model", _OWNER, "an nn.Module or a callable returning one", type(model).__name__
        )
    if nesterov and momentum == 0:
        raise InvalidParameterError("Nesterov momentum needs momentum > 0; set nesterov=False.")
    augment = check_choice(
        data.augment if augment is None else augment, "augment", _OWNER, AUGMENTATIONS
    )
    dev = resolve_device(device)
    amp_dtype = resolve_amp(amp, dev)
    ckpt = None if checkpoint is None else Path(checkpoint)
    config = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "momentum": momentum,
        "nesterov": bool(nesterov),
        "weight_decay": weight_decay,
        "seed": seed,
        "augment": augment,
        "amp": None if amp_dtype is None else str(amp_dtype).removeprefix("torch."),
        "data": data.fingerprint,
    }
    cuda_devices = [dev.index or 0] if dev.type == "cuda" else []
    if channels_last is None:
        channels_last = dev.type == "cuda"
    memory_format = torch.channels_last if channels_last else torch.contiguous_format

    with (
        _threads(num_threads),
        _deterministic(bool(deterministic) and dev.type == "cuda"),
        torch.random.fork_rng(devices=cuda_devices),
    ):
        torch.manual_seed(seed)
        net = model if isinstance(model, nn.Module) else model()
        if not isinstance(net, nn.Module):
            raise param_error("model", _OWNER, "a factory returning an nn.Module", type(net))
        net = net.to(dev, memory_format=memory_format)
        _check_outputs(net, data, dev, memory_format)
        config["n_params"] = int(sum(p.numel() for p in net.parameters() if p.requires_grad))
        opt = torch.optim.SGD(
            net.parameters(),
            lr=lr,
            momentum=momentum,
            nesterov=bool(nesterov),
            weight_decay=weight_decay,
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=0.0)
        scaler = torch.amp.GradScaler(dev.type, enabled=amp_dtype == torch.float16)
        gen = torch.Generator().manual_seed(seed)
        val_acc: list[float] = []
        train_loss: list[float] = []
        epoch_seconds: list[float] = []
        pruned = False
        start = 0
        if ckpt is not None and ckpt.exists():
            state = _load_checkpoint(ckpt, config)
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            scaler.load_state_dict(state["scaler"])
            torch.set_rng_state(state["rng_cpu"])
            if cuda_devices and state["rng_cuda"] is not None:
                torch.cuda.set_rng_state(state["rng_cuda"], cuda_devices[0])
            gen.set_state(state["generator"])
            val_acc = [float(v) for v in state["val_acc"]]
            train_loss = [float(v) for v in state["train_loss"]]
            epoch_seconds = [float(v) for v in state["epoch_seconds"]]
            pruned = bool(state["pruned"])
            start = int(state["epoch"])
            log.info("resuming from %s after epoch %d of %d", ckpt, start, epochs)
            if trial is not None:
                for e, v in enumerate(val_acc, start=1):
                    _report(trial, v, e)
        resumed_from = start

        def tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
            return torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)

        x_tr, y_tr = tensors(data.x_train, data.y_train)
        x_va, y_va = tensors(data.x_val, data.y_val)
        shape = (1, -1, 1, 1)
        mean = torch.tensor(data.mean, dtype=torch.float32, device=dev).reshape(shape)
        std = torch.tensor(data.std, dtype=torch.float32, device=dev).reshape(shape)
        loss_fn = nn.CrossEntropyLoss()
        n = len(y_tr)
        n_batches = math.ceil(n / batch_size)
        if n > 1 and n_batches > 1 and n % batch_size == 1:
            n_batches -= 1  # the last batch takes the one leftover image (BatchNorm needs 2)

        bar = None
        if progress:
            from predictor_nas._progress import progress_bar

            bar = progress_bar(epochs, initial=start, desc=f"train {data.name}", unit="epoch")
        try:
            for epoch in range(start + 1, epochs + 1):
                if pruned:
                    break
                t0 = time.perf_counter()
                net.train()
                perm = torch.randperm(n, generator=gen).to(dev)
                loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
                seen = 0
                for b in range(n_batches):
                    idx = perm[b * batch_size : (b + 1) * batch_size]
                    if b == n_batches - 1:
                        idx = perm[b * batch_size :]
                    xb = _augment(x_tr[idx].float(), augment, gen, dev)
                    xb = ((xb - mean) / std).contiguous(memory_format=memory_format)
                    yb = y_tr[idx]
                    with _autocast(dev, amp_dtype):
                        loss = loss_fn(net(xb), yb)
                    opt.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                    loss_sum += loss.detach().double() * len(yb)
                    seen += len(yb)
                sched.step()
                acc = evaluate_accuracy(
                    net, x_va, y_va, mean, std, batch_size=eval_batch_size, amp=amp_dtype,
                    channels_last=bool(channels_last),
                )
                mean_loss = float(loss_sum) / seen
                if not math.isfinite(mean_loss):
                    log.warning("epoch %d: training loss is %s (diverged)", epoch, mean_loss)
                val_acc.append(acc)
                train_loss.append(mean_loss)
                epoch_seconds.append(time.perf_counter() - t0)
                if trial is not None:
                    _report(trial, acc, epoch)
                    pruned = epoch < epochs and bool(trial.should_prune())
                if ckpt is not None:
                    _save_checkpoint(
                        ckpt,
                        {
                            "format": CHECKPOINT_FORMAT,
                            "config": config,
                            "epoch": epoch,
                            "model": net.state_dict(),
                            "optimizer": opt.state_dict(),
                            "scheduler": sched.state_dict(),
                            "scaler": scaler.state_dict(),
                            "rng_cpu": torch.get_rng_state(),
                            "rng_cuda": (
                                torch.cuda.get_rng_state(cuda_devices[0]) if cuda_devices else None
                            ),
                            "generator": gen.get_state(),
                            "val_acc": val_acc,
                            "train_loss": train_loss,
                            "epoch_seconds": epoch_seconds,
                            "pruned": pruned,
                        },
                    )
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(val=f"{acc:.2f}%")
                if pruned:
                    log.info("pruned after epoch %d of %d (val %.2f %%)", epoch, epochs, acc)
        finally:
            if bar is not None:
                bar.close()

        test = None
        if data.x_test is not None and not pruned and val_acc:
            x_te, y_te = tensors(data.x_test, data.y_test)
            test = evaluate_accuracy(
                net, x_te, y_te, mean, std, batch_size=eval_batch_size, amp=amp_dtype,
                channels_last=bool(channels_last),
            )
    return TrainResult(
        val_acc=val_acc,
        train_loss=train_loss,
        test_acc=test,
        epochs=epochs,
        epochs_run=len(val_acc),
        pruned=pruned,
        seconds=float(sum(epoch_seconds)),
        epoch_seconds=epoch_seconds,
        device=str(dev),
        amp=config["amp"],
        resumed_from=resumed_from,
        n_params=config["n_params"],
        model=net,
    )
