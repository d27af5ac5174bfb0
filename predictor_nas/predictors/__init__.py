"""Accuracy predictors with one API: ``fit(archs, y)`` then ``predict(archs) -> Prediction``."""

from predictor_nas.predictors._base import NotFittedError, Prediction, Predictor
from predictor_nas.predictors._bayesian_ridge import BayesianRidgePredictor
from predictor_nas.predictors._evaluate import evaluate_predictors, ranking_metrics

__all__ = [
    "BayesianRidgePredictor",
    "NotFittedError",
    "Prediction",
    "Predictor",
    "evaluate_predictors",
    "ranking_metrics",
]
