"""Accuracy predictors with one API: ``fit(archs, y)`` then ``predict(archs) -> Prediction``.

Importing this package stays light: torch, torch_geometric and xgboost are imported only when a
predictor that needs them is fitted.
"""

from __future__ import annotations

from predictor_nas.predictors._base import NotFittedError, Prediction, Predictor
from predictor_nas.predictors._bayesian_ridge import BayesianRidgePredictor
from predictor_nas.predictors._ensemble import DEFAULT_MEMBERS, DEFAULT_WEIGHTS, EnsemblePredictor
from predictor_nas.predictors._evaluate import draw_kendall, evaluate_predictors, plot_kendall
from predictor_nas.predictors._extra_trees import ExtraTreesPredictor
from predictor_nas.predictors._gin import GINPredictor
from predictor_nas.predictors._ranking import ranking_metrics
from predictor_nas.predictors._registry import PREDICTORS, make_predictor
from predictor_nas.predictors._score import ScorePredictor
from predictor_nas.predictors._xgb import XGBPredictor

PREDICTORS.update(
    ridge=BayesianRidgePredictor,
    xgb=XGBPredictor,
    gin=GINPredictor,
    et=ExtraTreesPredictor,
    ensemble=EnsemblePredictor,
)


__all__ = [
    "DEFAULT_MEMBERS",
    "DEFAULT_WEIGHTS",
    "PREDICTORS",
    "BayesianRidgePredictor",
    "EnsemblePredictor",
    "ExtraTreesPredictor",
    "GINPredictor",
    "NotFittedError",
    "Prediction",
    "Predictor",
    "ScorePredictor",
    "XGBPredictor",
    "draw_kendall",
    "evaluate_predictors",
    "make_predictor",
    "plot_kendall",
    "ranking_metrics",
]
