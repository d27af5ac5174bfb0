"""The supernet trainer's optimisation state: optimisers, schedule, gradient scalers, batches.

Recipes are documented in ``predictor_nas.oneshot._train``; this module holds what a supernet
checkpoint saves besides the model, the RNG states and the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from predictor_nas.oneshot._supernet import Supernet

#: Architecture optimiser (Adam) of the bilevel modes: learning rate, betas, weight decay.
ARCH_LR, ARCH_BETAS, ARCH_WD = 3e-4, (0.5, 0.999), 1e-3


class _Batches:
    """Endless seeded batches over index set ``idx`` (reshuffled each pass)."""

    def __init__(self, idx: torch.Tensor, batch_size: int, gen: torch.Generator) -> None:
        self.idx, self.batch_size, self.gen = idx, batch_size, gen
        self.order = idx[torch.randperm(len(idx), generator=gen)]
        self.pos = 0

    def next(self) -> torch.Tensor:
        if self.pos + min(self.batch_size, len(self.idx)) > len(self.order):
            self.order = self.idx[torch.randperm(len(self.idx), generator=self.gen)]
            self.pos = 0
        out = self.order[self.pos : self.pos + self.batch_size]
        self.pos += len(out)
        return out

    def state(self) -> dict[str, Any]:
        return {"order": self.order, "pos": self.pos}

    def load(self, state: dict[str, Any]) -> None:
        self.order, self.pos = state["order"], int(state["pos"])


@dataclass
class _Optim:
    """The supernet's optimisers, learning-rate schedule, gradient scalers and batch streams:
    what a checkpoint saves besides the model, the RNG states and the history.

    ``a_opt`` and ``a_batches`` are None for ``spos`` (no architecture step); bilevel modes
    split the training set in halves, one for the weights and one for the architecture.
    """

    w_opt: torch.optim.Optimizer
    sched: Any
    a_opt: torch.optim.Optimizer | None
    w_scaler: Any
    a_scaler: Any
    w_batches: _Batches
    a_batches: _Batches | None

    @classmethod
    def build(
        cls,
        net: Supernet,
        config: dict[str, Any],
        dev: torch.device,
        amp_dtype: Any,
        gen: torch.Generator,
        n: int,
    ) -> _Optim:
        """Fresh state for ``config`` (draws the split and the first batch orders from ``gen``)."""
        lr, wd, batch_size = config["lr"], config["weight_decay"], config["batch_size"]
        w_opt = torch.optim.SGD(net.weight_parameters(), lr=lr, momentum=0.9, weight_decay=wd)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            w_opt, T_max=config["epochs"], eta_min=lr / 25
        )
        bilevel = config["mode"] != "spos"
        a_opt = (
            torch.optim.Adam(
                net.arch_parameters(), lr=ARCH_LR, betas=ARCH_BETAS, weight_decay=ARCH_WD
            )
            if bilevel
            else None
        )
        fp16 = amp_dtype == torch.float16
        perm = torch.randperm(n, generator=gen)
        w_idx, a_idx = (perm[: n // 2], perm[n // 2 :]) if bilevel else (perm, perm[:0])
        w_batches = _Batches(w_idx, batch_size, gen)
        return cls(
            w_opt=w_opt,
            sched=sched,
            a_opt=a_opt,
            w_scaler=torch.amp.GradScaler(dev.type, enabled=fp16),
            a_scaler=torch.amp.GradScaler(dev.type, enabled=fp16),
            w_batches=w_batches,
            a_batches=_Batches(a_idx, batch_size, gen) if bilevel else None,
        )

    def state(self) -> dict[str, Any]:
        """The checkpoint entries ``w_opt``, ``a_opt``, ``scheduler``, scalers and batches."""
        return {
            "w_opt": self.w_opt.state_dict(),
            "a_opt": None if self.a_opt is None else self.a_opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "w_scaler": self.w_scaler.state_dict(),
            "a_scaler": self.a_scaler.state_dict(),
            "w_batches": self.w_batches.state(),
            "a_batches": None if self.a_batches is None else self.a_batches.state(),
        }

    def load(self, state: dict[str, Any]) -> None:
        """Restore from a checkpoint's entries (inverse of ``state``)."""
        self.w_opt.load_state_dict(state["w_opt"])
        self.sched.load_state_dict(state["scheduler"])
        self.w_scaler.load_state_dict(state["w_scaler"])
        if self.a_opt is not None:
            self.a_opt.load_state_dict(state["a_opt"])
            self.a_scaler.load_state_dict(state["a_scaler"])
            self.a_batches.load(state["a_batches"])  # type: ignore[union-attr]
        self.w_batches.load(state["w_batches"])
