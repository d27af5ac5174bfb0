"""Chain spaces: a sequence of layers (``LayerConfig``-style) or of stages of blocks (macro)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces._base import Arch
from predictor_nas.spaces._declared import INACTIVE, Constraint, Decision, DeclaredSpace
from predictor_nas.spaces._graph import INPUT, LABEL_SEP, OUTPUT, ArchGraph


def _ints(value: Any, key: str, space: str, lo: int) -> list[int]:
    vals = value if isinstance(value, list | tuple) else [value]
    if not vals or any(isinstance(v, bool) or not isinstance(v, int) or v < lo for v in vals):
        raise InvalidParameterError(
            f"Space {space!r}: {key!r} must be an int >= {lo} or a list of them. Got {value!r}."
        )
    return sorted(set(vals))


class ChainSpace(DeclaredSpace):
    """A chain of layers, each of a chosen type with type-dependent settings.

    Decisions: ``n_layers`` (when ``min_layers < max_layers``); per layer ``l``:
    ``layer_<l>_type`` (active when the network has more than ``l`` layers) and one decision
    per setting, ``layer_<l>_<setting>``, active when the layer's type has that setting (a pool
    layer has no ``filters``); with ``skip_connections``, ``layer_<l>_skip`` (0/1; l >= 1): a
    residual edge around layer ``l``. A setting shared by several types takes the same choices
    in all of them.

    Args:
        name: Registry name.
        layer_types: Type name -> {setting: choices}, e.g. ``{"conv": {"filters": [32, 64],
            "kernel_size": [3, 5]}, "pool": {"kernel_size": [2]}, "identity": {}}``.
        min_layers, max_layers: Range of the number of layers.
        skip_connections: Add the ``layer_<l>_skip`` decisions.
        layer_constraints: Forbidden combinations within any one layer, e.g.
            ``[{"type": "pool", "stride": 1}]`` (values may be lists: any of them).
        constraints: Further ``Constraint`` s over all decisions.
        description: One line for listings.
    """

    kind = "chain"

    def __init__(
        self,
        name: str,
        layer_types: Mapping[str, Mapping[str, Sequence[Any]]],
        *,
        min_layers: int = 1,
        max_layers: int = 4,
        skip_connections: bool = False,
        layer_constraints: Sequence[Mapping[str, Any]] = (),
        constraints: Sequence[Constraint] = (),
        description: str = "",
    ) -> None:
        if not isinstance(layer_types, Mapping) or not layer_types:
            raise InvalidParameterError(
                f"Space {name!r}: 'layers' must map layer types to their settings. "
                f"Got {layer_types!r}."
            )
        for key, v in (("min_layers", min_layers), ("max_layers", max_layers)):
            _ints(v, key, name, 1)
        if max_layers < min_layers:
            raise InvalidParameterError(
                f"Space {name!r}: 'max_layers' must be >= min_layers={min_layers}. "
                f"Got {max_layers!r} instead."
            )
        depths = list(range(min_layers, max_layers + 1))
        self.layer_types = {str(t): dict(s or {}) for t, s in layer_types.items()}
        self.settings = _settings(name, self.layer_types)
        self.min_layers, self.max_layers = depths[0], depths[-1]
        self.skip_connections = bool(skip_connections)
        self.layer_constraints = [dict(c) for c in layer_constraints]
        types = tuple(self.layer_types)
        decisions = [Decision("n_layers", tuple(depths))] if len(depths) > 1 else []
        for lay in range(self.max_layers):
            when = (("n_layers", tuple(d for d in depths if d > lay)),) if lay >= depths[0] else ()
            decisions.append(Decision(f"layer_{lay}_type", types, when))
            for setting, choices in self.settings.items():
                having = tuple(t for t in types if setting in self.layer_types[t])
                decisions.append(
                    Decision(f"layer_{lay}_{setting}", choices, ((f"layer_{lay}_type", having),))
                )
            if self.skip_connections and lay >= 1:
                decisions.append(
                    Decision(f"layer_{lay}_skip", (0, 1), ((f"layer_{lay}_type", types),))
                )
        rules = [
            _layer_rule(name, lay, rule, self.settings, types)
            for rule in self.layer_constraints
            for lay in range(self.max_layers)
        ]
        super().__init__(name, decisions, [*rules, *constraints], description)

    def layers(self, arch: Arch) -> list[dict[str, Any]]:
        """The active layers of ``arch``: ``{"type": ..., <setting>: ..., "skip": 0/1}`` each."""
        values = self.values(self.validate(arch))
        out = []
        for lay in range(self.max_layers):
            t = values[f"layer_{lay}_type"]
            if t is INACTIVE:
                continue
            layer = {"type": t}
            for setting in self.settings:
                v = values[f"layer_{lay}_{setting}"]
                if v is not INACTIVE:
                    layer[setting] = v
            if self.skip_connections and lay >= 1:
                layer["skip"] = values[f"layer_{lay}_skip"]
            out.append(layer)
        return out

    def graph(self, arch: Arch) -> ArchGraph:
        """input -> one node per layer (label ``type|setting=value|...``) -> output; a skip
        adds an edge from a layer's input to its output's successor."""
        layers = self.layers(arch)
        labels = [INPUT]
        for layer in layers:
            toks = [layer["type"], *(f"{k}={layer[k]}" for k in self.settings if k in layer)]
            labels.append(LABEL_SEP.join(toks))
        labels.append(OUTPUT)
        edges = [(k, k + 1) for k in range(len(layers) + 1)]
        edges += [(k, k + 2) for k, layer in enumerate(layers) if layer.get("skip") == 1]
        return ArchGraph(tuple(labels), tuple(sorted(edges)))

    def node_labels(self) -> tuple[str, ...]:
        """Label tokens: input, output, the layer types, every ``setting=value``."""
        toks = [f"{s}={v}" for s, choices in self.settings.items() for v in choices]
        return (INPUT, OUTPUT, *self.layer_types, *toks)

    def spec(self) -> dict[str, Any]:
        """The declaration (see ``_yaml``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "min_layers": self.min_layers,
            "max_layers": self.max_layers,
            "skip_connections": self.skip_connections,
            "layers": {t: {k: list(v) for k, v in s.items()} for t, s in self.layer_types.items()},
            "layer_constraints": self.layer_constraints,
            "constraints": [c.description for c in self.constraints],
        }


class MacroSpace(DeclaredSpace):
    """Stages of blocks: per stage a depth, optionally a width multiplier, and a block per
    layer (NAS-Bench-Macro, MobileNet-like spaces).

    Decisions per stage ``s``: ``stage_<s>_depth`` (when the stage's depth varies),
    ``stage_<s>_width`` (when it has several width multipliers), ``stage_<s>_layer_<l>``
    (the block of layer ``l``, active when the stage is deeper than ``l``).

    Args:
        name: Registry name.
        blocks: Block names every layer may take (e.g. ``identity``, ``ir_3x3_t3``).
        stages: Per stage ``{"depth": int or list, "width": list of floats (optional),
            "channels": int (optional, for builders), "stride": int (optional)}``.
        constraints: Further ``Constraint`` s.
        description: One line for listings.
    """

    kind = "macro"

    def __init__(
        self,
        name: str,
        blocks: Sequence[str],
        stages: Sequence[Mapping[str, Any]],
        *,
        constraints: Sequence[Constraint] = (),
        description: str = "",
    ) -> None:
        blocks = tuple(str(b) for b in blocks)
        if not blocks or len(set(blocks)) != len(blocks):
            raise InvalidParameterError(
                f"Space {name!r}: 'blocks' must be distinct names. Got {list(blocks)!r}."
            )
        if not stages:
            raise InvalidParameterError(f"Space {name!r}: 'stages' must list at least one stage.")
        self.blocks = blocks
        self.stages = [dict(s) for s in stages]
        decisions: list[Decision] = []
        for s, stage in enumerate(self.stages):
            depths = _ints(stage.get("depth", 1), f"stages[{s}].depth", name, 1)
            if len(depths) > 1:
                decisions.append(Decision(f"stage_{s}_depth", tuple(depths)))
            widths = stage.get("width")
            if widths is not None:
                ws = widths if isinstance(widths, list | tuple) else [widths]
                if not ws or any(isinstance(w, bool) or not isinstance(w, int | float) for w in ws):
                    raise InvalidParameterError(
                        f"Space {name!r}: 'stages[{s}].width' must be a number or a list of "
                        f"numbers. Got {widths!r}."
                    )
                if len(ws) > 1:
                    decisions.append(Decision(f"stage_{s}_width", tuple(float(w) for w in ws)))
            for lay in range(depths[-1]):
                when = ()
                if lay >= depths[0]:
                    when = ((f"stage_{s}_depth", tuple(d for d in depths if d > lay)),)
                decisions.append(Decision(f"stage_{s}_layer_{lay}", blocks, when))
            stage["depth"], stage["width"] = depths, widths
        super().__init__(name, decisions, constraints, description)

    def layers(self, arch: Arch) -> list[dict[str, Any]]:
        """Active layers: ``{"stage": s, "block": ..., "width": multiplier or None}``."""
        values = self.values(self.validate(arch))
        out = []
        for s, stage in enumerate(self.stages):
            width = values.get(f"stage_{s}_width")
            if width is None and stage["width"] is not None:
                w = stage["width"]
                width = float(w[0] if isinstance(w, list | tuple) else w)
            for lay in range(stage["depth"][-1]):
                b = values[f"stage_{s}_layer_{lay}"]
                if b is not INACTIVE:
                    out.append({"stage": s, "block": b, "width": width})
        return out

    def graph(self, arch: Arch) -> ArchGraph:
        """input -> one node per layer (label ``block|stage=s`` plus ``width=w`` when the
        width varies) -> output."""
        labels = [INPUT]
        for layer in self.layers(arch):
            toks = [layer["block"], f"stage={layer['stage']}"]
            if f"stage_{layer['stage']}_width" in self.param_names:
                toks.append(f"width={layer['width']}")
            labels.append(LABEL_SEP.join(toks))
        labels.append(OUTPUT)
        return ArchGraph(tuple(labels), tuple((k, k + 1) for k in range(len(labels) - 1)))

    def node_labels(self) -> tuple[str, ...]:
        """Label tokens: input, output, the blocks, ``stage=s``, ``width=w``."""
        widths = sorted(
            {float(w) for st in self.stages for w in (st["width"] or []) if len(st["width"]) > 1}
        )
        return (
            INPUT,
            OUTPUT,
            *self.blocks,
            *(f"stage={s}" for s in range(len(self.stages))),
            *(f"width={w}" for w in widths),
        )

    def spec(self) -> dict[str, Any]:
        """The declaration (see ``_yaml``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "blocks": list(self.blocks),
            "stages": self.stages,
            "constraints": [c.description for c in self.constraints],
        }


def _settings(space: str, layer_types: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple]:
    """Setting name -> its choices, the same in every type that has it."""
    out: dict[str, tuple] = {}
    for t, settings in layer_types.items():
        for k, choices in settings.items():
            vals = tuple(choices) if isinstance(choices, list | tuple) else (choices,)
            if k in ("type", "skip", "depth"):
                raise InvalidParameterError(
                    f"Space {space!r}: layer type {t!r} has a setting named {k!r}, a reserved "
                    "name (type, skip, depth)."
                )
            if k in out and out[k] != vals:
                raise InvalidParameterError(
                    f"Space {space!r}: setting {k!r} has choices {list(out[k])!r} in one layer "
                    f"type and {list(vals)!r} in {t!r}; a shared setting takes the same choices "
                    "(rename one of them)."
                )
            out[k] = vals
    return out


def _layer_rule(
    space: str, lay: int, rule: Mapping[str, Any], settings: Mapping[str, Any], types: tuple
) -> Constraint:
    """One layer's copy of a forbidden within-layer combination."""
    want = {}
    for k, v in rule.items():
        if k != "type" and k not in settings:
            raise InvalidParameterError(
                f"Space {space!r}: a layer constraint names {k!r}; allowed: type, "
                f"{', '.join(settings)}."
            )
        allowed = types if k == "type" else settings[k]
        vals = tuple(v) if isinstance(v, list | tuple) else (v,)
        bad = [x for x in vals if x not in allowed]
        if bad:
            raise InvalidParameterError(
                f"Space {space!r}: a layer constraint gives {k}={bad!r}; {k} takes "
                f"{list(allowed)!r}."
            )
        want[f"layer_{lay}_{k}"] = vals
    text = ", ".join(f"{k}={v}" for k, v in rule.items())
    return Constraint(
        f"layer {lay} must not have {text}",
        lambda d, w=want: not all(d.get(k) in vs for k, vs in w.items()),
    )
