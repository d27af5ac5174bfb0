"""Our search strategies as Optuna samplers; each works in any Optuna study."""

from predictor_nas.samplers._acquisition import (
    ACQUISITIONS,
    acquisition_scores,
    expected_improvement,
    thompson_sample,
    upper_confidence_bound,
)
from predictor_nas.samplers._evolution import RegularizedEvolutionSampler
from predictor_nas.samplers._guided import PredictorGuidedSampler

__all__ = [
    "ACQUISITIONS",
    "PredictorGuidedSampler",
    "RegularizedEvolutionSampler",
    "acquisition_scores",
    "expected_improvement",
    "thompson_sample",
    "upper_confidence_bound",
]
