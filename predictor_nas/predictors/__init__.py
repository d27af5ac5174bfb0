"""Accuracy predictors with one API: ``fit(archs, y)`` then ``predict(archs) -> Prediction``.

Importing this package stays light: torch, torch_geometric and xgboost are imported only when a
predictor that needs them is fitted.
"""

from __future__ import annotations

from typing import Any

from predictor_nas._validation import check_choice
from predictor_nas.predictors._base import NotFittedError, Prediction, Predictor
from predictor_nas.predictors._bayesian_ridge import BayesianRidgePredictor
from predictor_nas.predictors._ensemble import DEFAULT_MEMBERS, DEFAULT_WEIGHTS, EnsemblePredictor
from predictor_nas.predictors._evaluate import evaluate_predictors, plot_kendall
from predictor_nas.predictors._extra_trees import ExtraTreesPredictor
from predictor_nas.predictors._gin import GINPredictor
from predictor_nas.predictors._ranking import ranking_metrics
from predictor_nas.predictors._score import ScorePredictor
from predictor_nas.predictors._xgb import XGBPredictor

#: Predictors by the name the CLI and reports use.
PREDICTORS: dict[str, type[Predictor]] = {
    "ridge": BayesianRidgePredictor,
    "xgb": XGBPredictor,
    "gin": GINPredictor,
    "et": ExtraTreesPredictor,
    "ensemble": EnsemblePredictor,
}


def make_predictor(name: str, *, seed: int = 0, extra: Any = None, **kwargs: Any) -> Predictor:
    """Build the predictor registered under ``name`` (see ``PREDICTORS``).

    Args:
        name: A key of ``PREDICTORS``: ``"ensemble"``, ``"et"``, ``"gin"``, ``"ridge"`` or
            ``"xgb"``.
        seed: Seed of the predictor.
        extra: Optional ``TableFeatures`` (zero-cost proxies) the predictor uses as extra inputs.
        **kwargs: Other constructor arguments of that predictor (``space``, ``encoding``...).

    Raises:
        InvalidParameterError: ``name`` is not a registered predictor.
    """
    check_choice(name, "predictor", "make_predictor", sorted(PREDICTORS))
    return PREDICTORS[name](seed=seed, extra=extra, **kwargs)


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
    "evaluate_predictors",
    "make_predictor",
    "plot_kendall",
    "ranking_metrics",
]
