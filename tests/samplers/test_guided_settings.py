"""The ``guided`` strategy's settings per space: NB201's tuned climb, BANANAS with a ridge
model elsewhere; and what the latter finds on NAS-Bench-Macro's real table."""

from __future__ import annotations

import numpy as np
import pytest

from predictor_nas.compare import compare
from predictor_nas.samplers import (
    GUIDED_DECLARED_KWARGS,
    GUIDED_KWARGS,
    FeasibleGuidedSampler,
    PredictorGuidedSampler,
    guided_kwargs,
)
from predictor_nas.search import make_sampler
from predictor_nas.spaces import get_space
from predictor_nas.tables.importers import import_nas_bench_macro


@pytest.mark.parametrize(
    "space, expected",
    [("nb201", GUIDED_KWARGS), ("nas_bench_macro", GUIDED_DECLARED_KWARGS),
     ("layer_chain", GUIDED_DECLARED_KWARGS), ("nb301", GUIDED_DECLARED_KWARGS)],
)  # fmt: skip
def test_guided_kwargs_by_space_and_a_fresh_copy_each_time(space, expected):
    """NB201 gets GUIDED_KWARGS, every other space GUIDED_DECLARED_KWARGS, by name or instance;
    changing the returned dict changes neither the settings nor the next copy."""
    a = guided_kwargs(space)
    assert a == expected == guided_kwargs(get_space(space))
    a["predictor_kwargs"]["n_estimators"] = -1
    a["n_candidates"] = -1
    assert (
        guided_kwargs(space) == expected
        and "n_estimators" not in GUIDED_DECLARED_KWARGS["predictor_kwargs"]
    )


def test_guided_strategy_and_its_constrained_form_take_the_space_settings():
    """make_sampler("guided", ...), benchmarked() and FeasibleGuidedSampler.benchmarked() all
    build a ridge BANANAS sampler on a declared space and the xgb climb on NB201."""
    for space in ("nas_bench_macro", "layer_chain"):
        for s in (
            make_sampler("guided", space, 3),
            PredictorGuidedSampler.benchmarked(space, seed=3),
            FeasibleGuidedSampler.benchmarked(space, seed=3),
        ):
            assert s.predictor == "ridge" and not s.local_search
            assert s.n_candidates == 500 and s.n_local_parents == 10 and s.target == "rank"
    nb = make_sampler("guided", "nb201", 3)
    assert nb.predictor == "xgb" and nb.local_search and nb.restart == "random"


@pytest.mark.slow
def test_guided_beats_local_search_and_random_on_nas_bench_macro(shared_data, tmp_path):
    """NAS-Bench-Macro (real CIFAR-10 results), 60 queries, seeds 0-3: guided's mean search
    regret is below local search's and random search's, and it finds the best arch at least
    once."""
    src = shared_data / "nas-bench-macro"
    if not (src / "nas-bench-macro_cifar10.json").is_file():
        pytest.skip("nas-bench-macro data absent")
    path, _ = import_nas_bench_macro(src, out=tmp_path / "m.h5")
    res = compare(
        table=str(path), strategies=["random", "ls", "guided"], budget=60, seeds=4,
        metric="search_acc",
    )  # fmt: skip
    regret = {
        s: np.mean([r.regret_val for r in res.runs if r.strategy == s])
        for s in ("random", "ls", "guided")
    }
    assert regret["guided"] < regret["ls"] and regret["guided"] < regret["random"], regret
    assert any(r.regret_val == 0.0 for r in res.runs if r.strategy == "guided"), regret
