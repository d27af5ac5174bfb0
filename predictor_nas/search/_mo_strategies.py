"""The multi-objective strategies: a sampler factory per name (``MO_STRATEGIES``).

A factory takes the space, the query's seed and a ``_Context`` (what the search knows without
evaluating: a feasibility test and the objectives read exactly) and returns an Optuna sampler.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import optuna

from predictor_nas.samplers import (
    FeasibleGuidedSampler,
    MOPredictorGuidedSampler,
    MORegularizedEvolutionSampler,
)
from predictor_nas.spaces import Arch, SearchSpace


@dataclass
class _Context:
    """What a strategy factory may use besides the space and the seed."""

    feasible: Callable[[Arch], bool] | None
    known: dict[int, Callable[[Sequence[Arch]], Any]]
    n_objectives: int = 2


def _random(sp: SearchSpace, seed: int, ctx: _Context) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _nsga2(sp: SearchSpace, seed: int, ctx: _Context) -> optuna.samplers.BaseSampler:
    return optuna.samplers.NSGAIISampler(seed=seed)


def _nsga3(sp: SearchSpace, seed: int, ctx: _Context) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():  # "experimental" once per query would drown the output
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.NSGAIIISampler(seed=seed)


def _motpe(sp: SearchSpace, seed: int, ctx: _Context) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(seed=seed)


def _mo_rea(sp: SearchSpace, seed: int, ctx: _Context) -> optuna.samplers.BaseSampler:
    return MORegularizedEvolutionSampler(sp, seed=seed, feasible=ctx.feasible)


def _mo_guided(sp: SearchSpace, seed: int, ctx: _Context) -> optuna.samplers.BaseSampler:
    if ctx.n_objectives == 1:  # constrained single-objective: guided's settings, feasible only
        return FeasibleGuidedSampler.benchmarked(sp, feasible=ctx.feasible, seed=seed)
    return MOPredictorGuidedSampler(sp, seed=seed, known=ctx.known, feasible=ctx.feasible)


MO_STRATEGIES: dict[str, tuple[Callable[..., optuna.samplers.BaseSampler], str]] = {
    "mo-guided": (
        _mo_guided,
        "predictor-guided: ridge model per learned objective (params, flops, latency read "
        "exactly), candidate adding the most hypervolume; 10 random warm-up; with one objective "
        "the guided strategy's sampler restricted to feasible architectures (ours)",
    ),
    "mo-rea": (
        _mo_rea,
        "regularized evolution, population 20, tournament 5 by non-dominated rank and crowding "
        "(ours)",
    ),
    "motpe": (_motpe, "multi-objective TPE (Optuna TPESampler, default settings)"),
    "nsga2": (_nsga2, "NSGA-II (Optuna NSGAIISampler, population 50)"),
    "nsga3": (_nsga3, "NSGA-III (Optuna NSGAIIISampler, population 50)"),
    "random": (_random, "uniform random sampling (Optuna RandomSampler)"),
}


def mo_strategies() -> list[str]:
    """Names accepted by ``run_mo_search``'s ``strategy``."""
    return list(MO_STRATEGIES)
