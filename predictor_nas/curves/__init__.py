"""Learning-curve extrapolation with one API: ``fit(curves=None)`` then
``predict_final(partial, final_epoch=F) -> Prediction(mean, std)``.

Models: :class:`LastValueCurveModel` (baseline), :class:`ParametricEnsembleCurveModel`
(Domhan et al. 2015 style families, fitted to a whole batch at once) and
:class:`LearnedCurveModel` (gradient boosting on partial-curve features, trained on full curves).
:func:`load_nlp_curves` and :func:`evaluate_curve_models` benchmark them on NAS-Bench-NLP;
:func:`load_curve_corpus` reads curves recorded from this project's own trainings;
:data:`CURVE_MODELS` names the models a search can use and :func:`make_curve_model` builds one.

Importing this package does not import torch or xgboost (scikit-learn and scipy are imported
only when a model needs them).
"""

from predictor_nas.curves._base import KINDS, CurveModel, check_partial, split_partial
from predictor_nas.curves._corpus import (
    CURVE_CORPUS_FORMAT,
    CURVE_CORPUS_VERSION,
    load_curve_corpus,
)
from predictor_nas.curves._evaluate import (
    CurveEvaluation,
    evaluate_curve_models,
    gaussian_loglik,
    load_nlp_curves,
)
from predictor_nas.curves._families import DEFAULT_FAMILIES, FAMILIES, Family
from predictor_nas.curves._features import FEATURE_NAMES
from predictor_nas.curves._last_value import LastValueCurveModel
from predictor_nas.curves._learned import LearnedCurveModel
from predictor_nas.curves._parametric import ParametricEnsembleCurveModel
from predictor_nas.curves._pruner import CurvePruner, probability_to_beat
from predictor_nas.curves._registry import CURVE_MODELS, make_curve_model
from predictor_nas.predictors import NotFittedError, Prediction

__all__ = [
    "CURVE_CORPUS_FORMAT",
    "CURVE_CORPUS_VERSION",
    "CURVE_MODELS",
    "DEFAULT_FAMILIES",
    "FAMILIES",
    "FEATURE_NAMES",
    "KINDS",
    "CurveEvaluation",
    "CurveModel",
    "CurvePruner",
    "Family",
    "LastValueCurveModel",
    "LearnedCurveModel",
    "NotFittedError",
    "ParametricEnsembleCurveModel",
    "Prediction",
    "check_partial",
    "evaluate_curve_models",
    "gaussian_loglik",
    "load_curve_corpus",
    "load_nlp_curves",
    "make_curve_model",
    "probability_to_beat",
    "split_partial",
]
