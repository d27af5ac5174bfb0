"""Real search with weight inheritance: parents come from the study, a resume is exact."""

from __future__ import annotations

import optuna
import pytest

from predictor_nas.search import make_storage, run_real_search

TINY = dict(width=4, depth=1, epochs=2, batch_size=128, num_threads=1, pool_size=60)


def _trials(storage: str, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=make_storage(storage))
    return [t for t in study.trials if t.state != optuna.trial.TrialState.FAIL]


@pytest.mark.slow
def test_inheriting_search_records_parents_and_resumes_exactly(tmp_path):
    """inherit_weights=True: later rounds' children start from a finished trial's weights (its
    arch and tensor count in the user attrs); a search killed mid-trial and rerun ends with the
    same archs, parents, counts and curves as an uninterrupted one."""
    kw = dict(max_trials=6, top_k=2, n_init=2, seed=1, inherit_weights=True, prune=False, **TINY)
    straight = str(tmp_path / "a.journal")
    r = run_real_search(storage=straight, **kw)
    a = _trials(straight, r.study_name)
    keys = {t.user_attrs["arch"] for t in a}
    inherited = [t for t in a if t.user_attrs["inherit_parent"] is not None]
    assert inherited and all(t.user_attrs["inherit_parent"] in keys for t in inherited)
    assert all(1 <= t.user_attrs["inherit_distance"] <= 2 for t in inherited)
    assert all(t.user_attrs["inherited_tensors"] > 0 for t in inherited)
    assert all(t.user_attrs["round"] > 0 for t in inherited)  # round 0 has nothing to inherit
    resumed = str(tmp_path / "b.journal")
    run_real_search(storage=resumed, **{**kw, "max_trials": 3})
    study = optuna.load_study(study_name=r.study_name, storage=make_storage(resumed))
    study.ask()  # a trial left RUNNING, as by a process killed mid-training
    r2 = run_real_search(storage=resumed, **kw)
    assert r2.resumed_from == 3
    b = _trials(resumed, r.study_name)
    for name in ("arch", "inherit_parent", "inherited_tensors"):
        assert [t.user_attrs[name] for t in a] == [t.user_attrs[name] for t in b]
    assert [t.intermediate_values for t in a] == [t.intermediate_values for t in b]
