"""The one renderer of the command line: aligned label/value blocks, column tables and JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

#: Exit status of a usage error (argparse's) and of every library error the CLI reports.
EXIT_USAGE = 2
#: Exit status after Ctrl-C / SIGTERM (completed work is kept; rerun to resume).
EXIT_INTERRUPTED = 130


def _out(text: str = "") -> None:
    """Print one line on stdout."""
    sys.stdout.write(text + "\n")


def _out_json(data: Any, *, allow_nan: bool = True) -> None:
    """Print ``data`` as one JSON object (keys sorted) on stdout."""
    _out(json.dumps(data, sort_keys=True, allow_nan=allow_nan))


def _out_rows(rows: Sequence[tuple[str, str]]) -> None:
    """Print ``(label, value)`` rows with the values aligned in one column."""
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        _out(f"{k:<{width}}  {v}")


def _out_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table: the header, then the rows; first column left-aligned, the rest right."""
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        cells = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        _out("  ".join(cells))


def _err(text: str) -> None:
    """Print one line on stderr."""
    sys.stderr.write(text + "\n")


def _fmt_seconds(s: float) -> str:
    """``s`` seconds as ``"12 s"``, ``"1.5 h"`` or ``"2.0 days"``."""
    if s >= 86400:
        return f"{s / 86400:.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s:.0f} s"


def _stop_rows(result: Any) -> list[tuple[str, str]]:
    """A ``stopped`` row when a search stopped for another reason than its query budget."""
    reason = getattr(result, "stop_reason", None)
    return [] if not reason or reason.startswith("budget of ") else [("stopped", reason)]
