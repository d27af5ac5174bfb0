"""Argument checks that raise one consistent message form.

The form follows scikit-learn:
"The 'budget' parameter of search must be an int >= 1. Got 0 instead."
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from predictor_nas.exceptions import InvalidParameterError


def param_error(name: str, owner: str, allowed: str, got: object) -> InvalidParameterError:
    """Build the standard error for a parameter value that is not allowed."""
    return InvalidParameterError(
        f"The {name!r} parameter of {owner} must be {allowed}. Got {got!r} instead."
    )


def check_int(
    value: object,
    name: str,
    owner: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in ``[minimum, maximum]``."""
    if maximum is not None:
        bounds = f"in [{minimum}, {maximum}]" if minimum is not None else f"<= {maximum}"
        allowed = f"an int {bounds}"
    else:
        allowed = "an int" if minimum is None else f"an int >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise param_error(name, owner, allowed, value)
    if minimum is not None and value < minimum:
        raise param_error(name, owner, allowed, value)
    if maximum is not None and value > maximum:
        raise param_error(name, owner, allowed, value)
    return int(value)


def check_float(
    value: object, name: str, owner: str, *, minimum: float | None = None, exclusive: bool = False
) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number above ``minimum``."""
    op = ">" if exclusive else ">="
    allowed = "a finite float" if minimum is None else f"a finite float {op} {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise param_error(name, owner, allowed, value)
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        raise param_error(name, owner, allowed, value)
    if minimum is not None and (v < minimum or (exclusive and v == minimum)):
        raise param_error(name, owner, allowed, value)
    return v


def check_choice(value: object, name: str, owner: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing them."""
    options = list(choices)
    if value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise param_error(name, owner, f"one of {listed}", value)
    return str(value)


def scores_of(scorer: Callable[[list[Any]], Any], archs: Sequence[Any], what: str) -> np.ndarray:
    """``scorer(archs)`` as a float64 array of shape (n,); ValueError naming ``what`` otherwise."""
    s = np.asarray(scorer(list(archs)), dtype=np.float64).reshape(-1)
    if s.shape != (len(archs),):
        raise ValueError(
            f"The {what} scorer must return one score per architecture: got shape {s.shape} "
            f"for {len(archs)} architectures."
        )
    return s
