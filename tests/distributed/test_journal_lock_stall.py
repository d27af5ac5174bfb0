"""Issue 19 item 3: a lock file left behind by a dead process stalls every journal write for
the lock timeout; heartbeats must outlast it and no live worker's result may be discarded."""

from __future__ import annotations

import os
import threading
import time

import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.cli import main
from predictor_nas.distributed import HeartbeatSettings, run_coordinator
from predictor_nas.distributed._common import (
    Heartbeat,
    open_storage,
    pop_waiting,
    reap_stale_trials,
    trial_id,
)
from predictor_nas.exceptions import InvalidParameterError

#: Interval 1 s, the lock broken after 3 s: the least grace period is 1 + 3 + 2 = 6 s.
HB = HeartbeatSettings(interval=1, grace_period=6, max_retry=3, lock_timeout=3)


def test_grace_period_shorter_than_a_lock_stall_is_refused_on_a_journal(tmp_path):
    """On a journal, grace_period < interval + lock_timeout + 2 is refused naming both values."""
    spec = str(tmp_path / "g.journal")
    msg = (
        r"The 'grace_period' parameter of coordinate must be an int >= 42 on a journal file "
        r"\(heartbeat_interval 10 \+ lock_timeout 30 \+ 2: .*\)\. Got 20 instead\."
    )
    with pytest.raises(InvalidParameterError, match=msg):
        run_coordinator(spec, strategy="random", budget=3, heartbeat=HeartbeatSettings(10, 20))
    assert not os.path.exists(spec)  # refused before anything was written
    with pytest.raises(InvalidParameterError, match=r"must be an int >= 6 on a journal"):
        HeartbeatSettings(1, 5, lock_timeout=3).validated("coordinate", spec)
    with pytest.raises(InvalidParameterError, match=r"'lock_timeout' .* int in \[3, 3600\]\. Got 1"):
        HeartbeatSettings(1, 50, lock_timeout=1).validated("coordinate", spec)
    # PostgreSQL has no lock file: only grace > interval applies (nothing is connected here).
    pg = HeartbeatSettings(10, 20).validated("coordinate", "postgresql://u@127.0.0.1:1/db")
    assert pg.grace_period == 20
    assert HB.validated("coordinate", spec) == HB


def test_cli_refuses_a_grace_period_a_lock_stall_can_exceed(tmp_path, capsys):
    """`coordinate --grace-period 20` on a journal exits 2 with the one-line message."""
    spec = str(tmp_path / "c.journal")
    code = main(["coordinate", "--storage", spec, "--budget", "3", "--grace-period", "20"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "must be an int >= 42 on a journal file" in err and "Got 20 instead" in err
    assert not os.path.exists(spec)


def _take(study: optuna.Study) -> int:
    """Queue one trial and take it as a worker would; its storage id."""
    study.enqueue_trial({"x": float(len(study.trials))})
    frozen = pop_waiting(study)
    assert frozen is not None
    return trial_id(frozen)


@pytest.mark.slow
def test_live_worker_stalled_by_a_left_behind_lock_file_keeps_its_result(tmp_path):
    """A stale lock file stalls a live worker's beats; its trial is not reaped, its result
    counts, while the trial of a worker that really died is still retried."""
    path = str(tmp_path / "s.journal")
    worker = optuna.create_study(storage=open_storage(path, HB), study_name="s")
    live = _take(worker)
    dead = _take(worker)  # taken by a worker that died at once: never beats
    beat = Heartbeat(worker, path, HB.interval)
    beat.begin(live)
    reaper = optuna.load_study(study_name="s", storage=open_storage(path, HB))
    with open(path + ".lock", "w"):  # a process died while holding the journal's write lock
        pass
    t0 = time.monotonic()
    reaped = 0
    try:
        while time.monotonic() - t0 < HB.grace_period + HB.lock_timeout + 3:
            reaped += reap_stale_trials(reaper, path, HB)
            time.sleep(0.2)
        beat.end()
        worker._storage.set_trial_state_values(live, TrialState.COMPLETE, [1.0])
    finally:
        beat.close()
    assert not os.path.exists(path + ".lock")  # the stale lock was broken
    assert reaped == 1
    store = open_storage(path, HB)
    assert store.get_trial(live).state == TrialState.COMPLETE
    assert store.get_trial(live).value == 1.0
    assert store.get_trial(dead).state == TrialState.FAIL
    by_state = [t.state for t in store.get_all_trials(0)]
    assert by_state.count(TrialState.WAITING) == 1  # the dead worker's retry only


@pytest.mark.slow  # several seconds: in the slow run (.ci/run runs both)
def test_reaper_judges_no_trial_while_the_journal_lock_is_held(tmp_path):
    """A lock held (and kept fresh) past the grace period stalls the beats; the reaper waits for
    the lock and judges nobody dead that round, so the live trial is not reaped."""
    path = str(tmp_path / "h.journal")
    worker = optuna.create_study(storage=open_storage(path, HB), study_name="h")
    live = _take(worker)
    beat = Heartbeat(worker, path, HB.interval)
    beat.begin(live)
    reaper = optuna.load_study(study_name="h", storage=open_storage(path, HB))
    lock = path + ".lock"
    done = threading.Event()

    def slow_holder() -> None:  # a live process stuck in a write (mtime moves: never broken)
        with open(lock, "w"):
            pass
        t_end = time.monotonic() + HB.grace_period + 2
        while time.monotonic() < t_end:
            os.utime(lock)
            time.sleep(0.5)
        os.unlink(lock)
        done.set()

    holder = threading.Thread(target=slow_holder)
    holder.start()
    reaped = 0
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < HB.grace_period + 5:
            reaped += reap_stale_trials(reaper, path, HB)  # every interval, as a worker does
            time.sleep(HB.interval)
        beat.end()
        worker._storage.set_trial_state_values(live, TrialState.COMPLETE, [2.0])
    finally:
        holder.join()
        beat.close()
    assert done.is_set()
    assert reaped == 0
    assert open_storage(path, HB).get_trial(live).state == TrialState.COMPLETE
