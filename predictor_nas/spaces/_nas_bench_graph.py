"""The NAS-Bench-Graph search space: 26,206 GNN architectures of 4 operation nodes.

NAS-Bench-Graph (Qin et al., NeurIPS 2022 Datasets and Benchmarks; PyPI ``nas-bench-graph``)
describes a GNN by a *link* structure and one operation per computing node. The input is node 0;
computing node ``k + 1`` (k = 0..3) reads the node ``link[k]`` (0 = the input, ``j`` = computing
node ``j``) and applies operation ``op_k``. Computing nodes that no other node reads feed the
output. The 9 link structures and 9 operations are, in the benchmark's order::

    links: 0-0-0-0  0-0-0-1  0-0-1-1  0-0-1-2  0-0-1-3  0-1-1-1  0-1-1-2  0-1-2-2  0-1-2-3
    ops:   gat gcn gin cheb sage arma graph fc skip

The benchmark keeps one canonical form per isomorphism class and stores it under the key
``link_index * 10**4 + sum(op_index_k * 10**(3 - k))`` (digit ``k + 1`` is ``op_k``). Of the
9 * 9**4 = 59,049 combinations it lists 26,206; this space is exactly that list, shipped as the
sorted keys in ``data/spaces/nas_bench_graph_keys.txt.gz`` (derived from the ``.bench`` files of
``nas-bench-graph==1.4.0`` by ``predictor_nas.tables.importers._nas_bench_graph.benchmark_keys``).
Sampling, mutation, neighbours, crossover, grid and the Optuna mapping produce listed
architectures only (a combination the benchmark does not list is refused: it is either a
non-canonical twin of a listed one or the all-``skip`` network).

Decisions: ``link`` (the 9 link strings) and ``op0`` .. ``op3`` (the 9 operations). String form:
``link=0-0-1-2|gat,gcn,skip,fc``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces._base import Arch
from predictor_nas.spaces._declared import Constraint, Decision, DeclaredSpace
from predictor_nas.spaces._graph import INPUT, OUTPUT, ArchGraph
from predictor_nas.spaces._yaml import shipped_spaces_dir

#: GNN operations in the benchmark's order (their index is the key digit).
NBG_OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
#: Link structures in the benchmark's order: ``link[k]`` is the node computing node k+1 reads.
NBG_LINKS: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
#: The ``link`` decision's values: ``"0-0-1-2"`` for ``(0, 0, 1, 2)``.
NBG_LINK_NAMES: tuple[str, ...] = tuple("-".join(map(str, lk)) for lk in NBG_LINKS)
N_NODES = 4
#: File (in ``data/spaces``) of the benchmark's sorted keys, one int per line, gzip.
KEY_FILE = "nas_bench_graph_keys.txt.gz"
#: Number of architectures NAS-Bench-Graph lists.
N_LISTED = 26_206
_BASE = 10


def arch_key(link_index: int, op_indices: Sequence[int]) -> int:
    """The benchmark's key of link structure ``link_index`` and operations ``op_indices`` (4)."""
    key = int(link_index)
    for o in op_indices:
        key = key * _BASE + int(o)
    return key


def key_decisions(key: int) -> tuple[int, tuple[int, int, int, int]]:
    """``(link index, 4 op indices)`` of a key; ``ValueError`` if it is no such key."""
    if isinstance(key, bool) or not isinstance(key, int | np.integer) or not 0 <= key < 10**5:
        raise ValueError(f"{key!r} is not a NAS-Bench-Graph key (an int in [0, 99999]).")
    digits = [int(c) for c in f"{int(key):05d}"]
    if digits[0] >= len(NBG_LINKS) or any(d >= len(NBG_OPS) for d in digits[1:]):
        raise ValueError(
            f"{key!r} is not a NAS-Bench-Graph key: its first digit must be a link index 0..8 "
            "and the other four operation indices 0..8."
        )
    return digits[0], (digits[1], digits[2], digits[3], digits[4])


def write_key_file(keys: Iterable[int], path: str | os.PathLike) -> Path:
    """Write sorted ``keys`` as gzip text, one per line (byte-reproducible: mtime 0)."""
    ordered = sorted({int(k) for k in keys})
    for k in ordered:
        key_decisions(k)
    raw = "".join(f"{k}\n" for k in ordered).encode("ascii")
    out = Path(path)
    out.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    return out


def read_key_file(path: str | os.PathLike) -> tuple[int, ...]:
    """The sorted keys of a key file; ``InvalidParameterError`` naming the file if damaged."""
    where = os.fspath(path)
    try:
        text = gzip.decompress(Path(where).read_bytes()).decode("ascii")
        keys = tuple(int(t) for t in text.split())
        for k in keys:
            key_decisions(k)
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{where!r} is not a NAS-Bench-Graph key file (gzip text, one key per line): {exc}"
        ) from exc
    if list(keys) != sorted(set(keys)):
        raise InvalidParameterError(f"{where!r}: the keys must be sorted and distinct.")
    return keys


def shipped_key_file() -> Path:
    """The key file shipped with the package (``data/spaces/nas_bench_graph_keys.txt.gz``)."""

    return shipped_spaces_dir() / KEY_FILE


class NASBenchGraphSpace(DeclaredSpace):
    """NAS-Bench-Graph: the 26,206 GNN architectures the benchmark lists (module docstring).

    A ``DeclaredSpace`` with decisions ``link``, ``op0`` .. ``op3`` and one constraint, "listed by
    the benchmark", so every move of the declared machinery (sample, mutate, neighbours,
    crossover, enumeration, Optuna) stays among the listed architectures. The enumeration order
    (``index``) is the sorted key order.

    Args:
        keys: The listed keys; default the shipped key file (tests may pass a subset).
    """

    kind = "nas_bench_graph"

    def __init__(self, keys: Iterable[int] | None = None) -> None:
        listed = read_key_file(shipped_key_file()) if keys is None else tuple(sorted(set(keys)))
        for k in listed:
            key_decisions(k)
        if not listed:
            raise InvalidParameterError("A NAS-Bench-Graph space needs at least one listed key.")
        self.keys = listed
        self._key_set = frozenset(listed)
        self._link_pos = {v: i for i, v in enumerate(NBG_LINK_NAMES)}
        self._op_pos = {v: i for i, v in enumerate(NBG_OPS)}
        decisions = [Decision("link", NBG_LINK_NAMES)]
        decisions += [Decision(f"op{k}", NBG_OPS) for k in range(N_NODES)]
        listed_rule = Constraint(
            f"listed by NAS-Bench-Graph (one canonical form per isomorphism class, "
            f"{len(listed):,} architectures)",
            self._is_listed,
            ("link", *(f"op{k}" for k in range(N_NODES))),
        )
        super().__init__(
            "nas_bench_graph",
            decisions,
            (listed_rule,),
            description=f"NAS-Bench-Graph GNNs: 9 link structures x 4 nodes of 9 ops, "
            f"{len(listed):,} canonical architectures",
        )

    # ----------------------------------------------------------------- keys
    def _key_of_values(self, values: Mapping[str, Any]) -> int | None:
        try:
            link = self._link_pos[values["link"]]
            ops = [self._op_pos[values[f"op{k}"]] for k in range(N_NODES)]
        except (KeyError, TypeError):
            return None
        return arch_key(link, ops)

    def _is_listed(self, values: Mapping[str, Any]) -> bool:
        return self._key_of_values(values) in self._key_set

    def validate(self, arch: Arch) -> Arch:
        """Return ``arch`` if the benchmark lists it, else raise ``InvalidArchitectureError``
        (saying which decision is wrong, or that the combination is not listed)."""
        self._check_form(arch, f"decisions ({', '.join(self.param_names)})")
        key = self._key_of_values(dict(zip(self.param_names, arch.ops)))
        if key is None:
            return super().validate(arch)  # names the decision and its allowed values
        if key not in self._key_set:
            raise InvalidArchitectureError(
                f"'link={arch.ops[0]}|{','.join(arch.ops[1:])}' (key {key}) is not one of the "
                f"{len(self.keys):,} architectures NAS-Bench-Graph lists: the benchmark keeps one "
                "canonical form per isomorphism class, so an isomorphic twin of a listed "
                "architecture (or the all-skip network) is not in the space."
            )
        return arch

    def key(self, arch: Arch) -> int:
        """The benchmark's key of ``arch`` (e.g. 30187 for ``link=0-0-1-2|gat,gcn,skip,fc``)."""
        return int(self._key_of_values(self.values(self.validate(arch))))

    def from_key(self, key: int) -> Arch:
        """The architecture the benchmark stores under ``key`` (must be listed)."""
        try:
            link, ops = key_decisions(key)
        except ValueError as exc:
            raise InvalidArchitectureError(str(exc)) from None
        return self.make([NBG_LINK_NAMES[link], *(NBG_OPS[o] for o in ops)])

    def spec(self) -> dict[str, Any]:
        """The declared spec plus the number of listed architectures and the first/last key."""
        return {**super().spec(), "listed": len(self.keys), "keys": [self.keys[0], self.keys[-1]]}

    # ----------------------------------------------------------------- order
    @cached_property
    def _all(self) -> tuple[Arch, ...]:
        """The listed architectures in sorted key order (= lexicographic decision order)."""
        out = []
        for k in self.keys:
            link, ops = key_decisions(k)
            out.append(Arch(self.name, (NBG_LINK_NAMES[link], *(NBG_OPS[o] for o in ops))))
        return tuple(out)

    @cached_property
    def _index_of_key(self) -> dict[int, int]:
        return {k: i for i, k in enumerate(self.keys)}

    def index(self, arch: Arch) -> int:
        """Position of ``arch`` in the sorted key list."""
        return self._index_of_key[self.key(arch)]

    # ----------------------------------------------------------------- strings
    def format(self, arch: Arch) -> str:
        """``link=0-0-1-2|gat,gcn,skip,fc``: the link structure, then ``op0..op3``."""
        ops = self.validate(arch).ops
        return f"link={ops[0]}|{','.join(ops[1:])}"

    def parse(self, text: str) -> Arch:
        """Inverse of ``format`` (whitespace around the parts allowed)."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"A {self.name} architecture string must be a str; got {type(text).__name__}."
            )
        head, sep, tail = text.strip().partition("|")
        name, eq, link = head.partition("=")
        ops = [o.strip() for o in tail.split(",")]
        if not sep or not eq or name.strip() != "link" or len(ops) != N_NODES:
            raise InvalidArchitectureError(
                f"{text!r} is not a NAS-Bench-Graph architecture string; expected "
                f"'link=L|op0,op1,op2,op3', e.g. 'link=0-0-1-2|gat,gcn,skip,fc'."
            )
        link = link.strip()
        if link not in self._link_pos:
            raise InvalidArchitectureError(
                f"{text!r}: link {link!r} is not one of {', '.join(NBG_LINK_NAMES)}."
            )
        bad = [o for o in ops if o not in self._op_pos]
        if bad:
            raise InvalidArchitectureError(
                f"{text!r}: unknown operation(s) {', '.join(map(repr, bad))}; allowed: "
                f"{', '.join(NBG_OPS)}."
            )
        return self.make([link, *ops])

    # ----------------------------------------------------------------- graph
    def graph(self, arch: Arch) -> ArchGraph:
        """Input (node 0), the 4 operation nodes (1..4, labelled by their op), the output (5).

        Edges: ``link[k] -> k + 1`` for each computing node, then every computing node no other
        node reads -> the output; in that order.
        """
        ops = self.validate(arch).ops
        link = NBG_LINKS[self._link_pos[ops[0]]]
        edges = [(int(src), k + 1) for k, src in enumerate(link)]
        read = set(link)
        out = N_NODES + 1
        edges += [(node, out) for node in range(1, N_NODES + 1) if node not in read]
        return ArchGraph((INPUT, *ops[1:], OUTPUT), tuple(edges))

    def node_labels(self) -> tuple[str, ...]:
        """``input``, ``output`` and the 9 operations (not the link strings)."""
        return (INPUT, OUTPUT, *NBG_OPS)

    def __repr__(self) -> str:
        return f"NASBenchGraphSpace(listed={len(self.keys)})"


__all__ = [
    "KEY_FILE",
    "NBG_LINKS",
    "NBG_LINK_NAMES",
    "NBG_OPS",
    "N_LISTED",
    "NASBenchGraphSpace",
    "arch_key",
    "key_decisions",
    "read_key_file",
    "shipped_key_file",
    "write_key_file",
]
