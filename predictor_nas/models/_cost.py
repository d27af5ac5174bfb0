"""Cost metrics of a built (untrained) network: parameters, multiply-adds, CPU latency.

None of these needs training, so a search can check constraints on them before it spends any
budget on an architecture (``predictor_nas.search.run_mo_real_search``).

What is counted:

* ``count_params``: every element of every parameter (trainable or not; buffers such as
  BatchNorm's running statistics are not parameters and are not counted).
* ``count_flops``: multiply-adds (MACs) of one forward pass of **one** input, by forward hooks on
  the layers that run: a convolution (``Conv1d/2d/3d``) costs
  ``output elements x in_channels / groups x kernel elements``, a ``Linear`` layer
  ``output elements x in_features``. Bias additions, BatchNorm, activations, pooling, the
  additions of a cell's edges and every other layer count 0, as in NAS-Bench-201's "FLOPs"
  column. A layer that runs twice counts twice; an operation that never runs (a ``none`` edge)
  counts nothing.
* ``measure_latency``: the median of ``repeats`` timed forward passes (milliseconds per pass of
  a batch of ``batch_size`` random inputs) in eval mode under ``torch.no_grad``, after
  ``warmup`` untimed passes, with torch's CPU threads set to ``threads`` meanwhile (restored
  after, as is the module's train/eval mode). On CUDA each pass is synchronised before the clock
  stops.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from predictor_nas._validation import check_int, param_error


def _check_model(model: Any, where: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise param_error("model", where, "a torch.nn.Module", type(model).__name__)
    return model


def _check_shape(input_shape: Any, where: str) -> tuple[int, ...]:
    ok = isinstance(input_shape, (tuple, list)) and len(input_shape) >= 1
    ok = ok and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in input_shape)
    if not ok:
        raise param_error(
            "input_shape",
            where,
            "the shape of one input without the batch, a tuple of ints >= 1 such as (1, 8, 8)",
            input_shape,
        )
    return tuple(input_shape)


def _device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def count_params(model: nn.Module) -> int:
    """Elements of all the parameters of ``model`` (module docstring)."""
    model = _check_model(model, "count_params")
    return int(sum(p.numel() for p in model.parameters()))


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-adds of conv and linear layers in one forward pass of one input.

    Args:
        model: The network.
        input_shape: One input's shape without the batch, e.g. ``(1, 8, 8)``.

    Returns:
        The MACs of one input (module docstring says what is counted).
    """
    model = _check_model(model, "count_flops")
    shape = _check_shape(input_shape, "count_flops")
    total = [0]

    def conv_hook(m: nn.modules.conv._ConvNd, inputs: Any, out: torch.Tensor) -> None:
        kernel = 1
        for k in m.kernel_size:
            kernel *= int(k)
        total[0] += int(out.numel()) * (m.in_channels // m.groups) * kernel

    def linear_hook(m: nn.Linear, inputs: Any, out: torch.Tensor) -> None:
        total[0] += int(out.numel()) * m.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *shape), device=_device(model)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total[0]


def latency_samples(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    batch_size: int = 1,
    repeats: int = 20,
    warmup: int = 5,
    threads: int | None = 1,
    seed: int = 0,
) -> list[float]:
    """The ``repeats`` timed forward passes of ``measure_latency``, in ms each, in order."""
    where = "measure_latency"
    model = _check_model(model, where)
    shape = _check_shape(input_shape, where)
    batch_size = check_int(batch_size, "batch_size", where, minimum=1)
    repeats = check_int(repeats, "repeats", where, minimum=1)
    warmup = check_int(warmup, "warmup", where, minimum=0)
    if threads is not None:
        threads = check_int(threads, "threads", where, minimum=1)
    device = _device(model)
    gen = torch.Generator().manual_seed(int(seed))
    x = torch.randn((batch_size, *shape), generator=gen).to(device)
    cuda = device.type == "cuda"
    old_threads = torch.get_num_threads()
    was_training = model.training
    times: list[float] = []
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        model.eval()
        with torch.no_grad():
            for _ in range(warmup):
                model(x)
            for _ in range(repeats):
                if cuda:
                    torch.cuda.synchronize(device)
                t0 = time.perf_counter()
                model(x)
                if cuda:
                    torch.cuda.synchronize(device)
                times.append((time.perf_counter() - t0) * 1000.0)
    finally:
        if threads is not None:
            torch.set_num_threads(old_threads)
        model.train(was_training)
    return times


def measure_latency(
    model: nn.Module,
    input_shape: Sequence[int],
    batch_size: int = 1,
    repeats: int = 20,
    warmup: int = 5,
    threads: int | None = 1,
) -> float:
    """Median wall time (ms) of one forward pass of a batch (module docstring).

    Args:
        model: The network (measured on the device its parameters are on).
        input_shape: One input's shape without the batch, e.g. ``(1, 8, 8)``.
        batch_size: Inputs per pass (>= 1).
        repeats: Timed passes (>= 1); their median is returned.
        warmup: Untimed passes before them (>= 0).
        threads: Torch CPU threads during the measurement (restored after); ``None``: as is.

    Returns:
        The median of the timed passes, in milliseconds (> 0).
    """
    return float(
        statistics.median(
            latency_samples(
                model,
                input_shape,
                batch_size=batch_size,
                repeats=repeats,
                warmup=warmup,
                threads=threads,
            )
        )
    )


__all__ = ["count_flops", "count_params", "latency_samples", "measure_latency"]
