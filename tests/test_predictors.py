"""Predictors: every one passes the shared contract; encodings have the documented shapes."""

from __future__ import annotations

import numpy as np
import pytest

from predictor_nas.encodings import Encoder, graph_arrays, onehot, path_encoding, to_pyg
from predictor_nas.predictors import BayesianRidgePredictor
from predictor_nas.spaces import get_space
from predictor_nas.testing.pytest_predictors import PredictorContract

SPACE = get_space("nb201")


class TestBayesianRidgeContract(PredictorContract):
    """The Bayesian ridge baseline passes the predictor contract."""

    @staticmethod
    def make_predictor(seed):
        return BayesianRidgePredictor(seed=seed)


class TestBayesianRidgePathContract(PredictorContract):
    """The baseline on path encoding passes the contract too."""

    @staticmethod
    def make_predictor(seed):
        return BayesianRidgePredictor(encoding="onehot+path", seed=seed)


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
