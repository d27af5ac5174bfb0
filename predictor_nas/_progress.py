"""One progress display for every long step: a bar on a terminal, plain lines in a log.

Every loop that reports progress builds its display with ``progress_bar``; one-off steps that
take long before the first update (building and training a first architecture, importing a
table's files) announce themselves with ``status``. The display depends on where stderr goes:

* a terminal: a ``tqdm`` bar (redrawn in place, removed at the end unless ``leave``);
* anything else (a redirected log file, a pipe, a CI job): no bar and no carriage returns, but
  a plain status line when the step starts, at most every ``STATUS_INTERVAL`` seconds while it
  runs, and when it ends, e.g. ``compare: 3/40 search (7%), 2 running, 1m12s``.

``PREDICTOR_NAS_PROGRESS`` overrides the choice: ``bar``, ``lines`` or ``off``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tqdm.auto import tqdm

#: Seconds between two status lines of one step when stderr is not a terminal.
STATUS_INTERVAL = 30.0
#: Environment variable that forces the display: ``bar``, ``lines`` or ``off``.
ENV_VAR = "PREDICTOR_NAS_PROGRESS"
_MODES = ("bar", "lines", "off")


def display_mode() -> str:
    """``bar`` on a terminal, else ``lines`` (``PREDICTOR_NAS_PROGRESS`` overrides)."""
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced in _MODES:
        return forced
    stream = sys.stderr
    try:
        return "bar" if stream is not None and stream.isatty() else "lines"
    except (AttributeError, ValueError):  # a closed or exotic stream
        return "lines"


def format_seconds(seconds: float) -> str:
    """``75.2`` -> ``1m15s``; ``3700`` -> ``1h01m``."""
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def status(message: str) -> None:
    """Write one status line to stderr (unless the display is ``off``)."""
    if display_mode() == "off":
        return
    _write(f"predictor-nas: {message}")


def step_reporter(progress: bool, logger: logging.Logger) -> Callable[[str], None]:
    """How a multi-step job announces its steps: ``status`` lines when ``progress`` is on (the
    CLI), else ``logger.info`` (library calls stay quiet unless logging says otherwise)."""
    if progress:
        return status
    return lambda message: logger.info("%s", message)


def _write(line: str) -> None:
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):  # a closed or broken stderr must not stop the work
        pass


class StatusLines:
    """The tqdm calls the loops use (``update``, ``n``, ``set_postfix``, ``close``), as lines.

    Args:
        total: Units of the whole step (``None`` = unknown).
        desc: What runs, first word of every line.
        unit: Name of one unit.
        initial: Units already done (a resumed run).
        interval: Seconds between lines while the step runs.
        iterable: Wrap this iterable (iterate over the object).
        postfix: Extra text of the lines (``set_postfix_str``), the start line included.
    """

    def __init__(
        self,
        total: float | None = None,
        desc: str = "",
        unit: str = "it",
        initial: float = 0,
        interval: float = STATUS_INTERVAL,
        iterable: Iterable[Any] | None = None,
        postfix: str = "",
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = initial
        self.interval = interval
        self.iterable = iterable
        self.postfix = postfix
        self._t0 = time.monotonic()
        self._last = self._t0
        self._closed = False
        self._emit(started=True)

    def line(self, *, started: bool = False, final: bool = False) -> str:
        """The status line for the current state."""
        n = _num(self.n)
        if self.total:
            done = f"{n}/{_num(self.total)} {self.unit} ({100.0 * self.n / self.total:.0f}%)"
        else:
            done = f"{n} {self.unit}"
        parts = [f"{self.desc}: {'starting, ' if started else ''}{done}"]
        if self.postfix:
            parts.append(self.postfix)
        if not started:
            parts.append(
                ("done in " if final else "") + format_seconds(time.monotonic() - self._t0)
            )
        return ", ".join(parts)

    def _emit(self, *, started: bool = False, final: bool = False) -> None:
        self._last = time.monotonic()
        _write(self.line(started=started, final=final))

    def _maybe_emit(self) -> None:
        if time.monotonic() - self._last >= self.interval:
            self._emit()

    def update(self, n: float = 1) -> None:
        """Count ``n`` more units done; a line if ``interval`` seconds passed since the last."""
        self.n += n
        self._maybe_emit()

    def refresh(self) -> None:
        """After setting ``n`` directly: a line if ``interval`` seconds passed."""
        self._maybe_emit()

    def set_postfix(self, ordered_dict: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Extra ``key=value`` fields shown on the next line."""
        items = {**(ordered_dict or {}), **kwargs}
        self.postfix = " ".join(f"{k}={v}" for k, v in items.items())

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Free text shown on the next line."""
        self.postfix = s

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        """Change the first word of the lines."""
        self.desc = desc or ""

    def close(self) -> None:
        """A last line with the elapsed time (once)."""
        if not self._closed:
            self._closed = True
            self._emit(final=True)

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError("StatusLines was built without an iterable")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> StatusLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Off(StatusLines):
    """Counts like ``StatusLines`` and writes nothing."""

    def _emit(self, *, started: bool = False, final: bool = False) -> None:
        self._last = time.monotonic()


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def progress_bar(
    total: float | None = None,
    *,
    desc: str = "",
    unit: str = "it",
    initial: float = 0,
    leave: bool = False,
    iterable: Iterable[Any] | None = None,
    interval: float = STATUS_INTERVAL,
    postfix: str = "",
) -> Any:
    """The progress display of one step (see the module docstring).

    Args:
        total: Units of the whole step (``None`` = unknown, or ``len(iterable)``).
        desc: What runs.
        unit: Name of one unit.
        initial: Units already done.
        leave: Terminal only: keep the finished bar on screen.
        iterable: Wrap this iterable (iterate over the returned object).
        interval: Non-terminal only: seconds between status lines.
        postfix: Extra text shown from the start (e.g. ``"4 running"``).

    Returns:
        A ``tqdm`` bar on a terminal, else a ``StatusLines`` (the same calls: ``update``,
        ``n`` + ``refresh``, ``set_postfix``, ``set_postfix_str``, ``close``, iteration).
    """
    mode = display_mode()
    if mode == "bar":
        return tqdm(
            iterable,
            total=total,
            desc=desc,
            unit=unit,
            initial=initial,
            leave=leave,
            file=sys.stderr,
            postfix=postfix or None,
        )
    cls = StatusLines if mode == "lines" else _Off
    return cls(total, desc, unit, initial, interval, iterable, postfix)


__all__ = [
    "STATUS_INTERVAL",
    "StatusLines",
    "display_mode",
    "progress_bar",
    "status",
    "step_reporter",
]
