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
    ScoreFeatures,
    acquisition_scores,
    expected_improvement,
    table_scorer,
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
    """A ``seed -> Predictor`` factory that records every fit's and predict's architectures."""

    def __init__(self):
        self.fit_sizes = []
        self.fits = []
        self.targets = []
        self.predicts = []

    def __call__(self, seed):
        p = make_predictor("ridge", seed=seed)
        fit, predict = p.fit, p.predict

        def counted(archs, y, **extra):
            self.fit_sizes.append(len(archs))
            self.fits.append(list(archs))
            self.targets.append(np.asarray(y, dtype=float))
            return fit(archs, y, **extra)

        def recorded(archs):
            self.predicts.append(list(archs))
            return predict(archs)

        p.fit, p.predict = counted, recorded
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
    """The 'guided' strategy factory builds a working sampler (xgb, EI, predictor-steered local
    search with random restarts)."""
    sampler = make_sampler("guided", "nb201", 3)
    assert isinstance(sampler, PredictorGuidedSampler)
    assert sampler.predictor == "xgb" and sampler.acquisition == "ei"
    assert sampler.local_search and sampler.restart == "random"
    study = _study(sampler, sampler.n_warmup + 2)
    assert sampler.proposal_kinds[-2:] == ["local", "local"]
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
        ({"warmup": "zc"}, "warmup"),
        ({"warmup": "proxy"}, "warmup_scorer"),
        ({"warmup_scorer": 3}, "warmup_scorer"),
        ({"warmup_pool": 0}, "warmup_pool"),
        ({"max_edits": 0}, "max_edits"),
        ({"max_edits": 7}, "max_edits"),
        ({"n_local_parents": -1}, "n_local_parents"),
        ({"n_crossovers": -2}, "n_crossovers"),
        ({"local_search": 1}, "local_search"),
        ({"restart": "best"}, "restart"),
        ({"climb_scorer": 3, "local_search": True}, "climb_scorer"),
        ({"climb_scorer": len}, "climb_scorer"),
        ({"patience": 0}, "patience"),
        ({"target": "log"}, "target"),
        ({"transfer": 3}, "transfer"),
        ({"transfer": len, "predictor": lambda s: make_predictor("ridge", seed=s)}, "transfer"),
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


@pytest.mark.slow
def test_run_search_guided_same_seed_same_result():
    """run_search(strategy='guided', budget=30, seed=0) twice gives the same search."""
    a = run_search(strategy="guided", budget=30, seed=0)
    b = run_search(strategy="guided", budget=30, seed=0)
    assert a.best_arch == b.best_arch
    assert a.trajectory_regret_val == b.trajectory_regret_val
    assert a.n_queries == 30 and a.strategy == "guided"


# ----------------------------------------------------------------- candidate pool options
def _diff(a, b):
    return sum(x != y for x, y in zip(a.ops, b.ops))


def _best_arch(trials):
    return SPACE.from_params(max(trials, key=lambda t: t.value).params)


def test_local_parents_add_every_unused_one_edit_neighbour():
    """n_local_parents=1 pools exactly the incumbent's unused one-edit neighbours, one per key."""
    factory = CountingFactory()
    kw = {"n_local_parents": 1, "n_mutations_per_parent": 0, "n_candidates": 24}
    study = _study(_guided(3, predictor=factory, n_warmup=12, **kw), 13)
    first = study.trials[:12]
    used = {_key(t.params) for t in first}
    expected = {SPACE.canonical_key(a) for a in SPACE.neighbours(_best_arch(first))} - used
    pool = factory.predicts[0]
    assert {SPACE.canonical_key(a) for a in pool} == expected
    assert len(pool) == len(expected) > 10


def test_mutations_make_one_to_max_edits_distinct_edits():
    """Mutations of a parent differ from it in 1, 2, ..., max_edits decisions."""
    factory = CountingFactory()
    kw = {"n_parents": 1, "n_mutations_per_parent": 60, "max_edits": 3, "n_candidates": 60}
    study = _study(_guided(4, predictor=factory, n_warmup=10, **kw), 11)
    parent = _best_arch(study.trials[:10])
    edits = [_diff(a, parent) for a in factory.predicts[0]]
    assert set(edits) == {1, 2, 3}
    assert len(edits) > 40  # few of the 60 collapse onto a used or repeated key


def test_crossovers_mix_the_parents_decisions():
    """Each crossover child takes every decision from one of the n_parents best archs."""
    factory = CountingFactory()
    kw = {"n_parents": 2, "n_mutations_per_parent": 0, "n_crossovers": 60, "n_candidates": 60}
    study = _study(_guided(9, predictor=factory, n_warmup=10, **kw), 11)
    ranked = sorted(study.trials[:10], key=lambda t: -t.value)
    p, q = (SPACE.from_params(t.params) for t in ranked[:2])
    pool = factory.predicts[0]
    for a in pool:
        assert all(o in (x, y) for o, x, y in zip(a.ops, p.ops, q.ops))
    assert any(_diff(a, p) and _diff(a, q) for a in pool)  # real mixes, not only copies


def test_local_search_climbs_one_edit_at_a_time_to_the_optimum():
    """local_search=True: after the warm-up, every "local" proposal is one edit from an earlier
    trial, a better one is found within a few proposals, and a linear score is maximised."""
    sampler = _guided(3, n_warmup=10, local_search=True)
    study = _study(sampler, 40)
    assert sampler.proposal_kinds[:9] == ["warmup"] * 9
    trials = [SPACE.from_params(t.params) for t in study.trials]
    kinds = sampler.proposal_kinds[9:]
    assert kinds.count("local") > 20
    for i, kind in enumerate(kinds, start=10):
        if kind == "local":
            assert min(_diff(trials[i], a) for a in trials[:i]) == 1
    best = dict.fromkeys(SPACE.param_names, "nor_conv_3x3")
    assert max(t.value for t in study.trials) == pytest.approx(objective_value(best))


def _add(study, archs, values):
    for a, v in zip(archs, values):
        params = SPACE.to_params(a)
        study.add_trial(
            optuna.trial.create_trial(params=params, distributions=SPACE.distributions(), value=v)
        )


def _local_optimum_study():
    """A study holding the all-conv3x3 cell and all its one-edit neighbours (each worse), and
    those archs (the cell first): its climb has nowhere left to go."""
    best = SPACE.from_params(dict.fromkeys(SPACE.param_names, "nor_conv_3x3"))
    study = optuna.create_study(direction="maximize")
    archs = [best, *SPACE.neighbours(best)]
    _add(study, archs, [objective_value(SPACE.to_params(a)) for a in archs])
    return study, archs


def test_local_search_restarts_at_a_local_optimum_and_climbs_from_there():
    """When every neighbour of the climb point is used the pool is scored instead (a restart),
    and the next proposals climb from the restart arch even though it is worse than the best."""
    study, archs = _local_optimum_study()
    best = archs[0]
    sampler = _guided(0, n_warmup=5, local_search=True)
    study.sampler = sampler
    restart = study.ask(SPACE.distributions())
    assert sampler.proposal_kinds == ["predictor"]
    r = SPACE.from_params(restart.params)
    assert _diff(r, best) >= 2
    study.tell(restart, 0.0)  # far worse than the best
    nxt = SPACE.from_params(study.ask(SPACE.distributions()).params)
    assert sampler.proposal_kinds[-1] == "local"
    assert _diff(nxt, r) == 1 and _diff(nxt, best) >= 1


def test_random_restart_scores_only_random_unused_archs():
    """restart="random": at a local optimum the predictor ranks n_candidates uniform random
    unused archs (no mutations of the best), proposes its favourite, and climbs from there."""
    study, archs = _local_optimum_study()
    best = archs[0]
    factory = CountingFactory()
    sampler = PredictorGuidedSampler(
        "nb201", predictor=factory, n_warmup=5, local_search=True, restart="random",
        n_candidates=50, seed=0,
    )
    study.sampler = sampler
    restart = study.ask(SPACE.distributions())
    assert sampler.proposal_kinds == ["restart"]
    pool = factory.predicts[-1]
    assert 40 <= len(pool) <= 50  # 50 draws minus the (rare) used or repeated keys
    used = {SPACE.canonical_key(a) for a in archs}
    assert not used & {SPACE.canonical_key(a) for a in pool}
    # Random archs, not mutations of the best: most differ from it in >= 3 of 6 decisions.
    assert np.mean([_diff(a, best) >= 3 for a in pool]) > 0.6
    # The proposal is one of the scored pool.
    r = SPACE.from_params(restart.params)
    assert SPACE.canonical_key(r) in {SPACE.canonical_key(a) for a in pool}
    study.tell(restart, 0.0)
    nxt = SPACE.from_params(study.ask(SPACE.distributions()).params)
    assert sampler.proposal_kinds[-1] == "local" and _diff(nxt, r) == 1


def test_climb_scorer_orders_the_climb_and_the_predictor_picks_only_restarts():
    """With a climb_scorer each climb step is the unused neighbour that scorer ranks highest
    (NaN never preferred) and no predictor is fitted; at a local optimum the predictor ranks
    the restart pool."""
    rng = np.random.default_rng(3)
    warm = [SPACE.sample(rng) for _ in range(5)]
    values = [objective_value(SPACE.to_params(a)) for a in warm]
    point = warm[int(np.argmax(values))]
    seen = []

    def convs(a):
        return SPACE.format(a).count("conv")

    def scorer(archs):
        seen.append(len(archs))
        # Fewer convolutions score higher, but the fewest are NaN (never preferred).
        n = np.array([convs(a) for a in archs], dtype=float)
        return np.where(n == n.min(), np.nan, -n)

    factory = CountingFactory()
    study = optuna.create_study(direction="maximize")
    _add(study, warm, values)
    sampler = PredictorGuidedSampler(
        "nb201", predictor=factory, n_warmup=5, local_search=True, climb_scorer=scorer, seed=0
    )
    study.sampler = sampler
    nxt = SPACE.from_params(study.ask(SPACE.distributions()).params)
    assert sampler.proposal_kinds == ["local"] and factory.fits == []
    used = {SPACE.canonical_key(a) for a in warm}
    counts = {convs(a) for a in SPACE.neighbours(point) if SPACE.canonical_key(a) not in used}
    assert _diff(nxt, point) == 1
    assert convs(nxt) == sorted(counts)[1]  # the best non-NaN score
    assert seen[-1] >= 18  # the point's unused neighbours (24 minus isomorphic repeats)
    # A local optimum (every neighbour evaluated and worse): the predictor picks the restart.
    study2, _ = _local_optimum_study()
    factory2 = CountingFactory()
    sampler2 = PredictorGuidedSampler(
        "nb201", predictor=factory2, n_warmup=5, local_search=True, climb_scorer=scorer, seed=0
    )
    study2.sampler = sampler2
    study2.ask(SPACE.distributions())
    assert sampler2.proposal_kinds == ["predictor"] and len(factory2.fits) == 1


@pytest.mark.parametrize("patience, kind", [(3, "restart"), (4, "local"), (None, "local")])
def test_patience_restarts_after_that_many_unimproved_neighbours(patience, kind):
    """With patience=k the climb restarts once k neighbours of the climb point were evaluated
    and none was better; with fewer (or patience=None) it keeps taking neighbours."""
    rng = np.random.default_rng(0)
    warm = [SPACE.sample(rng) for _ in range(5)]
    values = [objective_value(SPACE.to_params(a)) for a in warm]
    point = warm[int(np.argmax(values))]
    worse = SPACE.neighbours(point)[:3]
    study = optuna.create_study(direction="maximize")
    _add(study, [*warm, *worse], [*values, *([min(values) - 1.0] * 3)])
    sampler = PredictorGuidedSampler(
        "nb201", predictor="ridge", n_warmup=5, local_search=True, restart="random",
        patience=patience, seed=0,
    )
    study.sampler = sampler
    nxt = SPACE.from_params(study.ask(SPACE.distributions()).params)
    assert sampler.proposal_kinds == [kind]
    if kind == "local":
        assert _diff(nxt, point) == 1


def test_random_top_up_fills_the_pool_to_n_candidates():
    """Without neighbours or mutations the pool is n_candidates random archs (minus repeats)."""
    factory = CountingFactory()
    kw = {"n_mutations_per_parent": 0, "n_candidates": 50}
    study = _study(_guided(8, predictor=factory, n_warmup=10, **kw), 11)
    parent = _best_arch(study.trials[:10])
    pool = factory.predicts[0]
    assert 45 <= len(pool) <= 50
    assert np.mean([_diff(a, parent) for a in pool]) > 3.5  # random archs: 4.8 edits on average


def test_the_spaces_own_moves_give_valid_unique_proposals():
    """For spaces with their own moves (not independent decisions) the pool uses neighbours(),
    mutate() and sample(); proposals stay valid, seeded and never repeat a key."""

    def run():
        sampler = _guided(12, n_warmup=5, n_local_parents=2, n_candidates=80)
        sampler._plain = False
        return _study(sampler, 30)

    a, b = run(), run()
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    keys = [_key(t.params) for t in a.trials]
    assert len(set(keys)) == len(keys)
    assert max(t.value for t in a.trials) > max(t.value for t in a.trials[:5])


# ----------------------------------------------------------------- proxy warm-up
def _objective_scorer(archs):
    return np.array([objective_value(SPACE.to_params(a)) for a in archs])


def test_proxy_warmup_with_a_pool_of_one_is_the_random_warmup():
    """warmup='proxy' with warmup_pool=1 draws exactly the random warm-up's archs."""
    a = _study(_guided(5, n_warmup=8), 8)
    b = _study(
        _guided(5, n_warmup=8, warmup="proxy", warmup_scorer=_objective_scorer, warmup_pool=1), 8
    )
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_proxy_warmup_proposes_the_scorers_favourites():
    """Each proxy warm-up proposal, the first one included, is the scorer's best of 50 random
    archs: top-20% values."""
    sampler = _guided(6, n_warmup=10, warmup="proxy", warmup_scorer=_objective_scorer)
    sampler.warmup_pool = 50
    study = _study(sampler, 10)
    assert sampler.proposal_kinds == ["warmup"] * 10
    everything = _objective_scorer(list(SPACE))
    q80 = np.quantile(everything, 0.8)
    assert all(t.value >= q80 for t in study.trials)
    keys = [_key(t.params) for t in study.trials]
    assert len(set(keys)) == len(keys)


def test_proxy_warmup_never_prefers_nan_and_checks_the_shape():
    """NaN scores lose to any number; a scorer with the wrong output shape is an error."""

    def only_conv_first(archs):
        return np.array([0.0 if a.ops[0] == "nor_conv_3x3" else np.nan for a in archs])

    study = _study(_guided(2, n_warmup=8, warmup="proxy", warmup_scorer=only_conv_first), 8)
    assert all(t.params["edge_0"] == "nor_conv_3x3" for t in study.trials[1:])
    bad = _guided(2, n_warmup=8, warmup="proxy", warmup_scorer=lambda archs: np.zeros(3))
    with pytest.raises(ValueError, match="one score per architecture"):
        _study(bad, 3)


# ----------------------------------------------------------------- transfer warm start
def test_table_scorer_looks_up_the_metric_with_higher_better(nb201_table):
    """table_scorer returns the table's values, negated for a lower-is-better metric."""
    archs = [SPACE.from_index(i) for i in (0, 100, 5000, 15624)]
    rows = nb201_table.rows(archs)
    val = nb201_table.query_many(rows, "val_acc", dataset="cifar10")
    assert np.allclose(table_scorer(nb201_table, "cifar10")(archs), val)
    lat = nb201_table.query_many(rows, "latency", dataset="cifar10")
    assert not nb201_table.metric_info("latency", dataset="cifar10").higher_is_better
    assert np.allclose(table_scorer(nb201_table, "cifar10", "latency")(archs), -lat)
    with pytest.raises(InvalidParameterError, match="'metric' parameter of table_scorer"):
        table_scorer(nb201_table, "cifar10", "bogus")


def test_table_scorer_with_n_archs_is_a_seeded_source_model(nb201_table):
    """With n_archs a predictor fitted on that many source archs ranks the source well."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    archs = [SPACE.from_index(int(i)) for i in rng.choice(SPACE.size, 400, replace=False)]
    a = table_scorer(nb201_table, "cifar10", n_archs=200, predictor="ridge", seed=1)(archs)
    b = table_scorer(nb201_table, "cifar10", n_archs=200, predictor="ridge", seed=1)(archs)
    assert np.array_equal(a, b)
    truth = table_scorer(nb201_table, "cifar100")(archs)
    assert spearmanr(a, truth).statistic > 0.5  # 0.66 measured


def test_score_features_append_one_column():
    """ScoreFeatures is a one-column feature block, after any base block."""
    archs = [SPACE.from_index(i) for i in (1, 2, 3)]
    f = ScoreFeatures(_objective_scorer)
    assert f.names == ["transfer"]
    assert np.allclose(f.transform(archs)[:, 0], _objective_scorer(archs))
    g = ScoreFeatures(_objective_scorer, name="t2", base=f)
    assert g.names == ["transfer", "t2"] and g.transform(archs).shape == (3, 2)


@pytest.mark.slow
def test_transfer_from_cifar10_speeds_up_a_cifar100_search(nb201_table):
    """A warm start from the cifar10 table (proxy warm-up + transfer feature) finds better
    cifar100 archs in 15 queries than the plain guided search, on each of 3 seeds."""
    from predictor_nas.evaluators import TableEvaluator

    ev = TableEvaluator(nb201_table, "cifar100")
    src = table_scorer(nb201_table, "cifar10")
    xgb = {"predictor": "xgb", "predictor_kwargs": {"n_estimators": 40, "ensemble_size": 3}}

    def best_after(seed, **kw):
        study = optuna.create_study(direction="maximize")
        study.sampler = PredictorGuidedSampler("nb201", seed=seed, n_warmup=8, **xgb, **kw)
        for _ in range(15):
            t = study.ask(SPACE.distributions())
            study.tell(t, ev.evaluate(SPACE.from_params(t.params)).value)
        return study.best_value

    warm = {"warmup": "proxy", "warmup_scorer": src, "transfer": src}
    for seed in range(3):
        assert best_after(seed, **warm) > best_after(seed) + 1.0  # ~3 points measured


@pytest.mark.parametrize("target", ["raw", "rank"])
def test_targets_are_raw_or_ranks(target):
    """target='rank' fits the ranks of the values scaled to [0, 1]; 'raw' the values."""
    factory = CountingFactory()
    study = _study(_guided(1, predictor=factory, n_warmup=10, target=target), 11)
    y = np.array([t.value for t in study.trials[:10]])
    expected = y if target == "raw" else np.argsort(np.argsort(y)) / 9.0  # distinct values
    assert np.allclose(factory.targets[0], expected)
