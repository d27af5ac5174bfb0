"""One labelled DAG per architecture: what every encoding, key and builder reads.

Every search space maps an ``Arch`` to an ``ArchGraph`` (``space.graph(arch)``): nodes carry a
label (an operation, a layer description such as ``conv:64:k3:s1``, or ``input`` / ``output``),
edges carry data forward. Node 0 is the network's (or cell's) input, the last node its output,
and every edge goes from a lower to a higher node number (the node order is topological).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

INPUT = "input"
OUTPUT = "output"
#: Separator of the tokens of a node label (``conv|filters=32|kernel_size=3``).
LABEL_SEP = "|"


@dataclass(frozen=True)
class ArchGraph:
    """A labelled DAG with one input (node 0) and one output (the last node).

    Attributes:
        labels: (n_nodes,) node labels; ``labels[0] == "input"``, ``labels[-1] == "output"``.
        edges: Directed edges ``(src, dst)`` with ``src < dst``, in a fixed order (encodings
            that list edges keep it).
    """

    labels: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        n = len(self.labels)
        if n < 2 or self.labels[0] != INPUT or self.labels[-1] != OUTPUT:
            raise ValueError(
                f"An ArchGraph needs >= 2 nodes, the first labelled {INPUT!r} and the last "
                f"{OUTPUT!r}; got {list(self.labels)!r}."
            )
        for s, d in self.edges:
            if not 0 <= s < d < n:
                raise ValueError(f"Edge ({s}, {d}) must satisfy 0 <= src < dst < {n}.")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.labels)

    @cached_property
    def successors(self) -> tuple[tuple[int, ...], ...]:
        """Per node, its successors in edge order."""
        out: list[list[int]] = [[] for _ in self.labels]
        for s, d in self.edges:
            out[s].append(d)
        return tuple(tuple(x) for x in out)

    @cached_property
    def predecessors(self) -> tuple[tuple[int, ...], ...]:
        """Per node, its predecessors in edge order."""
        out: list[list[int]] = [[] for _ in self.labels]
        for s, d in self.edges:
            out[d].append(s)
        return tuple(tuple(x) for x in out)

    def adjacency(self) -> np.ndarray:
        """0/1 adjacency matrix, uint8 shape (n_nodes, n_nodes), row = source."""
        a = np.zeros((self.n_nodes, self.n_nodes), dtype=np.uint8)
        for s, d in self.edges:
            a[s, d] = 1
        return a

    def live_nodes(self, dead_labels: frozenset[str] = frozenset()) -> frozenset[int]:
        """Nodes on some input-to-output path that avoids nodes labelled in ``dead_labels``."""
        n = self.n_nodes
        alive = [self.labels[i] not in dead_labels for i in range(n)]
        fwd = [False] * n
        fwd[0] = True
        for i in range(n):
            if fwd[i] and alive[i]:
                for j in self.successors[i]:
                    fwd[j] = True
        bwd = [False] * n
        bwd[n - 1] = True
        for i in range(n - 1, -1, -1):
            if bwd[i] and alive[i]:
                for j in self.predecessors[i]:
                    bwd[j] = True
        return frozenset(i for i in range(n) if fwd[i] and bwd[i] and alive[i])

    def pruned(self, dead_labels: frozenset[str] = frozenset()) -> ArchGraph:
        """The subgraph of ``live_nodes`` (renumbered in order); input and output always kept.

        With no live path at all, the result is the input and output nodes without an edge.
        """
        live = self.live_nodes(dead_labels)
        keep = sorted(live | {0, self.n_nodes - 1})
        new = {old: k for k, old in enumerate(keep)}
        edges = tuple((new[s], new[d]) for s, d in self.edges if s in live and d in live)
        return ArchGraph(tuple(self.labels[i] for i in keep), edges)

    def paths(
        self, skip_labels: frozenset[str] = frozenset(), limit: int = 100_000
    ) -> Iterator[tuple[str, ...]]:
        """Label sequences of the inner nodes of every input-to-output path.

        Paths through a node labelled in ``skip_labels`` (zero operations) are left out. At most
        ``limit`` paths are produced (large graphs have exponentially many).
        """
        out = self.n_nodes - 1
        count = 0
        stack: list[tuple[int, tuple[str, ...]]] = [(0, ())]
        while stack and count < limit:
            node, acc = stack.pop()
            for nxt in reversed(self.successors[node]):
                if nxt == out:
                    count += 1
                    yield acc
                    if count >= limit:
                        return
                elif self.labels[nxt] not in skip_labels:
                    stack.append((nxt, (*acc, self.labels[nxt])))

    def wl_hash(self, iterations: int | None = None) -> str:
        """Weisfeiler-Lehman hash of the labelled DAG (in- and out-neighbourhoods kept apart).

        Equal for isomorphic graphs; different graphs collide only in rare, highly regular
        cases (the usual NAS-Bench-101 hashing scheme). ``iterations`` defaults to the number of
        nodes, enough to reach a fixed point.
        """
        rounds = self.n_nodes if iterations is None else iterations
        h = [_digest(lab) for lab in self.labels]
        for _ in range(rounds):
            h = [
                _digest(
                    h[i]
                    + "|"
                    + ",".join(sorted(h[j] for j in self.predecessors[i]))
                    + "|"
                    + ",".join(sorted(h[j] for j in self.successors[i]))
                )
                for i in range(self.n_nodes)
            ]
        return _digest(",".join(sorted(h)))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
