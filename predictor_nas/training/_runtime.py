"""Where and how a training run executes: device, mixed precision, threads, deterministic kernels.

torch is imported inside each function, so importing this module stays light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from predictor_nas._lazy import torch
from predictor_nas._validation import check_choice, param_error
from predictor_nas.exceptions import InvalidParameterError

if TYPE_CHECKING:
    import torch

_OWNER = "train"


def resolve_device(device: str | None) -> torch.device:
    """``None``/``"auto"`` -> CUDA if available else CPU; otherwise ``torch.device(device)``."""

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
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Run with ``num_threads`` torch CPU threads (``None``: as is); restore the count after."""

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
def deterministic_kernels(on: bool) -> Iterator[None]:
    """With ``on``: cuDNN deterministic, no autotuning, deterministic algorithms (warn only);
    the previous settings are restored after."""

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


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """``torch.autocast`` to ``dtype`` on ``device``; a null context when ``dtype`` is ``None``."""

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)
