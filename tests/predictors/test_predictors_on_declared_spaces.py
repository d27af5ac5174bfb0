"""Every predictor on every kind of space: the predictor contract on a cell space with ops on
edges (NB201's cell with 3 ops), NB101 cells (ops on nodes, graphs of varying structure) and
NAS-Bench-Macro (a chain of blocks), all on real benchmark values."""

from __future__ import annotations

import numpy as np
import pytest

from predictor_nas.predictors import make_predictor
from predictor_nas.testing.pytest_predictors import PredictorContract, space_sample

SPACES = ["nb201_three_ops", "nb101", "nas_bench_macro"]
#: (predictor name, kwargs, slow): the library's predictors with their default encodings.
PREDICTORS = [
    ("ridge", {}, False),
    ("xgb", {"n_estimators": 60}, False),
    ("et", {"encoding": "counts+pathstats", "prune": True}, False),
    ("gin", {"epochs": 40}, True),
    ("ensemble", {}, True),
]


def _contract(space_name, name, kwargs, slow):
    class _C(PredictorContract):
        min_tau = 0.2

        @staticmethod
        def make_predictor(seed):
            return make_predictor(name, space=space_name, seed=seed, **kwargs)

    _C.space_name = space_name
    _C.__name__ = f"Test_{name}_on_{space_name}"
    return pytest.mark.slow(_C) if slow else _C


for _space in SPACES:
    for _name, _kw, _slow in PREDICTORS:
        _cls = _contract(_space, _name, _kw, _slow)
        globals()[_cls.__name__] = _cls


def test_gin_fits_graphs_of_varying_structure():
    """NB101 cells have different graphs: the GIN pads and masks them and still ranks."""
    from scipy.stats import kendalltau

    xa, ya, xb, yb = space_sample("nb101", 100, 200, seed=1)
    assert len({p.ops for p in xa}) == len(xa)  # 100 different cells
    p = make_predictor("gin", space="nb101", seed=0, epochs=60).fit(xa, ya)
    pred = p.predict(xb)
    assert np.all(np.isfinite(pred.mean)) and pred.std is not None
    assert kendalltau(pred.mean, yb).statistic > 0.2
