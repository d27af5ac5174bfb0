"""Our samplers: the shared contract, plus regularized evolution's own rules."""

from __future__ import annotations

import optuna
import pytest

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.samplers import RegularizedEvolutionSampler
from predictor_nas.search import make_sampler
from predictor_nas.spaces import get_space
from predictor_nas.testing.pytest_samplers import BasicSamplerContract, objective_value

SPACE = get_space("nb201")


class TestRegularizedEvolutionContract(BasicSamplerContract):
    """Regularized evolution passes the sampler contract."""

    @staticmethod
    def make_sampler(seed):
        return RegularizedEvolutionSampler(population_size=10, sample_size=3, seed=seed)


class TestStrategyFactoriesContract(BasicSamplerContract):
    """The samplers built by the 'rea' strategy factory pass the contract too."""

    @staticmethod
    def make_sampler(seed):
        return make_sampler("rea", "nb201", seed)


def _study(sampler, n):
    study = optuna.create_study(sampler=sampler, direction="maximize")
    for _ in range(n):
        t = study.ask(SPACE.distributions())
        study.tell(t, objective_value(t.params))
    return study


def test_children_are_one_mutation_from_the_population():
    """After warm-up, every child differs in exactly one decision from a member of its population."""
    p = 8
    study = _study(RegularizedEvolutionSampler(population_size=p, sample_size=3, seed=0), 60)
    trials = study.trials
    for k in range(p, len(trials)):
        population = trials[k - p : k]
        child = trials[k].params
        dists = [sum(child[n] != m.params[n] for n in SPACE.param_names) for m in population]
        assert min(dists) == 1


def test_no_repeated_architectures_when_avoidable():
    """Evolution does not spend queries on params already in the study."""
    study = _study(RegularizedEvolutionSampler(population_size=10, sample_size=3, seed=1), 80)
    keys = [tuple(t.params[n] for n in SPACE.param_names) for t in study.trials[10:]]
    assert len(set(keys)) == len(keys)


def test_tournament_of_whole_population_always_mutates_the_best_recent():
    """With sample_size == population_size the parent is the best of the last P trials."""
    p = 5
    study = _study(RegularizedEvolutionSampler(population_size=p, sample_size=p, seed=2), 30)
    trials = study.trials
    for k in range(p, len(trials)):
        population = trials[k - p : k]
        best = max(population, key=lambda t: t.value)
        child = trials[k].params
        # the child is one mutation away from the best member (or a re-mutation of it)
        assert sum(child[n] != best.params[n] for n in SPACE.param_names) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"population_size": 1},
            "The 'population_size' parameter of RegularizedEvolutionSampler must be an int >= 2. Got 1 instead.",
        ),
        (
            {"sample_size": 0},
            "The 'sample_size' parameter of RegularizedEvolutionSampler must be an int >= 1. Got 0 instead.",
        ),
        ({"population_size": 4, "sample_size": 5}, "sample_size"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    """Invalid population or tournament sizes raise the standard parameter error."""
    with pytest.raises(
        InvalidParameterError,
        match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\."),
    ):
        RegularizedEvolutionSampler(**kwargs)


def test_unknown_strategy_lists_the_known_ones():
    """An unknown strategy name is refused with the list of strategies."""
    with pytest.raises(InvalidParameterError, match=r"'random', 'rea', 'reinforce', 'tpe', 'zc-ls'\. Got 'bogus' instead"):
        make_sampler("bogus", "nb201", 0)


def test_failed_trial_params_may_be_proposed_again():
    """A failed trial does not block its params: a resumed study proposes what it would have."""
    sampler_a = RegularizedEvolutionSampler(population_size=5, sample_size=5, seed=0)
    study = _study(sampler_a, 12)
    reference = RegularizedEvolutionSampler(population_size=5, sample_size=5, seed=42)
    study.sampler = reference
    proposal = study.ask(SPACE.distributions())
    params = dict(proposal.params)
    study.tell(proposal, state=optuna.trial.TrialState.FAIL)
    study.sampler = RegularizedEvolutionSampler(population_size=5, sample_size=5, seed=42)
    again = study.ask(SPACE.distributions())
    assert again.params == params
