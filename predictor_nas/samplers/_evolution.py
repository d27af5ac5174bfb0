"""Regularized (aging) evolution as an Optuna sampler (Real et al., 2019)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_int, param_error
from predictor_nas.samplers._space_sampler import Past, SpaceSampler
from predictor_nas.spaces import Arch, SearchSpace


def check_tournament(
    population_size: object, sample_size: object, max_retries: object, owner: str
) -> tuple[int, int, int]:
    """The checked settings of an aging-evolution tournament: population >= 2, tournament in
    [1, population], re-mutations >= 0 (standard messages naming ``owner``)."""
    population = check_int(population_size, "population_size", owner, minimum=2)
    sample = check_int(sample_size, "sample_size", owner, minimum=1)
    if sample > population:
        raise param_error(
            "sample_size", owner, f"an int in [1, population_size={population}]", sample_size
        )
    return population, sample, check_int(max_retries, "max_retries", owner, minimum=0)


class RegularizedEvolutionSampler(BaseSampler):
    """Aging evolution over categorical parameters.

    The first ``population_size`` trials are uniform random. After that, each proposal takes the
    ``population_size`` most recently completed trials as the population (older ones have aged
    out), draws ``sample_size`` of them without replacement, and mutates the best of that tournament
    by changing one uniformly chosen categorical parameter to a different value. A child whose
    params were already tried is re-mutated (up to ``max_retries`` times), so no query is wasted on
    a repeat. Its state is the study itself: a resumed or shared study needs no extra state.

    Non-categorical parameters are sampled uniformly at random.

    Args:
        population_size: Number of recent trials forming the population (>= 2).
        sample_size: Tournament size (1 <= sample_size <= population_size).
        seed: Seed of the sampler's random generator.
        max_retries: Re-mutations tried to avoid params already in the study.
    """

    def __init__(
        self,
        population_size: int = 10,
        sample_size: int = 3,
        *,
        seed: int | None = None,
        max_retries: int = 20,
    ) -> None:
        self.population_size, self.sample_size, self.max_retries = check_tournament(
            population_size, sample_size, max_retries, "RegularizedEvolutionSampler"
        )
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=None if seed is None else int(self._rng.integers(2**31)))

    def reseed_rng(self) -> None:
        """Reseed from fresh OS entropy (Optuna calls this for parallel workers)."""
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    # ----------------------------------------------------------------- Optuna API
    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """Categorical parameters shared by the current population (the last completed trials).

        Only the population is ever mutated, so intersecting over it (O(population_size)) is
        enough; intersecting over the whole study would make every proposal O(n_trials).
        """
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        recent = self._population(complete) if complete else []
        space = optuna.search_space.intersection_search_space(recent)
        return {k: d for k, d in sorted(space.items()) if isinstance(d, CategoricalDistribution)}

    def _population(self, complete: list[FrozenTrial]) -> list[FrozenTrial]:
        """The ``population_size`` most recently completed trials (the older ones aged out)."""
        return sorted(complete, key=lambda t: (t.datetime_complete or t.datetime_start, t.number))[
            -self.population_size :
        ]

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Propose all categorical params: random in warm-up, then a mutated tournament winner."""
        if not search_space:
            return {}
        if len(study.directions) > 1:
            raise ValueError("RegularizedEvolutionSampler supports single-objective studies only.")
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        names = list(search_space)
        if len(complete) < self.population_size:
            return {n: self._choice(search_space[n]) for n in names}
        population = self._population(complete)
        # Failed trials gave no result, so their params may be proposed again; this also makes a
        # resumed study (whose interrupted trial was marked failed) propose what it would have.
        seen = {
            self._key(t.params, names)
            for t in study.get_trials(deepcopy=False)
            if t.state != TrialState.FAIL and all(n in t.params for n in names)
        }
        maximize = study.direction == StudyDirection.MAXIMIZE
        child: dict[str, Any] = {}
        for _ in range(self.max_retries + 1):
            idx = self._rng.choice(len(population), size=self.sample_size, replace=False)
            contenders = [population[int(i)] for i in idx]
            parent = (max if maximize else min)(contenders, key=lambda t: t.value)
            child = self._mutate(parent.params, search_space, names)
            if self._key(child, names) not in seen:
                break
        return child

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Params outside the relative space (first trial, non-categorical) are uniform random."""
        if isinstance(param_distribution, CategoricalDistribution):
            return self._choice(param_distribution)
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # ----------------------------------------------------------------- helpers
    def _choice(self, dist: CategoricalDistribution) -> Any:
        return dist.choices[int(self._rng.integers(len(dist.choices)))]

    @staticmethod
    def _key(params: dict[str, Any], names: Sequence[str]) -> tuple:
        return tuple(params[n] for n in names)

    def _mutate(
        self, params: dict[str, Any], space: dict[str, BaseDistribution], names: list[str]
    ) -> dict[str, Any]:
        child = {n: params[n] for n in names}
        mutable = [n for n in names if len(space[n].choices) > 1]
        if not mutable:
            return child
        name = mutable[int(self._rng.integers(len(mutable)))]
        choices = list(space[name].choices)
        current = choices.index(child[name]) if child[name] in choices else 0
        shift = int(self._rng.integers(1, len(choices)))
        child[name] = choices[(current + shift) % len(choices)]
        return child


class SpaceEvolutionSampler(SpaceSampler):
    """Aging evolution with the space's own moves (for spaces with conditions or constraints).

    The algorithm of ``RegularizedEvolutionSampler`` on whole architectures: the first
    ``population_size`` completed trials are uniform random unused architectures
    (``space.sample``); then the population is the ``population_size`` most recent completed
    trials (by trial number), a tournament of ``sample_size`` of them is drawn without
    replacement and its best is mutated with ``space.mutate`` (one active decision changes, the
    decisions it activates are drawn, constraints always hold). A child already in the study is
    re-mutated up to ``max_retries`` times, then a random unused architecture is proposed.
    State is the study; the random generator of a proposal is seeded by ``(seed, number of
    non-failed trials before it)`` (see ``SpaceSampler``).

    Args:
        space: The search space (or its name).
        population_size: Recent trials forming the population (>= 2).
        sample_size: Tournament size (1 <= sample_size <= population_size).
        max_retries: Re-mutations tried to avoid an architecture already in the study.
        canonical: Dedup by ``canonical_key`` rather than by the exact decisions.
        seed: Seed of the proposals.
    """

    _owner = "SpaceEvolutionSampler"

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        population_size: int = 10,
        sample_size: int = 3,
        max_retries: int = 20,
        canonical: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__(space, canonical=canonical, seed=seed)
        self.population_size, self.sample_size, self.max_retries = check_tournament(
            population_size, sample_size, max_retries, self._owner
        )

    def _propose(self, study: Study, history: list[Past], rng: np.random.Generator) -> Arch:
        used = {p.key for p in history}
        complete = [p for p in history if p.value is not None]
        if len(complete) < self.population_size:
            return self.random_unused(used, rng)
        population = complete[-self.population_size :]
        for _ in range(self.max_retries + 1):
            idx = rng.choice(len(population), size=self.sample_size, replace=False)
            parent = max((population[int(i)] for i in idx), key=lambda p: p.value)
            child = self.space.mutate(parent.arch, rng)
            if self.key(child) not in used:
                return child
        return self.random_unused(used, rng)
