"""The state of a training run and its atomic checkpoint file (``train(checkpoint=...)``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from predictor_nas._lazy import torch
from predictor_nas.exceptions import InvalidParameterError

#: Version of the checkpoint layout; a checkpoint of another version is refused.
CHECKPOINT_FORMAT = 1


@dataclass
class RunState:
    """Everything a training run carries from one epoch to the next.

    Attributes:
        net, opt, sched, scaler: Model, SGD optimizer, cosine scheduler, grad scaler.
        gen: The CPU ``torch.Generator`` of shuffling and augmentation.
        val_acc, train_loss, epoch_seconds: Per-epoch curves so far, shape (epochs done,).
        pruned: Whether the trial's pruner stopped the run.
        start: Epochs done before this call (from a checkpoint).
    """

    net: Any
    opt: Any
    sched: Any
    scaler: Any
    gen: Any
    val_acc: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    pruned: bool = False
    start: int = 0

    def to_checkpoint(
        self, config: dict[str, Any], epoch: int, cuda_devices: list[int]
    ) -> dict[str, Any]:
        """The checkpoint dict after ``epoch`` (model, optimizer, RNG states, curves)."""

        return {
            "format": CHECKPOINT_FORMAT,
            "config": config,
            "epoch": epoch,
            "model": self.net.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(cuda_devices[0]) if cuda_devices else None,
            "generator": self.gen.get_state(),
            "val_acc": self.val_acc,
            "train_loss": self.train_loss,
            "epoch_seconds": self.epoch_seconds,
            "pruned": self.pruned,
        }

    def restore(self, state: dict[str, Any], cuda_devices: list[int]) -> None:
        """Load a checkpoint dict (see ``to_checkpoint``) into this run and torch's RNGs."""

        self.net.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng_cpu"])
        if cuda_devices and state["rng_cuda"] is not None:
            torch.cuda.set_rng_state(state["rng_cuda"], cuda_devices[0])
        self.gen.set_state(state["generator"])
        self.val_acc = [float(v) for v in state["val_acc"]]
        self.train_loss = [float(v) for v in state["train_loss"]]
        self.epoch_seconds = [float(v) for v in state["epoch_seconds"]]
        self.pruned = bool(state["pruned"])
        self.start = int(state["epoch"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path + ".tmp"``, fsync, and move it over ``path`` (atomic)."""

    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint at ``path``; refused when unreadable, of another format, or written
    with settings other than ``config``."""

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
