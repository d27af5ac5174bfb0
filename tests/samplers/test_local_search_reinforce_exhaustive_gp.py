"""Local search, REINFORCE, brute force and the GP strategy: contract, own rules, strategies."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError, SearchError
from predictor_nas.samplers import ExhaustiveSampler, LocalSearchSampler, ReinforceSampler
from predictor_nas.search import STRATEGIES, make_sampler, run_search
from predictor_nas.spaces import SearchSpace, get_space
from predictor_nas.testing.pytest_samplers import BasicSamplerContract, objective_value

NB201 = get_space("nb201")


class TinySpace(SearchSpace):
    """3 decisions x 3 ops = 27 archs; ``canonical_key`` is either the ops or their multiset."""

    name = "tiny"
    param_names = ("a", "b", "c")
    choices = ("x", "y", "z")

    def __init__(self, order_free: bool = False):
        self.order_free = order_free

    def parse(self, text):
        return self.make(text.split("-"))

    def format(self, arch):
        return "-".join(self.validate(arch).ops)

    def canonical_key(self, arch):
        ops = self.validate(arch).ops
        return "".join(sorted(ops)) if self.order_free else "".join(ops)


TINY = TinySpace()


def _ops(params, space=NB201):
    return tuple(params[n] for n in space.param_names)


def _key(params):
    return NB201.canonical_key(NB201.from_params(params))


def _study(sampler, n, objective=objective_value, space=NB201, direction="maximize"):
    study = optuna.create_study(sampler=sampler, direction=direction)
    for _ in range(n):
        t = study.ask(space.distributions())
        study.tell(t, objective(t.params))
    return study


def _hamming(p, q, space=NB201):
    return sum(p[n] != q[n] for n in space.param_names)


# --------------------------------------------------------------------------- contracts
class TestLocalSearchContract(BasicSamplerContract):
    """Local search (first improvement) passes the sampler contract."""

    stateless = True

    @staticmethod
    def make_sampler(seed):
        return LocalSearchSampler("nb201", n_init=5, seed=seed)


class TestLocalSearchBestContract(BasicSamplerContract):
    """Local search with best-improvement moves passes the contract too."""

    stateless = True

    @staticmethod
    def make_sampler(seed):
        return LocalSearchSampler("nb201", n_init=5, move="best", seed=seed)


class TestReinforceContract(BasicSamplerContract):
    """The REINFORCE controller passes the sampler contract."""

    stateless = True

    @staticmethod
    def make_sampler(seed):
        return ReinforceSampler("nb201", learning_rate=0.1, seed=seed)


class TestExhaustiveContract(BasicSamplerContract):
    """Brute force in a seeded random order passes the sampler contract."""

    stateless = True
    learns = False

    @staticmethod
    def make_sampler(seed):
        return ExhaustiveSampler("nb201", seed=seed)


@pytest.mark.parametrize("strategy", ["ls", "reinforce", "grid"])
class TestNewStrategyFactoriesContract(BasicSamplerContract):
    """The samplers built by the 'ls', 'reinforce' and 'grid' strategies pass the contract."""

    n_trials = 30
    stateless = True

    @pytest.fixture(autouse=True)
    def _factory(self, strategy):
        self.make_sampler = lambda seed: make_sampler(strategy, "nb201", seed)
        self.learns = strategy != "grid"


@pytest.mark.slow
class TestGPContract(BasicSamplerContract):
    """Optuna's GPSampler (the 'gp' strategy's sampler, 5 random start-up trials instead of 10
    to keep it short) passes the contract."""

    n_trials = 15

    @staticmethod
    def make_sampler(seed):
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=5)


# --------------------------------------------------------------------------- local search
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_search_moves_only_to_better_neighbours(seed):
    """After the random start, each trial is a one-edit neighbour of the incumbent, which is
    replaced only by a better neighbour, or a restart once the neighbourhood is used up."""
    n_init = 6
    sampler = LocalSearchSampler("nb201", n_init=n_init, seed=seed)
    study = _study(sampler, 120)
    trials = study.trials
    inc = max(trials[:n_init], key=lambda t: t.value)
    used = {_key(t.params) for t in trials[:n_init]}
    moves = restarts = 0
    for t in trials[n_init:]:
        if _hamming(t.params, inc.params) == 1:
            if t.value > inc.value:
                inc, moves = t, moves + 1
        else:  # a restart: allowed only when every neighbour of the incumbent is in the study
            nbs = {NB201.canonical_key(a) for a in NB201.neighbours(NB201.from_params(inc.params))}
            assert nbs <= used
            inc, restarts = t, restarts + 1
        used.add(_key(t.params))
    assert moves >= 3
    assert len(used) == len(trials)  # never a repeat (up to isomorphism)
    # the sampler's own account of the run agrees with this independent replay
    steps = sampler.steps(study)
    assert [s.number for s in steps] == [t.number for t in trials]
    assert sum(s.role == "restart" for s in steps) == restarts
    assert steps[-1].incumbent_after == inc.number


def test_local_search_restarts_at_a_local_optimum():
    """From a strict local optimum, local search evaluates its whole neighbourhood and then
    restarts from a random architecture outside it."""

    def objective(params):  # 2 per 'z'; 'x-x-x' (5) beats all its neighbours (0 or 2)
        ops = _ops(params, TINY)
        return 5.0 if ops == ("x", "x", "x") else 2.0 * ops.count("z")

    for seed in range(3):
        sampler = LocalSearchSampler(TINY, n_init=1, canonical=True, seed=seed)
        study = optuna.create_study(sampler=sampler, direction="maximize")
        study.enqueue_trial({"a": "x", "b": "x", "c": "x"})
        for _ in range(8):
            t = study.ask(TINY.distributions())
            study.tell(t, objective(t.params))
        first = study.trials[0].params
        nbs = {TINY.format(a) for a in TINY.neighbours(TINY.from_params(first))}
        proposed = [TINY.format(TINY.from_params(t.params)) for t in study.trials[1:7]]
        assert set(proposed) == nbs and len(proposed) == 6
        assert _hamming(study.trials[7].params, first, TINY) >= 2
        roles = [s.role for s in sampler.steps(study)]
        assert roles == ["init", *["neighbour"] * 6, "restart"]


def test_local_search_first_improvement_moves_at_once():
    """With move='first' the next proposal after an improvement is a neighbour of the new
    incumbent; with move='best' the old neighbourhood is finished first."""

    def objective(params):
        return float(_ops(params, TINY).count("z"))

    for move, expect_same_centre in (("first", False), ("best", True)):
        sampler = LocalSearchSampler(TINY, n_init=1, move=move, seed=4)
        study = optuna.create_study(sampler=sampler, direction="maximize")
        study.enqueue_trial({"a": "x", "b": "x", "c": "x"})
        for _ in range(8):
            t = study.ask(TINY.distributions())
            study.tell(t, objective(t.params))
        steps = sampler.steps(study)
        centres = [s.incumbent for s in steps[1:7]]
        # 'best' keeps trial 0 as the centre for its 6 neighbours; 'first' leaves at once
        assert (set(centres) == {0}) == expect_same_centre
        if move == "best":
            best = max(study.trials[1:7], key=lambda t: t.value)
            assert steps[7].incumbent == best.number


def test_local_search_covers_a_tiny_space_then_reports_exhaustion():
    """On a 27-arch space local search proposes every arch once, then raises SearchError."""
    rng = np.random.default_rng(0)
    values = {a.ops: float(v) for a, v in zip(TINY, rng.normal(size=27))}
    sampler = LocalSearchSampler(TINY, n_init=3, canonical=False, seed=0)
    study = _study(sampler, 27, lambda p: values[_ops(p, TINY)], TINY)
    assert {_ops(t.params, TINY) for t in study.trials} == set(values)
    with pytest.raises(SearchError, match="no unused architecture left in space 'tiny'"):
        study.ask(TINY.distributions())


# --------------------------------------------------------------------------- REINFORCE
def test_reinforce_logits_move_toward_the_rewarded_op():
    """Rewarding nor_conv_3x3 on every edge makes it the most likely op on every edge."""
    sampler = ReinforceSampler("nb201", learning_rate=0.1, seed=0)
    study = _study(sampler, 60, lambda p: float(_ops(p).count("nor_conv_3x3")))
    probs = sampler.probabilities(study)
    conv = NB201.choices.index("nor_conv_3x3")
    assert probs.shape == (6, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert (probs.argmax(axis=1) == conv).all()
    assert probs[:, conv].min() > 0.35  # up from 0.2
    late = [_ops(t.params).count("nor_conv_3x3") for t in study.trials[-20:]]
    early = [_ops(t.params).count("nor_conv_3x3") for t in study.trials[:20]]
    assert np.mean(late) > np.mean(early) + 0.5


def test_reinforce_update_rule_by_hand():
    """Two trials give the logits of the documented rule: zero advantage first, then one
    bias-corrected Adam step of size lr*0.1/0.19/sqrt(0.001/0.001999) along sign(A * grad)."""
    lr, mom = 0.05, 0.8
    sampler = ReinforceSampler("nb201", learning_rate=lr, baseline_momentum=mom, seed=0)
    study = optuna.create_study(sampler=sampler, direction="minimize")
    a1 = {n: "none" for n in NB201.param_names}
    a2 = {n: "skip_connect" for n in NB201.param_names}
    study.enqueue_trial(a1)
    study.enqueue_trial(a2)
    for loss in (3.0, 1.0):  # minimised: rewards -3 then -1, so the second is better
        t = study.ask(NB201.distributions())
        study.tell(t, loss)
    r1, r2 = -3.0, -1.0
    advantage = r2 - (mom * r1 + r2) / (1 + mom)
    assert advantage > 0
    step = lr * (0.1 / (1 - 0.9**2)) / np.sqrt(0.001 / (1 - 0.999**2))
    expected = np.full((6, 5), -step)
    expected[:, NB201.choices.index("skip_connect")] = step
    np.testing.assert_allclose(sampler.logits(study), expected, rtol=1e-6)
    # one completed trial: the baseline equals the reward, so nothing moves
    assert np.all(sampler.logits(_study(ReinforceSampler(seed=0), 1)) == 0.0)


def test_reinforce_does_not_repeat_architectures():
    """Even a policy peaked on one architecture proposes no architecture twice."""
    sampler = ReinforceSampler("nb201", learning_rate=1.0, max_retries=3, seed=1)
    study = _study(sampler, 60, lambda p: float(_ops(p).count("nor_conv_3x3")))
    keys = [_key(t.params) for t in study.trials]
    assert len(set(keys)) == len(keys)
    assert sampler.probabilities(study).max(axis=1).min() > 0.8  # one op dominates each edge


# --------------------------------------------------------------------------- brute force
def test_exhaustive_covers_a_tiny_space_without_repeats_then_stops():
    """study.optimize over the 27-arch space evaluates each arch once and stops by itself;
    asking for more raises SearchError."""
    sampler = ExhaustiveSampler(TINY, canonical=False, seed=3)
    study = optuna.create_study(sampler=sampler)

    def objective(trial):
        ops = [trial.suggest_categorical(n, list(TINY.choices)) for n in TINY.param_names]
        return float(ops.count("y"))

    study.optimize(objective, n_trials=100)
    archs = [_ops(t.params, TINY) for t in study.trials]
    assert len(archs) == 27 and len(set(archs)) == 27
    with pytest.raises(SearchError, match="holds all 27 architectures"):
        study.ask(TINY.distributions())


def test_exhaustive_canonical_covers_each_class_once():
    """With canonical keys, one architecture per isomorphism class (10 of the 27), then stop."""
    space = TinySpace(order_free=True)
    sampler = ExhaustiveSampler(space, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(
        lambda t: float(len({t.suggest_categorical(n, ["x", "y", "z"]) for n in "abc"})),
        n_trials=50,
    )
    keys = [space.canonical_key(space.from_params(t.params)) for t in study.trials]
    assert len(keys) == 10 and len(set(keys)) == 10


def test_exhaustive_order_is_the_seeded_permutation():
    """Proposals follow the index order (shuffle=False) or the seed's permutation; a failed
    trial's architecture is proposed again."""
    plain = _study(ExhaustiveSampler("nb201", shuffle=False, canonical=False, seed=0), 5)
    assert [NB201.index(NB201.from_params(t.params)) for t in plain.trials] == [0, 1, 2, 3, 4]
    sampler = ExhaustiveSampler("nb201", seed=5)
    order = sampler.order()
    assert sorted(order.tolist()) == list(range(NB201.size))
    study = optuna.create_study(sampler=sampler)
    t = study.ask(NB201.distributions())
    study.tell(t, state=TrialState.FAIL)
    again = study.ask(NB201.distributions())
    assert again.params == t.params == NB201.to_params(NB201.from_index(int(order[0])))
    other = ExhaustiveSampler("nb201", seed=6).order()
    assert not np.array_equal(order[:20], other[:20])


# --------------------------------------------------------------------------- errors, strategies
@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: LocalSearchSampler(n_init=0),
            "The 'n_init' parameter of LocalSearchSampler must be an int >= 1. Got 0 instead.",
        ),
        (
            lambda: LocalSearchSampler(move="steepest"),
            "The 'move' parameter of LocalSearchSampler must be one of 'first', 'best'. "
            "Got 'steepest' instead.",
        ),
        (
            lambda: ReinforceSampler(learning_rate=0.0),
            "The 'learning_rate' parameter of ReinforceSampler must be a finite float > 0.0. "
            "Got 0.0 instead.",
        ),
        (
            lambda: ReinforceSampler(baseline_momentum=1.0),
            "The 'baseline_momentum' parameter of ReinforceSampler must be a finite float in "
            "(0, 1). Got 1.0 instead.",
        ),
        (
            lambda: ExhaustiveSampler(max_size=1000),
            "The 'space' parameter of ExhaustiveSampler must be a space of at most "
            "max_size=1000 architectures. Got 'nb201 (15625)' instead.",
        ),
        (
            lambda: ExhaustiveSampler(canonical="yes"),
            "The 'canonical' parameter of ExhaustiveSampler must be a bool. Got 'yes' instead.",
        ),
        (
            lambda: LocalSearchSampler(space=42),
            "The 'space' parameter of LocalSearchSampler must be a SearchSpace or a space name. "
            "Got 42 instead.",
        ),
        (
            lambda: ReinforceSampler(seed=-1),
            "The 'seed' parameter of ReinforceSampler must be None or an int >= 0. Got -1 instead.",
        ),
    ],
)
def test_bad_arguments_are_rejected(make, message):
    """Invalid settings raise the standard parameter error."""
    with pytest.raises(InvalidParameterError) as info:
        make()
    assert str(info.value) == message


def test_reinforce_refuses_a_space_with_dependent_decisions():
    """A space where not every combination of ops is valid cannot be a product policy."""

    class NoRepeats(TinySpace):
        """Only archs with three different ops are valid (6 of 27)."""

        name = "norepeats"

        @property
        def size(self):
            return 6

        def validate(self, arch):
            super().validate(arch)
            if len(set(arch.ops)) < 3:
                raise InvalidArchitectureError("ops must differ")
            return arch

    with pytest.raises(InvalidParameterError, match="decisions are independent"):
        ReinforceSampler(NoRepeats())


def test_new_strategies_are_registered():
    """'ls', 'reinforce', 'gp' and 'grid' build the documented samplers, with descriptions."""
    assert isinstance(make_sampler("ls", "nb201", 0), LocalSearchSampler)
    assert isinstance(make_sampler("reinforce", "nb201", 0), ReinforceSampler)
    assert isinstance(make_sampler("grid", "nb201", 0), ExhaustiveSampler)
    assert isinstance(make_sampler("gp", "nb201", 0), optuna.samplers.GPSampler)
    for name in ("ls", "reinforce", "gp", "grid"):
        assert len(STRATEGIES[name][1]) > 20


@pytest.mark.parametrize("strategy", ["ls", "reinforce", "grid"])
def test_table_search_is_seeded_and_resumes_exactly(strategy, tmp_path):
    """run_search with the new strategies: valid regret, same seed same run, and a study
    resumed with a larger budget equals an uninterrupted one."""
    a = run_search(strategy=strategy, budget=30, seed=4)
    b = run_search(strategy=strategy, budget=30, seed=4)
    assert a.trajectory_regret_val == b.trajectory_regret_val and a.best_arch == b.best_arch
    assert a.regret_val >= 0 and a.n_queries == 30
    path = str(tmp_path / "s.journal")
    run_search(strategy=strategy, budget=12, seed=4, storage=path)
    resumed = run_search(strategy=strategy, budget=30, seed=4, storage=path)
    assert resumed.resumed_from == 12
    assert resumed.trajectory_regret_val == a.trajectory_regret_val


@pytest.mark.slow
def test_gp_table_search_runs_and_is_seeded():
    """run_search with 'gp' past its 10 random start-up trials is valid and seeded."""
    a = run_search(strategy="gp", budget=14, seed=2)
    b = run_search(strategy="gp", budget=14, seed=2)
    assert a.trajectory_regret_val == b.trajectory_regret_val
    assert a.regret_val >= 0 and a.n_queries == 14


def test_samplers_skip_unknown_and_extra_params():
    """Other params in the study are sampled at random and do not disturb the proposals."""
    sampler = LocalSearchSampler("nb201", n_init=3, seed=0)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    for _ in range(10):
        t = study.ask({**NB201.distributions(), "lr": optuna.distributions.FloatDistribution(0, 1)})
        assert 0.0 <= t.params["lr"] <= 1.0
        study.tell(t, objective_value({n: t.params[n] for n in NB201.param_names}))
    keys = [_key({n: t.params[n] for n in NB201.param_names}) for t in study.trials]
    assert len(set(keys)) == 10
