"""The per-batch pieces of a training run: augmentation, accuracy passes, Optuna reports."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from predictor_nas._lazy import F, torch
from predictor_nas.training._runtime import autocast

if TYPE_CHECKING:
    import torch

#: Zero padding (pixels) of the random-crop augmentation.
CROP_PADDING = 4


def augment_batch(
    x: torch.Tensor, kind: str, gen: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Random crop of the zero-padded raw batch (+ horizontal flip); draws from ``gen`` (CPU)."""

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

    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=y.device)
    with torch.inference_mode():
        for start in range(0, len(y), batch_size):
            xb = ((x[start : start + batch_size].float() - mean) / std).contiguous(
                memory_format=fmt
            )
            with autocast(y.device, amp):
                out = model(xb)
            correct += (out.argmax(1) == y[start : start + batch_size]).sum()
    return 100.0 * int(correct) / len(y)


def report_epoch(trial: Any, value: float, step: int) -> None:
    """``trial.report(value, step)``; re-reporting a step after a resume is ignored by Optuna."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is already reported.*")
        trial.report(value, step)
