"""Look up search spaces by name."""

from __future__ import annotations

from functools import cache

from predictor_nas._validation import check_choice
from predictor_nas.spaces._base import SearchSpace


def available_spaces() -> list[str]:
    """Names accepted by ``get_space``."""
    return ["nb201", "nb301"]


@cache
def get_space(name: str) -> SearchSpace:
    """Return the (shared, stateless) search space called ``name``."""
    check_choice(name, "space", "get_space", available_spaces())
    if name == "nb301":
        from predictor_nas.spaces._nb301 import NB301Space

        return NB301Space()
    from predictor_nas.spaces._nb201 import NB201Space

    return NB201Space()
