"""The parts of a declared space: decisions, constraints, and the checks of a decision list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError

Value = str | int | float | bool


@dataclass(frozen=True)
class Decision:
    """One categorical decision of a declared space.

    Attributes:
        name: Optuna param name (unique in the space).
        choices: The values it may take (str, int, float or bool; no repeats).
        when: Conditions that must all hold for the decision to be active: pairs
            ``(earlier decision, values of it that activate this one)``. Empty: always active.
    """

    name: str
    choices: tuple[Value, ...]
    when: tuple[tuple[str, tuple[Value, ...]], ...] = ()


@dataclass(frozen=True)
class Constraint:
    """A rule every architecture of the space must satisfy.

    Attributes:
        description: What the rule says, quoted in error messages.
        check: Predicate over the decision values (name -> value, ``INACTIVE`` for inactive
            decisions); True = allowed.
    """

    description: str
    check: Callable[[Mapping[str, Any]], bool] = field(compare=False)
    #: Decisions the rule reads, where known (checked against the space when declared).
    keys: tuple[str, ...] = ()


def forbid(description: str, **values: Value | Sequence[Value]) -> Constraint:
    """A constraint that forbids one combination: every named decision takes a listed value.

    Example: ``forbid("no stride-2 pooling", layer_0_type="pool", layer_0_stride=2)``.
    """
    want = {k: tuple(v) if isinstance(v, list | tuple) else (v,) for k, v in values.items()}

    def check(d: Mapping[str, Any]) -> bool:
        return not all(d.get(k) in allowed for k, allowed in want.items())

    return Constraint(description, check, tuple(want))


# --------------------------------------------------------------------------- helpers
def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (so 1, 1.0 and True are three values)."""
    return type(a) is type(b) and a == b


def _member(v: Any, choices: Sequence[Any]) -> bool:
    return any(_same(v, c) for c in choices)


def _index_in(v: Any, choices: Sequence[Any]) -> int:
    for i, c in enumerate(choices):
        if _same(v, c):
            return i
    raise InvalidArchitectureError(f"{v!r} is not one of {_listing(choices)}.")


def _typed(ops: Sequence[Any]) -> tuple[Any, ...]:
    return tuple((type(v).__name__, v) for v in ops)


def _listing(choices: Sequence[Any]) -> str:
    return ", ".join(repr(c) for c in choices)


def _why_inactive(d: Decision, values: Mapping[str, Any]) -> str:
    for parent, allowed in d.when:
        if not _member(values.get(parent), allowed):
            return f"it needs {parent} in [{_listing(allowed)}], which is {values.get(parent)!r}"
    return "its conditions do not hold"


def _check_decisions(decisions: Sequence[Decision]) -> None:
    if not decisions:
        raise InvalidParameterError("A declared space needs at least one decision.")
    seen: dict[str, Decision] = {}
    for d in decisions:
        if not isinstance(d.name, str) or not d.name or "," in d.name or "=" in d.name:
            raise InvalidParameterError(
                f"A decision name must be a non-empty str without ',' or '='. Got {d.name!r}."
            )
        if d.name in seen:
            raise InvalidParameterError(f"Decision {d.name!r} is declared twice.")
        if not d.choices:
            raise InvalidParameterError(f"Decision {d.name!r} has no choices.")
        for c in d.choices:
            if c is None or not isinstance(c, str | int | float | bool):
                raise InvalidParameterError(
                    f"Decision {d.name!r}: choices must be str, int, float or bool. Got {c!r}."
                )
        if len({_typed([c])[0] for c in d.choices}) != len(d.choices):
            raise InvalidParameterError(f"Decision {d.name!r} lists a choice twice.")
        for parent, allowed in d.when:
            if parent not in seen:
                raise InvalidParameterError(
                    f"Decision {d.name!r} is conditional on {parent!r}, which must be declared "
                    f"before it (declared so far: {', '.join(seen) or 'none'})."
                )
            bad = [a for a in allowed if not _member(a, seen[parent].choices)]
            if bad or not allowed:
                raise InvalidParameterError(
                    f"Decision {d.name!r}: its condition on {parent!r} names "
                    f"{_listing(bad) or 'no values'}; {parent} takes "
                    f"{_listing(seen[parent].choices)}."
                )
        seen[d.name] = d


def product_size(decisions: Sequence[Decision]) -> int:
    """Upper bound on the number of architectures: the product of the choice counts."""
    return int(np.prod([len(d.choices) for d in decisions], dtype=object))
