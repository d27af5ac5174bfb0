"""Buffered journal of a single-process search: one record per trial, the same ledger, and no
finished trial lost to a SIGKILL (issue 19)."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

import predictor_nas.search._run as run_module
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import make_storage
from predictor_nas.search._journal_buffered import BufferedJournalStorage

STUDY = "nb201-nb201-cifar10-rea-seed3"


def _plain_ledger(path: Path, study_name: str = STUDY) -> list[tuple]:
    """The study's trials as plain Optuna reads them (no predictor_nas class involved)."""
    storage = JournalStorage(JournalFileBackend(str(path)))
    study = optuna.load_study(study_name=study_name, storage=storage)
    return [
        (t.number, t.state, t.params, t.values, t.user_attrs, t.distributions) for t in study.trials
    ]


def _search(path: Path, monkeypatch, *, buffered: bool, budget: int = 40, interval=0.0):
    """``run_search`` (rea, seed 3) on ``path`` with the given journal settings."""
    monkeypatch.setattr(run_module, "JOURNAL_BUFFERED", buffered)
    monkeypatch.setattr(run_module, "JOURNAL_FSYNC_INTERVAL", interval)
    return run_module.run_search(strategy="rea", budget=budget, seed=3, storage=str(path))


def test_buffered_journal_holds_the_same_ledger_as_optunas_per_record_journal(
    tmp_path, monkeypatch
):
    """Plain Optuna reads identical trials from both journals; the buffered one has 1 line/trial."""
    per_record, buffered = tmp_path / "p.journal", tmp_path / "b.journal"
    r1 = _search(per_record, monkeypatch, buffered=False)
    r2 = _search(buffered, monkeypatch, buffered=True)
    assert r1.to_dict(trajectory=True) | {"storage": "", "wall_seconds": 0} == r2.to_dict(
        trajectory=True
    ) | {"storage": "", "wall_seconds": 0}
    ledger = _plain_ledger(buffered)
    assert ledger == _plain_ledger(per_record)
    assert len(ledger) == 40 and all(t[1] == TrialState.COMPLETE for t in ledger)
    assert set(ledger[0][4]) == {"arch", "canonical_key", "metrics", "cost_s"}
    # CREATE_STUDY + the config attr + one record per trial (Optuna writes 12 per trial)
    assert buffered.read_bytes().count(b"\n") == 2 + 40
    assert per_record.read_bytes().count(b"\n") >= 2 + 12 * 40
    # the per-record journal's datetimes survive the round trip to within a microsecond
    plain = optuna.load_study(
        study_name=STUDY, storage=JournalStorage(JournalFileBackend(str(buffered)))
    )
    t0 = plain.trials[0]
    assert t0.datetime_start is not None and t0.datetime_complete >= t0.datetime_start


def test_one_fsync_per_finished_trial(tmp_path, monkeypatch):
    """A buffered search fsyncs once per trial (plus the study's two records), not per record."""
    calls = []
    real_fsync = os.fsync

    def counting_fsync(fd):
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    _search(tmp_path / "f.journal", monkeypatch, buffered=True, budget=25)
    assert len(calls) == 25 + 2
    calls.clear()
    _search(tmp_path / "g.journal", monkeypatch, buffered=True, budget=25, interval=3600.0)
    assert len(calls) == 2 + 1  # the study's records, then one fsync at the end of the run
    assert len(_plain_ledger(tmp_path / "g.journal")) == 25


def test_default_search_fsyncs_about_once_a_second_and_at_the_end(tmp_path, monkeypatch):
    """``run_search``'s default journal fsyncs a few times, not per trial, and fsyncs last."""
    events: list[str] = []
    real_fsync, real_write = os.fsync, os.write
    path = tmp_path / "d.journal"

    def on_journal(fd) -> bool:
        return os.path.realpath(f"/proc/self/fd/{fd}") == os.path.realpath(path)

    def fsync(fd):
        if on_journal(fd):
            events.append("fsync")
        real_fsync(fd)

    def write(fd, data):
        if on_journal(fd):
            events.append("write")
        return real_write(fd, data)

    assert run_module.JOURNAL_FSYNC_INTERVAL == 1.0 and run_module.JOURNAL_BUFFERED
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "write", write)
    t0 = time.monotonic()
    run_module.run_search(strategy="rea", budget=60, seed=3, storage=str(path))
    seconds = time.monotonic() - t0
    monkeypatch.undo()
    assert events.count("write") == 2 + 60  # the study's two records, then one per trial
    # the study's two records, at most one per elapsed second, and one at the end
    assert 3 <= events.count("fsync") <= 3 + int(seconds)
    assert events[-1] == "fsync"  # every finished trial is durable when run_search returns
    assert len(_plain_ledger(path)) == 60


def test_closing_a_search_fsyncs_the_trials_written_since_the_last_fsync(tmp_path, monkeypatch):
    """``sync()`` (run at the end of a search) fsyncs what the interval skipped, once."""
    storage = make_storage(str(tmp_path / "s.journal"), journal_buffered=True)
    assert isinstance(storage, BufferedJournalStorage)
    study = optuna.create_study(storage=storage)
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    assert calls == []  # five trials within the default second: written, not fsync'd
    storage.sync()
    assert len(calls) == 1
    storage.sync()  # nothing new: no second fsync
    assert len(calls) == 1


def test_a_storage_dropped_without_sync_fsyncs_its_written_trials(tmp_path, monkeypatch):
    """A buffered storage used directly and dropped unsynced fsyncs once when collected."""
    path = tmp_path / "drop.journal"
    storage = make_storage(str(path), journal_buffered=True)
    study = optuna.create_study(storage=storage)
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert calls == []
    del study, storage
    gc.collect()
    assert len(calls) == 1
    assert len(_plain_ledger(path, optuna.get_all_study_names(_plain_storage(path))[0])) == 3


def _plain_storage(path: Path) -> JournalStorage:
    """Plain Optuna's journal storage on ``path``."""
    return JournalStorage(JournalFileBackend(str(path)))


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "1", True])
def test_fsync_interval_is_validated(tmp_path, bad):
    """A negative, non-finite or non-number fsync interval is refused with the standard form."""
    with pytest.raises(InvalidParameterError, match="'fsync_interval' parameter of Buffered"):
        make_storage(str(tmp_path / "v.journal"), journal_buffered=True, journal_fsync_interval=bad)


def _plain_best(study: optuna.Study) -> FrozenTrial:
    """Optuna's own ``get_best_trial``: every complete trial compared (first of the best)."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    pick = max if study.direction == optuna.study.StudyDirection.MAXIMIZE else min
    return pick(complete, key=lambda t: t.value)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_best_trial_and_waiting_trials_match_optunas_scan(tmp_path, direction):
    """Kept best trial and unfinished list equal a full scan: ties, late tells, prune, enqueue."""
    path = tmp_path / f"b-{direction}.journal"
    storage = make_storage(str(path), journal_buffered=True)
    study = optuna.create_study(storage=storage, direction=direction)
    with pytest.raises(ValueError, match="No trials are completed yet"):
        study.best_trial
    values = [3.0, 1.0, 3.0, 1.0, 2.0, 5.0, 5.0, -4.0, -4.0, 0.5]
    early = study.ask()  # asked first, told last: an unfinished trial that completes later
    early.suggest_float("x", -10, 10)
    for i, v in enumerate(values):
        t = study.ask()
        t.suggest_float("x", -10, 10)
        if i % 4 == 3:
            study.tell(t, state=TrialState.PRUNED)
        else:
            study.tell(t, v)
        best = study.best_trial
        assert (best.number, best.value) == (_plain_best(study).number, _plain_best(study).value)
    study.enqueue_trial({"x": 1.5})
    study.enqueue_trial({"x": 2.5})
    waiting = storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.WAITING,))
    assert [t.system_attrs["fixed_params"] for t in waiting] == [{"x": 1.5}, {"x": 2.5}]
    running = storage.get_all_trials(study._study_id, states=(TrialState.RUNNING,))
    assert [t.number for t in running] == [early.number]
    for extreme in (-100.0, 100.0):  # the enqueued trials: each could be the new best
        t = study.ask()
        assert t.number in [w.number for w in waiting]  # popped from the queue, not new
        assert t.suggest_float("x", -10, 10) in (1.5, 2.5)
        study.tell(t, extreme)
        assert study.best_trial.number == _plain_best(study).number
    study.tell(early, -1000.0 if direction == "minimize" else 1000.0)
    assert study.best_trial.number == early.number == _plain_best(study).number
    assert storage.get_all_trials(study._study_id, states=(TrialState.WAITING,)) == []
    # a fresh reader of the file (Optuna's plain journal) agrees
    plain = optuna.load_study(
        study_name=study.study_name, storage=JournalStorage(JournalFileBackend(str(path)))
    )
    assert plain.best_trial.number == study.best_trial.number


class _CountingDict(dict):
    """A dict that counts its item reads (the replayed trials, to count the trials looked at)."""

    reads = 0

    def __getitem__(self, key):
        _CountingDict.reads += 1
        return super().__getitem__(key)


def test_a_step_looks_at_the_new_trials_only_not_at_all_of_them(tmp_path):
    """best_trial and ask's WAITING lookup read a few trials per step, not every trial (was
    quadratic over a search: Optuna's journal storage scans all trials at each call)."""
    storage = make_storage(str(tmp_path / "q.journal"), journal_buffered=True)
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=300)
    replay = storage._replay_result
    replay._trials = _CountingDict(replay._trials)
    _CountingDict.reads = 0
    best = []
    for _ in range(5):
        t = study.ask()
        study.tell(t, t.suggest_float("x", 0, 1))
        best.append(study.best_value)
    reads = _CountingDict.reads
    # 5 steps over 300+ trials: a full scan per call would read >= 3,000 entries
    assert reads < 100, reads
    values = [tr.value for tr in study.trials]
    assert len(values) == 305 and best == [min(values[: 301 + i]) for i in range(5)]


def test_best_trial_follows_a_rebuild_of_the_replayed_state(tmp_path):
    """After another writer's trials force a replay of the file, the best trial is still right."""
    path = tmp_path / "r.journal"
    mine = optuna.create_study(
        study_name="mine", storage=make_storage(str(path), journal_buffered=True)
    )
    other = optuna.create_study(study_name="other", storage=make_storage(str(path)))
    for v in (2.0, 1.0, 3.0):
        t = mine.ask()
        t.suggest_float("x", 0, 1)
        other.optimize(lambda tr: tr.suggest_float("y", 0, 1), n_trials=1)  # shifts trial ids
        mine.tell(t, v)
        assert mine.best_value == min(tr.value for tr in mine.trials)
    assert mine.best_trial.number == 1


def test_resumed_buffered_search_continues_a_per_record_journal(tmp_path, monkeypatch):
    """A journal written record by record before issue 19 resumes under the buffered storage."""
    path = tmp_path / "old.journal"
    _search(path, monkeypatch, buffered=False, budget=15)
    r = _search(path, monkeypatch, buffered=True, budget=40)
    assert r.resumed_from == 15 and r.n_queries == 40
    assert _plain_ledger(path) == _plain_ledger_of_fresh(tmp_path, monkeypatch)


def _plain_ledger_of_fresh(tmp_path: Path, monkeypatch) -> list[tuple]:
    fresh = tmp_path / "fresh.journal"
    _search(fresh, monkeypatch, buffered=False, budget=40)
    return _plain_ledger(fresh)


def test_other_processes_studies_in_the_same_file_keep_their_ids(tmp_path):
    """Trials another writer adds to its own study while ours is in flight: both ledgers exact."""
    path = tmp_path / "shared.journal"
    mine = optuna.create_study(
        study_name="mine", storage=make_storage(str(path), journal_buffered=True)
    )
    other_store = make_storage(str(path))
    other = optuna.create_study(study_name="other", storage=other_store)
    assert isinstance(mine._storage, BufferedJournalStorage)
    other.optimize(lambda t: t.suggest_float("y", 0, 1), n_trials=2)
    for i in range(3):
        trial = mine.ask()
        x = trial.suggest_float("x", 0, 1)
        trial.set_user_attr("i", i)
        if i == 0:  # a non-positional record: a user attr of the other study
            other.set_user_attr("late", True)
        else:  # positional: the other writer creates trials (ids shift)
            other.optimize(lambda t: t.suggest_float("y", 0, 1), n_trials=i)
        mine.tell(trial, x)
    assert len(mine.trials) == 3
    plain = JournalStorage(JournalFileBackend(str(path)))
    for name, n in (("mine", 3), ("other", 5)):
        want = optuna.load_study(study_name=name, storage=plain).trials
        got = optuna.load_study(study_name=name, storage=mine._storage).trials
        assert [(t.number, t.params, t.values, t.user_attrs, t.state) for t in got] == [
            (t.number, t.params, t.values, t.user_attrs, t.state) for t in want
        ]
        assert len(want) == n
    assert [t.user_attrs["i"] for t in mine.trials] == [0, 1, 2]
    assert optuna.load_study(study_name="other", storage=mine._storage).user_attrs == {"late": True}


def test_a_trial_in_flight_is_not_in_the_file(tmp_path):
    """Until its tell, a buffered trial is in memory only; the tell writes it in one record."""
    path = tmp_path / "f.journal"
    study = optuna.create_study(storage=make_storage(str(path), journal_buffered=True))
    size = path.stat().st_size
    trial = study.ask()
    trial.suggest_int("a", 0, 9)
    trial.set_user_attr("k", "v")
    assert path.stat().st_size == size
    assert study.trials[0].params == {"a": trial.params["a"]}  # visible to this process
    study.tell(trial, 1.0)
    assert path.read_bytes()[size:].count(b"\n") == 1


def _complete(path: Path) -> list[tuple]:
    storage = JournalStorage(JournalFileBackend(str(path)))
    try:
        study = optuna.load_study(study_name=STUDY, storage=storage)
    except KeyError:
        return []
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [(t.number, t.params, t.values, t.user_attrs) for t in trials]


@pytest.mark.slow
def test_sigkilled_search_resumes_with_every_completed_trial(tmp_path):
    """SIGKILL mid-search on the default journal (fsync at most once a second): every trial
    completed before the kill is kept; the rerun ends with the uninterrupted search's trials."""
    assert run_module.JOURNAL_FSYNC_INTERVAL == 1.0  # the CLI below runs with this default
    path = tmp_path / "k.journal"
    budget = 1500
    cmd = [sys.executable, "-m", "predictor_nas.cli", "search", "--strategy", "rea"]
    cmd += ["--budget", str(budget), "--seed", "3", "--storage", str(path), "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    before: list[tuple] = []
    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None and len(before) < 30:
        time.sleep(0.05)
        if path.exists():
            before = _complete(path)
    assert proc.poll() is None, "search finished before it could be killed; raise the budget"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = _complete(path)
    assert 30 <= len(at_kill) < budget
    assert at_kill[: len(before)] == before  # nothing read before the kill was lost
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    resumed = _complete(path)
    assert len(resumed) == budget
    straight = tmp_path / "straight.journal"
    cmd[cmd.index(str(path))] = str(straight)
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    want = _complete(straight)
    # the same trials, numbers included: the trial in flight was never written, so no failed
    # trial is left behind either
    assert resumed == want
    assert resumed[: len(at_kill)] == at_kill
