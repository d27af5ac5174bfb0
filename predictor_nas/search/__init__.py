"""Run searches: strategies, storages, the table-driven loop and the real-training loop."""

from predictor_nas.search._ask import INFEASIBLE_ATTR, ask_arch
from predictor_nas.search._evaluator import (
    REFERENCE_BEST,
    SURROGATE_ENV,
    ReferenceBest,
    reference_best,
    resolve_evaluator,
    search_evaluator_names,
    surrogate_folder,
    surrogate_identity,
)
from predictor_nas.search._journal import repair_journal
from predictor_nas.search._mo import (
    MO_STRATEGIES,
    Constraint,
    MOSearchResult,
    Objective,
    default_mo_study_name,
    mo_strategies,
    parse_constraints,
    parse_objectives,
    plot_mo_front,
    run_mo_search,
)
from predictor_nas.search._mo_real import (
    COST_METRICS,
    REAL_METRICS,
    MORealSearchResult,
    plot_mo_real_front,
    run_mo_real_search,
)
from predictor_nas.search._real import (
    TOPK,
    ProxyPrior,
    RealSearchResult,
    TablePrior,
    real_strategies,
    run_real_search,
)
from predictor_nas.search._run import (
    TEST_METRIC,
    SearchResult,
    default_study_name,
    incumbent_trajectory,
    run_search,
)
from predictor_nas.search._storage import make_storage
from predictor_nas.search._storage_spec import (
    DEFAULT_STORAGE,
    STORAGE_FORMS,
    redact_storage,
    storage_kind,
)
from predictor_nas.search._strategies import (
    GUIDED_KWARGS,
    STRATEGIES,
    available_strategies,
    make_sampler,
    step_seed,
)
from predictor_nas.search._study import Budget, Progress, open_study

#: How ``predictor-nas search --evaluator`` evaluates an architecture: ``table`` looks its result
#: up (``run_search`` / ``run_mo_search``), ``train`` builds and trains it (``run_real_search``).
SEARCH_EVALUATORS: dict[str, str] = {
    "table": "look results up",
    "train": "build and train each network",
    "nb301-surrogate": "ask the YAHPO NB301 surrogate at 98 epochs (--surrogate FOLDER; "
    "regret against its documented reference best)",
}

__all__ = [
    "COST_METRICS",
    "DEFAULT_STORAGE",
    "GUIDED_KWARGS",
    "INFEASIBLE_ATTR",
    "MO_STRATEGIES",
    "REAL_METRICS",
    "REFERENCE_BEST",
    "SEARCH_EVALUATORS",
    "STORAGE_FORMS",
    "STRATEGIES",
    "SURROGATE_ENV",
    "TEST_METRIC",
    "TOPK",
    "Budget",
    "Constraint",
    "MORealSearchResult",
    "MOSearchResult",
    "Objective",
    "Progress",
    "ProxyPrior",
    "RealSearchResult",
    "ReferenceBest",
    "SearchResult",
    "TablePrior",
    "ask_arch",
    "available_strategies",
    "default_mo_study_name",
    "default_study_name",
    "incumbent_trajectory",
    "make_sampler",
    "make_storage",
    "mo_strategies",
    "open_study",
    "parse_constraints",
    "parse_objectives",
    "plot_mo_front",
    "plot_mo_real_front",
    "real_strategies",
    "redact_storage",
    "reference_best",
    "repair_journal",
    "resolve_evaluator",
    "run_mo_real_search",
    "run_mo_search",
    "run_real_search",
    "run_search",
    "search_evaluator_names",
    "step_seed",
    "storage_kind",
    "surrogate_folder",
    "surrogate_identity",
]
