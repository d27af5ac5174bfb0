"""Our search strategies as Optuna samplers; each works in any Optuna study."""

from predictor_nas.samplers._acquisition import (
    ACQUISITIONS,
    acquisition_scores,
    expected_improvement,
    thompson_sample,
    upper_confidence_bound,
)
from predictor_nas.samplers._evolution import RegularizedEvolutionSampler, SpaceEvolutionSampler
from predictor_nas.samplers._exhaustive import ExhaustiveSampler
from predictor_nas.samplers._feasible_guided import FeasibleGuidedSampler
from predictor_nas.samplers._guided import PredictorGuidedSampler
from predictor_nas.samplers._guided_settings import (
    GUIDED_DECLARED_KWARGS,
    GUIDED_KWARGS,
    guided_kwargs,
)
from predictor_nas.samplers._local_search import LocalSearchSampler, LocalSearchStep
from predictor_nas.samplers._mo_evolution import MORegularizedEvolutionSampler
from predictor_nas.samplers._mo_guided import MOPredictorGuidedSampler
from predictor_nas.samplers._pool import (
    CandidatePool,
    PredictorScorer,
    draw_unused,
    fit_and_rank,
    mutants,
    mutation_pool,
)
from predictor_nas.samplers._priors import (
    TABLE_PROXY_ENSEMBLE,
    ProxyPrior,
    ScoreFeatures,
    TablePrior,
    table_proxy_scorer,
    table_scorer,
)
from predictor_nas.samplers._reinforce import ReinforceSampler
from predictor_nas.samplers._space_sampler import observed_targets
from predictor_nas.samplers._topk import TopKSampler, complete_curves, fit_targets

__all__ = [
    "ACQUISITIONS",
    "GUIDED_DECLARED_KWARGS",
    "GUIDED_KWARGS",
    "TABLE_PROXY_ENSEMBLE",
    "CandidatePool",
    "ExhaustiveSampler",
    "FeasibleGuidedSampler",
    "LocalSearchSampler",
    "LocalSearchStep",
    "MOPredictorGuidedSampler",
    "MORegularizedEvolutionSampler",
    "PredictorGuidedSampler",
    "PredictorScorer",
    "ProxyPrior",
    "RegularizedEvolutionSampler",
    "ReinforceSampler",
    "ScoreFeatures",
    "SpaceEvolutionSampler",
    "TablePrior",
    "TopKSampler",
    "acquisition_scores",
    "complete_curves",
    "draw_unused",
    "expected_improvement",
    "fit_and_rank",
    "fit_targets",
    "guided_kwargs",
    "mutants",
    "mutation_pool",
    "observed_targets",
    "table_proxy_scorer",
    "table_scorer",
    "thompson_sample",
    "upper_confidence_bound",
]
