"""The curve-model registry: every name builds a fitted model, unknown names list the known ones."""

from __future__ import annotations

import numpy as np
import pytest

from predictor_nas import multifidelity
from predictor_nas.curves import (
    CURVE_MODELS,
    LastValueCurveModel,
    LearnedCurveModel,
    ParametricEnsembleCurveModel,
    make_curve_model,
)
from predictor_nas.exceptions import InvalidParameterError


def _corpus(m: int, length: int = 20) -> np.ndarray:
    """(m, length) rising accuracy curves in percent, one plateau per curve."""
    t = np.arange(1, length + 1)
    top = np.linspace(60.0, 90.0, m)[:, None]
    return top - (top - 10.0) * np.exp(-t / 5.0)


def test_registry_names_in_search_order():
    """The registry lists the three models in the order the searches show them."""
    assert list(CURVE_MODELS) == ["learned", "parametric", "last-value"]
    assert multifidelity.CURVE_MODELS is CURVE_MODELS
    assert multifidelity.make_curve_model is make_curve_model


@pytest.mark.parametrize(
    ("name", "m", "cls"),
    [
        ("learned", 8, LearnedCurveModel),
        ("learned", 4, LastValueCurveModel),  # below min_corpus=5: the last-value fallback
        ("parametric", 0, ParametricEnsembleCurveModel),
        ("last-value", 3, LastValueCurveModel),
        ("last-value", 0, LastValueCurveModel),
    ],
)
def test_each_name_builds_a_fitted_accuracy_model(name, m, cls):
    """Each name gives the documented class, fitted, clipping accuracy to [0, 100]."""
    model = make_curve_model(name, _corpus(m) if m else None, seed=3)
    assert type(model) is cls
    assert model.kind == "accuracy"
    pred = model.predict_final(_corpus(2)[:, :6], final_epoch=20)
    assert pred.mean.shape == (2,) and np.all((pred.mean >= 0) & (pred.mean <= 100))
    assert np.all(pred.std > 0)


def test_last_value_is_deterministic_and_uses_the_corpus_std():
    """Same corpus and seed give the same prediction; a corpus changes the std, not the mean."""
    partial = _corpus(3)[:, :5]
    with_corpus = make_curve_model("last-value", _corpus(6), seed=1).predict_final(
        partial, final_epoch=20
    )
    again = make_curve_model("last-value", _corpus(6), seed=1).predict_final(
        partial, final_epoch=20
    )
    without = make_curve_model("last-value", None, seed=1).predict_final(partial, final_epoch=20)
    np.testing.assert_array_equal(with_corpus.mean, again.mean)
    np.testing.assert_array_equal(with_corpus.std, again.std)
    np.testing.assert_array_equal(with_corpus.mean, without.mean)
    np.testing.assert_array_equal(with_corpus.mean, partial[:, -1])
    assert not np.array_equal(with_corpus.std, without.std)


def test_unknown_name_lists_the_registry():
    """An unknown name raises the standard message naming the owner and every known model."""
    with pytest.raises(InvalidParameterError) as err:
        make_curve_model("pow3", None)
    assert str(err.value) == (
        "The 'curve_model' parameter of run_multifidelity must be one of 'learned', "
        "'parametric', 'last-value'. Got 'pow3' instead."
    )
    with pytest.raises(InvalidParameterError, match="of my_search must be one of"):
        make_curve_model("pow3", None, owner="my_search")
