"""Evaluators: how an architecture gets its score, at a fidelity, with its cost.

One interface (``Evaluator``: ``evaluate(arch, ...) -> Evaluation``, ``direction``,
``describe()``) and four kinds: ``TableEvaluator`` (benchmark table), ``NB301SurrogateEvaluator``
(YAHPO NB301 surrogate), ``TableFidelityEvaluator`` / ``SurrogateFidelityEvaluator``
(multi-fidelity benchmarks, ``observe(archs, fidelity)``), ``TrainEvaluator`` (real training,
recipe defaults from ``TrainConfig``). ``evaluator_classes()`` is the name -> class registry;
``make_evaluator`` / ``register_evaluator`` build the evaluator a distributed study names.

Importing this package does not import torch or onnxruntime.
"""

from predictor_nas.evaluators._base import KINDS, Evaluation, Evaluator
from predictor_nas.evaluators._factories import (
    TRAIN_DATASETS,
    TRAIN_LOCAL_OPTIONS,
    TRAIN_OPTIONS,
    available_evaluators,
    check_evaluator_config,
    make_evaluator,
    register_evaluator,
    study_evaluator_options,
    study_space,
)
from predictor_nas.evaluators._fidelity import (
    FidelityEvaluator,
    Observation,
    SurrogateFidelityEvaluator,
    TableFidelityEvaluator,
)
from predictor_nas.evaluators._registry import (
    evaluator_classes,
    evaluator_summaries,
    register_evaluator_class,
)
from predictor_nas.evaluators._surrogate import NB301SurrogateEvaluator, SurrogateCurves
from predictor_nas.evaluators._table import TableEvaluator
from predictor_nas.evaluators._train import TrainEvaluation, TrainEvaluator
from predictor_nas.training import TrainConfig

__all__ = [
    "KINDS",
    "TRAIN_DATASETS",
    "TRAIN_LOCAL_OPTIONS",
    "TRAIN_OPTIONS",
    "Evaluation",
    "Evaluator",
    "FidelityEvaluator",
    "NB301SurrogateEvaluator",
    "Observation",
    "SurrogateCurves",
    "SurrogateFidelityEvaluator",
    "TableEvaluator",
    "TableFidelityEvaluator",
    "TrainConfig",
    "TrainEvaluation",
    "TrainEvaluator",
    "available_evaluators",
    "check_evaluator_config",
    "evaluator_classes",
    "evaluator_summaries",
    "make_evaluator",
    "register_evaluator",
    "register_evaluator_class",
    "study_evaluator_options",
    "study_space",
]
