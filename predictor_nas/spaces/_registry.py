"""Look up search spaces by name."""

from __future__ import annotations

from functools import cache

from predictor_nas._validation import check_choice
from predictor_nas.spaces._base import SearchSpace


def available_spaces() -> list[str]:
    """Names accepted by ``get_space``."""
    return ["nb201"]


@cache
def get_space(name: str) -> SearchSpace:
    """Return the (shared, stateless) search space called ``name``."""
    check_choice(name, "space", "get_space", available_spaces())
    from predictor_nas.spaces._nb201 import NB201Space

    return NB201Space()
