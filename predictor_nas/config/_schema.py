"""A small schema for flat YAML run configurations (``predictor-nas search --config run.yaml``).

A configuration file is one YAML mapping of option names to values, e.g.::

    dataset: cifar100
    strategy: guided
    budget: 200
    seed: 3

Every key must be a known option (a typo is an error that names the closest allowed key, never
silently ignored), every value must have the option's type (``budget: "100"`` and
``draw_seed: 1`` are refused: YAML already gives typed values, so a wrong type is a mistake), and
the file is read with ``yaml.safe_load`` (no Python objects are ever constructed).
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from predictor_nas.exceptions import InvalidParameterError

_KINDS = ("int", "float", "bool", "str", "csv")
#: Refuse configuration files above this size: they are a handful of options.
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class ConfigField:
    """The type and allowed values of one configuration key.

    Attributes:
        kind: ``"int"``, ``"float"``, ``"bool"``, ``"str"`` or ``"csv"`` (a comma-separated
            option such as ``seeds`` or ``strategies``: a string, a number, or a YAML list of
            strings and numbers, returned joined with commas, e.g. ``[0.1, 0.05]`` ->
            ``"0.1,0.05"``).
        minimum: Smallest allowed value of an int/float field.
        choices: Allowed values of a str field (``None``: any string).
        nullable: Whether ``null`` (YAML ``~``) is allowed, meaning "the default".
        help: One line shown in error messages about this field.
    """

    kind: str
    minimum: float | None = None
    choices: tuple[str, ...] | None = None
    nullable: bool = False
    help: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InvalidParameterError(
                f"The 'kind' parameter of ConfigField must be one of {', '.join(_KINDS)}. "
                f"Got {self.kind!r} instead."
            )

    def describe(self) -> str:
        """What the field accepts, in words (used in error messages)."""
        text = {
            "int": "an int",
            "float": "a number",
            "bool": "true or false",
            "str": "a string",
            "csv": "a string, a number or a list of them",
        }[self.kind]
        if self.minimum is not None:
            text += f" >= {self.minimum:g}"
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        if self.nullable:
            text += " (or null for the default)"
        return text


def _list_item(value: Any) -> str | None:
    """One item of a ``csv`` field as text, or None if it is not a string or finite number."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return repr(float(value)) if math.isfinite(value) else None


def _check_value(key: str, value: Any, field: ConfigField, source: str) -> Any:
    def bad() -> InvalidParameterError:
        return InvalidParameterError(
            f"{source}: the value of {key!r} must be {field.describe()}. Got {value!r} instead."
        )

    if value is None:
        if field.nullable:
            return None
        raise bad()
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise bad()
        if field.minimum is not None and value < field.minimum:
            raise bad()
        return int(value)
    if field.kind == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise bad()
        v = float(value)
        if not math.isfinite(v) or (field.minimum is not None and v < field.minimum):
            raise bad()
        return v
    if field.kind == "csv":
        items = value if isinstance(value, list) else [value]
        texts = [_list_item(v) for v in items]
        if not texts or None in texts:
            raise bad()
        return ",".join(t for t in texts if t is not None)
    if not isinstance(value, str) or not value.strip():
        raise bad()
    if field.choices is not None and value not in field.choices:
        raise bad()
    return value


def validate_config(
    data: Any, fields: Mapping[str, ConfigField], *, source: str = "configuration"
) -> dict[str, Any]:
    """Check a parsed configuration against ``fields``.

    Args:
        data: The parsed YAML document (must be a mapping of str keys).
        fields: The schema: allowed keys and their types.
        source: Where ``data`` came from, for error messages (e.g. the file name).

    Returns:
        A new dict holding only the given keys, values checked (ints as int, floats as float).

    Raises:
        InvalidParameterError: Not a mapping, an unknown key (with the closest allowed key and
            the list of all allowed keys) or a value of the wrong type or range.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidParameterError(
            f"{source}: a configuration must be a mapping of option names to values "
            f"(like 'budget: 100'). Got a {type(data).__name__} instead."
        )
    allowed = sorted(fields)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise InvalidParameterError(
                f"{source}: option names must be strings. Got {key!r} instead."
            )
        norm = key.replace("-", "_")
        if norm not in fields:
            close = difflib.get_close_matches(norm, allowed, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterError(
                f"{source}: unknown option {key!r}.{hint} Allowed: {', '.join(allowed)}."
            )
        if norm in out:
            raise InvalidParameterError(f"{source}: option {norm!r} is given twice.")
        out[norm] = _check_value(norm, value, fields[norm], source)
    return out


def load_config(path: str | os.PathLike[str], fields: Mapping[str, ConfigField]) -> dict[str, Any]:
    """Read and validate a YAML configuration file.

    Args:
        path: The file.
        fields: The schema (see ``validate_config``).

    Returns:
        The validated options (only those in the file).

    Raises:
        InvalidParameterError: Missing or unreadable file, not UTF-8, not YAML, more than one
            YAML document, or any schema violation; the message names the file (and the line for
            YAML syntax errors).
    """
    src = os.fspath(path)
    try:
        size = os.path.getsize(src)
        if size > MAX_CONFIG_BYTES:
            raise InvalidParameterError(
                f"{src}: a configuration file must be at most {MAX_CONFIG_BYTES} bytes. "
                f"Got {size} bytes."
            )
        with open(src, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InvalidParameterError(f"configuration file {src!r} does not exist.") from None
    except IsADirectoryError:
        raise InvalidParameterError(f"configuration file {src!r} is a folder.") from None
    except UnicodeDecodeError as exc:
        raise InvalidParameterError(f"{src}: not UTF-8 text ({exc.reason}).") from None
    except OSError as exc:
        raise InvalidParameterError(f"{src}: cannot read it ({exc.strerror}).") from None
    try:
        docs: Sequence[Any] = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidParameterError(f"{src}: not valid YAML{where}: {problem}.") from None
    except (RecursionError, ValueError) as exc:
        raise InvalidParameterError(f"{src}: not valid YAML: {exc}.") from None
    if len(docs) > 1:
        raise InvalidParameterError(
            f"{src}: holds {len(docs)} YAML documents; a configuration is one mapping."
        )
    return validate_config(docs[0] if docs else None, fields, source=src)
