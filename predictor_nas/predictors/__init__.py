"""Accuracy predictors with one API: ``fit(archs, y)`` then ``predict(archs) -> Prediction``."""

from predictor_nas.predictors._base import NotFittedError, Prediction, Predictor
from predictor_nas.predictors._bayesian_ridge import BayesianRidgePredictor

__all__ = ["BayesianRidgePredictor", "NotFittedError", "Prediction", "Predictor"]
