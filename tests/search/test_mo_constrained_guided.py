"""Constrained single-objective search with ``mo-guided`` (``FeasibleGuidedSampler``) on the
real nb201-rich table: no infeasible proposal, the guided settings, same seed same result, and
a resumed search equal to an uninterrupted one."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.samplers import FeasibleGuidedSampler, MOPredictorGuidedSampler
from predictor_nas.search import make_storage, run_mo_search
from predictor_nas.search._mo import MO_STRATEGIES, _Context
from predictor_nas.spaces import get_space
from predictor_nas.tables import open_table

OBJ = "val_acc:max"


@pytest.fixture(scope="module")
def rich(rich_table_path):
    """(table path, constraint at the median edge-GPU latency of cifar10, latency column)."""
    tbl = open_table(str(rich_table_path))
    lat = tbl.query_many(np.arange(len(tbl.archs)), "hw_edgegpu_latency", dataset="cifar10")
    bound = float(np.median(lat[np.isfinite(lat)]))
    return str(rich_table_path), f"hw_edgegpu_latency<={bound!r}", lat, bound


def _run(rich, **kw):
    path, constraint, _, _ = rich
    kw = {"budget": 30, "seed": 0, **kw}
    return run_mo_search(
        objectives=OBJ, constraints=constraint, table=path, strategy="mo-guided", **kw
    )


def test_one_objective_takes_the_feasible_guided_sampler():
    """mo-guided with one objective builds FeasibleGuidedSampler (guided's settings) with the
    context's feasibility test; with two it is still MOPredictorGuidedSampler."""
    factory = MO_STRATEGIES["mo-guided"][0]
    sp = get_space("nb201")

    def feasible(a):
        return True

    one = factory(sp, 3, _Context(feasible=feasible, known={}, n_objectives=1))
    assert type(one) is FeasibleGuidedSampler and one.feasible is feasible
    assert one.local_search and one.restart == "random" and one.target == "rank"
    two = factory(sp, 3, _Context(feasible=feasible, known={}, n_objectives=2))
    assert type(two) is MOPredictorGuidedSampler


@pytest.mark.parametrize(
    "seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)]
)
def test_never_proposes_an_infeasible_arch_on_nb201_rich(rich, tmp_path, seed):
    """Under latency <= median (half of NB201), 40 queries: no refused proposal, no fallback,
    every evaluated arch within the bound and distinct; the regret is against the best feasible."""
    path, _, lat, bound = rich
    storage = str(tmp_path / "c.journal")
    r = _run(rich, budget=40, seed=seed, storage=storage)
    assert r.n_queries == 40 and r.n_infeasible == 0
    study = optuna.load_study(study_name=r.study_name, storage=make_storage(storage))
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 40
    assert not any("fallback" in t.user_attrs for t in trials)
    tbl = open_table(path)
    assert all(lat[tbl.row(a)] <= bound for a in r.evaluated_archs)
    assert len({t.user_attrs["canonical_key"] for t in trials}) == 40
    # the constrained optimum is what the regret is measured against
    rows = np.arange(len(tbl.archs))
    acc = tbl.query_many(rows, "val_acc", dataset="cifar10")
    assert r.true_front == [[float(acc[lat <= bound].max())]]
    assert acc[lat <= bound].max() < np.nanmax(acc)  # the bound binds


@pytest.mark.slow
def test_same_seed_same_result_and_resume_equals_uninterrupted(rich, tmp_path):
    """Two 30-query runs with one seed evaluate the same archs; 15 queries then a resume to 30
    (fresh process state, same journal) evaluates exactly the uninterrupted run's archs."""
    a = _run(rich, seed=7)
    b = _run(rich, seed=7)
    assert a.evaluated_archs == b.evaluated_archs and a.hypervolume == b.hypervolume
    assert _run(rich, seed=8).evaluated_archs != a.evaluated_archs
    storage = str(tmp_path / "r.journal")
    first = _run(rich, seed=7, budget=15, storage=storage)
    again = _run(rich, seed=7, budget=30, storage=storage)
    assert again.resumed_from == 15 and again.evaluated_archs[:15] == first.evaluated_archs
    assert again.evaluated_archs == a.evaluated_archs
    assert again.hypervolume_regret == pytest.approx(a.hypervolume_regret)
