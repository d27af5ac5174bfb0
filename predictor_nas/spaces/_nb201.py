"""The NAS-Bench-201 cell search space.

A cell is a DAG on 4 nodes (0 = input, 3 = output) with one operation on each of the 6 edges i -> j
(i < j). The standard string lists, per target node j = 1, 2, 3, the operations on its incoming
edges: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` where ``op~i`` is the operation on edge i -> j.
Decision ``edge_k`` is the k-th edge in that string order: (0,1), (0,2), (1,2), (0,3), (1,3), (2,3).
"""

from __future__ import annotations

import gzip
import re
from functools import cached_property
from importlib import resources

from predictor_nas.exceptions import InvalidArchitectureError
from predictor_nas.spaces._base import Arch, SearchSpace
from predictor_nas.spaces._cells import (
    edge_op_expression,
    edge_op_graph,
    greedy_prune,
    parse_edge_cell,
    route_lengths,
)
from predictor_nas.spaces._graph import ArchGraph

NB201_OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)
NB201_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))

_TOKEN = re.compile(r"^([A-Za-z0-9_]+)~(\d+)$")
_IDENTITY = frozenset({"skip_connect"})


class NB201Space(SearchSpace):
    """NAS-Bench-201: 6 edges x 5 operations = 15,625 cells (6,466 unique up to isomorphism).

    The index order is NAS-Bench-201's official one (``api.query_by_index(i)``), shipped with the
    package as a list of codes.
    """

    name = "nb201"
    param_names = tuple(f"edge_{k}" for k in range(6))
    choices = NB201_OPS
    edges = NB201_EDGES
    zero_ops = frozenset({"none"})

    # ----------------------------------------------------------------- official index
    @cached_property
    def _index_codes(self) -> list[str]:
        raw = resources.files("predictor_nas.spaces").joinpath("nb201_index.txt.gz").read_bytes()
        codes = gzip.decompress(raw).decode("ascii").split()
        if len(codes) != self.size or len(set(codes)) != self.size:
            raise RuntimeError("The packaged NB201 index file is damaged; reinstall predictor_nas.")
        return codes

    @cached_property
    def _index_of_code(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self._index_codes)}

    def index(self, arch: Arch) -> int:
        """Official NAS-Bench-201 index (0..15624) of ``arch``."""
        code = "".join(str(c) for c in self.to_codes(arch))
        return self._index_of_code[code]

    def from_index(self, index: int) -> Arch:
        """Architecture at official NAS-Bench-201 index ``index``."""
        try:
            bad = isinstance(index, bool) or not 0 <= int(index) < self.size or int(index) != index
        except (TypeError, ValueError, OverflowError):  # None, "abc", nan, inf
            bad = True
        if bad:
            raise InvalidArchitectureError(
                f"A NAS-Bench-201 index must be an int in [0, {self.size - 1}]; got {index!r}."
            )
        return self.from_codes([int(c) for c in self._index_codes[int(index)]])

    # ----------------------------------------------------------------- strings
    def parse(self, text: str) -> Arch:
        """Parse ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (surrounding whitespace allowed)."""
        ops = parse_edge_cell(text, self.edges, NB201_OPS, "NAS-Bench-201", token=_TOKEN)
        return Arch(self.name, tuple(ops))

    def format(self, arch: Arch) -> str:
        """Standard NAS-Bench-201 string of ``arch``."""
        o = self.validate(arch).ops
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

    # ----------------------------------------------------------------- graph and isomorphism
    def graph(self, arch: Arch) -> ArchGraph:
        """The op-on-node graph: input, the 6 edges' ops (in ``edge_k`` order), output."""
        return edge_op_graph(self.edges, self.validate(arch).ops)

    def path_lengths(self) -> tuple[int, ...]:
        """Lengths of the cell's input-output routes (1, 2, 2, 3)."""
        return route_lengths(self.edges)

    def canonical_key(self, arch: Arch) -> str:
        """Key equal for cells that compute the same function.

        Each node is written as a symbolic expression of the input: ``none`` (or any op applied to
        a zero node) contributes a zero term ``#``, ``skip_connect`` passes its source's expression
        through, any other op wraps it as ``(expr)@op``; a node is the sorted ``+``-sum of its
        incoming terms (addition commutes). The output node's expression is the key. This is the
        isomorphism notion behind NAS-Bench-201's count of 6,466 unique cells.
        """
        return edge_op_expression(self.edges, self.validate(arch).ops, self.zero_ops, _IDENTITY)

    def prune(self, arch: Arch) -> Arch:
        """``arch`` with every operation that cannot change the cell's function set to ``none``.

        Greedy over the edges, repeated to a fixed point: an op becomes ``none`` when the
        ``canonical_key`` stays the same (e.g. ops on edges from a node the input never reaches,
        or into a node that never reaches the output). The result computes the same function; it
        is idempotent. Isomorphic cells may still prune to different strings (e.g. two routes
        swapped), so use ``canonical_key`` to test equivalence.

        What it does not remove: an op leaving a node whose inputs are all zero but that has
        two or more of them (a sum of zeros, ``#+#``, is not simplified to ``#`` by the key).
        Of the 341 cells with no live input-output path, 225 prune to the all-``none`` cell and
        116 keep such dead ops; the key puts the 341 in 5 classes where 1 would do. Simplifying
        zero sums would make 6,462 classes instead of NAS-Bench-201's own count of 6,466, and
        would change the pruned encodings (and so the committed search results) of those 116
        cells; both are kept as they are.
        """
        key = self.canonical_key(arch)
        return Arch(self.name, greedy_prune(arch, key, "none", self.canonical_key))
