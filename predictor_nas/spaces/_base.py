"""The search-space interface and the immutable architecture value."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

# The package, not its registry module: the registry builds spaces from this module, so
# ``get_space`` is looked up on the package when an arch is first printed.
from predictor_nas import spaces
from predictor_nas._lazy import optuna_distributions
from predictor_nas.exceptions import InvalidArchitectureError
from predictor_nas.spaces._graph import INPUT, OUTPUT, ArchGraph

if TYPE_CHECKING:
    import optuna


@dataclass(frozen=True, slots=True)
class Arch:
    """An architecture as a value: immutable, hashable, comparable.

    Attributes:
        space: Name of the search space the architecture belongs to (e.g. ``"nb201"``).
        ops: One operation name per decision of the space, in the space's ``param_names`` order.
    """

    space: str
    ops: tuple[str, ...]

    def __str__(self) -> str:
        return spaces.get_space(self.space).format(self)


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a generator or a seed.

    ``None`` is refused: every random component takes an explicit seed.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        raise TypeError("A seed or numpy.random.Generator is required (got None); pass e.g. rng=0.")
    return np.random.default_rng(rng)


class SearchSpace(abc.ABC):
    """A discrete search space whose architectures are one categorical choice per decision.

    Subclasses define ``name``, ``param_names`` and ``choices`` and the string format. Everything
    else (sampling, mutation, Optuna distributions) follows from those.
    """

    name: str
    param_names: tuple[str, ...]
    choices: tuple[str, ...]
    #: Operations that carry no signal (a path through one contributes nothing), e.g. ``none``.
    zero_ops: frozenset[str] = frozenset()

    # ----------------------------------------------------------------- graph
    def graph(self, arch: Arch) -> ArchGraph:
        """The labelled DAG of ``arch`` (see ``ArchGraph``): what encodings and keys read."""
        raise NotImplementedError(f"Space {self.name!r} does not define graph(arch).")

    def prune(self, arch: Arch) -> Arch:
        """``arch`` with dead operations removed; the base knows none and returns ``arch``."""
        return self.validate(arch)

    def node_labels(self) -> tuple[str, ...]:
        """Every label a node of ``graph(arch)`` can carry: ``input``, ``output``, the ops."""
        return (INPUT, OUTPUT, *(str(c) for c in self.choices))

    def spec(self) -> dict[str, Any]:
        """A JSON-able description that identifies the space (stored with every study)."""
        return {"name": self.name}

    @property
    def plain(self) -> bool:
        """True when decisions are independent and all range over ``choices`` (no conditions,
        no constraints): samplers may then build candidates on integer code arrays."""
        return all(
            getattr(type(self), m) is getattr(SearchSpace, m)
            for m in ("sample", "mutate", "neighbours", "validate", "from_codes")
        )

    def crossover(self, a: Arch, b: Arch, rng: np.random.Generator | int) -> Arch:
        """Uniform crossover: every decision from ``a`` or ``b`` with equal chance."""
        g = as_rng(rng)
        pick = g.integers(2, size=len(self.param_names))
        ops = [x if p == 0 else y for p, x, y in zip(pick, a.ops, b.ops)]
        return self.make(ops)

    # ----------------------------------------------------------------- string form
    @abc.abstractmethod
    def parse(self, text: str) -> Arch:
        """Parse the standard string into an ``Arch`` (``InvalidArchitectureError`` if bad)."""

    @abc.abstractmethod
    def format(self, arch: Arch) -> str:
        """Return the space's standard string form of ``arch``."""

    @abc.abstractmethod
    def canonical_key(self, arch: Arch) -> str:
        """A key that is equal for architectures computing the same function (isomorphic cells)."""

    # ----------------------------------------------------------------- basics
    @property
    def size(self) -> int:
        """Number of architectures in the space."""
        return len(self.choices) ** len(self.param_names)

    def _check_form(self, arch: Arch, counted: str) -> None:
        """Refuse anything but an ``Arch`` of this space with one value per decision.

        Args:
            arch: What was given.
            counted: What the decisions are, after their number in the length message
                (e.g. ``"operations (edge_0, ...)"``).
        """
        if not isinstance(arch, Arch):
            raise InvalidArchitectureError(
                f"Expected an Arch of space {self.name!r}, got {type(arch).__name__}: {arch!r}."
            )
        if arch.space != self.name:
            raise InvalidArchitectureError(
                f"The architecture belongs to space {arch.space!r}, not {self.name!r}."
            )
        if len(arch.ops) != len(self.param_names):
            raise InvalidArchitectureError(
                f"A {self.name} architecture has {len(self.param_names)} {counted}; "
                f"got {len(arch.ops)}."
            )

    def validate(self, arch: Arch) -> Arch:
        """Return ``arch`` if it belongs to this space, else raise ``InvalidArchitectureError``."""
        self._check_form(arch, f"operations ({', '.join(self.param_names)})")
        for pname, op in zip(self.param_names, arch.ops):
            if op not in self.choices:
                raise InvalidArchitectureError(
                    f"Unknown operation {op!r} on {pname}; allowed: {', '.join(self.choices)}."
                )
        return arch

    def make(self, ops: Sequence[str]) -> Arch:
        """Build and validate an ``Arch`` from operation names in ``param_names`` order."""
        return self.validate(Arch(self.name, tuple(ops)))

    def coerce(self, arch: Arch | str) -> Arch:
        """Accept an ``Arch`` or its string form and return a validated ``Arch``."""
        if isinstance(arch, str):
            return self.parse(arch)
        return self.validate(arch)

    # ----------------------------------------------------------------- integer codes
    def to_codes(self, arch: Arch) -> tuple[int, ...]:
        """Operation indices into ``choices``, one per decision."""
        return tuple(self.choices.index(op) for op in self.validate(arch).ops)

    def from_codes(self, codes: Sequence[int]) -> Arch:
        """Inverse of ``to_codes``."""
        n = len(self.choices)
        if len(codes) != len(self.param_names) or any(not 0 <= int(c) < n for c in codes):
            raise InvalidArchitectureError(
                f"Codes must be {len(self.param_names)} ints in [0, {n - 1}]; got {list(codes)!r}."
            )
        return Arch(self.name, tuple(self.choices[int(c)] for c in codes))

    def __iter__(self) -> Iterator[Arch]:
        """Iterate over all architectures (in the space's index order)."""
        for i in range(self.size):
            yield self.from_index(i)

    def index(self, arch: Arch) -> int:
        """Position of ``arch`` in the space's index order (mixed-radix by default)."""
        idx = 0
        for c in self.to_codes(arch):
            idx = idx * len(self.choices) + c
        return idx

    def from_index(self, index: int) -> Arch:
        """Inverse of ``index``."""
        if not 0 <= index < self.size:
            raise InvalidArchitectureError(
                f"The index of a {self.name} architecture must be in [0, {self.size - 1}]; "
                f"got {index}."
            )
        n = len(self.choices)
        codes = []
        for _ in self.param_names:
            index, c = divmod(index, n)
            codes.append(c)
        return self.from_codes(codes[::-1])

    # ----------------------------------------------------------------- random moves
    def sample(self, rng: np.random.Generator | int) -> Arch:
        """Draw an architecture uniformly at random."""
        g = as_rng(rng)
        codes = g.integers(len(self.choices), size=len(self.param_names))
        return self.from_codes(codes)

    def mutate(self, arch: Arch, rng: np.random.Generator | int) -> Arch:
        """Change one uniformly chosen decision to a different, uniformly chosen operation."""
        g = as_rng(rng)
        codes = list(self.to_codes(arch))
        pos = int(g.integers(len(codes)))
        shift = int(g.integers(1, len(self.choices)))
        codes[pos] = (codes[pos] + shift) % len(self.choices)
        return self.from_codes(codes)

    def neighbours(self, arch: Arch) -> list[Arch]:
        """All architectures that differ from ``arch`` in exactly one decision."""
        codes = self.to_codes(arch)
        out = []
        for pos in range(len(codes)):
            for c in range(len(self.choices)):
                if c != codes[pos]:
                    new = list(codes)
                    new[pos] = c
                    out.append(self.from_codes(new))
        return out

    # ----------------------------------------------------------------- Optuna mapping
    def param_choices(self, name: str) -> tuple[str, ...]:
        """Values decision ``name`` may take (``choices`` for every decision by default).

        Spaces whose decisions have different value sets (e.g. NB301's edge operations and input
        pairs) override this; ``choices`` is then the union, used by integer codes and one-hot.
        """
        return self.choices

    def distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        """One ``CategoricalDistribution`` over ``param_choices(name)`` per decision."""
        return {
            p: optuna_distributions.CategoricalDistribution(list(self.param_choices(p)))
            for p in self.param_names
        }

    def suggest(self, trial: Any) -> Arch:
        """Ask an Optuna trial for every decision in order (define-by-run) and return the arch."""
        params = {
            p: trial.suggest_categorical(p, list(self.param_choices(p))) for p in self.param_names
        }
        return self.from_params(params)

    def to_params(self, arch: Arch) -> dict[str, str]:
        """Optuna params (decision name -> operation) of ``arch``."""
        return dict(zip(self.param_names, self.validate(arch).ops))

    def from_params(self, params: Mapping[str, Any]) -> Arch:
        """Build an ``Arch`` from Optuna params; every decision must be present and valid."""
        missing = [p for p in self.param_names if p not in params]
        if missing:
            raise InvalidArchitectureError(
                f"Params for space {self.name!r} miss {', '.join(missing)}; "
                f"expected exactly {', '.join(self.param_names)}."
            )
        extra = sorted(set(params) - set(self.param_names))
        if extra:
            raise InvalidArchitectureError(
                f"Params for space {self.name!r} have unknown keys {', '.join(extra)}; "
                f"expected exactly {', '.join(self.param_names)}."
            )
        return self.make([params[p] for p in self.param_names])
