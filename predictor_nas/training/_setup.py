"""A ``train`` call's checked settings, the model's output check, the data on the device."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from predictor_nas._lazy import torch
from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.training._datasets import AUGMENTATIONS, ImageData
from predictor_nas.training._runtime import resolve_amp, resolve_device

_OWNER = "train"


def check_outputs(net: Any, data: ImageData, dev: Any, memory_format: Any) -> None:
    """Refuse a model with fewer logits than the data has classes (else: a raw IndexError).

    One forward pass of two training images in eval mode without gradients: it draws no random
    numbers and updates no BatchNorm statistics, so the run itself is unchanged.
    """

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


@dataclass
class TrainSettings:
    """The checked arguments of one ``train`` call and what they resolve to."""

    epochs: int
    batch_size: int
    eval_batch_size: int
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    seed: int
    num_threads: int | None
    augment: str
    dev: Any
    amp_dtype: Any
    ckpt: Path | None
    channels_last: bool
    deterministic: bool
    #: Settings that change results (stored in and checked against a checkpoint).
    config: dict[str, Any]

    @property
    def cuda_devices(self) -> list[int]:
        """The CUDA device index whose RNG is forked and checkpointed; none on CPU."""
        return [self.dev.index or 0] if self.dev.type == "cuda" else []

    @property
    def memory_format(self) -> Any:
        """``torch.channels_last`` or ``torch.contiguous_format``."""

        return torch.channels_last if self.channels_last else torch.contiguous_format


@dataclass
class DeviceData:
    """Training and validation splits on the device, with normalisation and batch count."""

    x_tr: Any
    y_tr: Any
    x_va: Any
    y_va: Any
    mean: Any
    std: Any
    n_batches: int


def check_settings(
    model: Any,
    data: ImageData,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    momentum: float,
    nesterov: bool,
    weight_decay: float,
    seed: int,
    device: str | None,
    amp: bool | str | None,
    augment: str | None,
    checkpoint: str | os.PathLike[str] | None,
    num_threads: int | None,
    eval_batch_size: int,
    channels_last: bool | None,
    deterministic: bool,
) -> TrainSettings:
    """Check ``train``'s arguments (standard messages) and resolve device, autocast, augment."""
    nn = torch.nn

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
    return TrainSettings(
        epochs=epochs,
        batch_size=batch_size,
        eval_batch_size=eval_batch_size,
        lr=lr,
        momentum=momentum,
        nesterov=bool(nesterov),
        weight_decay=weight_decay,
        seed=seed,
        num_threads=num_threads,
        augment=augment,
        dev=dev,
        amp_dtype=amp_dtype,
        ckpt=None if checkpoint is None else Path(checkpoint),
        channels_last=dev.type == "cuda" if channels_last is None else bool(channels_last),
        deterministic=bool(deterministic) and dev.type == "cuda",
        config=config,
    )


def device_data(data: ImageData, s: TrainSettings) -> DeviceData:
    """Move the training and validation splits to the device; count the batches per epoch."""

    shape = (1, -1, 1, 1)
    n = len(data.y_train)
    n_batches = math.ceil(n / s.batch_size)
    if n > 1 and n_batches > 1 and n % s.batch_size == 1:
        n_batches -= 1  # the last batch takes the one leftover image (BatchNorm needs 2)
    return DeviceData(
        x_tr=torch.from_numpy(data.x_train).to(s.dev),
        y_tr=torch.from_numpy(data.y_train).to(s.dev),
        x_va=torch.from_numpy(data.x_val).to(s.dev),
        y_va=torch.from_numpy(data.y_val).to(s.dev),
        mean=torch.tensor(data.mean, dtype=torch.float32, device=s.dev).reshape(shape),
        std=torch.tensor(data.std, dtype=torch.float32, device=s.dev).reshape(shape),
        n_batches=n_batches,
    )
