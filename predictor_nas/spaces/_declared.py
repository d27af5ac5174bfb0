"""Spaces declared as data: named decisions, conditions between them, and constraints.

A ``DeclaredSpace`` is any space a user describes (in Python or a YAML file, see ``_yaml``):
an ordered list of categorical ``Decision`` s, each optionally *conditional* on earlier ones
(a pool layer has no ``filters``; layer 5 exists only when ``n_layers >= 5``), plus
*constraints* (forbidden combinations, or any Python predicate over the decision values).
Sampling, mutation, neighbours, crossover, enumeration (grid) and the Optuna mapping all honour
both: an inactive decision holds ``INACTIVE`` in the ``Arch`` and is absent from the Optuna
params (as in a define-by-run objective), and no move ever returns an architecture that breaks
a constraint. Subclasses (``_kinds``) add the graph of an architecture and its string form.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces._base import Arch, SearchSpace, as_rng
from predictor_nas.spaces._decisions import (
    Constraint,
    Decision,
    _check_decisions,
    _index_in,
    _listing,
    _member,
    _same,
    _typed,
    _why_inactive,
    forbid,
    product_size,
)

#: Value of an inactive decision inside an ``Arch`` (never an Optuna param value).
INACTIVE = None

#: Largest number of architectures ``DeclaredSpace`` enumerates (grid search, ``index``).
MAX_ENUMERATED = 2_000_000


class DeclaredSpace(SearchSpace):
    """A space of categorical decisions with conditions and constraints (module docstring).

    Args:
        name: Registry name of the space.
        decisions: The decisions, each listed after every decision its conditions name.
        constraints: Rules every architecture must satisfy.
        description: One line for listings.
    """

    def __init__(
        self,
        name: str,
        decisions: Sequence[Decision],
        constraints: Sequence[Constraint] = (),
        description: str = "",
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameterError(f"A space name must be a non-empty str. Got {name!r}.")
        self.name = name
        self.decisions = tuple(decisions)
        self.constraints = tuple(constraints)
        self.description = description
        _check_decisions(self.decisions)
        self.param_names = tuple(d.name for d in self.decisions)
        union: list[Any] = []
        for d in self.decisions:
            union.extend(c for c in d.choices if not any(_same(c, u) for u in union))
        if any(d.when for d in self.decisions):
            union.insert(0, INACTIVE)
        self.choices = tuple(union)
        self._pos = {d.name: i for i, d in enumerate(self.decisions)}

    def with_constraints(self, *extra: Constraint) -> DeclaredSpace:
        """A copy of the space (same name and decisions) with ``extra`` constraints added, e.g.
        what a network builder needs for a given input size."""
        out = copy.copy(self)
        out.constraints = (*self.constraints, *extra)
        for cached in ("_all", "_index_of"):
            out.__dict__.pop(cached, None)
        return out

    # ----------------------------------------------------------------- structure
    @property
    def plain(self) -> bool:
        """No conditions, no constraints, every decision over the same values."""
        first = self.decisions[0].choices
        return (
            not self.constraints
            and all(not d.when for d in self.decisions)
            and all(d.choices == first for d in self.decisions)
            and first == self.choices
        )

    def param_choices(self, name: str) -> tuple[Any, ...]:
        """The values decision ``name`` may take."""
        if name not in self._pos:
            raise InvalidParameterError(
                f"The 'name' parameter of {type(self).__name__}.param_choices must be one of "
                f"{', '.join(self.param_names)}. Got {name!r} instead."
            )
        return self.decisions[self._pos[name]].choices

    def active(self, values: Mapping[str, Any], decision: Decision) -> bool:
        """Whether ``decision`` is active given the values of the earlier decisions."""
        return all(
            values.get(parent) is not INACTIVE and _member(values.get(parent), allowed)
            for parent, allowed in decision.when
        )

    def active_params(self, arch: Arch) -> tuple[str, ...]:
        """Names of the decisions that are active in ``arch``."""
        values = self.values(arch)
        return tuple(d.name for d in self.decisions if values[d.name] is not INACTIVE)

    def values(self, arch: Arch) -> dict[str, Any]:
        """Decision name -> value (``INACTIVE`` for inactive ones)."""
        return dict(zip(self.param_names, arch.ops))

    def violated(self, values: Mapping[str, Any]) -> Constraint | None:
        """The first constraint ``values`` break, or None."""
        for c in self.constraints:
            if not c.check(values):
                return c
        return None

    # ----------------------------------------------------------------- validation
    def validate(self, arch: Arch) -> Arch:
        """Return ``arch`` if it belongs to the space, else raise ``InvalidArchitectureError``."""
        self._check_form(arch, f"decisions ({', '.join(self.param_names)})")
        values: dict[str, Any] = {}
        for d, v in zip(self.decisions, arch.ops):
            if self.active(values, d):
                if v is INACTIVE or not _member(v, d.choices):
                    raise InvalidArchitectureError(
                        f"{d.name} is active and needs one of {_listing(d.choices)}; got {v!r}."
                    )
            elif v is not INACTIVE:
                raise InvalidArchitectureError(
                    f"{d.name} is inactive here ({_why_inactive(d, values)}) and must be left "
                    f"out; got {v!r}."
                )
            values[d.name] = v
        bad = self.violated(values)
        if bad is not None:
            raise InvalidArchitectureError(
                f"The architecture breaks a constraint of space {self.name!r}: {bad.description}."
            )
        return arch

    def from_codes(self, codes: Sequence[int]) -> Arch:
        """Inverse of ``to_codes`` (indices into the union ``choices``); validated."""
        n = len(self.choices)
        if len(codes) != len(self.param_names) or any(not 0 <= int(c) < n for c in codes):
            raise InvalidArchitectureError(
                f"Codes must be {len(self.param_names)} ints in [0, {n - 1}]; got {list(codes)!r}."
            )
        return self.make([self.choices[int(c)] for c in codes])

    def to_codes(self, arch: Arch) -> tuple[int, ...]:
        """Indices into ``choices``, one per decision (type-exact: 1 and True differ)."""
        self.validate(arch)
        return tuple(self._code(v) for v in arch.ops)

    def _code(self, value: Any) -> int:
        for i, c in enumerate(self.choices):
            if _same(value, c):
                return i
        raise InvalidArchitectureError(
            f"Unknown value {value!r}; allowed: {_listing(self.choices)}."
        )

    # ----------------------------------------------------------------- Optuna mapping
    def to_params(self, arch: Arch) -> dict[str, Any]:
        """Optuna params of the active decisions (as a define-by-run objective has them)."""
        return {k: v for k, v in self.values(self.validate(arch)).items() if v is not INACTIVE}

    def from_params(self, params: Mapping[str, Any]) -> Arch:
        """Build an ``Arch`` from the active decisions' params; unknown or inactive keys and
        missing active ones are refused."""
        unknown = sorted(set(params) - set(self.param_names))
        if unknown:
            raise InvalidArchitectureError(
                f"Params for space {self.name!r} have unknown keys {', '.join(unknown)}; its "
                f"decisions are {', '.join(self.param_names)}."
            )
        values: dict[str, Any] = {}
        for d in self.decisions:
            if self.active(values, d):
                if d.name not in params:
                    raise InvalidArchitectureError(
                        f"Params for space {self.name!r} miss the active decision {d.name}."
                    )
                values[d.name] = params[d.name]
            else:
                if d.name in params:
                    raise InvalidArchitectureError(
                        f"{d.name} is inactive ({_why_inactive(d, values)}) and must not be in "
                        "the params."
                    )
                values[d.name] = INACTIVE
        return self.make([values[n] for n in self.param_names])

    def suggest(self, trial: Any) -> Arch:
        """Ask an Optuna trial for every active decision in order (define-by-run)."""
        values: dict[str, Any] = {}
        for d in self.decisions:
            if self.active(values, d):
                values[d.name] = trial.suggest_categorical(d.name, list(d.choices))
            else:
                values[d.name] = INACTIVE
        return self.make([values[n] for n in self.param_names])

    # ----------------------------------------------------------------- size and order
    @cached_property
    def _all(self) -> tuple[Arch, ...] | None:
        """Every architecture in lexicographic decision order, if there are few enough."""
        bound = 1
        for d in self.decisions:
            bound *= len(d.choices)
        if bound > 50 * MAX_ENUMERATED:
            return None
        out = []
        for arch in self._enumerate():
            out.append(arch)
            if len(out) > MAX_ENUMERATED:
                return None
        return tuple(out)

    def _enumerate(self) -> Iterator[Arch]:
        def rec(k: int, values: dict[str, Any]) -> Iterator[dict[str, Any]]:
            if k == len(self.decisions):
                if self.violated(values) is None:
                    yield values
                return
            d = self.decisions[k]
            if not self.active(values, d):
                yield from rec(k + 1, {**values, d.name: INACTIVE})
                return
            for c in d.choices:
                yield from rec(k + 1, {**values, d.name: c})

        for values in rec(0, {}):
            yield Arch(self.name, tuple(values[n] for n in self.param_names))

    @property
    def size(self) -> int:
        """Number of valid architectures (an upper bound past ``MAX_ENUMERATED``)."""
        if self._all is not None:
            return len(self._all)
        bound = 1
        for d in self.decisions:
            bound *= len(d.choices)
        return bound

    @property
    def enumerable(self) -> bool:
        """Whether ``__iter__``, ``index`` and ``from_index`` are available."""
        return self._all is not None

    def _listed(self) -> tuple[Arch, ...]:
        if self._all is None:
            raise InvalidParameterError(
                f"Space {self.name!r} has more than {MAX_ENUMERATED:,} architectures; it cannot "
                "be enumerated (grid search, index)."
            )
        return self._all

    def __iter__(self) -> Iterator[Arch]:
        """All valid architectures in lexicographic decision order."""
        return iter(self._listed())

    @cached_property
    def _index_of(self) -> dict[tuple[Any, ...], int]:
        return {_typed(a.ops): i for i, a in enumerate(self._listed())}

    def index(self, arch: Arch) -> int:
        """Position of ``arch`` in the enumeration order."""
        return self._index_of[_typed(self.validate(arch).ops)]

    def from_index(self, index: int) -> Arch:
        """Architecture at position ``index`` of the enumeration order."""
        archs = self._listed()
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise InvalidArchitectureError(f"An index must be an int; got {index!r}.")
        if not 0 <= int(index) < len(archs):
            raise InvalidArchitectureError(
                f"An index of space {self.name!r} must be in [0, {len(archs) - 1}]; got {index}."
            )
        return archs[int(index)]

    # ----------------------------------------------------------------- random moves
    def _repair(self, values: dict[str, Any], rng: np.random.Generator | None) -> dict[str, Any]:
        """Make activity consistent in decision order: newly active decisions get a random
        value (``rng``) or their first choice (``rng=None``), inactive ones ``INACTIVE``."""
        out: dict[str, Any] = {}
        for d in self.decisions:
            v = values.get(d.name, INACTIVE)
            if self.active(out, d):
                if v is INACTIVE or not _member(v, d.choices):
                    v = d.choices[int(rng.integers(len(d.choices)))] if rng else d.choices[0]
            else:
                v = INACTIVE
            out[d.name] = v
        return out

    def _arch(self, values: Mapping[str, Any]) -> Arch:
        return Arch(self.name, tuple(values[n] for n in self.param_names))

    def sample(self, rng: np.random.Generator | int) -> Arch:
        """Draw every active decision uniformly, in order; redraw until the constraints hold."""
        if self.plain:
            return super().sample(rng)
        g = as_rng(rng)
        for _ in range(10_000):
            values = self._repair({}, g)
            if self.violated(values) is None:
                return self._arch(values)
        raise InvalidParameterError(
            f"Space {self.name!r}: 10,000 random draws all broke a constraint; the constraints "
            "leave (almost) nothing. Check them."
        )

    def mutate(self, arch: Arch, rng: np.random.Generator | int) -> Arch:
        """Change one uniformly chosen active decision to another value (decisions it activates
        are drawn at random); redrawn until the result satisfies the constraints."""
        if self.plain:
            return super().mutate(arch, rng)
        g = as_rng(rng)
        values = self.values(self.validate(arch))
        active = [d for d in self.decisions if values[d.name] is not INACTIVE]
        movable = [d for d in active if len(d.choices) > 1]
        for _ in range(1000):
            d = movable[int(g.integers(len(movable)))]
            cur = _index_in(values[d.name], d.choices)
            new = d.choices[(cur + int(g.integers(1, len(d.choices)))) % len(d.choices)]
            cand = self._repair({**values, d.name: new}, g)
            if self.violated(cand) is None:
                return self._arch(cand)
        return arch

    def neighbours(self, arch: Arch) -> list[Arch]:
        """Every valid architecture one active decision away (decisions it activates take
        their first value), without repeats."""
        if self.plain:
            return super().neighbours(arch)
        values = self.values(self.validate(arch))
        out: list[Arch] = []
        seen = {_typed(arch.ops)}
        for d in self.decisions:
            if values[d.name] is INACTIVE:
                continue
            for c in d.choices:
                if _same(c, values[d.name]):
                    continue
                cand = self._repair({**values, d.name: c}, None)
                a = self._arch(cand)
                if self.violated(cand) is None and _typed(a.ops) not in seen:
                    seen.add(_typed(a.ops))
                    out.append(a)
        return out

    def crossover(self, a: Arch, b: Arch, rng: np.random.Generator | int) -> Arch:
        """Every decision from a random parent, then repaired; ``a`` if no valid mix is found
        in 20 tries."""
        if self.plain:
            return super().crossover(a, b, rng)
        g = as_rng(rng)
        va, vb = self.values(a), self.values(b)
        for _ in range(20):
            pick = g.integers(2, size=len(self.decisions))
            mix = {}
            for p, d in zip(pick, self.decisions):
                first, second = (va, vb) if p == 0 else (vb, va)
                mix[d.name] = first[d.name] if first[d.name] is not INACTIVE else second[d.name]
            cand = self._repair(mix, g)
            if self.violated(cand) is None:
                return self._arch(cand)
        return a

    # ----------------------------------------------------------------- strings
    def format(self, arch: Arch) -> str:
        """``name=value`` of the active decisions, in order, joined by ``,``."""
        values = self.values(self.validate(arch))
        return ",".join(f"{k}={v}" for k, v in values.items() if v is not INACTIVE)

    def parse(self, text: str) -> Arch:
        """Inverse of ``format`` (whitespace around items allowed)."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"A {self.name} architecture string must be a str; got {type(text).__name__}."
            )
        params: dict[str, Any] = {}
        for item in filter(None, (x.strip() for x in text.strip().split(","))):
            key, sep, raw = item.partition("=")
            key, raw = key.strip(), raw.strip()
            if not sep or key not in self._pos:
                raise InvalidArchitectureError(
                    f"{text!r}: item {item!r} is not 'decision=value' with a decision of space "
                    f"{self.name!r} ({', '.join(self.param_names)})."
                )
            d = self.decisions[self._pos[key]]
            match = [c for c in d.choices if str(c) == raw]
            if not match:
                raise InvalidArchitectureError(
                    f"{text!r}: {key}={raw!r} is not allowed; {key} takes {_listing(d.choices)}."
                )
            params[key] = match[0]
        return self.from_params(params)

    def canonical_key(self, arch: Arch) -> str:
        """The standard string (no symmetry reduction unless a subclass knows one)."""
        return self.format(arch)

    def prune(self, arch: Arch) -> Arch:
        """``arch`` itself (nothing is dead unless a subclass says so)."""
        return self.validate(arch)

    def spec(self) -> dict[str, Any]:
        """Name, decisions (with conditions) and constraint descriptions."""
        return {
            "name": self.name,
            "kind": getattr(self, "kind", "declared"),
            "decisions": [
                {"name": d.name, "choices": list(d.choices), "when": [list(w) for w in d.when]}
                for d in self.decisions
            ],
            "constraints": [c.description for c in self.constraints],
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, decisions={len(self.decisions)})"


__all__ = [
    "INACTIVE",
    "MAX_ENUMERATED",
    "Constraint",
    "Decision",
    "DeclaredSpace",
    "forbid",
    "product_size",
]
