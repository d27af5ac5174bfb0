"""Every strategy on every kind of space: the sampler contract on declared spaces and NB301,
and the refusal of params from another space."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from predictor_nas.exceptions import InvalidParameterError, SearchError
from predictor_nas.samplers import (
    LocalSearchSampler,
    PredictorGuidedSampler,
    ReinforceSampler,
    SpaceEvolutionSampler,
)
from predictor_nas.search import ask_arch, available_strategies, make_sampler
from predictor_nas.spaces import get_space
from predictor_nas.testing.pytest_samplers import BasicSamplerContract, ask, objective_value

#: One space of each declared kind, and NB301 (conditional, not declared).
SPACES = ["layer_chain", "tiny_cell", "nb101", "mobilenet_macro", "nb301"]
#: Strategies that need zero-cost proxies of NB201.
NB201_ONLY = {"guided-zc", "zc-ls"}
#: Strategies whose construction needs an enumerable space.
ENUMERATING = {"grid"}


def _cases():
    for space in SPACES:
        for strategy in available_strategies():
            if strategy in NB201_ONLY:
                continue
            if strategy in ENUMERATING and not getattr(get_space(space), "enumerable", False):
                continue
            if strategy == "reinforce" and space == "nb301":
                continue
            yield space, strategy


@pytest.mark.parametrize(
    ("space", "strategy"),
    [
        pytest.param(sp, st, marks=pytest.mark.slow) if st == "gp" else (sp, st)
        for sp, st in _cases()
    ],
)
def test_every_strategy_proposes_valid_architectures_of_its_space(space, strategy):
    """20 ask-and-tell steps, a fresh strategy sampler per step: valid archs, mostly new ones."""
    sp = get_space(space)
    study = optuna.create_study(direction="maximize")
    for step in range(20):
        study.sampler = make_sampler(strategy, space, step)
        trial, _ = ask_arch(study, sp, max_infeasible=5, rng=np.random.default_rng(step))
        study.tell(trial, objective_value(trial.params, space))
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    archs = [sp.from_params(t.params) for t in complete]
    assert len(archs) == 20
    fallbacks = sum("fallback" in t.user_attrs for t in complete)
    if strategy not in ("random", "tpe", "gp"):  # ours never propose an infeasible arch
        assert fallbacks == 0 and len(study.trials) == 20
    assert len(set(archs)) >= 12


def _contract(space_name, factory):
    class _C(BasicSamplerContract):
        n_trials = 30

        @staticmethod
        def make_sampler(seed):
            return factory(space_name, seed)

    _C.space_name = space_name
    return _C


_GUIDED = {"n_warmup": 5, "n_candidates": 30, "predictor": "ridge"}
TestEvolutionOnChain = _contract(
    "layer_chain", lambda sp, s: SpaceEvolutionSampler(sp, population_size=5, seed=s)
)
# Contracts past the first two take 20-40 s each (journal resumes): run with -m slow.
TestEvolutionOnNB101 = pytest.mark.slow(
    _contract("nb101", lambda sp, s: SpaceEvolutionSampler(sp, population_size=5, seed=s))
)
TestLocalSearchOnMacro = _contract(
    "mobilenet_macro", lambda sp, s: LocalSearchSampler(sp, n_init=5, seed=s)
)
TestReinforceOnChain = pytest.mark.slow(
    _contract("layer_chain", lambda sp, s: ReinforceSampler(sp, seed=s))
)
TestGuidedOnChain = pytest.mark.slow(
    _contract("layer_chain", lambda sp, s: PredictorGuidedSampler(sp, seed=s, **_GUIDED))
)
TestGuidedOnNB101 = pytest.mark.slow(
    _contract("nb101", lambda sp, s: PredictorGuidedSampler(sp, seed=s, **_GUIDED))
)
TestGuidedOnNB301 = pytest.mark.slow(
    _contract("nb301", lambda sp, s: PredictorGuidedSampler(sp, seed=s, **_GUIDED))
)
TestGuidedStrategyOnTinyCell = pytest.mark.slow(
    _contract("tiny_cell", lambda sp, s: make_sampler("guided", sp, s))
)


@pytest.mark.parametrize("strategy", ["guided", "ls", "reinforce", "grid"])
def test_sampler_refuses_params_of_another_space(strategy):
    """An objective with params the sampler's space lacks gets a clear error, not random search."""
    study = optuna.create_study(sampler=make_sampler(strategy, "nb201", 0))

    def objective(trial):
        return trial.suggest_categorical("my_layer", ["conv", "pool"]) == "conv"

    with pytest.raises(SearchError, match=r"searches space 'nb201'.*'my_layer'"):
        study.optimize(objective, n_trials=3)


def test_guided_learns_from_trials_of_a_conditional_space():
    """On NB301 (conditional decisions) the guided sampler reads its trials: after warm-up it
    proposes neighbours or predictor picks, never a warm-up draw."""
    sampler = PredictorGuidedSampler("nb301", seed=0, **{**_GUIDED, "local_search": True})
    study = optuna.create_study(sampler=sampler, direction="maximize")
    for _ in range(12):
        trial = ask(study, "nb301")
        study.tell(trial, objective_value(trial.params, "nb301"))
    assert sampler.proposal_kinds[:5] == ["warmup"] * 5
    assert set(sampler.proposal_kinds[5:]) <= {"local", "restart", "predictor"}


def test_zero_cost_strategies_refuse_other_spaces():
    """guided-zc names what it needs when handed a space without NB201's proxies."""
    with pytest.raises(InvalidParameterError, match="space 'layer_chain' has none"):
        make_sampler("guided-zc", "layer_chain", 0)
