"""PredictorGuidedSampler: the sampler contract, BANANAS rules, acquisitions and the strategy."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.predictors import make_predictor
from predictor_nas.samplers import (
    PredictorGuidedSampler,
    acquisition_scores,
    expected_improvement,
    thompson_sample,
    upper_confidence_bound,
)
from predictor_nas.samplers._acquisition import best_index
from predictor_nas.search import make_sampler, run_search
from predictor_nas.spaces import get_space
from predictor_nas.testing.pytest_samplers import BasicSamplerContract, objective_value

SPACE = get_space("nb201")
# BayesianRidge reports a NaN std on an exactly linear objective; the sampler treats it as 0.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")


def _guided(seed, **kw):
    kw.setdefault("predictor", "ridge")
    return PredictorGuidedSampler("nb201", seed=seed, **kw)


def _study(sampler, n, direction="maximize", sign=1.0):
    study = optuna.create_study(sampler=sampler, direction=direction)
    for _ in range(n):
        t = study.ask(SPACE.distributions())
        study.tell(t, sign * objective_value(t.params))
    return study


def _key(params):
    return SPACE.canonical_key(SPACE.from_params(params))


class CountingFactory:
    """A ``seed -> Predictor`` factory that records the size of every fit."""

    def __init__(self):
        self.fit_sizes = []

    def __call__(self, seed):
        p = make_predictor("ridge", seed=seed)
        fit = p.fit

        def counted(archs, y, **extra):
            self.fit_sizes.append(len(archs))
            return fit(archs, y, **extra)

        p.fit = counted
        return p


class TestGuidedRidgeContract(BasicSamplerContract):
    """The guided sampler (ridge predictor, fast) passes the sampler contract."""

    @staticmethod
    def make_sampler(seed):
        return _guided(seed)


class TestGuidedTSContract(BasicSamplerContract):
    """The guided sampler with Thompson sampling passes the contract too."""

    n_trials = 25

    @staticmethod
    def make_sampler(seed):
        return _guided(seed, acquisition="ts", n_warmup=5)


def test_xgb_guided_small_run_is_valid_and_deterministic():
    """With the default xgb predictor a short run is valid, has no repeats and is seeded."""
    kw = {"predictor": "xgb", "predictor_kwargs": {"n_estimators": 30, "ensemble_size": 3}}
    a = _study(_guided(0, n_warmup=5, **kw), 12)
    b = _study(_guided(0, n_warmup=5, **kw), 12)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    keys = [_key(t.params) for t in a.trials]
    assert len(set(keys)) == len(keys)


def test_guided_strategy_passes_a_short_contract_run():
    """The 'guided' strategy factory builds a working sampler (xgb, EI)."""
    sampler = make_sampler("guided", 3)
    assert isinstance(sampler, PredictorGuidedSampler)
    assert sampler.predictor == "xgb" and sampler.acquisition == "ei"
    study = _study(sampler, sampler.n_warmup + 2)
    assert sampler.proposal_kinds[-2:] == ["predictor", "predictor"]
    for t in study.trials:
        SPACE.from_params(t.params)


def test_never_proposes_an_evaluated_canonical_key():
    """No proposal repeats the canonical key (isomorphism class) of an earlier trial."""
    study = _study(_guided(11, n_warmup=5, n_candidates=60), 80)
    keys = [_key(t.params) for t in study.trials]
    assert len(set(keys)) == len(keys)


def test_warmup_is_random_then_predictor_driven():
    """The first n_warmup trials are random (no fit); afterwards each proposal fits once."""
    factory = CountingFactory()
    sampler = _guided(5, predictor=factory, n_warmup=8)
    _study(sampler, 14)
    # Trial 0 has no relative space yet (independent sampling): the kinds start at trial 1.
    assert sampler.proposal_kinds == ["warmup"] * 7 + ["predictor"] * 6
    assert factory.fit_sizes == [8, 9, 10, 11, 12, 13]
    # Warm-up proposals do not depend on the predictor or the acquisition.
    a = _study(_guided(5, n_warmup=8), 8)
    b = _study(_guided(5, n_warmup=8, predictor="xgb", acquisition="ucb"), 8)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_predictor_phase_beats_warmup_on_a_learnable_objective():
    """With a linear objective the ridge-guided proposals are much better than random ones."""
    study = _study(_guided(2, n_warmup=10), 25)
    values = [t.value for t in study.trials]
    assert np.mean(values[10:]) > max(values[:10])
    assert max(values) == pytest.approx(
        objective_value(dict.fromkeys(SPACE.param_names, "nor_conv_3x3"))
    )


def test_minimize_direction_mirrors_maximize():
    """Minimising -f proposes exactly what maximising f proposes (targets are negated)."""
    a = _study(_guided(9, n_warmup=6), 20, direction="maximize", sign=1.0)
    b = _study(_guided(9, n_warmup=6), 20, direction="minimize", sign=-1.0)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert min(t.value for t in b.trials) < min(t.value for t in b.trials[:6])


@pytest.mark.parametrize("acquisition", ["ei", "ucb", "ts"])
def test_every_acquisition_runs_and_is_seeded(acquisition):
    """EI, UCB and TS each give a valid, seed-determined sequence."""
    a = _study(_guided(4, n_warmup=5, acquisition=acquisition), 12)
    b = _study(_guided(4, n_warmup=5, acquisition=acquisition), 12)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_failed_trial_keys_are_not_used_up():
    """A failed trial does not block its arch: asking again after the failure repeats it."""
    study = _study(_guided(0, n_warmup=5), 10)
    study.sampler = _guided(42, n_warmup=5)
    first = study.ask(SPACE.distributions())
    params = dict(first.params)
    study.tell(first, state=TrialState.FAIL)
    study.sampler = _guided(42, n_warmup=5)
    again = study.ask(SPACE.distributions())
    assert again.params == params


def test_running_trials_are_pending_with_kriging_believer():
    """Running trials' keys are excluded and they join the fit at their predicted mean."""
    factory = CountingFactory()
    study = _study(_guided(1, n_warmup=6), 10)
    study.sampler = _guided(1, predictor=factory, n_warmup=6)
    running = [study.ask(SPACE.distributions()) for _ in range(4)]
    keys = [_key(t.params) for t in running]
    assert len(set(keys)) == 4
    done = {_key(t.params) for t in study.trials if t.state == TrialState.COMPLETE}
    assert not set(keys) & done
    # The fit on the 10 complete trials is made once (cached); proposal k >= 1 then refits on
    # the 10 complete + k pending ones.
    assert factory.fit_sizes == [10, 11, 12, 13]


def test_predictor_instance_and_factory_plug_in():
    """A Predictor instance or a seed -> Predictor callable can replace the named predictor."""
    mine = make_predictor("ridge", seed=0)
    inst = _study(_guided(6, n_warmup=5, predictor=mine), 10)
    assert not hasattr(mine, "n_train_")  # copied for each fit, never fitted in place
    fac = _study(_guided(6, n_warmup=5, predictor=lambda s: make_predictor("ridge", seed=s)), 10)
    named = _study(_guided(6, n_warmup=5), 10)
    assert [t.params for t in inst.trials] == [t.params for t in named.trials]
    assert [t.params for t in fac.trials] == [t.params for t in named.trials]


def test_proposal_seconds_are_recorded():
    """Each relative proposal records its wall time."""
    sampler = _guided(0, n_warmup=5)
    _study(sampler, 8)
    assert len(sampler.proposal_seconds) == 7
    assert all(s >= 0 for s in sampler.proposal_seconds)


# ----------------------------------------------------------------- acquisition functions
def test_expected_improvement_ordering_and_values():
    """EI prefers a sure gain, then a wide uncertain arch, then a narrow one below the best."""
    mean = np.array([1.0, 0.0, 0.0])
    std = np.array([0.0, 1.0, 0.1])
    ei = expected_improvement(mean, std, best=0.5)
    assert ei[0] == pytest.approx(0.5)
    phi = math.exp(-0.125) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(-0.5 / math.sqrt(2)))
    assert ei[1] == pytest.approx(-0.5 * cdf + phi)
    assert ei[0] > ei[1] > ei[2] >= 0
    # Monte Carlo check of the closed form.
    rng = np.random.default_rng(0)
    draws = 0.2 + 0.7 * rng.standard_normal(400_000)
    mc = np.maximum(draws - 0.5, 0).mean()
    assert expected_improvement(np.array([0.2]), np.array([0.7]), best=0.5)[0] == pytest.approx(
        mc, rel=0.02
    )
    assert list(expected_improvement(mean, None, best=0.5)) == [0.5, 0.0, 0.0]


def test_ucb_ordering_depends_on_kappa():
    """UCB = mean + kappa*std: kappa 0 ranks by mean, a large kappa by std."""
    mean = np.array([1.0, 0.0, 0.5])
    std = np.array([0.0, 1.0, 0.1])
    assert list(np.argsort(-upper_confidence_bound(mean, std, 0.0))) == [0, 2, 1]
    assert list(np.argsort(-upper_confidence_bound(mean, std, 2.0))) == [1, 0, 2]


def test_thompson_sampling_draws_around_the_mean():
    """TS draws one value per candidate from N(mean, std); a sure best wins, a spread one often."""
    mean = np.array([1.0, 0.0, 0.9])
    assert list(thompson_sample(mean, np.zeros(3), np.random.default_rng(0))) == list(mean)
    rng = np.random.default_rng(1)
    std = np.array([0.0, 0.0, 1.0])
    wins = [best_index(thompson_sample(mean, std, rng), mean) for _ in range(2000)]
    share = np.bincount(wins, minlength=3) / 2000
    assert share[1] == 0
    assert share[2] == pytest.approx(1 - 0.5398, abs=0.04)  # P(N(0.9, 1) > 1)
    a = thompson_sample(mean, std, np.random.default_rng(3))
    b = thompson_sample(mean, std, np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_acquisition_scores_dispatch_and_ties():
    """acquisition_scores picks the named function; ties go to the higher mean, then order."""
    mean, std = np.array([0.1, 0.3]), np.array([0.2, 0.2])
    rng = np.random.default_rng(0)
    assert np.allclose(acquisition_scores("ucb", mean, std, best=0, rng=rng, kappa=1.5), mean + 0.3)
    assert np.allclose(
        acquisition_scores("ei", mean, std, best=1.0, rng=rng),
        expected_improvement(mean, std, 1.0),
    )
    assert best_index(np.zeros(3), np.array([0.0, 2.0, 2.0])) == 1
    with pytest.raises(InvalidParameterError, match="acquisition"):
        acquisition_scores("pi", mean, std, best=0, rng=rng)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"acquisition": "pi"}, "acquisition"),
        ({"n_warmup": 1}, "n_warmup"),
        ({"n_candidates": 0}, "n_candidates"),
        ({"predictor": "bogus"}, "predictor"),
        ({"predictor": 3}, "predictor"),
        ({"ucb_kappa": -1.0}, "ucb_kappa"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, name):
    """Invalid settings raise the standard parameter error naming the parameter."""
    with pytest.raises(
        InvalidParameterError, match=f"'{name}' parameter of PredictorGuidedSampler"
    ):
        PredictorGuidedSampler(**kwargs)


def test_importing_samplers_stays_light():
    """Importing predictor_nas.samplers loads neither xgboost nor torch."""
    code = (
        "import sys, predictor_nas.samplers, predictor_nas.search; "
        "print(sorted(m for m in ('xgboost', 'torch', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_search_guided_same_seed_same_result():
    """run_search(strategy='guided', budget=30, seed=0) twice gives the same search."""
    a = run_search(strategy="guided", budget=30, seed=0)
    b = run_search(strategy="guided", budget=30, seed=0)
    assert a.best_arch == b.best_arch
    assert a.trajectory_regret_val == b.trajectory_regret_val
    assert a.n_queries == 30 and a.strategy == "guided"
