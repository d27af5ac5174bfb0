"""Look up search spaces by name or YAML file, and register new ones.

Built in: ``nb201``, ``nb301``, ``nas_bench_graph`` and the declarations shipped in
``data/spaces/*.yaml`` (found by their file name). ``register_space`` adds a user's space (a
``SearchSpace`` instance, or a zero-argument factory called on first use); ``get_space`` also
accepts a path to a YAML file (see ``_yaml``), which is registered under the name it declares.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces._base import SearchSpace
from predictor_nas.spaces._nas_bench_graph import NASBenchGraphSpace
from predictor_nas.spaces._nb201 import NB201Space
from predictor_nas.spaces._nb301 import NB301Space
from predictor_nas.spaces._yaml import is_space_file, load_space, shipped_spaces_dir

#: The space of commands and functions given none (a table's own space where there is one).
DEFAULT_SPACE = "nb201"


def _nb201() -> SearchSpace:
    return NB201Space()


def _nb301() -> SearchSpace:
    return NB301Space()


def _nas_bench_graph() -> SearchSpace:
    return NASBenchGraphSpace()


_BUILT_IN: dict[str, Callable[[], SearchSpace]] = {
    "nb201": _nb201,
    "nb301": _nb301,
    "nas_bench_graph": _nas_bench_graph,
}
_FACTORIES: dict[str, Callable[[], SearchSpace]] = dict(_BUILT_IN)
_SPACES: dict[str, SearchSpace] = {}


@cache
def _shipped() -> dict[str, Path]:
    folder = shipped_spaces_dir()
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def available_spaces() -> list[str]:
    """Names accepted by ``get_space`` (built in, shipped declarations, registered)."""
    return sorted({*_FACTORIES, *_shipped(), *_SPACES})


def register_space(
    space: SearchSpace | Callable[[], SearchSpace],
    name: str | None = None,
    *,
    replace: bool = False,
) -> str:
    """Make a space available by name (to ``get_space``, samplers, tables and the CLI).

    Args:
        space: A ``SearchSpace``, or a zero-argument factory (called on first use).
        name: Registry name; default ``space.name`` (required for a factory).
        replace: Allow replacing a registered space of the same name.

    Returns:
        The name it was registered under.

    Raises:
        InvalidParameterError: The name is taken (and ``replace`` is False), or ``space`` is
            neither a space nor a callable.
    """
    if isinstance(space, SearchSpace):
        name = name or space.name
        if name != space.name:
            raise InvalidParameterError(
                f"The 'name' parameter of register_space must equal the space's own name "
                f"{space.name!r}. Got {name!r} instead."
            )
    elif not callable(space):
        raise InvalidParameterError(
            f"The 'space' parameter of register_space must be a SearchSpace or a factory. "
            f"Got {type(space).__name__} instead."
        )
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(
            "The 'name' parameter of register_space must be a non-empty str (needed for a "
            f"factory). Got {name!r} instead."
        )
    taken = name in _SPACES or name in _FACTORIES
    if taken and not replace:
        current = _SPACES.get(name)
        if (
            isinstance(space, SearchSpace)
            and current is not None
            and current.spec() == space.spec()
        ):
            return name  # the same declaration again: nothing to do
        raise InvalidParameterError(
            f"A space named {name!r} is already registered; pass replace=True to replace it."
        )
    if isinstance(space, SearchSpace):
        _SPACES[name] = space
    else:
        _SPACES.pop(name, None)
        _FACTORIES[name] = space
    return name


def unregister_space(name: str) -> None:
    """Forget a space added by ``register_space`` or loaded from a file (built-in and shipped
    spaces come back on the next ``get_space``)."""
    _SPACES.pop(name, None)
    if name not in _BUILT_IN:
        _FACTORIES.pop(name, None)


def get_space(name: str | os.PathLike | SearchSpace) -> SearchSpace:
    """The (shared, stateless) space called ``name``, or declared in the YAML file ``name``."""
    if isinstance(name, SearchSpace):
        return name
    if is_space_file(name):
        space = load_space(name)
        register_space(space, replace=_SPACES.get(space.name) is not None and _same_source(space))
        return _SPACES[space.name]
    if not isinstance(name, str) or name not in available_spaces():
        raise InvalidParameterError(
            f"The 'space' parameter of get_space must be one of "
            f"{', '.join(map(repr, available_spaces()))} or a path to a .yaml declaration. "
            f"Got {name!r} instead."
        )
    if name not in _SPACES:
        if name in _FACTORIES:
            _SPACES[name] = _FACTORIES[name]()
        else:
            _SPACES[name] = load_space(_shipped()[name])
    return _SPACES[name]


def _same_source(space: SearchSpace) -> bool:
    """A file edited since it was first loaded replaces the old declaration of its name."""
    old = _SPACES[space.name]
    return getattr(old, "source", None) == getattr(space, "source", None)
