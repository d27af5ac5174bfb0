"""The proposal core (samplers/_pool.py) and the refit schedule of the guided sampler."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.predictors import make_predictor
from predictor_nas.samplers import PredictorGuidedSampler
from predictor_nas.samplers._pool import (
    CandidatePool,
    PredictorScorer,
    draw_unused,
    fit_and_rank,
    mutants,
    mutation_pool,
)
from predictor_nas.spaces import get_space
from predictor_nas.testing.pytest_samplers import objective_value

SPACE = get_space("nb201")
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")


def _edits(a, b) -> int:
    return sum(x != y for x, y in zip(a.ops, b.ops))


def test_candidate_pool_keeps_first_of_each_unused_key_in_order():
    """Used keys and repeats never enter; accept-refused items leave their key free."""
    pool = CandidatePool(lambda s: s.lower(), used={"b"}, accept=lambda s: s != "C")
    pool.extend(["a", "B", "C", "A", "d", "c", "a"])
    assert pool.items == ["a", "d", "c"]
    assert len(pool) == 3


def test_candidate_pool_fill_stops_at_size_or_draw_cap():
    """fill adds draws until the pool is full, and never draws more than max_draws."""
    draws = iter(range(100))
    pool = CandidatePool(lambda x: x % 3).fill(lambda: next(draws), size=5, max_draws=10)
    assert pool.items == [0, 1, 2]
    assert next(draws) == 10  # exactly 10 draws were made


def test_mutants_alternate_edit_counts_and_draw_lazily():
    """The j-th mutation makes j % max_edits + 1 moves; unconsumed mutations draw nothing."""
    rng = np.random.default_rng(0)
    parent = SPACE.sample(rng)
    kids = list(mutants(SPACE, [parent], 6, np.random.default_rng(1), max_edits=3))
    assert len(kids) == 6
    assert all(_edits(k, parent) <= j % 3 + 1 for j, k in enumerate(kids))
    assert _edits(kids[0], parent) == 1
    a, b = np.random.default_rng(2), np.random.default_rng(2)
    first = next(mutants(SPACE, [parent], 50, a))
    assert first == SPACE.mutate(parent, b)
    assert a.random() == b.random()  # one mutation consumed, one mutation drawn


def test_draw_unused_finds_distinct_unused_or_gives_up_after_tries():
    """Up to n distinct unused candidates within `tries` draws; fewer when the draws run out."""
    seq = iter([1, 1, 2, 3, 3, 4])
    assert draw_unused(lambda: next(seq), lambda x: x, used={2}, n=2, tries=6) == [1, 3]
    assert draw_unused(lambda: 7, lambda x: x, used={7}, tries=50) == []


def test_mutation_pool_is_unused_distinct_and_sized():
    """The topk pool: mutations first, random top-up, no excluded or repeated canonical key."""
    rng = np.random.default_rng(3)
    parents = [SPACE.sample(rng) for _ in range(3)]
    exclude = {SPACE.canonical_key(p) for p in parents}
    pool = mutation_pool(SPACE, np.random.default_rng(4), parents, exclude, 40, 4)
    keys = [SPACE.canonical_key(a) for a in pool]
    assert len(pool) == 40 and len(set(keys)) == 40 and not exclude & set(keys)
    assert _edits(pool[0], parents[0]) == 1


def test_fit_and_rank_orders_by_score_then_mean_then_pool_order():
    """EI ranks the pool; a model without std ranks by mean, ties keep the pool order."""
    archs = [SPACE.sample(np.random.default_rng(s)) for s in range(30)]
    y = np.array([objective_value(SPACE.to_params(a)) for a in archs])
    model = make_predictor("ridge", seed=0, space=SPACE)
    pool = [SPACE.sample(np.random.default_rng(100 + s)) for s in range(20)]
    idx, mean, _std = fit_and_rank(model, archs[:25], y[:25], pool, 5, best=-np.inf)
    assert list(idx) == list(np.argsort(-mean, kind="stable")[:5])  # EI vs -inf: mean order
    twice = pool[:3] + pool[:3]
    idx2, _, _ = fit_and_rank(model, None, y, twice, 6, acquisition="ucb", kappa=0.0)
    assert sorted(idx2[:2]) == [idx2[0], idx2[0] + 3]  # equal candidates: earlier first


def test_predictor_scorer_refits_only_when_results_change():
    """No score below min_fit; a refit per new set of complete trials; EI >= 0."""
    study = optuna.create_study(direction="maximize")
    for s in range(6):
        t = study.ask(SPACE.distributions())
        study.tell(t, objective_value(t.params))
    scorer = PredictorScorer(SPACE, "ridge", {}, 0)
    complete = study.get_trials(deepcopy=False)
    scorer.refit(complete[:4], True)
    assert scorer.score(SPACE.sample(np.random.default_rng(0))) == {}
    scorer.refit(complete, True)
    model = scorer._model
    scorer.refit(complete, True)
    assert scorer._model is model
    s = scorer.score(SPACE.sample(np.random.default_rng(0)))["predictor_score"]
    assert s["n_fit"] == 6 and s["expected_improvement"] >= 0.0


def test_encoder_rows_are_memoised_and_identical_to_batch_encoding(monkeypatch):
    """A second transform encodes only new archs; memoised rows equal a fresh batch's."""
    import predictor_nas.encodings._encoder as enc

    calls = []
    fn, names = enc.ENCODINGS["counts"]

    def counted(space, archs):
        calls.append(len(archs))
        return fn(space, archs)

    monkeypatch.setitem(enc.ENCODINGS, "counts", (counted, names))
    enc._ROWS.clear()
    e = enc.Encoder(SPACE, "counts+pathstats", prune=True)
    archs = [SPACE.sample(np.random.default_rng(s)) for s in range(40)]
    first = e.transform(archs[:30])
    second = e.transform(archs)
    assert calls == [30, 10]
    assert np.array_equal(second[:30], first)
    enc._ROWS.clear()
    assert np.array_equal(e.transform(archs), second)
    assert e.transform([]).shape == (0, len(e.names))


def _filled(sampler, n):
    study = optuna.create_study(direction="maximize", sampler=sampler)
    rng = np.random.default_rng(7)
    dists = SPACE.distributions()
    seen = set()
    while len(study.trials) < n:
        a = SPACE.sample(rng)
        if SPACE.canonical_key(a) in seen:
            continue
        seen.add(SPACE.canonical_key(a))
        p = SPACE.to_params(a)
        study.add_trial(optuna.trial.create_trial(params=p, distributions=dists,
                                                  value=objective_value(p)))
    return study


class _Counting:
    def __init__(self):
        self.sizes = []

    def __call__(self, seed):
        p = make_predictor("ridge", seed=seed)
        fit = p.fit

        def counted(archs, y, **kw):
            self.sizes.append(len(archs))
            return fit(archs, y, **kw)

        p.fit = counted
        return p


def test_guided_fit_size_schedule():
    """With refit_start=0: exact below 1/refit_growth trials, then the last multiple of
    floor(n * growth); refit_growth=None: always exact."""
    s = PredictorGuidedSampler(
        "nb201", predictor="ridge", seed=0, refit_growth=0.02, refit_start=0
    )
    assert [s._fit_size(n) for n in (10, 99, 100, 101, 149, 150, 155, 1000, 1019)] == [
        10, 99, 100, 100, 148, 150, 153, 1000, 1000
    ]
    exact = PredictorGuidedSampler("nb201", predictor="ridge", seed=0, refit_growth=None)
    assert exact._fit_size(1019) == 1019


def test_guided_default_schedule_is_exact_below_300_trials_then_refits_every_2_percent():
    """The defaults (and the guided strategy's): a fit on every trial below refit_start=300,
    then on max(300, n - n % floor(0.02 n)) of them."""
    from predictor_nas.search import make_sampler

    for s in (
        PredictorGuidedSampler("nb201", predictor="ridge", seed=0),
        PredictorGuidedSampler.benchmarked("nb201", seed=0),
        make_sampler("guided", SPACE, 0),
    ):
        assert (s.refit_growth, s.refit_start) == (0.02, 300)
        assert [s._fit_size(n) for n in range(2, 300)] == list(range(2, 300))
        sizes = [s._fit_size(n) for n in (300, 301, 305, 306, 311, 312, 500, 519, 520, 1019)]
        assert sizes == [300, 300, 300, 306, 306, 312, 500, 510, 520, 1000]
    late = PredictorGuidedSampler("nb201", predictor="ridge", seed=0, refit_start=301)
    assert [late._fit_size(n) for n in (300, 301, 302, 305, 306)] == [300, 301, 301, 301, 306]


@pytest.mark.slow  # about 4 s
def test_guided_default_refits_each_proposal_below_refit_start_and_reuses_fits_above():
    """Proposals at 296..307 trials fit on 296, 297, 298, 299 and 300 trials (every proposal),
    then reuse the 300-trial fit until the trials have grown by 2 % (306)."""
    counting = _Counting()
    sampler = PredictorGuidedSampler(
        "nb201", seed=1, predictor=counting, local_search=False, n_candidates=50
    )
    study = _filled(sampler, 296)
    for _ in range(12):
        t = study.ask()
        p = {n: t.suggest_categorical(n, d.choices) for n, d in SPACE.distributions().items()}
        study.tell(t, objective_value(p))
    assert len(study.trials) == 308
    assert counting.sizes == [296, 297, 298, 299, 300, 306]


@pytest.mark.slow  # about 4 s
def test_guided_refits_every_2_percent_past_100_trials_on_a_prefix_fixed_by_n():
    """Past 100 trials the predictor is refitted once per 2 % growth, on the first m trials;
    m depends only on the study (a fresh sampler on the resumed study fits the same prefix)."""
    counting = _Counting()
    kw = {
        "predictor": counting,
        "local_search": False,
        "n_candidates": 50,
        "refit_growth": 0.02,
        "refit_start": 0,
    }
    sampler = PredictorGuidedSampler("nb201", seed=1, **kw)
    study = _filled(sampler, 200)
    for _ in range(8):
        t = study.ask()
        p = {n: t.suggest_categorical(n, d.choices) for n, d in SPACE.distributions().items()}
        study.tell(t, objective_value(p))
    assert counting.sizes == [200, 204]  # step 4 at 200..207 trials: fits at 200 and 204
    resumed = _Counting()
    fresh = PredictorGuidedSampler("nb201", seed=1, **{**kw, "predictor": resumed})
    study2 = optuna.create_study(direction="maximize", sampler=fresh)
    study2.add_trials(study.trials[:203])
    study2.ask().suggest_categorical("edge_0", SPACE.distributions()["edge_0"].choices)
    assert resumed.sizes == [200]
    exact = _Counting()
    every = PredictorGuidedSampler("nb201", seed=1, **{**kw, "predictor": exact, "refit_growth": None})
    study3 = _filled(every, 200)
    for _ in range(3):
        t = study3.ask()
        p = {n: t.suggest_categorical(n, d.choices) for n, d in SPACE.distributions().items()}
        study3.tell(t, objective_value(p))
    assert exact.sizes == [200, 201, 202]


def _fresh_sampler_steps(study, counting, steps, *, clear_at=None):
    """Propose ``steps`` queries, each with a fresh sampler (as ``run_search`` does); returns
    the proposed params. ``clear_at``: empty the process-wide fit cache before that step (a
    resumed search in a new process)."""
    from predictor_nas.samplers import _guided_fit

    proposed = []
    for k in range(steps):
        if k == clear_at:
            _guided_fit._SHARED_FITS.clear()
        study.sampler = PredictorGuidedSampler(
            "nb201", seed=100 + k, predictor=counting, local_search=False, n_candidates=50
        )
        t = study.ask()
        p = {n: t.suggest_categorical(n, d.choices) for n, d in SPACE.distributions().items()}
        study.tell(t, objective_value(p))
        proposed.append(p)
    return proposed


@pytest.mark.slow  # about 4 s
def test_guided_fresh_sampler_per_query_reuses_fits_past_refit_start_and_resumes_exactly():
    """From 300 trials on, fresh samplers with the same settings (one per query, as run_search
    builds them) share a fit until the trials grow by 2 %; the fit is seeded by its data, so a
    resumed search (cache emptied) proposes exactly the same queries."""
    from predictor_nas.samplers import _guided_fit

    _guided_fit._SHARED_FITS.clear()
    counting = _Counting()
    base = _filled(PredictorGuidedSampler("nb201", predictor="ridge", seed=0), 298)
    straight = optuna.create_study(direction="maximize")
    straight.add_trials(base.trials)
    first = _fresh_sampler_steps(straight, counting, 12)
    # fits: 298 and 299 (instance-seeded, every query), then 300 (shared by 300..305), 306
    assert counting.sizes == [298, 299, 300, 306]
    resumed_counting = _Counting()
    resumed = optuna.create_study(direction="maximize")
    resumed.add_trials(base.trials)
    _guided_fit._SHARED_FITS.clear()
    again = _fresh_sampler_steps(resumed, resumed_counting, 12, clear_at=5)  # at 303 trials
    assert again == first
    assert resumed_counting.sizes == [298, 299, 300, 300, 306]  # the 300 fit redone at resume


@pytest.mark.parametrize("bad", [-1, 2.5, "300", None, True])
def test_guided_refit_start_must_be_an_int_at_least_0(bad):
    """refit_start that is not an int >= 0 is refused with the standard message."""
    with pytest.raises(InvalidParameterError, match=r"The 'refit_start' parameter of "
                       r"PredictorGuidedSampler must be an int >= 0\. Got "):
        PredictorGuidedSampler("nb201", predictor="ridge", refit_start=bad)


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, "x", float("nan")])
def test_guided_refit_growth_must_be_in_unit_interval(bad):
    """refit_growth outside (0, 1] is refused with the standard message."""
    with pytest.raises(InvalidParameterError, match="'refit_growth' parameter of "
                       "PredictorGuidedSampler"):
        PredictorGuidedSampler("nb201", predictor="ridge", refit_growth=bad)
