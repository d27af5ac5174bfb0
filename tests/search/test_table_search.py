"""Table-driven search: budgets, determinism, trial attributes, storages and resuming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.exceptions import InvalidParameterError, StudyConfigMismatchError
from predictor_nas.search import make_storage, run_search


@pytest.mark.parametrize("strategy", ["random", "rea", "tpe"])
def test_same_seed_same_result(strategy):
    """Two searches with the same seed produce the same trajectory and the same best arch."""
    a = run_search(strategy=strategy, budget=40, seed=11)
    b = run_search(strategy=strategy, budget=40, seed=11)
    assert a.best_arch == b.best_arch
    assert a.trajectory_regret_val == b.trajectory_regret_val
    c = run_search(strategy=strategy, budget=40, seed=12)
    assert c.trajectory_regret_val != a.trajectory_regret_val


def test_result_numbers_come_from_the_table(nb201_table):
    """Best value, regret and query count agree with direct table lookups."""
    r = run_search(strategy="rea", budget=50, seed=3, dataset="cifar100")
    val = nb201_table.query(r.best_arch, "val_acc", dataset="cifar100")
    _, top = nb201_table.best("val_acc", dataset="cifar100")
    assert r.n_queries == 50
    assert r.best_val == pytest.approx(val)
    assert r.table_best_val == pytest.approx(73.49333332519531)
    assert r.regret_val == pytest.approx(top - val)
    assert r.regret_val >= 0
    assert len(r.trajectory_regret_val) == 50
    assert np.all(np.diff(r.trajectory_regret_val) <= 1e-12)  # anytime regret never increases
    assert r.best_test is None  # the embedded table has no test metric


def test_trial_attributes_in_journal(tmp_path, nb201_table):
    """Trials in a journal-file study have arch, key, metrics and cost matching the table."""
    path = str(tmp_path / "a.journal")
    run_search(strategy="random", budget=15, seed=0, storage=path)
    study = optuna.load_study(
        storage=make_storage(path), study_name="nb201-nb201-cifar10-random-seed0"
    )
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 15
    for t in trials:
        arch = t.user_attrs["arch"]
        assert t.value == pytest.approx(nb201_table.query(arch, "val_acc", dataset="cifar10"))
        assert t.user_attrs["metrics"]["val_acc"] == pytest.approx(t.value)
        assert t.user_attrs["cost_s"] == pytest.approx(nb201_table.cost(arch, dataset="cifar10"))
        assert t.user_attrs["canonical_key"]
        assert set(t.params) == {f"edge_{k}" for k in range(6)}
    assert study.user_attrs["predictor_nas_config"]["strategy"] == "random"


def test_draw_seed_uses_single_trials(tmp_path, nb201_table):
    """With draw_seed the objective is one measured training trial, recorded by position."""
    path = str(tmp_path / "d.journal")
    run_search(strategy="random", budget=20, seed=5, storage=path, draw_seed=True)
    study = optuna.load_study(
        storage=make_storage(path), study_name="nb201-nb201-cifar10-random-seed5-drawseed"
    )
    for t in study.get_trials(states=(TrialState.COMPLETE,)):
        pos = t.user_attrs["seed_position"]
        per_seed = nb201_table.values("val_acc", dataset="cifar10")[
            nb201_table.row(t.user_attrs["arch"])
        ]
        assert t.value == per_seed[pos]


def test_time_budget_in_simulated_seconds(nb201_table):
    """A time budget stops the search at the first query that reaches the simulated seconds."""
    r = run_search(strategy="random", budget=None, time_budget=200_000.0, seed=1)
    assert r.simulated_seconds >= 200_000.0
    assert r.n_queries >= 2
    r_less = run_search(strategy="random", budget=r.n_queries - 1, seed=1)
    assert r_less.simulated_seconds < 200_000.0
    both = run_search(strategy="random", budget=3, time_budget=1e9, seed=1)
    assert both.n_queries == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"budget": 0}, "The 'budget' parameter of search must be an int >= 1. Got 0 instead."),
        (
            {"budget": None},
            "The 'budget' parameter of search must be an int >= 1 when no time budget",
        ),
        (
            {"dataset": "cifar10-valid"},
            "The 'dataset' parameter of search must be one of 'ImageNet16-120', 'cifar10', 'cifar100'. Got 'cifar10-valid' instead.",
        ),
        ({"strategy": "bo"}, "The 'strategy' parameter of search must be one of"),
        ({"seed": -1}, "The 'seed' parameter of search must be an int >= 0. Got -1 instead."),
        (
            {"time_budget": 0.0},
            "The 'time_budget' parameter of search must be a finite float > 0.0",
        ),
        ({"storage": "results.db"}, "The 'storage' must be"),
    ],
)
def test_bad_arguments_give_clear_errors(kwargs, message):
    """Invalid search arguments raise InvalidParameterError saying what is allowed."""
    with pytest.raises(InvalidParameterError) as info:
        run_search(**kwargs)
    assert message in str(info.value)


def test_sqlite_refused_for_several_workers(tmp_path):
    """SQLite storage is refused for more than one worker, with the alternatives named."""
    with pytest.raises(InvalidParameterError, match="journal file"):
        make_storage(f"sqlite:///{tmp_path}/x.db", n_workers=2)


def test_resume_extends_and_equals_uninterrupted_run(tmp_path):
    """A study resumed with a larger budget keeps its trials and matches an uninterrupted run."""
    path = str(tmp_path / "r.journal")
    first = run_search(strategy="rea", budget=30, seed=9, storage=path)
    second = run_search(strategy="rea", budget=60, seed=9, storage=path)
    straight = run_search(strategy="rea", budget=60, seed=9)
    assert first.n_queries == 30 and second.resumed_from == 30 and second.n_queries == 60
    assert second.trajectory_regret_val[:30] == first.trajectory_regret_val
    assert second.trajectory_regret_val == straight.trajectory_regret_val
    again = run_search(strategy="rea", budget=60, seed=9, storage=path)
    assert again.n_queries == 60 and again.resumed_from == 60


def test_resume_with_other_options_is_refused(tmp_path):
    """Resuming a stored study with a different dataset raises instead of mixing results."""
    path = str(tmp_path / "m.journal")
    run_search(strategy="rea", budget=5, seed=0, storage=path, study_name="mine")
    with pytest.raises(StudyConfigMismatchError, match="dataset: stored 'cifar10', now 'cifar100'"):
        run_search(
            strategy="rea", budget=5, seed=0, storage=path, study_name="mine", dataset="cifar100"
        )
    study = optuna.load_study(storage=make_storage(path), study_name="mine")
    assert len(study.trials) == 5  # nothing stored was lost


@pytest.mark.slow
def test_killed_search_resumes_without_losing_or_repeating(tmp_path):
    """A search killed with SIGKILL and rerun ends with exactly the uninterrupted run's trials."""
    path = tmp_path / "k.journal"
    cmd = [
        sys.executable,
        "-m",
        "predictor_nas.cli",
        "search",
        "--strategy",
        "rea",
        "--budget",
        "200",
        "--seed",
        "4",
        "--storage",
        str(path),
        "--json",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    name = "nb201-nb201-cifar10-rea-seed4"
    deadline = time.time() + 60
    done = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if path.exists():
            try:
                study = optuna.load_study(storage=make_storage(str(path)), study_name=name)
                done = len(study.get_trials(states=(TrialState.COMPLETE,)))
            except KeyError:
                continue
            if done >= 20:
                break
    assert proc.poll() is None, "search finished before it could be killed; raise the budget"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 20 <= done < 200
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, check=True)
    import json

    result = json.loads(out.stdout)
    assert result["n_queries"] == 200
    assert result["resumed_from"] >= 20
    study = optuna.load_study(storage=make_storage(str(path)), study_name=name)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 200
    straight = run_search(strategy="rea", budget=200, seed=4)
    assert result["best_arch"] == straight.best_arch
    assert result["regret_val"] == pytest.approx(straight.regret_val)


def test_rich_table_reports_test_accuracy_of_the_val_choice(rich_table_path):
    """On the rich table the result reports the 200-epoch test accuracy of the arch chosen by val."""
    from predictor_nas.tables import open_table

    rich = open_table(rich_table_path)
    r = run_search(table=str(rich_table_path), strategy="rea", budget=40, seed=2)
    assert r.best_test == pytest.approx(
        rich.query(r.best_arch, "test_acc", dataset="cifar10", fidelity=200)
    )
    r16 = run_search(table=str(rich_table_path), dataset="ImageNet16-120", budget=10, seed=2)
    assert r16.best_test is None  # only a 12-epoch test value exists there: not reported as 200
