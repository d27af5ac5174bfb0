"""Our search strategies as Optuna samplers; each works in any Optuna study."""

from predictor_nas.samplers._evolution import RegularizedEvolutionSampler

__all__ = ["RegularizedEvolutionSampler"]
