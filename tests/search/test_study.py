"""The study runner shared by every search: open_study, Budget (and its stop reason), Progress,
StepSamplers (the gp strategy keeps its sampler, resume stays exact)."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.cli import main
from predictor_nas.exceptions import (
    InvalidParameterError,
    StudyConfigMismatchError,
    StudyInUseError,
)
from predictor_nas.search import make_storage, run_search
from predictor_nas.search._strategies import GP_KERNEL_ATTR, StepSamplers
from predictor_nas.search._study import Budget, Progress, open_study
from predictor_nas.spaces import get_space

_OPEN = {"attr": "cfg", "creator": "a test", "name_option": "--study-name"}


def test_budget_checks_each_limit_with_the_standard_message():
    """Bad limits and a missing required limit raise InvalidParameterError naming the option."""
    with pytest.raises(
        InvalidParameterError,
        match=r"The 'budget' parameter of search must be "
        r"an int >= 1\. Got 0 instead\.",
    ):
        Budget.checked("search", queries=0)
    with pytest.raises(
        InvalidParameterError,
        match=r"'time_budget' parameter of search must be a "
        r"finite float > 0\.0",
    ):
        Budget.checked("search", simulated_seconds=-1.0)
    with pytest.raises(
        InvalidParameterError,
        match=r"'budget_seconds' parameter of x must be a "
        r"float > 0 when max_trials is not given\. Got None",
    ):
        Budget.checked("x", required=("budget_seconds", "a float > 0 when max_trials is not given"))
    b = Budget.checked("x", queries=3, wall_seconds=2, names={"queries": "max_trials"})
    assert b == Budget(queries=3, wall_seconds=2.0)


def test_budget_says_which_limit_stopped_the_search():
    """stop_reason is None below every limit and names the first limit reached with the spend."""
    b = Budget(queries=100, simulated_seconds=60.0, wall_seconds=5.0, epochs=200)
    assert b.stop_reason(queries=10, simulated_seconds=59.9, wall_seconds=1, epochs=3) is None
    assert b.stop_reason(queries=100) == "budget of 100 queries reached"
    assert (
        b.stop_reason(queries=41, simulated_seconds=61.54)
        == "time budget of 60 s reached after 41 queries (61.5 s spent)"
    )
    assert (
        b.stop_reason(queries=7, wall_seconds=5.01)
        == "wall-clock budget of 5 s reached after 7 queries (5.0 s spent)"
    )
    assert (
        Budget(wall_seconds=9, clock="process", unit="trained archs").stop_reason(
            queries=2, wall_seconds=9.5
        )
        == "process-time budget of 9 s reached after 2 trained archs "
        "(9.5 s spent)"
    )
    assert (
        b.stop_reason(queries=9, epochs=200)
        == "epoch budget of 200 reached after 9 queries (200 epochs)"
    )
    assert Budget().stop_reason(queries=10**6) is None and not Budget().spent(queries=5)


def test_time_budget_search_reports_why_it_stopped(capsys):
    """A --time-budget search stops at the time budget and says so in the result and the CLI."""
    r = run_search(strategy="random", budget=None, time_budget=50_000, seed=1)
    assert r.simulated_seconds >= 50_000
    assert r.stop_reason == (
        f"time budget of 50000 s reached after {r.n_queries} queries "
        f"({r.simulated_seconds:.1f} s spent)"
    )
    assert run_search(strategy="random", budget=7, seed=1).stop_reason == (
        "budget of 7 queries reached"
    )
    assert (
        main(
            [
                "search",
                "--strategy",
                "random",
                "--time-budget",
                "50000",
                "--budget",
                "1000",
                "--storage",
                ":memory:",
                "--seed",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"time budget of 50000 s reached after {r.n_queries} queries" in out
    assert (
        main(
            [
                "search",
                "--strategy",
                "random",
                "--time-budget",
                "50000",
                "--budget",
                "1000",
                "--storage",
                ":memory:",
                "--seed",
                "1",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["stop_reason"] == r.stop_reason


def test_open_study_fails_trials_a_killed_run_left(tmp_path):
    """A resumed single-process study has its RUNNING and WAITING trials failed, others kept."""
    path = str(tmp_path / "o.journal")
    s = optuna.create_study(storage=make_storage(path), study_name="s")
    s.set_user_attr("cfg", {"a": 1})
    s.tell(s.ask(), 1.0)
    s.ask()  # left RUNNING by a killed run
    s.enqueue_trial({})  # left WAITING
    opened = open_study(storage=path, name="s", config={"a": 1}, **_OPEN, lock=True)
    try:
        states = [t.state for t in opened.study.get_trials()]
        assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.FAIL]
    finally:
        opened.close()


def test_open_study_keeps_running_trials_of_a_multi_process_study(tmp_path):
    """With interrupted=False (workers' trials), RUNNING trials stay RUNNING."""
    path = str(tmp_path / "w.journal")
    s = optuna.create_study(storage=make_storage(path), study_name="w")
    s.set_user_attr("cfg", {"a": 1})
    s.ask()
    opened = open_study(storage=path, name="w", config={"a": 1}, **_OPEN, interrupted=False)
    assert [t.state for t in opened.study.get_trials()] == [TrialState.RUNNING]


def test_open_study_refuses_other_options_and_directions_and_frees_its_lock(tmp_path):
    """Other stored options or directions raise StudyConfigMismatchError; the lock is released."""
    path = str(tmp_path / "c.journal")
    open_study(storage=path, name="c", config={"a": 1}, directions=["maximize"], **_OPEN).close()
    with pytest.raises(StudyConfigMismatchError, match=r"a: stored 1, now 2"):
        open_study(storage=path, name="c", config={"a": 2}, **_OPEN, lock=True)
    with pytest.raises(
        StudyConfigMismatchError,
        match=r"has directions \['maximize'\], not "
        r"\['maximize', 'minimize'\]; use another --study-name",
    ):
        open_study(
            storage=path,
            name="c",
            config={"a": 1},
            **_OPEN,
            lock=True,
            directions=["maximize", "minimize"],
        )
    held = open_study(storage=path, name="c", config={"a": 1}, **_OPEN, lock=True)
    with pytest.raises(StudyInUseError, match="being searched by another process"):
        open_study(storage=path, name="c", config={"a": 1}, **_OPEN, lock=True)
    held.close()
    open_study(storage=path, name="c", config={"a": 1}, **_OPEN, lock=True).close()


def test_progress_is_silent_unless_asked_and_plain_lines_off_a_terminal(capsys):
    """No output without progress=True; on a stderr that is not a terminal (pytest's) plain
    status lines (a start and an end line), never a bar's carriage returns."""
    with Progress(False, total=10, desc="x") as bar:
        bar.advance(3, best="1.00")
        bar.set(5)
    assert capsys.readouterr().err == ""
    with Progress(True, total=10, desc="x") as bar:
        bar.advance(3, best="1.00")
        bar.set(5)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and len(lines) == 2
    assert lines[0].startswith("x: starting, 0/10") and "done in" in lines[1]


def test_step_samplers_keep_the_gp_sampler_and_rebuild_the_others():
    """gp keeps one GPSampler across queries; every other strategy gets a new one per query."""
    sp = get_space("nb201")
    study = optuna.create_study()
    gp = StepSamplers("gp", sp, 0)
    assert gp.at(study, 0) is gp.at(study, 1)
    rea = StepSamplers("rea", sp, 0)
    assert rea.at(study, 0) is not rea.at(study, 1)


def _archs(path: str, name: str) -> list[str]:
    study = optuna.load_study(storage=make_storage(path), study_name=name)
    return [t.user_attrs["arch"] for t in study.get_trials(states=(TrialState.COMPLETE,))]


def test_gp_resume_equals_uninterrupted_run(tmp_path):
    """gp keeps its kernel fits between queries, and a resumed gp search equals one run straight."""
    path, other = str(tmp_path / "gp.journal"), str(tmp_path / "straight.journal")
    first = run_search(strategy="gp", budget=16, seed=3, storage=path)
    second = run_search(strategy="gp", budget=26, seed=3, storage=path)
    straight = run_search(strategy="gp", budget=26, seed=3, storage=other)
    assert second.resumed_from == 16 and second.n_queries == 26
    assert second.trajectory_val[:16] == first.trajectory_val
    assert second.trajectory_val == straight.trajectory_val
    assert _archs(path, second.study_name) == _archs(other, straight.study_name)
    study = optuna.load_study(storage=make_storage(path), study_name=second.study_name)
    kernels = [t.system_attrs.get(GP_KERNEL_ATTR) for t in study.get_trials()]
    # The first 10 queries are GPSampler's random start-up: no fit, nothing stored.
    assert kernels[:10] == [None] * 10 and all(k is not None for k in kernels[10:])
