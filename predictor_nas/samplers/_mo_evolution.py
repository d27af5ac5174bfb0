"""Multi-objective regularized (aging) evolution on a space's moves."""

from __future__ import annotations

import numpy as np
from optuna.study import Study

from predictor_nas.samplers._evolution import check_tournament
from predictor_nas.samplers._mo_space_sampler import (
    Feasible,
    MOPast,
    MOSpaceSampler,
    rank_and_crowding,
)
from predictor_nas.spaces import Arch, SearchSpace


class MORegularizedEvolutionSampler(MOSpaceSampler):
    """Aging evolution for one or more objectives (any space, conditional ones included).

    The first ``population_size`` completed trials are uniform random unused architectures.
    After that the population is the ``population_size`` most recent completed trials (by trial
    number; older ones have aged out). Its points are ranked by non-dominated sorting (all
    objectives turned to minimisation) and, within each front, by NSGA-II crowding distance; a
    tournament of ``sample_size`` members drawn without replacement is won by the lowest rank,
    then the largest crowding distance, then the earlier draw. The winner is mutated with
    ``space.mutate``; a child already in the study (complete, pruned, running or waiting; failed
    trials gave no result and may be proposed again) is re-mutated up to ``max_retries`` times,
    then a random unused architecture is proposed. With ``feasible`` (see ``MOSpaceSampler``) a
    child it refuses is re-mutated like a used one. With one objective this is
    ``SpaceEvolutionSampler``'s tournament (rank = order of the values).

    State is the study; proposals are a pure function of ``(seed, study)`` (see
    ``SpaceSampler``), so a fresh instance resumes a stored study exactly.

    Args:
        space: The search space (or its name).
        population_size: Recent completed trials forming the population (>= 2).
        sample_size: Tournament size (1 <= sample_size <= population_size).
        max_retries: Re-mutations tried to avoid an architecture already in the study.
        canonical: Dedup by ``canonical_key`` rather than by the exact decisions.
        seed: Seed of the proposals.
        feasible: ``arch -> bool``: only architectures it accepts are proposed (``None``: all).
    """

    _owner = "MORegularizedEvolutionSampler"

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        population_size: int = 20,
        sample_size: int = 5,
        max_retries: int = 20,
        canonical: bool = True,
        seed: int | None = None,
        feasible: Feasible | None = None,
    ) -> None:
        super().__init__(space, canonical=canonical, seed=seed, feasible=feasible)
        self.population_size, self.sample_size, self.max_retries = check_tournament(
            population_size, sample_size, max_retries, self._owner
        )

    def _propose(self, study: Study, history: list[MOPast], rng: np.random.Generator) -> Arch:  # type: ignore[override]
        used = {p.key for p in history}
        complete = [p for p in history if p.values is not None]
        if len(complete) < self.population_size:
            return self.random_unused(used, rng)
        population = complete[-self.population_size :]
        rank, crowd = rank_and_crowding(np.stack([p.values for p in population]))
        for _ in range(self.max_retries + 1):
            idx = [
                int(i) for i in rng.choice(len(population), size=self.sample_size, replace=False)
            ]
            winner = min(idx, key=lambda i: (rank[i], -crowd[i]))
            child = self.space.mutate(population[winner].arch, rng)
            if self.key(child) not in used and self.allowed(child):
                return child
        return self.random_unused(used, rng)
