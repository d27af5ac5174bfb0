"""The curve models a search can use by name: one registry, ``CURVE_MODELS``.

Each entry maps a name to a builder ``(corpus, *, min_corpus, seed) -> fitted CurveModel`` for
accuracy curves in percent; :func:`make_curve_model` checks the name and calls it. Adding a curve
model to the searches (``run_multifidelity(curve_model=...)``) is one builder and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from predictor_nas._validation import check_choice
from predictor_nas.curves._base import CurveModel
from predictor_nas.curves._last_value import LastValueCurveModel
from predictor_nas.curves._learned import LearnedCurveModel
from predictor_nas.curves._parametric import ParametricEnsembleCurveModel

#: Accuracy in percent: every registered model clips its mean to this range.
BOUNDS = (0.0, 100.0)


def _learned(corpus: np.ndarray | None, *, min_corpus: int, seed: int) -> CurveModel:
    """``LearnedCurveModel`` once the corpus holds ``min_corpus`` (>= 2) curves, last value
    before."""
    m = 0 if corpus is None else len(corpus)
    if m >= max(min_corpus, 2):
        return LearnedCurveModel(kind="accuracy", bounds=BOUNDS, max_iter=50, seed=seed).fit(corpus)
    return _last_value(corpus, min_corpus=min_corpus, seed=seed)


def _parametric(corpus: np.ndarray | None, *, min_corpus: int, seed: int) -> CurveModel:
    """``ParametricEnsembleCurveModel`` without a corpus."""
    # Without the corpus calibration (~1 s per fit): run_multifidelity calibrates every
    # estimate on the search's own outcomes instead (calibration_scale).
    return ParametricEnsembleCurveModel(kind="accuracy", bounds=BOUNDS, seed=seed).fit()


def _last_value(corpus: np.ndarray | None, *, min_corpus: int, seed: int) -> CurveModel:
    """``LastValueCurveModel``, its std from the corpus when it holds >= 2 curves."""
    m = 0 if corpus is None else len(corpus)
    return LastValueCurveModel(kind="accuracy", bounds=BOUNDS, seed=seed).fit(
        corpus if m >= 2 else None
    )


#: Curve models by name, in the order the searches list them.
CURVE_MODELS: dict[str, Callable[..., CurveModel]] = {
    "learned": _learned,
    "parametric": _parametric,
    "last-value": _last_value,
}


def make_curve_model(
    name: str,
    corpus: np.ndarray | None,
    *,
    min_corpus: int = 5,
    seed: int = 0,
    owner: str = "run_multifidelity",
) -> CurveModel:
    """A fitted curve model for accuracy curves in percent.

    Args:
        name: A key of ``CURVE_MODELS``: ``"learned"`` (``LearnedCurveModel`` fitted on
            ``corpus`` once it holds ``min_corpus`` curves, ``LastValueCurveModel`` before),
            ``"parametric"`` (``ParametricEnsembleCurveModel``, no corpus) or ``"last-value"``
            (``LastValueCurveModel``, its std from the corpus when there is one).
        corpus: Full curves seen so far, (m, L), or ``None``.
        min_corpus: Curves the learned model needs (>= 2).
        seed: Seed of the model.
        owner: The function named in the error for an unknown ``name``.

    Returns:
        A ``CurveModel`` ready for ``predict_final``.
    """
    check_choice(name, "curve_model", owner, CURVE_MODELS)
    return CURVE_MODELS[name](corpus, min_corpus=min_corpus, seed=seed)
