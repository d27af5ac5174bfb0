"""The zero-cost-informed guided strategy (``guided-zc``) and its table proxy ranker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from predictor_nas.exceptions import InvalidParameterError, TableNotFoundError
from predictor_nas.predictors import ScorePredictor
from predictor_nas.samplers import PredictorGuidedSampler, table_proxy_scorer
from predictor_nas.search import _strategies, available_strategies, make_sampler, run_search
from predictor_nas.spaces import get_space
from predictor_nas.tables import open_table
from predictor_nas.testing.pytest_predictors import PredictorContract
from predictor_nas.testing.pytest_samplers import BasicSamplerContract

SPACE = get_space("nb201")


@pytest.fixture
def rich(rich_table_path: Path):
    """The imported nb201-rich table."""
    return open_table(rich_table_path)


def _random_archs(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [SPACE.from_index(int(i)) for i in rng.choice(SPACE.size, n, replace=False)]


def test_proxy_scorer_ranks_accuracy_well(rich):
    """The rank average of synflow/jacov/nwot/flops has Spearman rho > 0.75 with val acc."""
    from scipy.stats import spearmanr

    archs = _random_archs(600)
    s = table_proxy_scorer(rich)(archs)
    assert s.shape == (600,) and s.dtype == np.float64
    assert s.min() >= 0.0 and s.max() <= 1.0
    acc = rich.query_many(rich.rows(archs), "val_acc", dataset="cifar10")
    assert spearmanr(s, acc, nan_policy="omit").statistic > 0.75  # ~0.83 measured


def test_proxy_scorer_of_one_proxy_is_its_rank_in_the_table(rich):
    """With a single proxy and one dataset an arch's score is that proxy's normalised rank
    among all the table's archs, whatever else is scored with it."""
    from scipy.stats import rankdata

    from predictor_nas.encodings import TableFeatures

    archs = _random_archs(50, seed=1)
    scorer = table_proxy_scorer(rich, "cifar10", ["zc_synflow"])
    raw = TableFeatures(rich, "cifar10", ["zc_synflow"]).transform(np.arange(len(rich)))[:, 0]
    expected = (rankdata(raw) - 1) / (len(rich) - 1)
    assert np.allclose(scorer(archs), expected[rich.rows(archs)])
    assert np.allclose(scorer(archs[:3]), scorer(archs)[:3])


def test_proxy_scorer_rejects_bad_proxies(rich):
    """An empty list, a bare string or an accuracy metric is refused with a clear error."""
    with pytest.raises(InvalidParameterError, match="'proxies' parameter of table_proxy_scorer"):
        table_proxy_scorer(rich, proxies=[])
    with pytest.raises(InvalidParameterError, match="'proxies' parameter"):
        table_proxy_scorer(rich, proxies="zc_synflow")
    with pytest.raises(InvalidParameterError, match="would leak the target"):
        table_proxy_scorer(rich, "cifar10", ["val_acc"])
    with pytest.raises(InvalidParameterError, match="dataset"):
        table_proxy_scorer(rich, "mnist")


def test_guided_zc_strategy_uses_the_proxies(rich_in_cache):
    """guided-zc is a guided sampler whose warm-up and climb follow the proxy ranker and whose
    predictor (it picks the restarts) sees the 49 zc columns on one-hot inputs; guided's sees
    op counts and path statistics of pruned cells."""
    assert "guided-zc" in available_strategies()
    s = make_sampler("guided-zc", "nb201", 0)
    assert isinstance(s, PredictorGuidedSampler)
    assert s.warmup == "proxy" and s.warmup_pool == 1000 and s.warmup_scorer is not None
    assert s.climb_scorer is s.warmup_scorer and s.restart == "pool"
    extra = s.predictor_kwargs["extra"]
    assert len(extra.names) == 49 and extra.names[-1] == "missing"
    # its predictor keeps the tuned one-hot inputs (+ zc); the guided strategy's sees path stats
    assert {k: v for k, v in s.predictor_kwargs.items() if k != "extra"} == {"n_estimators": 150}
    g = make_sampler("guided", "nb201", 0)
    assert g.predictor_kwargs == {
        "n_estimators": 150,
        "encoding": "counts+pathstats",
        "prune": True,
    }
    # everything else is the guided strategy's
    assert s.local_search and s.target == "rank" and s.n_candidates == 200
    assert g.local_search and g.target == "rank" and g.n_candidates == 200


def test_guided_zc_strategy_without_the_table_says_how_to_import_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Without nb201-rich in the cache the error names the table and the import command."""
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(tmp_path))
    _strategies._zero_cost_inputs.cache_clear()
    with pytest.raises(TableNotFoundError, match="predictor-nas tables import nb201-rich"):
        make_sampler("guided-zc", "nb201", 0)


def test_guided_zc_warmup_picks_proxy_favourites(rich_in_cache, nb201_table):
    """Its 10 warm-up archs score in the proxy ranker's top 1 % (each is the best of 1,000)."""
    import optuna

    from predictor_nas.evaluators import TableEvaluator

    ev = TableEvaluator(nb201_table, "cifar10")
    study = optuna.create_study(direction="maximize", sampler=make_sampler("guided-zc", "nb201", 4))
    for _ in range(10):
        t = study.ask(SPACE.distributions())
        study.tell(t, ev.evaluate(SPACE.from_params(t.params)).value)
    warm = [SPACE.from_params(t.params) for t in study.trials]
    s = table_proxy_scorer(open_table("nb201-rich"))([*warm, *_random_archs(2000, seed=5)])
    beaten = (s[10:][None, :] < s[:10, None]).mean(axis=1)  # share of random archs below each
    assert np.median(beaten) > 0.99
    assert study.sampler.proposal_kinds == ["warmup"] * 10


def test_guided_zc_search_is_seeded_and_beats_random(rich_in_cache):
    """In 30 cifar10 queries guided-zc ends closer to the best arch than random search on each
    of 3 seeds, and the same seed gives the same trajectory."""
    for seed in range(3):
        r = run_search(strategy="guided-zc", dataset="cifar10", budget=30, seed=seed)
        base = run_search(strategy="random", dataset="cifar10", budget=30, seed=seed)
        assert r.regret_val < base.regret_val
    again = run_search(strategy="guided-zc", dataset="cifar10", budget=30, seed=2)
    assert again.trajectory_regret_val == r.trajectory_regret_val


@pytest.mark.usefixtures("rich_in_cache")
class TestGuidedZcContract(BasicSamplerContract):
    """The guided-zc strategy's sampler passes the sampler contract."""

    @staticmethod
    def make_sampler(seed):
        return make_sampler("guided-zc", "nb201", seed)


class TestScorePredictorContract(PredictorContract):
    """ScorePredictor (here: cifar100 accuracy looked up, ranking cifar10) passes the contract."""

    has_std = False

    @staticmethod
    def make_predictor(seed):
        from predictor_nas.samplers import table_scorer

        return ScorePredictor(table_scorer("nb201", "cifar100"), seed=seed)


def test_score_predictor_predicts_the_scorer_and_checks_it():
    """Its mean is the scorer's output whatever it was fitted on; a bad scorer is refused."""
    archs = _random_archs(30, seed=3)
    y = np.arange(30, dtype=float)
    p = ScorePredictor(lambda a: np.full(len(a), 2.0)).fit(archs, y)
    assert np.array_equal(p.predict(archs[:4]).mean, np.full(4, 2.0))
    assert p.predict(archs).std is None
    with pytest.raises(InvalidParameterError, match="'scorer' parameter of ScorePredictor"):
        ScorePredictor(42).fit(archs, y)
    with pytest.raises(ValueError, match="one score per architecture"):
        ScorePredictor(lambda a: np.zeros(3)).fit(archs, y).predict(archs)


@pytest.mark.parametrize("strategy", ["zc-ls", "guided-zc"])
def test_climbs_follow_the_proxy_ranker(strategy, rich_in_cache, nb201_table):
    """zc-ls and guided-zc propose, at each climb step, the unused neighbour the proxy ranker
    scores highest."""
    import optuna

    from predictor_nas.evaluators import TableEvaluator

    ev = TableEvaluator(nb201_table, "cifar10")
    scorer = table_proxy_scorer(open_table("nb201-rich"))
    sampler = make_sampler(strategy, "nb201", 1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    checked = 0
    for _ in range(25):
        t = study.ask(SPACE.distributions())
        study.tell(t, ev.evaluate(SPACE.from_params(t.params)).value)
        if sampler.proposal_kinds[-1] == "local":
            point, _ = sampler._climber(
                [(sampler._codes(s.params), s.value) for s in study.trials[:-1]]
            )
            used = {SPACE.canonical_key(SPACE.from_params(s.params)) for s in study.trials[:-1]}
            options = [
                a
                for a in SPACE.neighbours(SPACE.from_codes(point))
                if SPACE.canonical_key(a) not in used
            ]
            best = max(scorer(options))
            assert scorer([SPACE.from_params(t.params)])[0] == best
            checked += 1
    assert checked >= 10
