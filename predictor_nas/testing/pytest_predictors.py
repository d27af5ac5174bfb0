"""Contract tests every predictor must pass.

Use from a test module::

    from predictor_nas.testing.pytest_predictors import PredictorContract

    class TestMyPredictor(PredictorContract):
        @staticmethod
        def make_predictor(seed):
            return MyPredictor(seed=seed)

The contract trains on a small sample of the embedded NB201 table (cifar10 validation accuracy)
and predicts on another sample, so it exercises the real data path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import kendalltau

from predictor_nas.exceptions import InvalidParameterError, TableNotFoundError
from predictor_nas.predictors import NotFittedError, Prediction, Predictor
from predictor_nas.spaces import CellEdgesSpace, get_space, register_space
from predictor_nas.tables import open_table
from predictor_nas.tables.importers import IMPORTERS


def nb201_sample(n_train: int = 60, n_test: int = 200, seed: int = 0):
    """Disjoint train/test samples of NB201 archs with mean cifar10 val accuracy as target."""
    space = get_space("nb201")
    table = open_table("nb201")
    rng = np.random.default_rng(seed)
    rows = rng.choice(space.size, size=n_train + n_test, replace=False)
    archs = [space.parse(table.archs[r]) for r in rows]
    y = table.query_many(rows, "val_acc", dataset="cifar10")
    return archs[:n_train], y[:n_train], archs[n_train:], y[n_train:]


#: Spaces the contract can run on besides NB201: space name -> how to get real samples.
#: ``nb201_three_ops`` is NB201's cell with 3 of its ops (729 cells, values from the embedded
#: table); ``nb101`` and ``nas_bench_macro`` read the tables the importers make from
#: ``../shared/data`` (the test is skipped when it is absent).
CONTRACT_SPACES = ("nb201", "nb201_three_ops", "nb101", "nas_bench_macro")
_THREE_OPS = ("none", "skip_connect", "nor_conv_3x3")
_IMPORTED = {
    "nb101": ("nb101-zc", "nb101", "val_acc"),
    "nas_bench_macro": ("nas-bench-macro", "nas-bench-macro", "search_acc"),
}


def space_sample(space_name: str, n_train: int = 60, n_test: int = 200, seed: int = 0):
    """Disjoint train/test samples of real archs of ``space_name`` (see ``CONTRACT_SPACES``)."""
    if space_name == "nb201":
        return nb201_sample(n_train, n_test, seed)
    rng = np.random.default_rng(seed)
    if space_name == "nb201_three_ops":
        space = CellEdgesSpace("nb201_three_ops", _THREE_OPS, description="NB201, 3 ops")
        register_space(space, replace=True)
        nb201 = open_table("nb201")
        archs = list(space)
        pick = rng.choice(len(archs), size=n_train + n_test, replace=False)
        chosen = [archs[i] for i in pick]
        y = nb201.query_many(nb201.rows([str(a) for a in chosen]), "val_acc", dataset="cifar10")
        return chosen[:n_train], y[:n_train], chosen[n_train:], y[n_train:]

    name, folder, metric = _IMPORTED[space_name]
    try:
        table = open_table(name)
    except TableNotFoundError:
        source = Path(__file__).resolve().parents[2].parent / "shared" / "data" / folder
        if not source.is_dir():
            pytest.skip(f"{name} needs ../shared/data/{folder}")
        IMPORTERS[name](source)
        table = open_table(name)
    space = get_space(space_name)
    y_all = table.query_many(np.arange(len(table)), metric, dataset="cifar10")
    rows = rng.choice(np.flatnonzero(np.isfinite(y_all)), size=n_train + n_test, replace=False)
    archs = [space.parse(table.archs[r]) for r in rows]
    return archs[:n_train], y_all[rows[:n_train]], archs[n_train:], y_all[rows[n_train:]]


class PredictorContract:
    """Behaviour shared by all predictors; subclasses define ``make_predictor(seed)`` and may
    set ``space_name`` (one of ``CONTRACT_SPACES``; the predictor must be built for it)."""

    make_predictor: Callable[[int], Predictor]
    #: Minimum Kendall tau on held-out archs after training on 60 (a sanity bar, not a target).
    min_tau: float = 0.3
    has_std: bool = True
    space_name: str = "nb201"

    def sample(self, n_train: int = 60, n_test: int = 200, seed: int = 0):
        """Real train/test samples of the contract's space."""
        return space_sample(self.space_name, n_train, n_test, seed)

    def test_shapes_and_types(self):
        """predict returns a Prediction with (n,) float arrays, std >= 0 when provided."""
        xa, ya, xb, _ = self.sample()
        p = self.make_predictor(0)
        assert p.fit(xa, ya) is p
        pred = p.predict(xb)
        assert isinstance(pred, Prediction)
        assert pred.mean.shape == (len(xb),) and pred.mean.dtype == np.float64
        assert np.all(np.isfinite(pred.mean))
        if self.has_std:
            assert pred.std is not None and pred.std.shape == (len(xb),)
            assert np.all(pred.std >= 0) and np.all(np.isfinite(pred.std))

    def test_deterministic_for_a_seed(self):
        """Same seed and data give identical predictions."""
        xa, ya, xb, _ = self.sample()
        a = self.make_predictor(3).fit(xa, ya).predict(xb)
        b = self.make_predictor(3).fit(xa, ya).predict(xb)
        np.testing.assert_array_equal(a.mean, b.mean)
        if a.std is not None:
            np.testing.assert_array_equal(a.std, b.std)

    def test_learns_a_ranking(self):
        """Trained on 60 archs, the held-out Kendall tau clears a sanity bar."""
        xa, ya, xb, yb = self.sample()
        pred = self.make_predictor(0).fit(xa, ya).predict(xb)
        tau = kendalltau(pred.mean, yb).statistic
        assert tau > self.min_tau

    def test_predict_before_fit_raises(self):
        """predict before fit raises NotFittedError naming fit."""
        _, _, xb, _ = self.sample()
        with pytest.raises(NotFittedError, match="fit"):
            self.make_predictor(0).predict(xb)

    def test_bad_input_raises(self):
        """Mismatched lengths, NaN targets, too few archs and invalid archs are refused."""
        xa, ya, _, _ = self.sample()
        p = self.make_predictor(0)
        with pytest.raises(InvalidParameterError, match="one target per architecture"):
            p.fit(xa, ya[:-1])
        y_nan = ya.copy()
        y_nan[3] = np.nan
        with pytest.raises(InvalidParameterError, match="non-finite"):
            p.fit(xa, y_nan)
        with pytest.raises(InvalidParameterError, match="at least 2"):
            p.fit(xa[:1], ya[:1])
        with pytest.raises(ValueError):  # InvalidArchitectureError from the space's parser
            p.fit(["|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", *xa[1:]], ya)

    def test_accepts_arch_strings(self):
        """Architecture strings and Arch objects give the same predictions."""
        xa, ya, xb, _ = self.sample()
        space = get_space(self.space_name)
        p = self.make_predictor(0).fit(xa, ya)
        np.testing.assert_allclose(
            p.predict([space.format(a) for a in xb]).mean, p.predict(xb).mean, rtol=1e-6
        )

    def test_get_params_rebuilds_the_predictor(self):
        """get_params() returns the constructor arguments: rebuilding from them (as std
        calibration does) gives an identical predictor."""
        xa, ya, xb, _ = self.sample(n_train=40, n_test=20)
        p = self.make_predictor(1)
        q = type(p)(**p.get_params())
        np.testing.assert_array_equal(
            p.fit(xa, ya).predict(xb).mean, q.fit(xa, ya).predict(xb).mean
        )

    def test_empty_predict(self):
        """Predicting for no architectures returns empty arrays."""
        xa, ya, _, _ = self.sample()
        pred = self.make_predictor(0).fit(xa, ya).predict([])
        assert pred.mean.shape == (0,)
