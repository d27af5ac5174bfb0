"""FeasibleGuidedSampler: the sampler contract under a feasibility test, no infeasible proposal
(warm-up, climb, restarts), the warm-up's fallbacks, and ``feasible=None`` being the plain
guided sampler."""

from __future__ import annotations

import logging

import optuna
import pytest

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.samplers import FeasibleGuidedSampler, PredictorGuidedSampler
from predictor_nas.spaces import get_space
from predictor_nas.testing.pytest_samplers import BasicSamplerContract, objective_value

SPACE = get_space("nb201")
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")


def few_convs(arch) -> bool:
    """At most 2 nor_conv_3x3 edges: 90 % of NB201, and it caps the contract's score."""
    return sum(op == "nor_conv_3x3" for op in arch.ops) <= 2


def _sampler(seed, feasible=few_convs, **kw):
    kw = {"predictor": "ridge", "local_search": True, "restart": "random", "target": "rank", **kw}
    return FeasibleGuidedSampler("nb201", feasible=feasible, seed=seed, **kw)


def _study(sampler, n, direction="maximize"):
    study = optuna.create_study(sampler=sampler, direction=direction)
    for _ in range(n):
        t = study.ask(SPACE.distributions())
        study.tell(t, objective_value(t.params))
    return study


class TestFeasibleGuidedContract(BasicSamplerContract):
    """The feasible guided sampler (local search, ridge) passes the sampler contract."""

    @staticmethod
    def make_sampler(seed):
        return _sampler(seed)


class TestFeasibleGuidedPoolContract(BasicSamplerContract):
    """With the BANANAS pool (no local search) it passes the contract too."""

    n_trials = 25

    @staticmethod
    def make_sampler(seed):
        return _sampler(seed, local_search=False, n_warmup=5)


@pytest.mark.parametrize("local_search", [True, False])
def test_never_proposes_an_infeasible_arch(local_search):
    """60 proposals (warm-up, climb, restarts or pool) are all feasible and all distinct."""
    study = _study(_sampler(0, local_search=local_search), 60)
    archs = [SPACE.from_params(t.params) for t in study.trials]
    assert all(few_convs(a) for a in archs)
    assert len({SPACE.canonical_key(a) for a in archs}) == 60
    # the constraint binds: the unconstrained best (all nor_conv_3x3) is never proposed, and
    # the search climbs to the best feasible score reachable (2 convs on the heaviest edges)
    best = max(t.value for t in study.trials)
    assert best > max(t.value for t in study.trials[:10])


def test_feasible_none_is_the_guided_sampler():
    """Without a feasibility test the proposals are exactly PredictorGuidedSampler's."""
    kw = {"predictor": "ridge", "local_search": True, "restart": "random", "target": "rank"}
    a = _study(FeasibleGuidedSampler("nb201", seed=4, **kw), 25)
    b = _study(PredictorGuidedSampler("nb201", seed=4, **kw), 25)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_benchmarked_uses_the_guided_settings():
    """``benchmarked`` takes GUIDED_KWARGS (the ``guided`` strategy's settings)."""
    from predictor_nas.search._strategies import GUIDED_KWARGS

    s = FeasibleGuidedSampler.benchmarked("nb201", feasible=few_convs, seed=0)
    assert s.feasible is few_convs
    assert (s.local_search, s.restart, s.target, s.n_candidates) == (
        GUIDED_KWARGS["local_search"],
        GUIDED_KWARGS["restart"],
        GUIDED_KWARGS["target"],
        GUIDED_KWARGS["n_candidates"],
    )
    assert s.predictor_kwargs == GUIDED_KWARGS["predictor_kwargs"]


def test_warmup_repeats_a_feasible_arch_before_an_infeasible_one(caplog):
    """When every feasible arch is used the warm-up repeats a feasible one; when no draw is
    feasible it proposes the last draw and logs a warning."""
    # A cell whose output gets no input: every such arch shares its key, so draws meet one.
    only = SPACE.parse("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    key = SPACE.canonical_key(only)
    s = _sampler(0, feasible=lambda a: SPACE.canonical_key(a) == key, max_draws=20_000)
    codes = s._random_unused({key})
    assert SPACE.canonical_key(SPACE.from_codes(codes)) == key
    s = _sampler(0, feasible=lambda a: False, max_draws=50)
    with caplog.at_level(logging.WARNING, "predictor_nas.samplers._feasible_guided"):
        codes = s._random_unused(set())
    assert "drew 50 random architectures and none was feasible" in caplog.text
    SPACE.from_codes(codes)  # still a valid architecture


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"feasible": 3}, "The 'feasible' parameter of FeasibleGuidedSampler"),
        ({"feasible": few_convs, "max_draws": 0}, "The 'max_draws' parameter"),
    ],
)
def test_bad_arguments_are_refused(kw, message):
    """A non-callable ``feasible`` or ``max_draws`` < 1 raises the standard error."""
    with pytest.raises(InvalidParameterError, match=message):
        FeasibleGuidedSampler("nb201", seed=0, **kw)


def no_conv3(arch) -> bool:
    """No nor_conv_3x3 edge: 26 % of NB201."""
    return "nor_conv_3x3" not in arch.ops


def test_first_arch_of_a_fresh_study_is_feasible():
    """The first trial (no complete trial yet) is a feasible warm-up draw for 20 seeds, where
    the base sampler's param-by-param first draw breaks the bound for most seeds."""
    firsts = [_study(_sampler(seed, feasible=no_conv3), 1).trials[0] for seed in range(20)]
    assert all(no_conv3(SPACE.from_params(t.params)) for t in firsts)
    plain = [_study(_sampler(seed, feasible=None), 1).trials[0] for seed in range(20)]
    assert sum(not no_conv3(SPACE.from_params(t.params)) for t in plain) >= 10
