"""Objective functions: how an architecture gets its score."""

from predictor_nas.evaluators._surrogate import NB301SurrogateEvaluator, SurrogateCurves
from predictor_nas.evaluators._table import Evaluation, TableEvaluator
from predictor_nas.evaluators._train import TrainEvaluation, TrainEvaluator

__all__ = [
    "Evaluation",
    "NB301SurrogateEvaluator",
    "SurrogateCurves",
    "TableEvaluator",
    "TrainEvaluation",
    "TrainEvaluator",
]
