"""Train an image classifier: seeded, device-aware, curve-reporting, atomically checkpointed.

The recipe is NAS-Bench-201's (Dong & Yang, 2020): SGD with Nesterov momentum 0.9, weight decay
5e-4, learning rate 0.1 annealed to 0 by a cosine schedule over the planned epochs (stepped once
per epoch), cross-entropy loss; CIFAR images get a random 32x32 crop of the 4-pixel zero-padded
image and a random horizontal flip. Batch size and epochs are the caller's (NB201: 256 x 200).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from predictor_nas._lazy import torch
from predictor_nas._progress import progress_bar
from predictor_nas._validation import param_error
from predictor_nas.training._checkpoint import RunState, load_checkpoint, save_checkpoint
from predictor_nas.training._config import TrainConfig
from predictor_nas.training._datasets import ImageData
from predictor_nas.training._runtime import autocast, deterministic_kernels, torch_threads
from predictor_nas.training._setup import (
    DeviceData,
    TrainSettings,
    check_outputs,
    check_settings,
    device_data,
)
from predictor_nas.training._steps import augment_batch as _augment
from predictor_nas.training._steps import evaluate_accuracy, report_epoch

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

_OWNER = "train"
#: Defaults of batch size, learning rate and weight decay (``TrainConfig``).
_RECIPE = TrainConfig()


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


# --------------------------------------------------------------------------- train
def _start(model: Any, data: ImageData, s: TrainSettings) -> RunState:
    """Build (under the already seeded RNG) the model, optimizer, schedule, scaler, generator."""
    nn = torch.nn

    net = model if isinstance(model, nn.Module) else model()
    if not isinstance(net, nn.Module):
        raise param_error("model", _OWNER, "a factory returning an nn.Module", type(net))
    net = net.to(s.dev, memory_format=s.memory_format)
    check_outputs(net, data, s.dev, s.memory_format)
    s.config["n_params"] = int(sum(p.numel() for p in net.parameters() if p.requires_grad))
    opt = torch.optim.SGD(
        net.parameters(),
        lr=s.lr,
        momentum=s.momentum,
        nesterov=s.nesterov,
        weight_decay=s.weight_decay,
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s.epochs, eta_min=0.0)
    scaler = torch.amp.GradScaler(s.dev.type, enabled=s.amp_dtype == torch.float16)
    gen = torch.Generator().manual_seed(s.seed)
    return RunState(net=net, opt=opt, sched=sched, scaler=scaler, gen=gen)


def _resume(run: RunState, s: TrainSettings, trial: Any) -> None:
    """Continue from ``s.ckpt`` when it exists; re-report its epochs to ``trial``."""
    if s.ckpt is None or not s.ckpt.exists():
        return
    run.restore(load_checkpoint(s.ckpt, s.config), s.cuda_devices)
    log.info("resuming from %s after epoch %d of %d", s.ckpt, run.start, s.epochs)
    if trial is not None:
        for e, v in enumerate(run.val_acc, start=1):
            report_epoch(trial, v, e)


def _train_epoch(run: RunState, t: DeviceData, s: TrainSettings, loss_fn: Any) -> float:
    """One pass over the shuffled training split; the mean training loss."""

    run.net.train()
    n = len(t.y_tr)
    perm = torch.randperm(n, generator=run.gen).to(s.dev)
    loss_sum = torch.zeros((), dtype=torch.float64, device=s.dev)
    seen = 0
    for b in range(t.n_batches):
        idx = perm[b * s.batch_size : (b + 1) * s.batch_size]
        if b == t.n_batches - 1:
            idx = perm[b * s.batch_size :]
        xb = _augment(t.x_tr[idx].float(), s.augment, run.gen, s.dev)
        xb = ((xb - t.mean) / t.std).contiguous(memory_format=s.memory_format)
        yb = t.y_tr[idx]
        with autocast(s.dev, s.amp_dtype):
            loss = loss_fn(run.net(xb), yb)
        run.opt.zero_grad(set_to_none=True)
        run.scaler.scale(loss).backward()
        run.scaler.step(run.opt)
        run.scaler.update()
        loss_sum += loss.detach().double() * len(yb)
        seen += len(yb)
    run.sched.step()
    return float(loss_sum) / seen


def _accuracy(run: RunState, x: Any, y: Any, t: DeviceData, s: TrainSettings) -> float:
    return evaluate_accuracy(
        run.net,
        x,
        y,
        t.mean,
        t.std,
        batch_size=s.eval_batch_size,
        amp=s.amp_dtype,
        channels_last=s.channels_last,
    )


def _fit(run: RunState, t: DeviceData, s: TrainSettings, name: str, trial: Any,
         progress: bool) -> None:  # fmt: skip
    """Train the remaining epochs: validate, report, maybe prune, checkpoint after each."""
    nn = torch.nn

    loss_fn = nn.CrossEntropyLoss()
    bar = None
    if progress:
        bar = progress_bar(s.epochs, initial=run.start, desc=f"train {name}", unit="epoch")
    try:
        for epoch in range(run.start + 1, s.epochs + 1):
            if run.pruned:
                break
            t0 = time.perf_counter()
            mean_loss = _train_epoch(run, t, s, loss_fn)
            acc = _accuracy(run, t.x_va, t.y_va, t, s)
            if not math.isfinite(mean_loss):
                log.warning("epoch %d: training loss is %s (diverged)", epoch, mean_loss)
            run.val_acc.append(acc)
            run.train_loss.append(mean_loss)
            run.epoch_seconds.append(time.perf_counter() - t0)
            if trial is not None:
                report_epoch(trial, acc, epoch)
                run.pruned = epoch < s.epochs and bool(trial.should_prune())
            if s.ckpt is not None:
                save_checkpoint(s.ckpt, run.to_checkpoint(s.config, epoch, s.cuda_devices))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(val=f"{acc:.2f}%")
            if run.pruned:
                log.info("pruned after epoch %d of %d (val %.2f %%)", epoch, s.epochs, acc)
    finally:
        if bar is not None:
            bar.close()


def _result(run: RunState, s: TrainSettings, resumed_from: int, test: float | None) -> TrainResult:
    """The ``TrainResult`` of a finished (or pruned) run."""
    return TrainResult(
        val_acc=run.val_acc,
        train_loss=run.train_loss,
        test_acc=test,
        epochs=s.epochs,
        epochs_run=len(run.val_acc),
        pruned=run.pruned,
        seconds=float(sum(run.epoch_seconds)),
        epoch_seconds=run.epoch_seconds,
        device=str(s.dev),
        amp=s.config["amp"],
        resumed_from=resumed_from,
        n_params=s.config["n_params"],
        model=run.net,
    )


def train(
    model: torch.nn.Module | Callable[[], torch.nn.Module],
    data: ImageData,
    *,
    epochs: int,
    batch_size: int = _RECIPE.batch_size,
    lr: float = _RECIPE.lr,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float = _RECIPE.weight_decay,
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

    s = check_settings(
        model,
        data,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
        seed=seed,
        device=device,
        amp=amp,
        augment=augment,
        checkpoint=checkpoint,
        num_threads=num_threads,
        eval_batch_size=eval_batch_size,
        channels_last=channels_last,
        deterministic=deterministic,
    )
    with (
        torch_threads(s.num_threads),
        deterministic_kernels(s.deterministic),
        torch.random.fork_rng(devices=s.cuda_devices),
    ):
        torch.manual_seed(s.seed)
        run = _start(model, data, s)
        _resume(run, s, trial)
        resumed_from = run.start
        t = device_data(data, s)
        _fit(run, t, s, data.name, trial, progress)
        test = None
        if data.x_test is not None and not run.pruned and run.val_acc:
            x_te, y_te = torch.from_numpy(data.x_test).to(s.dev), torch.from_numpy(data.y_test)
            test = _accuracy(run, x_te, y_te.to(s.dev), t, s)
    return _result(run, s, resumed_from, test)
