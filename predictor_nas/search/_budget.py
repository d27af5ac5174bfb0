"""A search's budget (queries, simulated seconds, clock seconds, epochs) and its progress bar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from predictor_nas._progress import progress_bar
from predictor_nas._validation import check_float, check_int, param_error

#: Parameter name of each budget field, unless a search names it otherwise.
_NAMES = {
    "queries": "budget",
    "simulated_seconds": "time_budget",
    "wall_seconds": "max_seconds",
    "epochs": "max_epochs",
}


def _num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Budget:
    """What a search may spend; each limit is optional, the search stops at the first reached.

    Attributes:
        queries: Evaluations (trials) allowed.
        simulated_seconds: Summed simulated training cost (table or surrogate seconds).
        wall_seconds: Seconds on ``clock``.
        epochs: Training epochs summed over all evaluations.
        unit: What one query is called in the stop reason (``"queries"``, ``"trained archs"``).
        clock: ``"wall"`` or ``"process"``: the clock of ``wall_seconds``, for the stop reason.
    """

    queries: int | None = None
    simulated_seconds: float | None = None
    wall_seconds: float | None = None
    epochs: int | None = None
    unit: str = "queries"
    clock: str = "wall"

    @classmethod
    def checked(
        cls,
        owner: str,
        *,
        queries: object = None,
        simulated_seconds: object = None,
        wall_seconds: object = None,
        epochs: object = None,
        names: Mapping[str, str] | None = None,
        required: tuple[str, str] | None = None,
        unit: str = "queries",
        clock: str = "wall",
    ) -> Budget:
        """A budget from user values, each checked with the standard message.

        Args:
            owner: Function named in messages, e.g. ``"search"``.
            queries, simulated_seconds, wall_seconds, epochs: The limits (``None``: none);
                counts must be ints >= 1, seconds finite floats > 0.
            names: Parameter name of each field in messages (defaults: ``budget``,
                ``time_budget``, ``max_seconds``, ``max_epochs``).
            required: ``(parameter, allowed)`` raised when every limit is None; ``None``: a
                budget without limits is allowed.
            unit, clock: See the class attributes.

        Raises:
            InvalidParameterError: A limit of the wrong type or range, or none given where
                ``required``.
        """
        name = {**_NAMES, **(names or {})}
        values = {
            "queries": queries,
            "simulated_seconds": simulated_seconds,
            "wall_seconds": wall_seconds,
            "epochs": epochs,
        }
        if required is not None and all(v is None for v in values.values()):
            raise param_error(required[0], owner, required[1], None)
        out: dict[str, Any] = {}
        for field, value in values.items():
            if value is None:
                out[field] = None
            elif field in ("queries", "epochs"):
                out[field] = check_int(value, name[field], owner, minimum=1)
            else:
                out[field] = check_float(value, name[field], owner, minimum=0.0, exclusive=True)
        return cls(**out, unit=unit, clock=clock)

    def stop_reason(
        self,
        *,
        queries: int = 0,
        simulated_seconds: float = 0.0,
        wall_seconds: float = 0.0,
        epochs: int = 0,
    ) -> str | None:
        """Why a search that spent this much must stop, or None while it may go on.

        Limits are checked in field order (queries first); e.g. ``"time budget of 60 s reached
        after 41 queries (61.5 s spent)"``.
        """
        after = f"after {queries} {self.unit}"
        if self.queries is not None and queries >= self.queries:
            return f"budget of {self.queries} {self.unit} reached"
        if self.simulated_seconds is not None and simulated_seconds >= self.simulated_seconds:
            return (
                f"time budget of {_num(self.simulated_seconds)} s reached {after} "
                f"({simulated_seconds:.1f} s spent)"
            )
        if self.wall_seconds is not None and wall_seconds >= self.wall_seconds:
            what = "wall-clock" if self.clock == "wall" else f"{self.clock}-time"
            return (
                f"{what} budget of {_num(self.wall_seconds)} s reached {after} "
                f"({wall_seconds:.1f} s spent)"
            )
        if self.epochs is not None and epochs >= self.epochs:
            return f"epoch budget of {self.epochs} reached {after} ({epochs} epochs)"
        return None

    def spent(self, **used: Any) -> bool:
        """Whether ``stop_reason(**used)`` is not None."""
        return self.stop_reason(**used) is not None


class Progress:
    """The search loops' progress display: ``predictor_nas._progress.progress_bar`` when asked
    for (a bar on a terminal, plain status lines in a log); a no-op otherwise.

    Args:
        enabled: Show a bar at all (the searches' ``progress`` argument).
        total: Bar length (None: a counter).
        initial: Position at the start (e.g. the queries of a resumed study).
        desc, unit: Label and unit shown.
        leave: Keep the bar on screen when closed.
    """

    def __init__(
        self,
        enabled: bool,
        *,
        total: float | None,
        initial: float = 0,
        desc: str = "",
        unit: str = "it",
        leave: bool = False,
    ) -> None:
        self._bar = None
        if enabled:
            self._bar = progress_bar(total, initial=initial, desc=desc, unit=unit, leave=leave)

    def advance(self, n: float = 1, **postfix: str) -> None:
        """Move the bar ``n`` on and show ``postfix`` (e.g. ``best="94.31"``)."""
        if self._bar is None:
            return
        self._bar.update(n)
        if postfix:
            self._bar.set_postfix(**postfix)

    def set(self, n: float) -> None:
        """Put the bar at ``n`` (a count read from the storage)."""
        if self._bar is None:
            return
        self._bar.n = n
        self._bar.refresh()

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
