"""The Bayesian ridge baseline passes the shared predictor contract (one-hot and path encodings)."""

from __future__ import annotations

from predictor_nas.predictors import BayesianRidgePredictor
from predictor_nas.spaces import get_space
from predictor_nas.testing.pytest_predictors import PredictorContract

SPACE = get_space("nb201")


class TestBayesianRidgeContract(PredictorContract):
    """The Bayesian ridge baseline passes the predictor contract."""

    @staticmethod
    def make_predictor(seed):
        return BayesianRidgePredictor(seed=seed)


class TestBayesianRidgePathContract(PredictorContract):
    """The baseline on path encoding passes the contract too."""

    @staticmethod
    def make_predictor(seed):
        return BayesianRidgePredictor(encoding="onehot+path", seed=seed)
