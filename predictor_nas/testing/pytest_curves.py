"""Contract tests every learning-curve model must pass.

Use from a test module::

    from predictor_nas.testing.pytest_curves import CurveModelContract

    class TestMyCurveModel(CurveModelContract):
        kind = "loss"

        @staticmethod
        def make_model(seed):
            return MyCurveModel(kind="loss", seed=seed)

The contract trains (where the model takes a corpus) on synthetic pow3-shaped curves with small
noise and predicts the final epoch of other curves of the same kind cut at 40%. Diverged curves
(ending in NaN or inf) must predict the worst value with std 0, as ``CurveModel`` documents.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from predictor_nas.curves import CurveModel
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.predictors import NotFittedError, Prediction


def pow3_curves(
    n: int, length: int, *, kind: str = "accuracy", noise: float | None = None, seed: int = 0
) -> np.ndarray:
    """Synthetic learning curves ``c -+ a * epoch^(-alpha)`` plus Gaussian noise.

    Accuracy curves (percent) rise from about 30-60 towards c in [70, 95] (noise 0.1 points by
    default); loss curves fall from about 3-5 towards c in [0.5, 2] (noise 0.005 by default).

    Args:
        n: Number of curves.
        length: Epochs per curve.
        kind: ``"accuracy"`` or ``"loss"``.
        noise: Std of the added noise (``None``: the default of the kind).
        seed: Seed of the parameters and the noise.

    Returns:
        float64 array (n, length); column j is epoch j + 1.
    """
    rng = np.random.default_rng(seed)
    x = np.arange(1, length + 1, dtype=np.float64)
    alpha = rng.uniform(0.4, 1.2, size=(n, 1))
    if kind == "accuracy":
        c = rng.uniform(70, 95, size=(n, 1))
        a = rng.uniform(20, 50, size=(n, 1))
        y = c - a * x ** (-alpha)
        sd = 0.1 if noise is None else noise
    else:
        c = rng.uniform(0.5, 2.0, size=(n, 1))
        a = rng.uniform(1.5, 3.0, size=(n, 1))
        y = c + a * x ** (-alpha)
        sd = 0.005 if noise is None else noise
    return y + rng.normal(0.0, sd, size=y.shape)


class CurveModelContract:
    """Behaviour shared by all curve models; subclasses define ``make_model(seed)``."""

    make_model: Callable[[int], CurveModel]
    #: The ``kind`` the model under test was built with (chooses the synthetic data).
    kind: str = "accuracy"
    #: Epochs of the synthetic curves and the observed prefix of the accuracy check.
    length: int = 30
    cut: int = 12
    #: On pow3 curves, the final-epoch MAE must be <= this times the last-value MAE
    #: (1.0 for a model that does not extrapolate).
    max_relative_error: float = 0.5

    # ----------------------------------------------------------------- helpers
    def _corpus(self) -> np.ndarray:
        return pow3_curves(60, self.length, kind=self.kind, seed=0)

    def _test(self) -> np.ndarray:
        return pow3_curves(40, self.length, kind=self.kind, seed=1)

    def _fitted(self, seed: int = 0, *, fresh: bool = False) -> CurveModel:
        """A model fitted on the corpus; shared by the tests of a class unless ``fresh``."""
        if fresh:
            return self.make_model(seed).fit(self._corpus())
        cache = type(self).__dict__.get("_fitted_cache")
        if cache is None:
            cache = {}
            type(self)._fitted_cache = cache
        if seed not in cache:
            cache[seed] = self.make_model(seed).fit(self._corpus())
        return cache[seed]

    def _ragged(self) -> list[np.ndarray]:
        lengths = np.random.default_rng(2).integers(3, self.length, size=12)
        lengths[0] = 1
        test = self._test()
        return [test[i, :k] for i, k in enumerate(lengths)]

    # ----------------------------------------------------------------- the contract
    def test_kind_and_flags(self):
        """The model has the contract's kind and declares whether it needs fit."""
        model = self.make_model(0)
        assert model.kind == self.kind
        assert isinstance(model.requires_fit, bool) and isinstance(model.accepts_extra, bool)

    def test_shapes_and_types(self):
        """fit returns self; predict_final gives (n,) float64 mean and finite std > 0."""
        model = self.make_model(0)
        assert model.fit(self._corpus()) is model
        test = self._test()
        pred = model.predict_final(test[:, : self.cut], final_epoch=self.length)
        assert isinstance(pred, Prediction)
        assert pred.mean.shape == (len(test),) and pred.mean.dtype == np.float64
        assert pred.std is not None and pred.std.shape == (len(test),)
        assert pred.std.dtype == np.float64
        assert np.all(np.isfinite(pred.mean))
        assert np.all(np.isfinite(pred.std)) and np.all(pred.std > 0)

    def test_deterministic_for_a_seed(self):
        """Same seed and data give identical predictions."""
        part = self._test()[:, : self.cut]
        a = self._fitted(3, fresh=True).predict_final(part, final_epoch=self.length)
        b = self._fitted(3, fresh=True).predict_final(part, final_epoch=self.length)
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.std, b.std)

    def test_fit_requirement(self):
        """Learned models refuse to predict before fit; the others predict without a corpus."""
        part = self._test()[:, : self.cut]
        model = self.make_model(0)
        if model.requires_fit:
            with pytest.raises(NotFittedError, match="fit"):
                model.predict_final(part, final_epoch=self.length)
            with pytest.raises(InvalidParameterError, match="corpus"):
                model.fit(None)
        else:
            before = model.predict_final(part, final_epoch=self.length)
            after = model.fit().predict_final(part, final_epoch=self.length)
            np.testing.assert_array_equal(before.mean, after.mean)
            np.testing.assert_array_equal(before.std, after.std)
            assert np.all(before.std > 0) and np.all(np.isfinite(before.std))

    def test_nan_padded_and_ragged_agree(self):
        """A list of varying-length curves and the same curves NaN-padded predict the same."""
        ragged = self._ragged()
        width = max(len(r) for r in ragged)
        padded = np.full((len(ragged), width + 3), np.nan)
        for i, r in enumerate(ragged):
            padded[i, : len(r)] = r
        model = self._fitted()
        a = model.predict_final(ragged, final_epoch=self.length)
        b = model.predict_final(padded, final_epoch=self.length)
        np.testing.assert_allclose(a.mean, b.mean, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a.std, b.std, rtol=1e-10, atol=1e-12)
        assert np.all(np.isfinite(a.mean)) and np.all(a.std > 0)

    def test_rows_are_independent(self):
        """A curve's prediction does not depend on the other curves of the batch."""
        ragged = self._ragged()
        model = self._fitted()
        batch = model.predict_final(ragged, final_epoch=self.length)
        for i in (0, 5):
            one = model.predict_final([ragged[i]], final_epoch=self.length)
            np.testing.assert_allclose(one.mean[0], batch.mean[i], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(one.std[0], batch.std[i], rtol=1e-9, atol=1e-12)

    def test_bad_input_raises(self):
        """Short final_epoch, empty curves, non-finite prefixes and bad shapes are refused."""
        model = self._fitted()
        test = self._test()
        part = test[:, : self.cut]
        bad_calls = {
            "final_epoch": lambda: model.predict_final(part, final_epoch=self.cut - 1),
            "final_epoch ": lambda: model.predict_final(part, final_epoch=0),
            "final_epoch  ": lambda: model.predict_final(part, final_epoch=2.5),
            "at least one": lambda: model.predict_final([test[0, :3], []], final_epoch=10),
            "at least one ": lambda: model.predict_final(
                np.full((2, 4), np.nan), final_epoch=10
            ),
            "non-finite": lambda: model.predict_final(
                [np.array([1.0, np.nan, 2.0])], final_epoch=10
            ),
            "non-finite ": lambda: model.predict_final(
                np.array([[1.0, np.inf, 2.0]]), final_epoch=10
            ),
            "2-D": lambda: model.predict_final(test[0, :5], final_epoch=10),
        }
        for match, call in bad_calls.items():
            with pytest.raises(InvalidParameterError, match=match.strip()):
                call()
        fresh = self.make_model(0)
        with pytest.raises(InvalidParameterError, match="curves"):
            fresh.fit(self._corpus()[0])
        corpus = self._corpus()
        corpus[3, 7] = np.nan
        with pytest.raises(InvalidParameterError, match="finite"):
            fresh.fit(corpus)

    def test_diverged_curves_predict_the_worst_value(self):
        """A curve ending in NaN/inf predicts the worst value with std 0; others unchanged."""
        model = self._fitted()
        test = self._test()[:3, : self.cut]
        batch = [test[0], np.array([*test[1, :2], np.nan]), test[2], np.array([np.inf])]
        pred = model.predict_final(batch, final_epoch=self.length)
        worst = -np.inf if self.kind == "accuracy" else np.inf
        np.testing.assert_array_equal(pred.mean[[1, 3]], [worst, worst])
        np.testing.assert_array_equal(pred.std[[1, 3]], [0.0, 0.0])
        alone = model.predict_final([test[0], test[2]], final_epoch=self.length)
        np.testing.assert_allclose(pred.mean[[0, 2]], alone.mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(pred.std[[0, 2]], alone.std, rtol=1e-9, atol=1e-12)
        padded = np.full((2, self.cut + 2), np.nan)
        padded[0, : self.cut] = test[0]
        padded[1, :3] = [*test[1, :2], np.inf]
        pad = model.predict_final(padded, final_epoch=self.length)
        assert pad.mean[0] == alone.mean[0] and pad.mean[1] == worst and pad.std[1] == 0.0

    def test_bad_settings_raise(self):
        """An unknown kind or a negative seed is refused by fit."""
        model = self.make_model(0)
        model.kind = "perplexity"
        with pytest.raises(InvalidParameterError, match="'kind' parameter"):
            model.fit(self._corpus())
        model = self.make_model(0)
        model.seed = -1
        with pytest.raises(InvalidParameterError, match="'seed' parameter"):
            model.fit(self._corpus())

    def test_empty_batch(self):
        """No curves in, empty arrays out."""
        model = self._fitted()
        for empty in (np.zeros((0, 5)), []):
            pred = model.predict_final(empty, final_epoch=self.length)
            assert pred.mean.shape == (0,) and pred.std.shape == (0,)

    def test_fully_observed_curve(self):
        """A curve observed up to final_epoch keeps its observed final value."""
        test = self._test()[:5]
        pred = self._fitted().predict_final(test, final_epoch=self.length)
        np.testing.assert_array_equal(pred.mean, test[:, -1])
        assert np.all(pred.std > 0)

    def test_extrapolates_pow3_curves(self):
        """On noisy pow3 curves cut at 40%, the final-epoch MAE beats the stated bar."""
        test = self._test()
        pred = self._fitted().predict_final(test[:, : self.cut], final_epoch=self.length)
        mae = np.mean(np.abs(pred.mean - test[:, -1]))
        mae_last = np.mean(np.abs(test[:, self.cut - 1] - test[:, -1]))
        assert mae <= self.max_relative_error * mae_last + 1e-12, (mae, mae_last)
