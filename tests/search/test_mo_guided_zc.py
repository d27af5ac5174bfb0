"""The zero-cost-informed multi-objective strategy (``mo-guided-zc``) on the real nb201-rich
table: its settings, its refusal of other spaces, and what it finds."""

from __future__ import annotations

import numpy as np
import pytest

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.samplers import FeasibleGuidedSampler, MOPredictorGuidedSampler
from predictor_nas.search import MO_STRATEGIES, run_mo_search
from predictor_nas.search._mo_strategies import _Context
from predictor_nas.spaces import get_space
from predictor_nas.tables import open_table

EDGE = "val_acc:max,hw_edgegpu_latency:min"


def _feasible(arch) -> bool:
    return True


def test_settings_with_one_and_with_several_objectives(rich_in_cache):
    """One objective: BANANAS in the feasible set (proxy warm-up, XGBoost + proxy features, no
    climb); several: the ridge models see the proxy features of the pruned cell, pool 1,000
    random, kappa 1."""
    factory = MO_STRATEGIES["mo-guided-zc"][0]
    sp = get_space("nb201")
    one = factory(sp, 0, _Context(feasible=_feasible, known={}, n_objectives=1))
    assert type(one) is FeasibleGuidedSampler and one.feasible is _feasible
    assert not one.local_search and one.warmup == "proxy" and one.warmup_scorer is not None
    assert one.target == "rank" and one.n_candidates == 500
    assert one.predictor_kwargs["extra"] is not None
    two = factory(sp, 0, _Context(feasible=None, known={}, n_objectives=2))
    assert type(two) is MOPredictorGuidedSampler
    assert two.kappa == 1.0 and two.optimism_from == 50 and two.n_random == 1000
    assert two.predictor == "ridge"
    assert two.predictor_kwargs["prune"] is True and two.predictor_kwargs["extra"] is not None


def test_other_spaces_are_refused_with_the_reason():
    """Only NB201 has a table of proxies: another space gets an error naming the strategies,
    the table and what to use instead."""
    factory = MO_STRATEGIES["mo-guided-zc"][0]
    with pytest.raises(InvalidParameterError, match="exists for space 'nb201' only") as e:
        factory(get_space("layer_chain"), 0, _Context(feasible=None, known={}, n_objectives=2))
    assert "'mo-guided-zc'" in str(e.value) and "Use 'guided' or 'mo-guided'" in str(e.value)


@pytest.mark.slow
def test_constrained_search_finds_the_constrained_optimum_on_cifar100(rich_in_cache):
    """Best cifar100 val acc with edge-GPU latency <= its median: within 100 queries each of
    two seeds evaluates the best feasible architecture of the table (regret exactly 0)."""
    tbl = open_table("nb201-rich")
    rows = np.arange(len(tbl.archs))
    lat = tbl.query_many(rows, "hw_edgegpu_latency", dataset="cifar100")
    acc = tbl.query_many(rows, "val_acc", dataset="cifar100")
    bound = float(np.median(lat[np.isfinite(lat)]))
    best = float(np.nanmax(np.where(lat <= bound, acc, np.nan)))
    for seed in (0, 1):
        r = run_mo_search(
            objectives="val_acc:max", constraints=f"hw_edgegpu_latency<={bound!r}",
            table="nb201-rich", dataset="cifar100", strategy="mo-guided-zc", budget=100,
            seed=seed,
        )  # fmt: skip
        assert r.n_infeasible == 0
        assert r.front[0]["values"][0] == best and r.hypervolume_regret == 0.0


@pytest.mark.slow
def test_finds_more_hypervolume_than_mo_guided_on_imagenet(rich_in_cache):
    """val_acc vs edge-GPU latency on ImageNet16-120, 60 queries, 3 seeds: the proxy features
    find a larger share of the true front's hypervolume on average than mo-guided without them."""
    share = {}
    for strategy in ("mo-guided", "mo-guided-zc"):
        kw = {"objectives": EDGE, "table": "nb201-rich", "dataset": "ImageNet16-120"}
        runs = [run_mo_search(strategy=strategy, budget=60, seed=seed, **kw) for seed in (0, 1, 2)]
        share[strategy] = np.mean([r.hypervolume / r.true_hypervolume for r in runs])
    assert share["mo-guided-zc"] > share["mo-guided"] + 0.003, share
