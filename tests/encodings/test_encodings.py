"""Encodings: one-hot, path, path statistics and graph forms have the documented shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from predictor_nas.encodings import (
    Encoder,
    graph_arrays,
    onehot,
    path_encoding,
    path_stats,
    path_stats_names,
    to_pyg,
)
from predictor_nas.spaces import get_space

SPACE = get_space("nb201")


def test_onehot_has_one_op_per_edge():
    """One-hot has 6 x 5 columns with exactly one 1 per edge block."""
    archs = [SPACE.from_index(i) for i in range(50)]
    x = onehot(SPACE, archs)
    assert x.shape == (50, 30)
    np.testing.assert_array_equal(x.reshape(50, 6, 5).sum(axis=2), 1)


def test_path_encoding_counts_routes():
    """The all-conv3x3 cell has its 4 routes on 3 distinct op sequences; all-none has none."""
    conv = SPACE.make(["nor_conv_3x3"] * 6)
    none = SPACE.make(["none"] * 6)
    x = path_encoding(SPACE, [conv, none])
    assert x.shape == (2, 84)
    assert x[0].sum() == 4 and np.count_nonzero(x[0]) == 3 and x[0].max() == 2
    assert x[1].sum() == 0


def test_path_stats_of_a_worked_example():
    """Path count, shortest and longest path per op subset match a hand count."""
    # routes: 0->3 skip; 0->1->3 conv3 conv3; 0->2->3 conv3 skip; 0->1->2->3 conv3 pool skip
    cell = SPACE.parse(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    )
    names = path_stats_names(SPACE)
    x = dict(zip(names, path_stats(SPACE, [cell])[0].tolist()))
    assert len(names) == 45 == len(set(names))

    def stats(ops):
        return [x[f"{k}[{ops}]"] for k in ("paths", "min_len", "max_len")]

    assert stats("nor_conv_3x3") == [1, 2, 2]
    assert stats("skip_connect") == [1, 1, 1]
    assert stats("skip_connect,nor_conv_3x3") == [3, 1, 2]
    assert stats("nor_conv_3x3,avg_pool_3x3") == [1, 2, 2]
    assert stats("skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3") == [4, 1, 3]
    assert stats("avg_pool_3x3") == stats("nor_conv_1x1") == [0, 0, 0]


NB201_CELLS = st.lists(st.sampled_from(SPACE.choices), min_size=6, max_size=6).map(SPACE.make)


@given(NB201_CELLS)
def test_path_stats_invariants(cell):
    """All-op paths equal the path encoding's total; counts grow with the subset; pruning is a no-op."""
    x = path_stats(SPACE, [cell])[0].reshape(15, 3)  # subset s = row s - 1 (bit b = op b)
    assert x[-1, 0] == path_encoding(SPACE, [cell]).sum()
    for s in range(1, 16):
        for t in range(1, 16):
            if s & t == s:  # s is a subset of t
                assert x[s - 1, 0] <= x[t - 1, 0]
        count, shortest, longest = x[s - 1]
        assert (count == 0) == (shortest == 0) == (longest == 0)
        assert shortest <= longest <= 3
    np.testing.assert_array_equal(path_stats(SPACE, [SPACE.prune(cell)])[0], x.ravel())


def test_encoder_offers_path_stats():
    """``Encoder`` joins pathstats to other encodings, with one name per column."""
    enc = Encoder(SPACE, "counts+pathstats", prune=True)
    x = enc.transform([SPACE.from_index(i) for i in range(20)])
    assert x.shape == (20, 5 + 45) == (20, len(enc.names))
    assert enc.names[5] == "paths[skip_connect]"


def test_path_stats_without_the_eight_op_limit():
    """A 10-op cell gets each op alone, all-but-one sets and the full set: 3 * 21 columns."""
    from predictor_nas.spaces import CellEdgesSpace

    ops = ["none", *(f"op{k}" for k in range(10))]
    space = CellEdgesSpace("ten_ops", ops, n_nodes=3)
    enc = Encoder(space, "pathstats")
    arch = space.make(["op0", "op1", "op2"])  # edges 0->1, 0->2, 1->2: paths op1 and op0>op2
    x = enc.transform([arch])
    assert x.shape == (1, 3 * 21) == (1, len(enc.names))
    cols = dict(zip(enc.names, x[0]))
    assert cols["paths[op1]"] == 1 and cols["max_len[op1]"] == 1
    assert cols["paths[op0]"] == 0
    full = ",".join(ops[1:])
    assert cols[f"paths[{full}]"] == 2 and cols[f"min_len[{full}]"] == 1
    assert cols[f"max_len[{full}]"] == 2


def test_nb301_graph_encodings():
    """NB301 archs have a graph (two cells, sum/concat nodes) that every encoding reads."""
    nb301 = get_space("nb301")
    arch = nb301.from_index(0)
    x, ei = graph_arrays(nb301, arch)
    assert x.shape == (28, 11) and x.sum() == 28  # 16 ops + 8 sums + 2 concats, in, out
    assert ei.shape == (2, 41)
    ps = Encoder(nb301, "pathstats").transform([arch])
    assert ps.shape == (1, 3 * 127)
    assert Encoder(nb301, "path").transform([arch]).sum() > 0


def test_graph_encoding_structure():
    """The graph has input, 6 op nodes and output, 10 directed edges, one node type per node."""
    x, ei = graph_arrays(SPACE, SPACE.from_index(0))
    assert x.shape == (8, 7) and ei.shape == (2, 10)
    np.testing.assert_array_equal(x.sum(axis=1), 1)
    assert set(ei[0]) | set(ei[1]) == set(range(8))
    data = to_pyg(SPACE, [SPACE.from_index(0)], y=[91.0])[0]
    assert tuple(data.x.shape) == (8, 7) and float(data.y) == 91.0


def test_encoder_rejects_unknown_encoding():
    """An unknown encoding name is refused with the allowed names."""
    with pytest.raises(ValueError, match="'onehot', 'path'"):
        Encoder(SPACE, "adjacency")
