"""Multi-fidelity search on benchmarks: successive halving and Hyperband whose brackets are
proposed by an accuracy predictor and whose promotions extrapolate partial results.

``run_multifidelity(evaluator, method="mf", time_budget=...)`` runs one search as an Optuna study
(resumable, seeded); ``TableFidelityEvaluator`` (NB201 12/200 epochs from the ``nb201-rich``
table) and ``SurrogateFidelityEvaluator`` (YAHPO NB301 surrogate, epochs 1-98, full curves) are
the benchmarks. ``hyperband_brackets`` / ``successive_halving_bracket`` give the bracket
arithmetic.

Importing this package does not import torch, xgboost or onnxruntime.
"""

from predictor_nas.curves import CURVE_MODELS, make_curve_model
from predictor_nas.evaluators import (
    FidelityEvaluator,
    Observation,
    SurrogateFidelityEvaluator,
    TableFidelityEvaluator,
)
from predictor_nas.multifidelity._brackets import (
    Bracket,
    Rung,
    fidelity_ladder,
    hyperband_brackets,
    successive_halving_bracket,
)
from predictor_nas.multifidelity._promotion import (
    LinearFidelityMapping,
    calibration_scale,
    combine_gaussians,
)
from predictor_nas.multifidelity._run import (
    DEFAULT_PREDICTOR_KWARGS,
    METHOD_HELP,
    METHODS,
    PROMOTIONS,
    PROPOSERS,
    SCHEDULES,
    MultiFidelityResult,
    default_mf_study_name,
    method_settings,
    promotion_order,
    run_multifidelity,
    schedule_brackets,
)

#: The benchmarks of ``predictor-nas multifidelity --benchmark``, each with its evaluator class:
#: ``nb201`` reads a table (``TableFidelityEvaluator(table, dataset)``), ``nb301`` queries YAHPO's
#: surrogate (``SurrogateFidelityEvaluator(folder)``).
BENCHMARKS: dict[str, type[FidelityEvaluator]] = {
    "nb201": TableFidelityEvaluator,
    "nb301": SurrogateFidelityEvaluator,
}

__all__ = [
    "BENCHMARKS",
    "CURVE_MODELS",
    "DEFAULT_PREDICTOR_KWARGS",
    "METHODS",
    "METHOD_HELP",
    "PROMOTIONS",
    "PROPOSERS",
    "SCHEDULES",
    "Bracket",
    "FidelityEvaluator",
    "LinearFidelityMapping",
    "MultiFidelityResult",
    "Observation",
    "Rung",
    "SurrogateFidelityEvaluator",
    "TableFidelityEvaluator",
    "calibration_scale",
    "combine_gaussians",
    "default_mf_study_name",
    "fidelity_ladder",
    "hyperband_brackets",
    "make_curve_model",
    "method_settings",
    "promotion_order",
    "run_multifidelity",
    "schedule_brackets",
    "successive_halving_bracket",
]
