"""Multi-objective tools: Pareto dominance, crowding, exact hypervolume, regret.

All functions minimise every objective; ``to_minimization(values, study.directions)`` turns a
study's values into that convention. Importing this package needs numpy only.
"""

from predictor_nas.multiobjective._hypervolume import (
    hypervolume,
    hypervolume_regret,
    reference_point,
)
from predictor_nas.multiobjective._pareto import (
    crowding_distance,
    direction_signs,
    dominates,
    front_coverage,
    is_non_dominated,
    non_dominated_sort,
    pareto_front,
    to_minimization,
)

__all__ = [
    "crowding_distance",
    "direction_signs",
    "dominates",
    "front_coverage",
    "hypervolume",
    "hypervolume_regret",
    "is_non_dominated",
    "non_dominated_sort",
    "pareto_front",
    "reference_point",
    "to_minimization",
]
