"""TopKSampler (the topk real search's step): contract, rounds and attributes, fit targets."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.samplers import (
    TopKSampler,
    complete_curves,
    expected_improvement,
    fit_targets,
)
from predictor_nas.spaces import SearchSpace, get_space
from predictor_nas.testing.pytest_samplers import BasicSamplerContract, ask, objective_value

NB201 = get_space("nb201")
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
SMALL = {"top_k": 4, "n_init": 6, "pool_size": 80, "predictor": "ridge"}


def _sampler(seed, space="nb201", **kw):
    return TopKSampler(space, seed=seed, **{**SMALL, **kw})


@pytest.mark.slow
class TestTopKContract(BasicSamplerContract):
    """TopKSampler (ridge, small pool) passes the sampler contract on NB201."""

    stateless = True

    @staticmethod
    def make_sampler(seed):
        return _sampler(seed)


@pytest.mark.slow
class TestTopKContractOnChain(BasicSamplerContract):
    """On a declared conditional space (layer_chain, asked define-by-run) too."""

    n_trials = 30
    space_name = "layer_chain"
    stateless = True

    @staticmethod
    def make_sampler(seed):
        return _sampler(seed, "layer_chain")


class TinySpace(SearchSpace):
    """3 decisions x 3 ops = 27 archs, no isomorphisms."""

    name = "tiny-topk"
    param_names = ("a", "b", "c")
    choices = ("x", "y", "z")

    def parse(self, text):
        return self.make(text.split("-"))

    def format(self, arch):
        return "-".join(self.validate(arch).ops)

    def canonical_key(self, arch):
        return "".join(self.validate(arch).ops)


def _table_study(sampler, n, direction="maximize"):
    study = optuna.create_study(sampler=sampler, direction=direction)
    for _ in range(n):
        t = ask(study)
        study.tell(t, objective_value(t.params))
    return study


def test_rounds_attributes_and_plans_on_a_table_objective():
    """n_init random archs (round 0), then rounds of top_k; each trial carries round, rank and
    the predictor's mean/std of its plan entry, and plan_<r> lists the round's archs."""
    study = _table_study(_sampler(0, top_k=3, n_init=4), 10)
    trials = study.trials
    assert [t.user_attrs["round"] for t in trials] == [0] * 4 + [1] * 3 + [2] * 3
    assert [t.user_attrs["rank"] for t in trials] == [0, 1, 2, 3, 0, 1, 2, 0, 1, 2]
    assert all(t.user_attrs["pred_mean"] is None for t in trials[:4])
    assert all(isinstance(t.user_attrs["pred_mean"], float) for t in trials[4:])
    assert TopKSampler.n_rounds(study) == 3
    for t in trials:
        entry = study.user_attrs[f"plan_{t.user_attrs['round']}"][t.user_attrs["rank"]]
        assert NB201.from_params(t.params) == NB201.parse(entry["arch"])
        assert entry["pred_mean"] == t.user_attrs["pred_mean"]
    keys = [NB201.canonical_key(NB201.from_params(t.params)) for t in trials]
    assert len(set(keys)) == 10
    # round 1's ranks follow the expected improvement over round 0's best value
    best = max(t.value for t in trials[:4])
    r1 = [(t.user_attrs["pred_mean"], t.user_attrs["pred_std"]) for t in trials[4:7]]
    ei = expected_improvement(np.array([m for m, _ in r1]), np.array([s for _, s in r1]), best)
    assert list(ei) == sorted(ei, reverse=True)


def test_failed_trial_is_proposed_again_and_pruned_counts_as_done():
    """A failed trial's arch is the next proposal again; a pruned one is finished (not redone)."""
    study = optuna.create_study(sampler=_sampler(1, n_init=3))
    t0 = ask(study)
    study.tell(t0, state=TrialState.FAIL)
    t1 = ask(study)
    assert t1.params == t0.params and t1.user_attrs["rank"] == 0
    t1.report(50.0, 0)
    study.tell(t1, state=TrialState.PRUNED)
    t2 = ask(study)
    assert t2.params != t1.params and t2.user_attrs["rank"] == 1


def test_minimize_learns_the_low_values():
    """On a minimised objective the later rounds beat round 0's best."""
    study = _table_study(_sampler(2), 30, direction="minimize")
    values = [t.value for t in study.trials]
    assert min(values[6:]) < min(values[:6])


def test_fit_targets_extrapolate_pruned_runs():
    """A pruned run's target is its last value plus the full runs' mean gain from that epoch,
    capped at max_target; minimising negates; without epochs it is the last value."""
    study = optuna.create_study(direction="maximize")
    curves = {COMPLETE: [[10.0, 40.0, 60.0], [20.0, 50.0, 80.0]], PRUNED: [[30.0], [95.0, 96.0]]}
    for state, rows in curves.items():
        for c in rows:
            t = study.ask()
            for step, v in enumerate(c):
                t.report(v, step)
            study.tell(t, c[-1] if state == COMPLETE else None, state=state)
    trials = study.trials
    assert complete_curves(trials, 3).tolist() == curves[COMPLETE]
    # gains: from epoch 0: mean(50, 60) = 55; from epoch 1: mean(20, 30) = 25
    assert fit_targets(trials, 3).tolist() == [60.0, 80.0, 85.0, 121.0]
    assert fit_targets(trials, 3, max_target=100.0).tolist() == [60.0, 80.0, 85.0, 100.0]
    assert fit_targets(trials, None).tolist() == [60.0, 80.0, 30.0, 96.0]
    assert fit_targets(trials, 3, maximize=False).tolist() == [-60.0, -80.0, -85.0, -121.0]


COMPLETE, PRUNED = TrialState.COMPLETE, TrialState.PRUNED


def test_a_warm_start_prior_picks_round_zero():
    """With a prior, round 0 is the n_init best of the pool by prior.score (pred_mean = score)."""

    class OpsPrior:
        features = None

        def score(self, archs):
            return np.array([objective_value(NB201.to_params(a)) for a in archs])

    study = _table_study(_sampler(3, prior=OpsPrior(), n_init=4), 4)
    scores = [t.user_attrs["pred_mean"] for t in study.trials]
    assert scores == sorted(scores, reverse=True)
    assert scores == pytest.approx([objective_value(t.params) for t in study.trials])
    assert min(scores) > np.mean([objective_value(NB201.to_params(NB201.sample(i)))
                                  for i in range(200)])


def test_the_pool_runs_dry_on_a_small_space():
    """Once every arch of the space is finished the sampler raises a clear error."""
    space = TinySpace()
    study = optuna.create_study(sampler=TopKSampler(space, seed=0, top_k=5, n_init=5,
                                                    predictor="ridge", pool_size=30))
    for _ in range(27):
        t = study.ask(space.distributions())
        study.tell(t, float(sum(map(ord, "".join(t.params.values())))))
    assert len({tuple(t.params.values()) for t in study.trials}) == 27
    with pytest.raises(InvalidParameterError, match="The candidate pool is empty"):
        study.ask(space.distributions())


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"top_k": 0}, "The 'top_k' parameter of TopKSampler must be an int >= 1. Got 0"),
        ({"n_init": 1}, "The 'n_init' parameter of TopKSampler must be an int >= 2. Got 1"),
        ({"predictor": "nope"}, "'predictor' parameter of TopKSampler"),
        ({"acquisition": "pi"}, "'acquisition' parameter of TopKSampler"),
        ({"prior": 3}, "'prior' parameter of TopKSampler"),
        ({"predictor_kwargs": [1]}, "'predictor_kwargs' parameter of TopKSampler"),
        ({"epochs": 0}, "'epochs' parameter of TopKSampler"),
        ({"max_target": "100"}, "'max_target' parameter of TopKSampler"),
    ],
)
def test_argument_errors(kw, msg):
    """Bad arguments raise InvalidParameterError naming the parameter and the value."""
    with pytest.raises(InvalidParameterError, match=msg):
        TopKSampler("nb201", **kw)


def test_multi_objective_study_is_refused():
    """The sampler is single-objective: a two-direction study gets a clear error on ask."""
    study = optuna.create_study(sampler=_sampler(0), directions=["maximize", "minimize"])
    with pytest.raises(ValueError, match="single-objective"):
        ask(study)
