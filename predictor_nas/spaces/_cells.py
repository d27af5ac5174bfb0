"""Cell spaces: operations on the edges of a fixed DAG (NB201-like) or on nodes with the edges
as decisions (NB101-like)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces._base import Arch
from predictor_nas.spaces._declared import Constraint, Decision, DeclaredSpace
from predictor_nas.spaces._graph import INPUT, OUTPUT, ArchGraph

_TOKEN = re.compile(r"^([A-Za-z0-9_.\-]+)~(\d+)$")


# --------------------------------------------------------------------------- ops on edges
def full_dag_edges(n_nodes: int) -> tuple[tuple[int, int], ...]:
    """Every edge ``i -> j`` (i < j) of an ``n_nodes`` cell, by target node then source."""
    return tuple((i, j) for j in range(1, n_nodes) for i in range(j))


def route_lengths(edges: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Edge counts of every input-to-output route of a cell DAG, shortest first."""
    last = max(j for _, j in edges)
    out: list[int] = []

    def walk(node: int, depth: int) -> None:
        if node == last:
            out.append(depth)
            return
        for i, j in edges:
            if i == node:
                walk(j, depth + 1)

    walk(0, 0)
    return tuple(sorted(out))


def edge_op_graph(edges: Sequence[tuple[int, int]], ops: Sequence[str]) -> ArchGraph:
    """The op-on-node graph of a cell whose ops sit on edges.

    Every edge ``k`` of the cell becomes node ``k + 1`` carrying its op; node 0 is the cell
    input and node ``E + 1`` the output. A graph edge links op node (i -> j) to every op node
    (j -> k), the input to every op node leaving cell node 0, and every op node entering the
    last cell node to the output (edges listed in that order, op node by op node).
    """
    last = max(j for _, j in edges)
    out_node = len(edges) + 1
    links: list[tuple[int, int]] = []
    for k, (i, j) in enumerate(edges):
        if i == 0:
            links.append((0, k + 1))
        if j == last:
            links.append((k + 1, out_node))
        for m, (i2, _) in enumerate(edges):
            if i2 == j:
                links.append((k + 1, m + 1))
    return ArchGraph((INPUT, *ops, OUTPUT), tuple(links))


def edge_op_expression(
    edges: Sequence[tuple[int, int]],
    ops: Sequence[str],
    zero_ops: frozenset[str],
    identity_ops: frozenset[str],
) -> str:
    """The cell's output as a symbolic expression of its input: equal for cells that compute
    the same function.

    A zero op (or any op applied to a zero node) contributes a zero term ``#``, an identity op
    passes its source's expression through, any other op wraps it as ``(expr)@op``; a node is
    the sorted ``+``-sum of its incoming terms (addition commutes).
    """
    last = max(j for _, j in edges)
    expr = {0: "0"}
    for j in range(1, last + 1):
        terms = []
        for k, (i, jj) in enumerate(edges):
            if jj != j:
                continue
            op, src = ops[k], expr.get(i, "#")
            if op in zero_ops or src == "#":
                terms.append("#")
            elif op in identity_ops:
                terms.append(src)
            else:
                terms.append(f"({src})@{op}")
        expr[j] = "+".join(sorted(terms)) if terms else "#"
    return expr[last]


def greedy_prune(arch: Arch, key: Any, zero: str, canonical_key: Any) -> tuple[str, ...]:
    """Set every op whose removal keeps ``canonical_key`` to ``zero``, to a fixed point."""
    ops = list(arch.ops)
    changed = True
    while changed:
        changed = False
        for e, op in enumerate(ops):
            if op == zero:
                continue
            trial = [*ops[:e], zero, *ops[e + 1 :]]
            if canonical_key(Arch(arch.space, tuple(trial))) == key:
                ops = trial
                changed = True
    return tuple(ops)


def format_edge_cell(edges: Sequence[tuple[int, int]], ops: Sequence[str]) -> str:
    """``|op~0|+|op~0|op~1|+...``: per target node, the ops of its incoming edges."""
    last = max(j for _, j in edges)
    groups = []
    for j in range(1, last + 1):
        toks = [f"{ops[k]}~{i}" for k, (i, jj) in enumerate(edges) if jj == j]
        groups.append("|" + "|".join(toks) + "|")
    return "+".join(groups)


def parse_edge_cell(
    text: Any,
    edges: Sequence[tuple[int, int]],
    ops: Sequence[str],
    what: str,
    token: re.Pattern[str] = _TOKEN,
) -> list[str]:
    """Inverse of ``format_edge_cell``: the op per edge, with errors that say what is wrong.

    ``token`` matches one ``op~source`` item (group 1 the op, group 2 the source).
    """
    if not isinstance(text, str):
        raise InvalidArchitectureError(
            f"A {what} architecture string must be a str; got {type(text).__name__}."
        )
    form = format_edge_cell(edges, ["op"] * len(edges))
    last = max(j for _, j in edges)
    groups = text.strip().split("+")
    if len(groups) != last:
        raise InvalidArchitectureError(
            f"A {what} string has {last} node groups joined by '+', like {form}; "
            f"got {len(groups)} group(s) in {text!r}."
        )
    out: list[str | None] = [None] * len(edges)
    for j, group in enumerate(groups, start=1):
        if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
            raise InvalidArchitectureError(
                f"Node group {j} of {text!r} must start and end with '|', like {form}."
            )
        want = [(k, i) for k, (i, jj) in enumerate(edges) if jj == j]
        tokens = group[1:-1].split("|")
        if len(tokens) != len(want):
            sources = [i for _, i in want]
            listed = (
                f"op~0 .. op~{len(want) - 1}"
                if sources == list(range(len(want)))
                else ", ".join(f"op~{i}" for i in sources)
            )
            raise InvalidArchitectureError(
                f"Node {j} must have {len(want)} incoming edge(s) ({listed}); "
                f"got {len(tokens)} in group {group!r} of {text!r}."
            )
        for (k, i), tok in zip(want, tokens):
            m = token.match(tok)
            if m is None:
                raise InvalidArchitectureError(
                    f"Edge token {tok!r} in {text!r} is not of the form 'op~source'."
                )
            op, src = m.group(1), int(m.group(2))
            if src != i:
                raise InvalidArchitectureError(
                    f"Edge token {tok!r} of node {j} must have source node {i} "
                    f"(edges are listed as ~0, ~1, ... in order); in {text!r}."
                )
            if op not in ops:
                raise InvalidArchitectureError(
                    f"Unknown operation {op!r} in {text!r}; allowed: {', '.join(ops)}."
                )
            out[k] = op
    return [o for o in out if o is not None]


class CellEdgesSpace(DeclaredSpace):
    """A cell with one operation on every edge of a fixed DAG (NB201's kind of space).

    Args:
        name: Registry name.
        ops: Operations every edge may take (any number).
        n_nodes: Cell nodes, input (0) and output (n_nodes - 1) included.
        edges: ``(i, j)`` pairs, i < j; default every pair (``full_dag_edges``). Decision
            ``edge_k`` is the op on edge ``k``.
        zero_ops: Ops that output zeros (``none``): paths through them carry nothing.
        identity_ops: Ops that pass their input through (``skip_connect``).
        description: One line for listings.
    """

    kind = "cell_edges"

    def __init__(
        self,
        name: str,
        ops: Sequence[str],
        *,
        n_nodes: int = 4,
        edges: Sequence[Sequence[int]] | None = None,
        zero_ops: Sequence[str] = ("none",),
        identity_ops: Sequence[str] = ("skip_connect",),
        description: str = "",
    ) -> None:
        ops = tuple(str(o) for o in ops)
        if len(ops) < 1 or len(set(ops)) != len(ops):
            raise InvalidParameterError(f"Space {name!r}: 'ops' must be distinct names. Got {ops}.")
        if isinstance(n_nodes, bool) or not isinstance(n_nodes, int) or n_nodes < 2:
            raise InvalidParameterError(
                f"Space {name!r}: 'n_nodes' must be an int >= 2. Got {n_nodes!r} instead."
            )
        dag = full_dag_edges(n_nodes) if edges is None else tuple(tuple(e) for e in edges)
        for e in dag:
            if len(e) != 2 or not 0 <= e[0] < e[1] < n_nodes:
                raise InvalidParameterError(
                    f"Space {name!r}: every edge must be [i, j] with 0 <= i < j < {n_nodes}. "
                    f"Got {list(e)!r}."
                )
        if not dag or max(j for _, j in dag) != n_nodes - 1:
            raise InvalidParameterError(
                f"Space {name!r}: some edge must enter the output node {n_nodes - 1}."
            )
        self.ops = ops
        self.n_nodes = n_nodes
        self.edges = dag
        self.zero_ops = frozenset(o for o in zero_ops if o in ops)
        self.identity_ops = frozenset(o for o in identity_ops if o in ops)
        decisions = [Decision(f"edge_{k}", ops) for k in range(len(dag))]
        super().__init__(name, decisions, description=description)

    def graph(self, arch: Arch) -> ArchGraph:
        """The op-on-node graph (``edge_op_graph``): E + 2 nodes."""
        return edge_op_graph(self.edges, self.validate(arch).ops)

    def path_lengths(self) -> tuple[int, ...]:
        """Lengths of the cell's input-output routes."""
        return route_lengths(self.edges)

    def format(self, arch: Arch) -> str:
        """``|op~0|+|op~0|op~1|+...`` (NB201's string form for any DAG and op set)."""
        return format_edge_cell(self.edges, self.validate(arch).ops)

    def parse(self, text: str) -> Arch:
        """Inverse of ``format``."""
        return Arch(self.name, tuple(parse_edge_cell(text, self.edges, self.ops, self.name)))

    def canonical_key(self, arch: Arch) -> str:
        """Symbolic expression of the output (``edge_op_expression``): isomorphic cells share
        it."""
        return edge_op_expression(
            self.edges, self.validate(arch).ops, self.zero_ops, self.identity_ops
        )

    def prune(self, arch: Arch) -> Arch:
        """Ops that cannot change the cell's function set to the first zero op (if any)."""
        if not self.zero_ops:
            return self.validate(arch)
        zero = next(o for o in self.ops if o in self.zero_ops)
        key = self.canonical_key(arch)
        return Arch(self.name, greedy_prune(arch, key, zero, self.canonical_key))

    def spec(self) -> dict[str, Any]:
        """The declaration (see ``_yaml``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "ops": list(self.ops),
            "nodes": self.n_nodes,
            "edges": [list(e) for e in self.edges],
            "zero_ops": sorted(self.zero_ops),
            "identity_ops": sorted(self.identity_ops),
        }


# --------------------------------------------------------------------------- ops on nodes
class CellNodesSpace(DeclaredSpace):
    """A cell with an operation on each intermediate node and the edges as decisions
    (NB101's kind of space).

    Decisions: ``node_1 .. node_{N-2}`` (the op of each intermediate node) and ``edge_i_j``
    (0/1, an edge from node i to node j, i < j). Node 0 is the input, node N-1 the output. A
    cell needs an input-to-output path and at most ``max_edges`` edges (constraints); nodes off
    every input-output path are dead: ``prune`` drops their edges and the canonical key (a
    Weisfeiler-Lehman hash of the pruned graph, as NB101 hashes cells) ignores them.

    Args:
        name: Registry name.
        ops: Operations of the intermediate nodes.
        max_nodes: N, input and output included (>= 2).
        max_edges: Largest number of edges.
        description: One line for listings.
    """

    kind = "cell_nodes"

    def __init__(
        self,
        name: str,
        ops: Sequence[str],
        *,
        max_nodes: int = 7,
        max_edges: int = 9,
        description: str = "",
    ) -> None:
        ops = tuple(str(o) for o in ops)
        if not ops or len(set(ops)) != len(ops):
            raise InvalidParameterError(f"Space {name!r}: 'ops' must be distinct names. Got {ops}.")
        for key, v, lo in (("max_nodes", max_nodes, 2), ("max_edges", max_edges, 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise InvalidParameterError(
                    f"Space {name!r}: {key!r} must be an int >= {lo}. Got {v!r} instead."
                )
        self.ops = ops
        self.n_nodes = max_nodes
        self.max_edges = max_edges
        self.pairs = tuple((i, j) for i in range(max_nodes) for j in range(i + 1, max_nodes))
        decisions = [Decision(f"node_{k}", ops) for k in range(1, max_nodes - 1)]
        decisions += [Decision(f"edge_{i}_{j}", (0, 1)) for i, j in self.pairs]
        constraints = [
            Constraint(f"at most {max_edges} edges", self._few_edges),
            Constraint("a path from the input to the output node", self._connected),
        ]
        super().__init__(name, decisions, constraints, description)

    def _bits(self, values: Any) -> list[tuple[int, int]]:
        return [(i, j) for i, j in self.pairs if values.get(f"edge_{i}_{j}") == 1]

    def _few_edges(self, values: Any) -> bool:
        return len(self._bits(values)) <= self.max_edges

    def _connected(self, values: Any) -> bool:
        reach = {0}
        for i, j in sorted(self._bits(values), key=lambda e: e[0]):
            if i in reach:
                reach.add(j)
        return self.n_nodes - 1 in reach

    def graph(self, arch: Arch) -> ArchGraph:
        """Nodes: input, the intermediate ops, output; edges: the chosen ones (all nodes kept,
        dead ones included; ``graph(...).pruned()`` drops them)."""
        values = self.values(self.validate(arch))
        labels = (INPUT, *(values[f"node_{k}"] for k in range(1, self.n_nodes - 1)), OUTPUT)
        return ArchGraph(labels, tuple(self._bits(values)))

    def canonical_key(self, arch: Arch) -> str:
        """Weisfeiler-Lehman hash of the pruned graph (isomorphic cells share it)."""
        return self.graph(arch).pruned().wl_hash()

    def prune(self, arch: Arch) -> Arch:
        """``arch`` without the edges of dead nodes (nodes off every input-output path)."""
        g = self.graph(arch)
        live = g.live_nodes()
        values = self.values(arch)
        for i, j in self.pairs:
            if values[f"edge_{i}_{j}"] == 1 and not (i in live and j in live):
                values[f"edge_{i}_{j}"] = 0
        return Arch(self.name, tuple(values[n] for n in self.param_names))

    def format(self, arch: Arch) -> str:
        """``op,op,...|bits``: intermediate ops, then the upper-triangle adjacency row-major."""
        values = self.values(self.validate(arch))
        ops = ",".join(values[f"node_{k}"] for k in range(1, self.n_nodes - 1))
        bits = "".join(str(values[f"edge_{i}_{j}"]) for i, j in self.pairs)
        return f"{ops}|{bits}"

    def parse(self, text: str) -> Arch:
        """Inverse of ``format``."""
        if not isinstance(text, str) or text.count("|") != 1:
            raise InvalidArchitectureError(
                f"A {self.name} string is 'op,op,...|0110...' ({self.n_nodes - 2} ops, "
                f"{len(self.pairs)} adjacency bits); got {text!r}."
            )
        ops_text, bits = (x.strip() for x in text.split("|"))
        ops = [o.strip() for o in ops_text.split(",")] if ops_text else []
        if len(ops) != self.n_nodes - 2 or len(bits) != len(self.pairs) or set(bits) - {"0", "1"}:
            raise InvalidArchitectureError(
                f"A {self.name} string has {self.n_nodes - 2} ops and {len(self.pairs)} 0/1 "
                f"adjacency bits (upper triangle, row-major); got {text!r}."
            )
        for o in ops:
            if o not in self.ops:
                raise InvalidArchitectureError(
                    f"Unknown operation {o!r} in {text!r}; allowed: {', '.join(self.ops)}."
                )
        return self.make([*ops, *(int(b) for b in bits)])

    def from_matrix(self, matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> Arch:
        """An architecture from an adjacency matrix (N x N, row = source) and the ops of the
        intermediate nodes (or all N, ``input``/``output`` first and last)."""
        ops = list(ops)
        if len(ops) == self.n_nodes:
            ops = ops[1:-1]
        bits = [int(matrix[i][j]) for i, j in self.pairs]
        return self.make([*ops, *bits])

    def spec(self) -> dict[str, Any]:
        """The declaration (see ``_yaml``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "ops": list(self.ops),
            "max_nodes": self.n_nodes,
            "max_edges": self.max_edges,
        }
