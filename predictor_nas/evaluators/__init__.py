"""Objective functions: how an architecture gets its score."""

from predictor_nas.evaluators._table import Evaluation, TableEvaluator

__all__ = ["Evaluation", "TableEvaluator"]
