"""Declare a search space in a YAML file.

Every file has ``name`` and ``kind`` and, depending on the kind, the keys below (examples ship in
``data/spaces/``). Errors name the file, the key and what is allowed.

``kind: cell_edges`` (NB201-like: a fixed DAG, an op on every edge)::

    name: tiny_cell
    kind: cell_edges
    nodes: 4                       # cell nodes, input and output included (default 4)
    ops: [none, skip_connect, conv_3x3]
    edges: [[0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3]]   # optional: default all i < j
    zero_ops: [none]               # optional (default [none]): ops that output zeros
    identity_ops: [skip_connect]   # optional (default [skip_connect])

``kind: cell_nodes`` (NB101-like: ops on nodes, edges as decisions)::

    name: nb101
    kind: cell_nodes
    max_nodes: 7
    max_edges: 9
    ops: [conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3]

``kind: chain`` (layer-wise; a setting exists only for the types that list it)::

    name: layer_chain
    kind: chain
    min_layers: 1
    max_layers: 4
    skip_connections: true         # optional: layer_<l>_skip decisions
    layers:
      conv: {filters: [32, 64], kernel_size: [3, 5], stride: [1, 2], padding: [same, valid]}
      pool: {kernel_size: [2, 3], stride: [1, 2]}
      identity: {}
    layer_constraints:             # optional: forbidden combinations inside any layer
      - {type: pool, stride: 1}

``kind: macro`` (stages of blocks)::

    name: macro
    kind: macro
    blocks: [identity, ir_3x3_t3, ir_5x5_t6]
    stages:
      - {depth: [1, 2, 3], width: [0.5, 1.0], channels: 32, stride: 2}
      - {depth: 4}

Every kind also takes ``description`` (one line), ``forbid`` (a list of
``{decision: value or [values]}`` combinations that are not allowed) and ``predicates`` (a list
of ``"module:function"`` names of Python functions ``values -> bool``, imported from the user's
own code, True = allowed).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces._base import SearchSpace
from predictor_nas.spaces._cells import CellEdgesSpace, CellNodesSpace
from predictor_nas.spaces._chains import ChainSpace, MacroSpace
from predictor_nas.spaces._declared import Constraint, DeclaredSpace, forbid

#: Keys of each kind (besides the common ones) and whether they are required.
KINDS: dict[str, dict[str, bool]] = {
    "cell_edges": {
        "ops": True,
        "nodes": False,
        "edges": False,
        "zero_ops": False,
        "identity_ops": False,
    },
    "cell_nodes": {"ops": True, "max_nodes": False, "max_edges": False},
    "chain": {
        "layers": True,
        "min_layers": False,
        "max_layers": False,
        "skip_connections": False,
        "layer_constraints": False,
    },
    "macro": {"blocks": True, "stages": True},
}
COMMON = ("name", "kind", "description", "forbid", "predicates")
#: YAML key -> constructor argument, where they differ.
_ARGS = {"nodes": "n_nodes", "layers": "layer_types"}
_CLASSES: dict[str, type[DeclaredSpace]] = {
    "cell_edges": CellEdgesSpace,
    "cell_nodes": CellNodesSpace,
    "chain": ChainSpace,
    "macro": MacroSpace,
}


def shipped_spaces_dir() -> Path:
    """Folder of the space declarations shipped with the package (``data/spaces``)."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_data" / "spaces"
    return packaged if packaged.is_dir() else here.parent / "data" / "spaces"


def load_space(path: str | os.PathLike) -> DeclaredSpace:
    """Read a space declaration (YAML) and build it.

    Raises:
        InvalidParameterError: The file is missing or unreadable, not YAML, or a key is
            missing, unknown or has a value that is not allowed (the message names the file
            and the key).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidParameterError(
            f"Cannot read the space file {str(p)!r}: {e.strerror}."
        ) from None
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidParameterError(f"{str(p)!r} is not valid YAML{where}: {e}.") from None
    return space_from_spec(spec, source=str(p))


def space_from_spec(spec: Any, *, source: str = "<spec>") -> DeclaredSpace:
    """Build a declared space from its mapping (the parsed YAML); see the module docstring."""
    if not isinstance(spec, Mapping):
        raise InvalidParameterError(
            f"{source!r}: a space file is a mapping with 'name' and 'kind'. Got "
            f"{type(spec).__name__}."
        )
    for key in ("name", "kind"):
        if key not in spec:
            raise InvalidParameterError(f"{source!r}: the key {key!r} is missing.")
    kind = spec["kind"]
    if kind not in KINDS:
        raise InvalidParameterError(
            f"{source!r}: 'kind' must be one of {', '.join(KINDS)}. Got {kind!r} instead."
        )
    name = spec["name"]
    if not isinstance(name, str) or not name.strip() or "/" in name or name.endswith(".yaml"):
        raise InvalidParameterError(
            f"{source!r}: 'name' must be a short name (no '/', not ending in .yaml). "
            f"Got {name!r} instead."
        )
    allowed = KINDS[kind]
    unknown = sorted(set(spec) - set(allowed) - set(COMMON))
    if unknown:
        raise InvalidParameterError(
            f"{source!r}: unknown key(s) {', '.join(map(repr, unknown))} for kind {kind!r}; "
            f"allowed: {', '.join([*COMMON, *allowed])}."
        )
    missing = [k for k, req in allowed.items() if req and k not in spec]
    if missing:
        raise InvalidParameterError(
            f"{source!r}: kind {kind!r} needs the key(s) {', '.join(map(repr, missing))}."
        )
    _check_op_names(spec, source)
    _check_choice_types(spec, source)
    kwargs = {_ARGS.get(k, k): spec[k] for k in allowed if k in spec}
    constraints = _constraints(spec, source)
    if constraints and kind == "cell_edges":
        raise InvalidParameterError(
            f"{source!r}: 'forbid' and 'predicates' are not supported for kind 'cell_edges' "
            "(its decisions are independent by design); use kind 'chain' or 'macro'."
        )
    if constraints and kind != "cell_nodes":
        kwargs["constraints"] = constraints
    try:
        space = _CLASSES[kind](name, description=str(spec.get("description", "")), **kwargs)
    except InvalidParameterError as e:
        raise InvalidParameterError(f"{source!r}: {e}") from None
    except (TypeError, ValueError) as e:
        raise InvalidParameterError(f"{source!r}: a value has the wrong type: {e}.") from None
    names = set(space.param_names)
    for c in constraints:
        for k in c.keys:
            if k not in names:
                raise InvalidParameterError(
                    f"{source!r}: 'forbid' names {k!r}, which is not a decision of the space "
                    f"({', '.join(space.param_names)})."
                )
    if constraints and kind == "cell_nodes":
        space.constraints = (*space.constraints, *constraints)
    space.source = source
    return space


def _check_op_names(spec: Mapping[str, Any], source: str) -> None:
    """``ops`` must be a non-empty list of strings (YAML reads ``7`` or ``yes`` as a number or a
    bool, which would silently become the op '7' / 'True'; the space class checks that they are
    distinct); ``zero_ops`` and ``identity_ops``, when given, must name ops of that list (a typo
    would otherwise be dropped without a word)."""
    if "ops" not in spec:
        return
    ops = spec["ops"]
    if not isinstance(ops, list) or not ops or not all(isinstance(o, str) for o in ops):
        raise InvalidParameterError(
            f"{source!r}: 'ops' must be a non-empty list of op names (strings; quote names YAML "
            f"would read as numbers or booleans). Got {ops!r} instead."
        )
    for key in ("zero_ops", "identity_ops"):
        if key not in spec:
            continue
        given = spec[key]
        if not isinstance(given, list) or not all(isinstance(o, str) for o in given):
            raise InvalidParameterError(
                f"{source!r}: {key!r} must be a list of op names. Got {given!r} instead."
            )
        stray = [o for o in given if o not in ops]
        if stray:
            raise InvalidParameterError(
                f"{source!r}: {key!r} names {', '.join(map(repr, stray))}, not in 'ops' "
                f"({', '.join(ops)})."
            )


def _kind_of(value: Any) -> str:
    """'bool', 'number' or the type's name: the groups a setting's choices must not mix."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _check_choice_types(spec: Mapping[str, Any], source: str) -> None:
    """A chain setting's choices share one type, and macro ``blocks`` are names: YAML reads
    ``yes``/``no``/``on``/``off`` as booleans and ``3`` as a number, so ``[32, yes]`` or
    ``[ir_3x3, 3]`` are almost surely typos that would otherwise become choices."""
    layers = spec.get("layers")
    if isinstance(layers, Mapping):
        for ltype, settings in layers.items():
            if not isinstance(settings, Mapping):
                continue
            for key, choices in settings.items():
                if not isinstance(choices, list):
                    continue
                kinds = sorted({_kind_of(c) for c in choices})
                if len(kinds) > 1:
                    raise InvalidParameterError(
                        f"{source!r}: the choices of setting {key!r} of layer type {ltype!r} "
                        f"mix types ({', '.join(kinds)}): {choices!r}. Quote strings YAML would "
                        "read as booleans (yes/no/on/off) or numbers."
                    )
    blocks = spec.get("blocks")
    if isinstance(blocks, list) and not all(isinstance(b, str) for b in blocks):
        raise InvalidParameterError(
            f"{source!r}: 'blocks' must be a list of block names (strings). Got {blocks!r} "
            "instead."
        )


def _constraints(spec: Mapping[str, Any], source: str) -> list[Constraint]:
    out: list[Constraint] = []
    rules = spec.get("forbid") or []
    if not isinstance(rules, list) or not all(isinstance(r, Mapping) and r for r in rules):
        raise InvalidParameterError(
            f"{source!r}: 'forbid' must be a list of mappings {{decision: value or [values]}}. "
            f"Got {rules!r}."
        )
    for r in rules:
        out.append(forbid("not " + ", ".join(f"{k}={v}" for k, v in r.items()), **dict(r)))
    preds = spec.get("predicates") or []
    if not isinstance(preds, list):
        raise InvalidParameterError(
            f"{source!r}: 'predicates' must be a list of 'module:function' names. Got {preds!r}."
        )
    for ref in preds:
        out.append(Constraint(f"predicate {ref}", _import_predicate(ref, source)))
    return out


def _import_predicate(ref: Any, source: str) -> Callable[[Mapping[str, Any]], bool]:
    if not isinstance(ref, str) or ref.count(":") != 1:
        raise InvalidParameterError(
            f"{source!r}: a predicate is named 'module:function'. Got {ref!r} instead."
        )
    module, func = ref.split(":")
    try:
        fn = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as e:
        raise InvalidParameterError(
            f"{source!r}: cannot import the predicate {ref!r}: {e}."
        ) from None
    if not callable(fn):
        raise InvalidParameterError(f"{source!r}: the predicate {ref!r} is not callable.")
    return lambda values: bool(fn(values))


def is_space_file(name: Any) -> bool:
    """Whether a ``--space`` value names a YAML file rather than a registered space."""
    return isinstance(name, str | os.PathLike) and str(name).endswith((".yaml", ".yml"))


def check_is_space(obj: Any, where: str) -> SearchSpace:
    """``obj`` if it is a ``SearchSpace``, else the standard error."""
    if not isinstance(obj, SearchSpace):
        raise InvalidParameterError(
            f"{where} must give a SearchSpace. Got {type(obj).__name__} instead."
        )
    return obj
