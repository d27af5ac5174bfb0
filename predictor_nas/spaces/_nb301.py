"""The NAS-Bench-301 (DARTS) cell search space, with its conditional decisions.

A DARTS network has two cell types, ``normal`` and ``reduce``. A cell has two input nodes (0, 1)
and four intermediate nodes (2, 3, 4, 5); each intermediate node sums two operations applied to
two distinct earlier nodes, and the cell output concatenates nodes 2..5. Node 2 always takes nodes
0 and 1; nodes 3, 4, 5 choose their pair of inputs.

The decisions are those of YAHPO Gym's NB301 configuration space (``config_space_v2.json``; the
tests check this module against that file), 34 categoricals in YAHPO's column order:

* ``edge_<cell>_<k>`` (k = 0..13): operation on the k-th candidate edge of the cell. Edges are
  numbered by target node, then source: node 2 <- 0, 1 (edges 0, 1); node 3 <- 0, 1, 2 (2-4);
  node 4 <- 0..3 (5-8); node 5 <- 0..4 (9-13). Values: the 7 ``NB301_OPS``.
* ``inputs_node_<cell>_<n>`` (n = 3, 4, 5): the pair of source nodes ``"i_j"`` (i < j < n).

An edge decision is **active** only when its source is in its target node's input pair (edges 0
and 1 always are): 8 active edges per cell, 16 in all. In an ``Arch`` an inactive edge holds
``INACTIVE`` (``"none"``: no connection); Optuna params hold the active decisions only, as in a
define-by-run objective. ``choices`` is the union of all values (``"none"``, the ops, the pairs),
which integer codes and the one-hot encoding use; ``param_choices`` gives each decision's own.

The standard string is the DARTS ``Genotype`` repr with the two inputs of a node in ascending
source order, e.g. ``Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...],
normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces._base import Arch, SearchSpace, as_rng
from predictor_nas.spaces._graph import INPUT, OUTPUT, ArchGraph

#: DARTS operations, in the order of YAHPO's configuration space.
NB301_OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
#: Value of an inactive edge decision in an ``Arch``.
INACTIVE = "none"
CELLS: tuple[str, ...] = ("normal", "reduce")
#: Intermediate nodes (DARTS numbering: 0 and 1 are the cell inputs).
NODES: tuple[int, ...] = (2, 3, 4, 5)
#: (source, target) of candidate edge k of a cell.
NB301_EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for j in NODES for i in range(j))
#: Input-pair choices of nodes 3, 4, 5 (``"i_j"``, i < j < node), in YAHPO's order.
INPUT_PAIRS: dict[int, tuple[str, ...]] = {
    n: tuple(f"{i}_{j}" for i, j in combinations(range(n), 2)) for n in (3, 4, 5)
}

_EDGE_PARAMS = tuple(f"edge_{c}_{k}" for c in CELLS for k in range(len(NB301_EDGES)))
_INPUT_PARAMS = tuple(f"inputs_node_{c}_{n}" for c in CELLS for n in (3, 4, 5))
_ALL_PAIRS = INPUT_PAIRS[5]
_ITEM = re.compile(r"\(\s*'([A-Za-z0-9_]+)'\s*,\s*(\d+)\s*\)")
_CONCAT = "[2, 3, 4, 5]"


def _pair(text: str) -> tuple[int, int]:
    a, b = text.split("_")
    return int(a), int(b)


class NB301Space(SearchSpace):
    """NAS-Bench-301 / DARTS: 2 cells x (3 input-pair choices + 8 active edges of 7 ops).

    ``(3 * 6 * 10 * 7**8) ** 2`` ~ 1.0e18 architectures. ``canonical_key`` is the standard
    string (no isomorphism reduction beyond ordering each node's two inputs).
    """

    name = "nb301"
    param_names = _EDGE_PARAMS + _INPUT_PARAMS
    choices = (INACTIVE, *NB301_OPS, *_ALL_PAIRS)
    edges = NB301_EDGES

    # ----------------------------------------------------------------- structure
    def param_choices(self, name: str) -> tuple[str, ...]:
        """The 7 ops for an edge decision, the input pairs for an ``inputs_node`` decision."""
        if name.startswith("edge_"):
            return NB301_OPS
        if name.startswith("inputs_node_"):
            return INPUT_PAIRS[int(name.rsplit("_", 1)[1])]
        raise InvalidParameterError(
            f"The 'name' parameter of NB301Space.param_choices must be one of the space's "
            f"param_names. Got {name!r} instead."
        )

    def conditions(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Edge decision -> (its node's ``inputs_node`` decision, pairs that activate it).

        Edges into node 2 are always active and have no condition (as in YAHPO's file).
        """
        out = {}
        for c in CELLS:
            for k, (src, dst) in enumerate(self.edges):
                if dst == 2:
                    continue
                pairs = tuple(p for p in INPUT_PAIRS[dst] if src in _pair(p))
                out[f"edge_{c}_{k}"] = (f"inputs_node_{c}_{dst}", pairs)
        return out

    def _cell_pairs(self, ops: Sequence[str], cell: str) -> dict[int, tuple[int, int]]:
        """Input pair per intermediate node of ``cell`` from an ops tuple."""
        base = len(self.edges) * len(CELLS)
        first = base + 3 * CELLS.index(cell)
        return {2: (0, 1), **{n: _pair(ops[first + n - 3]) for n in (3, 4, 5)}}

    def _active_edges(self, ops: Sequence[str], cell: str) -> list[int]:
        """Indices (0..13) of the active edges of ``cell``, ascending."""
        pairs = self._cell_pairs(ops, cell)
        return [k for k, (src, dst) in enumerate(self.edges) if src in pairs[dst]]

    def active_params(self, arch: Arch) -> tuple[str, ...]:
        """Names of the decisions that are active in ``arch`` (16 edges + 6 input pairs)."""
        ops = self.validate(arch).ops
        return tuple(
            p
            for p, op in zip(self.param_names, ops)
            if not (p.startswith("edge_") and op == INACTIVE)
        )

    @property
    def size(self) -> int:
        """Number of architectures: ``(3 * 6 * 10 * 7**8) ** 2``."""
        return self._cell_size**2

    @property
    def _cell_size(self) -> int:
        return 3 * 6 * 10 * len(NB301_OPS) ** 8

    # ----------------------------------------------------------------- validation
    def validate(self, arch: Arch) -> Arch:
        """Return ``arch`` if it is a valid NB301 architecture, else raise.

        Checks the input pairs, that every active edge holds one of the 7 ops and every inactive
        edge holds ``"none"``.
        """
        self._check_form(arch, "decisions (28 edges, then 6 input pairs)")
        values = dict(zip(self.param_names, arch.ops))
        for p in _INPUT_PARAMS:
            if values[p] not in self.param_choices(p):
                raise InvalidArchitectureError(
                    f"Unknown input pair {values[p]!r} on {p}; allowed: "
                    f"{', '.join(self.param_choices(p))}."
                )
        for c in CELLS:
            active = set(self._active_edges(arch.ops, c))
            for k in range(len(self.edges)):
                p = f"edge_{c}_{k}"
                op = values[p]
                if k in active and op not in NB301_OPS:
                    raise InvalidArchitectureError(
                        f"{p} is active (its node's inputs include node {self.edges[k][0]}) and "
                        f"needs one of {', '.join(NB301_OPS)}; got {op!r}."
                    )
                if k not in active and op != INACTIVE:
                    raise InvalidArchitectureError(
                        f"{p} is inactive for the chosen input pair of node {self.edges[k][1]} "
                        f"and must be {INACTIVE!r}; got {op!r}."
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

    # ----------------------------------------------------------------- strings
    def format(self, arch: Arch) -> str:
        """DARTS ``Genotype`` string of ``arch`` (each node's inputs in ascending source order)."""
        ops = self.validate(arch).ops
        parts = []
        for c in CELLS:
            items = [
                f"('{ops[len(self.edges) * CELLS.index(c) + k]}', {self.edges[k][0]})"
                for k in self._active_edges(ops, c)
            ]
            parts.append(f"{c}=[{', '.join(items)}], {c}_concat={_CONCAT}")
        return f"Genotype({', '.join(parts)})"

    def parse(self, text: str) -> Arch:
        """Parse a DARTS ``Genotype(normal=[(op, src), ...], normal_concat=[2, 3, 4, 5], ...)``.

        Each cell lists 8 ``(op, source)`` pairs, two per node 2, 3, 4, 5 in node order (either
        order within a node); node 2 takes sources 0 and 1, node n two distinct sources < n.
        """
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"A NB301 architecture string must be a str; got {type(text).__name__}."
            )
        s = text.strip()
        form = "Genotype(normal=[('op', src), ...], normal_concat=[2, 3, 4, 5], reduce=[...], "
        form += "reduce_concat=[2, 3, 4, 5])"
        if not (s.startswith("Genotype(") and s.endswith(")")):
            raise InvalidArchitectureError(f"A NB301 string looks like {form}; got {text!r}.")
        ops = [INACTIVE] * len(self.param_names)
        n_edges = len(self.edges)
        for ci, c in enumerate(CELLS):
            m = re.search(rf"\b{c}\s*=\s*\[([^\]]*)\]", s)
            if m is None:
                raise InvalidArchitectureError(
                    f"{text!r} has no '{c}=[...]' list; expected {form}."
                )
            concat = re.search(rf"\b{c}_concat\s*=\s*(\[[^\]]*\]|range\(2,\s*6\))", s)
            if concat is not None and re.sub(r"\s", "", concat.group(1)) not in (
                "[2,3,4,5]",
                "range(2,6)",
            ):
                raise InvalidArchitectureError(
                    f"{c}_concat must be [2, 3, 4, 5] (all intermediate nodes); in {text!r}."
                )
            body = m.group(1)
            items = _ITEM.findall(body)
            if len(items) != 8 or _ITEM.sub("", body).replace(",", "").strip():
                raise InvalidArchitectureError(
                    f"The {c} cell of {text!r} must list exactly 8 ('op', source) pairs, two per "
                    f"node 2..5; got {len(items)}."
                )
            for node in NODES:
                (op_a, src_a), (op_b, src_b) = items[2 * (node - 2) : 2 * (node - 1)]
                srcs = {int(src_a): op_a, int(src_b): op_b}
                if len(srcs) != 2 or max(srcs) >= node:
                    raise InvalidArchitectureError(
                        f"Node {node} of the {c} cell needs two distinct sources < {node}; got "
                        f"{int(src_a)} and {int(src_b)} in {text!r}."
                    )
                if node == 2 and set(srcs) != {0, 1}:
                    raise InvalidArchitectureError(
                        f"Node 2 of the {c} cell takes sources 0 and 1; got {sorted(srcs)} in "
                        f"{text!r}."
                    )
                for src, op in srcs.items():
                    if op not in NB301_OPS:
                        raise InvalidArchitectureError(
                            f"Unknown operation {op!r} in {text!r}; allowed: "
                            f"{', '.join(NB301_OPS)}."
                        )
                    ops[ci * n_edges + self.edges.index((src, node))] = op
                if node > 2:
                    a, b = sorted(srcs)
                    ops[2 * n_edges + 3 * ci + node - 3] = f"{a}_{b}"
        return self.make(ops)

    def canonical_key(self, arch: Arch) -> str:
        """The standard string (inputs of a node are already in a canonical order)."""
        return self.format(arch)

    # ----------------------------------------------------------------- graph
    #: Labels of the structural nodes of ``graph`` (not operations).
    structural_labels = frozenset({"sum", "concat"})

    def graph(self, arch: Arch) -> ArchGraph:
        """The normal cell then the reduce cell as one DAG with ops on nodes.

        Per cell: an op node per active edge (its op), a ``sum`` node per intermediate node
        (2..5) and a ``concat`` node (the cell output). Both inputs of the normal cell are the
        network input; both inputs of the reduce cell are the normal cell's ``concat``; the
        reduce cell's ``concat`` feeds the output.
        """
        ops = self.validate(arch).ops
        labels: list[str] = [INPUT]
        edges: list[tuple[int, int]] = []
        cell_in = 0
        for ci, c in enumerate(CELLS):
            node_at = {0: cell_in, 1: cell_in}
            active = set(self._active_edges(ops, c))
            for n in NODES:
                op_nodes = []
                for k, (src, dst) in enumerate(self.edges):
                    if dst == n and k in active:
                        labels.append(ops[ci * len(self.edges) + k])
                        edges.append((node_at[src], len(labels) - 1))
                        op_nodes.append(len(labels) - 1)
                labels.append("sum")
                node_at[n] = len(labels) - 1
                edges.extend((o, node_at[n]) for o in op_nodes)
            labels.append("concat")
            edges.extend((node_at[n], len(labels) - 1) for n in NODES)
            cell_in = len(labels) - 1
        labels.append(OUTPUT)
        edges.append((cell_in, len(labels) - 1))
        return ArchGraph(tuple(labels), tuple(edges))

    def node_labels(self) -> tuple[str, ...]:
        """Node labels of ``graph``: input, output, the 7 ops, ``sum``, ``concat``."""
        return (INPUT, OUTPUT, *NB301_OPS, "sum", "concat")

    # ----------------------------------------------------------------- index
    def _cell_codes(self, ops: Sequence[str], cell: str) -> list[tuple[int, int]]:
        """(code, radix) digits of one cell: its 3 input pairs, then its 8 active ops."""
        ci = CELLS.index(cell)
        digits = [
            (INPUT_PAIRS[n].index(ops[2 * len(self.edges) + 3 * ci + n - 3]), len(INPUT_PAIRS[n]))
            for n in (3, 4, 5)
        ]
        digits += [
            (NB301_OPS.index(ops[ci * len(self.edges) + k]), len(NB301_OPS))
            for k in self._active_edges(ops, cell)
        ]
        return digits

    def index(self, arch: Arch) -> int:
        """Position in a mixed-radix order: the normal cell is the major digit group."""
        ops = self.validate(arch).ops
        idx = 0
        for c in CELLS:
            for code, radix in self._cell_codes(ops, c):
                idx = idx * radix + code
        return idx

    def from_index(self, index: int) -> Arch:
        """Inverse of ``index``."""
        try:
            bad = isinstance(index, bool) or not 0 <= int(index) < self.size or int(index) != index
        except (TypeError, ValueError, OverflowError):
            bad = True
        if bad:
            raise InvalidArchitectureError(
                f"A NB301 index must be an int in [0, {self.size - 1}]; got {index!r}."
            )
        normal, reduce = divmod(int(index), self._cell_size)
        ops = [INACTIVE] * len(self.param_names)
        for ci, rest in enumerate((normal, reduce)):
            radices = [len(NB301_OPS)] * 8
            op_codes = []
            for r in reversed(radices):
                rest, c = divmod(rest, r)
                op_codes.append(c)
            op_codes.reverse()
            pair_codes = []
            for n in (5, 4, 3):
                rest, c = divmod(rest, len(INPUT_PAIRS[n]))
                pair_codes.append((n, c))
            for n, c in pair_codes:
                ops[2 * len(self.edges) + 3 * ci + n - 3] = INPUT_PAIRS[n][c]
            active = self._active_edges(ops, CELLS[ci])
            for k, c in zip(active, op_codes):
                ops[ci * len(self.edges) + k] = NB301_OPS[c]
        return self.make(ops)

    # ----------------------------------------------------------------- random moves
    def _with_pairs(self, ops: list[str], cell: str, node: int, pair: str) -> None:
        """Set node ``node``'s input pair in place ("rewire").

        Sources kept keep their ops; new sources take the removed sources' ops, in order.
        """
        ci = CELLS.index(cell)
        n_edges = len(self.edges)
        old = self._cell_pairs(ops, cell)[node]
        new = _pair(pair)
        ops[2 * n_edges + 3 * ci + node - 3] = pair
        removed = [ops[ci * n_edges + self.edges.index((s, node))] for s in old if s not in new]
        for s in old:
            if s not in new:
                ops[ci * n_edges + self.edges.index((s, node))] = INACTIVE
        for s in new:
            if s not in old:
                k = ci * n_edges + self.edges.index((s, node))
                ops[k] = removed.pop(0)

    def sample(self, rng: np.random.Generator | int) -> Arch:
        """Draw an architecture uniformly (uniform input pairs, then uniform active ops)."""
        g = as_rng(rng)
        ops = [INACTIVE] * len(self.param_names)
        n_edges = len(self.edges)
        for ci, c in enumerate(CELLS):
            for n in (3, 4, 5):
                pairs = INPUT_PAIRS[n]
                ops[2 * n_edges + 3 * ci + n - 3] = pairs[int(g.integers(len(pairs)))]
            for k in self._active_edges(ops, c):
                ops[ci * n_edges + k] = NB301_OPS[int(g.integers(len(NB301_OPS)))]
        return self.make(ops)

    def mutate(self, arch: Arch, rng: np.random.Generator | int) -> Arch:
        """Change one uniformly chosen active decision (16 edge ops + 6 input pairs).

        An op changes to a different op. An input pair changes to a different pair ("rewire"):
        sources kept keep their ops, new sources take the removed sources' ops in order.
        """
        g = as_rng(rng)
        ops = list(self.validate(arch).ops)
        active = self.active_params(arch)
        p = active[int(g.integers(len(active)))]
        if p.startswith("edge_"):
            i = self.param_names.index(p)
            cur = NB301_OPS.index(ops[i])
            ops[i] = NB301_OPS[(cur + int(g.integers(1, len(NB301_OPS)))) % len(NB301_OPS)]
        else:
            _, _, cell, node = p.split("_")
            pairs = INPUT_PAIRS[int(node)]
            cur = pairs.index(ops[self.param_names.index(p)])
            new = pairs[(cur + int(g.integers(1, len(pairs)))) % len(pairs)]
            self._with_pairs(ops, cell, int(node), new)
        return self.make(ops)

    def neighbours(self, arch: Arch) -> list[Arch]:
        """All single-decision changes: 16 x 6 op changes and 2 x (2 + 5 + 9) rewires."""
        ops = self.validate(arch).ops
        out = []
        for p in self.active_params(arch):
            i = self.param_names.index(p)
            if p.startswith("edge_"):
                for op in NB301_OPS:
                    if op != ops[i]:
                        new = list(ops)
                        new[i] = op
                        out.append(self.make(new))
            else:
                _, _, cell, node = p.split("_")
                for pair in INPUT_PAIRS[int(node)]:
                    if pair != ops[i]:
                        new = list(ops)
                        self._with_pairs(new, cell, int(node), pair)
                        out.append(self.make(new))
        return out

    # ----------------------------------------------------------------- Optuna mapping
    def to_params(self, arch: Arch) -> dict[str, str]:
        """Optuna params of the active decisions only (as a define-by-run objective has them)."""
        ops = self.validate(arch).ops
        active = set(self.active_params(arch))
        return {p: op for p, op in zip(self.param_names, ops) if p in active}

    def suggest(self, trial: Any) -> Arch:
        """Ask an Optuna trial for the input pairs, then for the edges they make active."""
        params: dict[str, Any] = {}
        for p in _INPUT_PARAMS:
            params[p] = trial.suggest_categorical(p, list(self.param_choices(p)))
        ops = [INACTIVE] * len(self.param_names)
        for p in _INPUT_PARAMS:
            ops[self.param_names.index(p)] = params[p]
        for c in CELLS:
            for k in self._active_edges(ops, c):
                p = f"edge_{c}_{k}"
                params[p] = trial.suggest_categorical(p, list(NB301_OPS))
        return self.from_params(params)

    def from_params(self, params: Mapping[str, Any]) -> Arch:
        """Build an ``Arch`` from the active decisions; inactive or unknown keys are refused."""
        missing = [p for p in _INPUT_PARAMS if p not in params]
        if missing:
            raise InvalidArchitectureError(
                f"Params for space 'nb301' miss {', '.join(missing)} (the input pairs decide "
                "which edges are active)."
            )
        unknown = sorted(set(params) - set(self.param_names))
        if unknown:
            raise InvalidArchitectureError(
                f"Params for space 'nb301' have unknown keys {', '.join(unknown)}."
            )
        ops = [INACTIVE] * len(self.param_names)
        for p in _INPUT_PARAMS:
            ops[self.param_names.index(p)] = params[p]
        for p in _INPUT_PARAMS:
            if params[p] not in self.param_choices(p):
                raise InvalidArchitectureError(
                    f"Unknown input pair {params[p]!r} on {p}; allowed: "
                    f"{', '.join(self.param_choices(p))}."
                )
        for ci, c in enumerate(CELLS):
            active = self._active_edges(ops, c)
            for k in range(len(self.edges)):
                p = f"edge_{c}_{k}"
                if k in active:
                    if p not in params:
                        raise InvalidArchitectureError(
                            f"Params for space 'nb301' miss the active edge {p}."
                        )
                    ops[ci * len(self.edges) + k] = params[p]
                elif p in params:
                    raise InvalidArchitectureError(
                        f"{p} is inactive for the chosen input pair of node "
                        f"{self.edges[k][1]} ({params[f'inputs_node_{c}_{self.edges[k][1]}']!r}) "
                        "and must not be in the params."
                    )
        return self.make(ops)
