"""What the coordinator and the workers share: the study's attributes, storage, heartbeats,
retrying trials whose worker died, and the coordinator lease.

Everything lives in the Optuna study (the ledger); there is no other queue or state:

* a proposal is a WAITING trial with its params set and user attrs ``arch``, ``canonical_key``,
  ``proposal`` (a number unique in the study, kept by retries) and the predictor's score;
* a worker pops it (WAITING -> RUNNING, atomic in the storage), beats while it evaluates, and
  tells the result; a trial whose worker stops beating is failed and a WAITING copy queued;
* study user attrs hold the configuration (``predictor_nas_config``), the budget and the
  heartbeat settings (``predictor_nas_distributed``) and the coordinator's lease
  (``predictor_nas_coordinator``).
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
import time
import uuid
import warnings
import weakref
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import make_storage, redact_storage, storage_kind

log = logging.getLogger(__name__)

#: Study user attr holding the search configuration (shared with ``run_search``).
CONFIG_ATTR = "predictor_nas_config"
#: Study user attr: ``{"budget", "done", "heartbeat_interval", "grace_period", "max_retry"}``.
STATE_ATTR = "predictor_nas_distributed"
#: Study user attr: the coordinator lease ``{"id", "host", "pid", "beat", "released"}``.
LEASE_ATTR = "predictor_nas_coordinator"
#: Trial system attr: unix time of the worker's last heartbeat (journal storages only;
#: PostgreSQL keeps heartbeats in Optuna's own table, stamped by the database's clock).
HEARTBEAT_ATTR = "predictor_nas:heartbeat"
#: Trial system attr: id of the worker evaluating the trial.
WORKER_ATTR = "predictor_nas:worker"
#: Trial user attr set when the evaluation raised: such an arch is not proposed again.
ERROR_ATTR = "error"
MODE = "distributed"

#: Defaults of the distributed commands (seconds).
DEFAULT_HEARTBEAT_INTERVAL = 10
DEFAULT_GRACE_PERIOD = 60
DEFAULT_MAX_RETRY = 3
#: Seconds after which a journal's write lock file left by a dead process is broken (Optuna's
#: ``JournalFileOpenLock`` grace period): every write of every process stalls that long.
DEFAULT_LOCK_TIMEOUT = 30
#: Seconds a heartbeat may lag beyond ``interval + lock_timeout`` (the lock's 1 s retry
#: granularity, the write itself).
LOCK_STALL_MARGIN = 2
#: A reaper that waited longer than this for the journal lock saw a stall: it judges no
#: heartbeat this round (the stalled beats land once the lock is free).
STALL_SECONDS = 1.0
#: Upper bounds of the heartbeat settings (seconds): a week of grace, an hour between beats.
MAX_GRACE_PERIOD = 7 * 24 * 3600
MAX_INTERVAL = 3600


def process_id(prefix: str = "") -> str:
    """A readable id for this process: ``host:pid:random``."""
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class HeartbeatSettings:
    """How workers prove they are alive.

    Attributes:
        interval: Seconds between heartbeats of a running trial (int >= 1).
        grace_period: Seconds without a heartbeat after which the trial counts as dead (int,
            > interval; on a journal file >= interval + lock_timeout + LOCK_STALL_MARGIN); its
            worker's result, if it ever comes, is discarded.
        max_retry: How often one proposal is put back in the queue after its worker died;
            ``None`` = always.
        lock_timeout: Journal files only: seconds after which the write lock file of a process
            that died while writing is broken (int >= 3). Until then every write stalls,
            heartbeats included, so on a journal the grace period must be at least
            ``interval + lock_timeout + LOCK_STALL_MARGIN``.
    """

    interval: int = DEFAULT_HEARTBEAT_INTERVAL
    grace_period: int = DEFAULT_GRACE_PERIOD
    max_retry: int | None = DEFAULT_MAX_RETRY
    lock_timeout: int = DEFAULT_LOCK_TIMEOUT

    def validated(self, owner: str, spec: str | None = None) -> HeartbeatSettings:
        """Self, after checking the values (raises ``InvalidParameterError``).

        Args:
            owner: The function or command named in messages.
            spec: The storage; on a journal file the grace period must outlast a lock stall.
        """
        interval = check_int(
            self.interval, "heartbeat_interval", owner, minimum=1, maximum=MAX_INTERVAL
        )
        lock = check_int(self.lock_timeout, "lock_timeout", owner, minimum=3, maximum=MAX_INTERVAL)
        grace = check_int(
            self.grace_period, "grace_period", owner, minimum=interval + 1, maximum=MAX_GRACE_PERIOD
        )
        if spec is not None and storage_kind(spec) == "journal":
            least = interval + lock + LOCK_STALL_MARGIN
            if grace < least:
                raise param_error(
                    "grace_period",
                    owner,
                    f"an int >= {least} on a journal file (heartbeat_interval {interval} + "
                    f"lock_timeout {lock} + {LOCK_STALL_MARGIN}: a process that died holding the "
                    f"journal's lock file stalls every write, heartbeats included, for up to "
                    f"lock_timeout seconds)",
                    grace,
                )
        retry = None
        if self.max_retry is not None:
            retry = check_int(self.max_retry, "max_retry", owner, minimum=0)
        return HeartbeatSettings(interval, grace, retry, lock)

    def to_dict(self) -> dict[str, Any]:
        """Entries of the study's ``STATE_ATTR``."""
        return {
            "heartbeat_interval": self.interval,
            "grace_period": self.grace_period,
            "max_retry": self.max_retry,
            "lock_timeout": self.lock_timeout,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> HeartbeatSettings:
        """The settings stored in a study's ``STATE_ATTR``."""
        return cls(
            int(state.get("heartbeat_interval", DEFAULT_HEARTBEAT_INTERVAL)),
            int(state.get("grace_period", DEFAULT_GRACE_PERIOD)),
            state.get("max_retry", DEFAULT_MAX_RETRY),
            int(state.get("lock_timeout", DEFAULT_LOCK_TIMEOUT)),
        )


def open_storage(spec: str | None, settings: HeartbeatSettings) -> optuna.storages.BaseStorage:
    """The storage of a distributed search, ready to be shared by several processes.

    Refuses in-memory and SQLite storages (``make_storage`` with ``n_workers=2``: a coordinator
    and a worker are already two processes). PostgreSQL storages are wrapped in Optuna's cache
    once here, so that every ``Study`` object of this process shares that one cache.
    """
    kind = storage_kind(spec)
    if kind in ("memory", "sqlite"):
        raise InvalidParameterError(
            f"A distributed search needs a storage that several processes share safely; "
            f"{kind} cannot ("
            + ("no row locking" if kind == "sqlite" else "one process only")
            + "). Use a journal file (e.g. search.journal) for several processes on one machine "
            "or postgresql://user@host/db for several machines."
        )
    store = make_storage(
        spec,
        n_workers=2,
        heartbeat_interval=settings.interval,
        grace_period=settings.grace_period,
        max_retry=settings.max_retry,
        journal_lock_timeout=settings.lock_timeout,
    )
    return optuna.storages.get_storage(store)


def is_postgres(spec: str | None) -> bool:
    """Whether ``spec`` names a PostgreSQL storage (heartbeats in the database)."""
    return storage_kind(spec) == "postgresql"


# --------------------------------------------------------------------------- queue operations
def pop_waiting(study: optuna.Study) -> FrozenTrial | None:
    """Take the oldest WAITING trial (WAITING -> RUNNING, atomic in the storage).

    The same storage calls as ``Study.ask`` makes to take an enqueued trial (row lock in
    PostgreSQL, log order in a journal file: two workers never both get one trial), without
    ``ask``'s fallback of creating a new trial when the queue is empty: a worker never samples
    on its own.

    Returns:
        The trial as it was queued (params and user attrs set), or None if the queue is empty.
    """
    store = study._storage
    for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if store.set_trial_state_values(trial_id(t), state=TrialState.RUNNING):
                return t
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def trial_id(trial: FrozenTrial) -> int:
    """The storage id of a trial (Optuna keeps it private on ``FrozenTrial``)."""
    return trial._trial_id


def requeue(study: optuna.Study, trial: FrozenTrial, max_retry: int | None) -> bool:
    """Queue a WAITING copy of a failed ``trial`` (same params and user attrs).

    Same bookkeeping as Optuna's ``RetryHeartbeatStaleTrialCallback`` (system attrs
    ``failed_trial`` = the first failed number, ``retry_history``), so both storages record
    retries alike. Returns False when ``max_retry`` is used up.
    """
    system = {k: v for k, v in trial.system_attrs.items() if k not in (HEARTBEAT_ATTR, WORKER_ATTR)}
    history = [*system.get("retry_history", []), trial.number]
    if max_retry is not None and len(history) > max_retry:
        log.warning("trial %d failed %d times; not retried again", trial.number, len(history))
        return False
    system["failed_trial"] = system.get("failed_trial", trial.number)
    system["retry_history"] = history
    study.add_trial(
        optuna.trial.create_trial(
            state=TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs=trial.user_attrs,
            system_attrs=system,
        )
    )
    return True


def reap_stale_trials(study: optuna.Study, spec: str | None, settings: HeartbeatSettings) -> int:
    """Fail the RUNNING trials whose worker stopped beating and queue retries of them.

    PostgreSQL: ``optuna.storages.fail_stale_trials`` (heartbeats stamped by the database's
    clock; the storage's ``RetryHeartbeatStaleTrialCallback`` queues the copy), plus trials
    taken by a worker that died before its first heartbeat: no worker id, and either this
    process has watched it so for ``ORPHAN_GRACE_FACTOR x grace_period`` seconds (its own
    monotonic clock, so clocks of other machines do not matter) or its start time, stamped by
    the dead worker's clock, is ``max(10 x grace_period, 600)`` seconds old. Journal files:
    the same with our heartbeat system attr (or the start time when no beat was recorded yet);
    before failing any, the reaper waits for the journal's write lock, and if that took over
    ``STALL_SECONDS`` (a lock file left by a dead process, or a stuck writer: the live workers'
    beats were stalled as well) it fails nothing this round nor for ``interval +
    LOCK_STALL_MARGIN`` seconds after (the stalled beats land meanwhile).
    Safe to run from several processes at once: the storage lets only one of them fail a given
    trial, and only that one queues its copy.

    Returns:
        The number of trials failed here.
    """
    if is_postgres(spec):
        running = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
        if not running:
            return 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        n = sum(1 for t in failed if t.number in running)
        if n:
            log.warning("retried %d trial(s) whose worker stopped beating", n)
        # A worker that died between taking a trial and its first heartbeat left no beat for
        # Optuna to miss: such a trial also lacks the worker's id.
        for t in _orphans(study, settings):
            try:
                study._storage.set_trial_state_values(trial_id(t), state=TrialState.FAIL)
            except optuna.exceptions.UpdateFinishedTrialError:
                continue
            log.warning("trial %d was taken by a worker that died at once; retrying it", t.number)
            requeue(study, t, settings.max_retry)
            n += 1
        return n
    store = study._storage
    if not _stale_journal_trials(study, settings):
        return 0
    # A left-behind lock file stalls every write, the live workers' heartbeats too: wait it out
    # and judge nobody this round (the stalled beats land in the next second).
    waited = _wait_for_journal_lock(store)
    if waited > STALL_SECONDS:
        _LAST_STALL[store] = time.monotonic()
        log.warning(
            "the journal lock was held for %.0f s (a process died holding it?); heartbeats were "
            "stalled too, so no trial is judged dead this round",
            waited,
        )
        return 0
    stalled_at = _LAST_STALL.get(store)
    if (
        stalled_at is not None
        and time.monotonic() - stalled_at < settings.interval + LOCK_STALL_MARGIN
    ):
        return 0  # the beats stalled with us may still be landing (a waiter retries every 1 s)
    n = 0
    for t, age in _stale_journal_trials(study, settings):
        try:
            store.set_trial_state_values(trial_id(t), state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # finished meanwhile, or another process failed it first
        n += 1
        log.warning(
            "trial %d: no heartbeat for %.0f s (worker %s); retrying it",
            t.number,
            age,
            t.system_attrs.get(WORKER_ATTR, "?"),
        )
        requeue(study, t, settings.max_retry)
    return n


#: A RUNNING PostgreSQL trial without a worker id that this process has watched for this many
#: grace periods is an orphan: a live worker beats and names itself right after taking a trial.
ORPHAN_GRACE_FACTOR = 2
#: When this process first saw each RUNNING trial without a worker id, per storage object.
_NAMELESS_SINCE: weakref.WeakKeyDictionary[Any, dict[int, float]] = weakref.WeakKeyDictionary()


def _orphans(study: optuna.Study, settings: HeartbeatSettings) -> list[FrozenTrial]:
    """RUNNING trials of a PostgreSQL study whose worker died before its first heartbeat.

    Such a trial has no worker id. It is an orphan once this process has seen it nameless for
    ``ORPHAN_GRACE_FACTOR x grace_period`` seconds of its own monotonic clock (a restarted
    coordinator starts watching afresh), or when its start time, stamped by the dead worker's
    clock, is ``max(10 x grace_period, 600)`` seconds old (hence that wide margin).
    """
    mono, now = time.monotonic(), datetime.datetime.now()
    seen = _NAMELESS_SINCE.setdefault(study._storage, {})
    watch = ORPHAN_GRACE_FACTOR * settings.grace_period
    clock_age = datetime.timedelta(seconds=max(10 * settings.grace_period, 600))
    nameless, orphans = set(), []
    for t in study.get_trials(deepcopy=True, states=(TrialState.RUNNING,)):
        if WORKER_ATTR in t.system_attrs:
            continue
        tid = trial_id(t)
        nameless.add(tid)
        first = seen.setdefault(tid, mono)
        started = t.datetime_start
        if mono - first >= watch or (started is not None and now - started >= clock_age):
            orphans.append(t)
    for tid in set(seen) - nameless:  # named or finished since: forget it
        del seen[tid]
    return orphans


#: When this process's reaper last waited out a journal lock stall, per storage object.
_LAST_STALL: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _stale_journal_trials(
    study: optuna.Study, settings: HeartbeatSettings
) -> list[tuple[FrozenTrial, float]]:
    """RUNNING trials of a journal study with no heartbeat for ``grace_period`` s, with ages."""
    now = time.time()
    stale = []
    for t in study.get_trials(deepcopy=True, states=(TrialState.RUNNING,)):
        last = t.system_attrs.get(HEARTBEAT_ATTR)
        if last is None:
            last = t.datetime_start.timestamp() if t.datetime_start is not None else now
        if now - float(last) > settings.grace_period:
            stale.append((t, now - float(last)))
    return stale


def _wait_for_journal_lock(store: optuna.storages.BaseStorage) -> float:
    """Take and release the journal's write lock; seconds it took (0 for other storages)."""
    lock = getattr(getattr(store, "_backend", None), "_lock", None)
    if lock is None:
        return 0.0
    t0 = time.monotonic()
    lock.acquire()
    lock.release()
    return time.monotonic() - t0


class Heartbeat:
    """Beats for the trial a worker is evaluating, from a background thread.

    ``begin(trial_id)`` beats at once (before any work), then every ``interval`` seconds until
    ``end()``. Errors in the thread (e.g. the trial was failed meanwhile) are logged, not raised.
    """

    def __init__(self, study: optuna.Study, spec: str | None, interval: int) -> None:
        self._storage = study._storage
        self._postgres = is_postgres(spec)
        self._interval = interval
        self._lock = threading.Lock()
        self._current: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pnas-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self, tid: int) -> None:
        if self._postgres:
            self._storage.record_heartbeat(tid)
        else:
            self._storage.set_trial_system_attr(tid, HEARTBEAT_ATTR, time.time())

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                tid = self._current
                if tid is None:
                    continue
                try:
                    self._beat(tid)
                except Exception as exc:
                    log.debug("heartbeat of trial id %d failed: %r", tid, exc)

    def begin(self, tid: int) -> None:
        """Start beating for trial id ``tid`` (first beat now, in the caller's thread)."""
        with self._lock:
            self._current = tid
            self._beat(tid)

    def end(self) -> None:
        """Stop beating for the current trial."""
        with self._lock:
            self._current = None

    def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(timeout=5)


def describe_storage(spec: str | None) -> str:
    """The spec for messages, without any password."""
    return redact_storage(spec)
