"""A journal storage that buffers a trial's records and writes them in one append."""

from __future__ import annotations

import copy
import json
import os
import time
import weakref
from collections.abc import Container
from datetime import UTC, datetime
from typing import Any

from optuna.distributions import distribution_to_json
from optuna.storages.journal._storage import JournalOperation, JournalStorageReplayResult
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_float
from predictor_nas.exceptions import SearchError, StorageCorruptedError
from predictor_nas.search._journal import GuardedJournalFileBackend, GuardedJournalStorage
from predictor_nas.search._journal_repair import (
    scan_journal,
)

#: Records whose place in the file fixes an id (study ids, trial ids): other processes' records
#: of these kinds between our reads and our append make our in-memory ids stale.
_POSITIONAL_OPS = frozenset(
    (JournalOperation.CREATE_STUDY, JournalOperation.DELETE_STUDY, JournalOperation.CREATE_TRIAL)
)


#: The states a trial never leaves.
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

#: Records that name a trial by ``trial_id``.
_TRIAL_OPS = frozenset(
    (
        JournalOperation.SET_TRIAL_PARAM,
        JournalOperation.SET_TRIAL_STATE_VALUES,
        JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE,
        JournalOperation.SET_TRIAL_USER_ATTR,
        JournalOperation.SET_TRIAL_SYSTEM_ATTR,
    )
)


#: Default of ``fsync_interval`` (seconds), the one ``run_search`` uses.
DEFAULT_FSYNC_INTERVAL = 1.0


def _iso_utc(moment: datetime | None) -> str | None:
    """A naive local time of a ``FrozenTrial`` as Optuna's journal writes it (UTC, microseconds)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class BufferedJournalStorage(GuardedJournalStorage):
    """Journal storage that writes each trial once, as one record, at its end.

    Optuna writes one record per operation (create the trial, one per parameter with its whole
    distribution, one per user attribute, the final state), each under the lock file and each
    fsync'd: about 13 records, 13 fsyncs and 3 KB per trial of a table search. This storage
    applies a new trial's operations to its in-memory state only and, when the trial finishes
    (``tell``), appends it as a single ``CREATE_TRIAL`` record that carries its final state,
    values, times, params, distributions and user and system attributes (the record Optuna
    itself writes for ``add_trial`` and ``enqueue_trial``, so the file stays an ordinary
    journal for Optuna, optuna-dashboard and ``predictor-nas``), in one write under the lock
    file. ``get_best_trial`` keeps each study's best trial, and ``get_all_trials`` for
    unfinished states (``ask`` looks for WAITING trials) reads a kept list of the unfinished
    ones: Optuna's journal storage scans every trial at each of these calls, quadratic over a
    search that shows its best value at every step.

    Crash safety: a finished trial is written to the file before ``tell`` returns, so a process
    killed at any moment (SIGKILL included) loses at most the trial in flight: the write is in
    the kernel's page cache, which survives the process. A process killed during a trial leaves
    nothing of that trial behind (previously a RUNNING trial that the rerun marked failed), and
    the rerun queries that step again. Only a power loss or an operating-system crash can undo
    writes that were not fsync'd yet: the written trials are fsync'd when ``fsync_interval``
    seconds have passed since the last fsync (default 1 s: at most the trials that finished
    within about one second before the power loss are lost), and always by ``sync()``, which
    ``run_search`` calls when the search ends (normally, by an error or on Ctrl-C), or else
    when the storage is garbage-collected or the interpreter exits. With
    ``fsync_interval=0`` every trial is fsync'd before its ``tell`` returns (about 2x slower
    for a table search; ``benchmarks/journal_overhead.py``).

    Only for a process that alone writes its study (``run_search`` holds ``StudyRunLock``):
    while a trial is in flight its records are not in the file, so another process could not
    see or share it. Other studies in the same file may be written by other processes meanwhile:
    their records are read under the lock at our append, and if they created studies or trials
    (whose ids depend on their place in the file) the in-memory state is rebuilt from the file.

    Args:
        backend: The journal file.
        fsync_interval: Seconds: a finished trial is fsync'd when this long has passed since
            the last fsync (0: every trial; default ``DEFAULT_FSYNC_INTERVAL``, 1 s).
            Durability against a SIGKILL does not depend on it (the write is in the kernel's
            cache); against a power loss, at most the trials finished within this many seconds
            may be lost. ``sync()`` and ``flush(durable=True)`` fsync.

    Raises:
        InvalidParameterError: ``fsync_interval`` is not a finite number >= 0.
    """

    def __init__(
        self,
        backend: GuardedJournalFileBackend,
        *,
        fsync_interval: float = DEFAULT_FSYNC_INTERVAL,
    ) -> None:
        self._fsync_interval = check_float(
            fsync_interval, "fsync_interval", "BufferedJournalStorage", minimum=0.0
        )
        self._pending: list[int] = []  # ids of trials created here and not yet written
        self._index: dict[int, _StudyIndex] = {}  # study id -> best and unfinished trials
        self._last_fsync = time.monotonic()
        self._unsynced = False
        #: fsyncs the file when this storage is garbage-collected or the interpreter exits
        #: while written trials are not fsync'd yet (a storage used without ``sync()``).
        self._final_fsync: weakref.finalize | None = None
        super().__init__(backend)

    def __getstate__(self) -> dict[Any, Any]:
        if self._pending:
            raise SearchError("A journal storage with a trial in flight cannot be pickled.")
        state = super().__getstate__()
        state.pop("_index", None)  # refers to the replay result, which is not pickled either
        state.pop("_final_fsync", None)
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._index = {}
        self._final_fsync = None

    # -- JournalStorage hooks
    def _write_log(self, op_code: int, extra_fields: dict[str, Any]) -> None:
        record = {"op_code": op_code, "worker_id": self._replay_result.worker_id, **extra_fields}
        if op_code == JournalOperation.CREATE_TRIAL:
            self._apply_in_memory(record)
            self._pending.append(self._replay_result._last_created_trial_id_by_this_process)
            return
        if op_code in _TRIAL_OPS and record["trial_id"] in self._pending:
            self._apply_in_memory(record)
            state = record.get("state")
            if state is not None and TrialState(state).is_finished():
                self.flush()
            return
        self.flush()
        self._guarded_backend().append_records([record])  # read back by the caller's sync
        self._last_fsync, self._unsynced = time.monotonic(), False

    def _sync_with_backend(self) -> None:
        # While a trial is in flight, the in-memory state is ahead of the file: other processes'
        # records (other studies only) are read at the next append, in ``flush``.
        if not self._pending:
            super()._sync_with_backend()

    def get_best_trial(self, study_id: int) -> FrozenTrial:
        """Optuna's ``get_best_trial`` (the first of the best COMPLETE trials), kept up to date.

        Optuna's journal storage compares every trial at every call (quadratic over a search
        that shows its best value at each step); this one looks only at the trials added or
        not finished since the last call (finished trials never change).

        Raises:
            KeyError: No study with this id.
            RuntimeError: The study has several objectives.
            ValueError: No trial of the study is complete.
        """
        with self._thread_lock:
            self._sync_with_backend()
            index = self._study_index(study_id)
            if index.best is None:
                raise ValueError("No trials are completed yet.")
            if len(self._replay_result.get_study(study_id).directions) > 1:
                raise RuntimeError(
                    "Best trial can be obtained only for single-objective optimization."
                )
            return self._replay_result.get_trial(index.best)

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        """Optuna's ``get_all_trials``; for unfinished states only (``ask`` looks for WAITING
        trials at every step), from the kept list of unfinished trials instead of all."""
        if states is None or any(s in states for s in _FINISHED):
            return super().get_all_trials(study_id, deepcopy=deepcopy, states=states)
        with self._thread_lock:
            self._sync_with_backend()
            trials = self._replay_result._trials
            found = [trials[i] for i in self._study_index(study_id).unfinished]
            found = [t for t in found if t.state in states]
            return copy.deepcopy(found) if deepcopy else found

    def _study_index(self, study_id: int) -> _StudyIndex:
        """The study's up-to-date ``_StudyIndex`` (KeyError: no such study); under the lock."""
        replay = self._replay_result
        direction = replay.get_study(study_id).directions[0]
        index = self._index.get(study_id)
        if index is None or index.replay is not replay:
            index = self._index[study_id] = _StudyIndex(replay, direction)
        index.update(replay._study_id_to_trial_ids[study_id])
        return index

    # -- our own
    def _guarded_backend(self) -> GuardedJournalFileBackend:
        backend = self._backend
        assert isinstance(backend, GuardedJournalFileBackend)
        return backend

    def _apply_in_memory(self, record: dict[str, Any]) -> None:
        """Apply our own ``record`` to the in-memory state without counting it as read."""
        replay = self._replay_result
        try:
            replay.apply_logs([record])  # raises as Optuna's replay does for our own records
        finally:
            replay.log_number_read -= 1

    def _trial_record(self, trial_id: int) -> dict[str, Any]:
        """The single ``CREATE_TRIAL`` record of a trial, as ``create_new_trial(template)``."""
        t = self._replay_result.get_trial(trial_id)
        multi = t.values is not None and len(t.values) > 1
        record: dict[str, Any] = {
            "op_code": JournalOperation.CREATE_TRIAL,
            "worker_id": self._replay_result.worker_id,
            "study_id": self._replay_result._trial_id_to_study_id[trial_id],
            "datetime_start": _iso_utc(t.datetime_start),
            "state": t.state,
            "value": None if multi else t.value,
            "values": t.values if multi else None,
        }
        if t.datetime_complete is not None:
            record["datetime_complete"] = _iso_utc(t.datetime_complete)
        record["distributions"] = {k: distribution_to_json(d) for k, d in t.distributions.items()}
        record["params"] = {k: t.distributions[k].to_internal_repr(v) for k, v in t.params.items()}
        record["user_attrs"] = t.user_attrs
        record["system_attrs"] = t.system_attrs
        record["intermediate_values"] = t.intermediate_values
        return record

    def flush(self, *, durable: bool = False) -> None:
        """Write the trials in flight (one record each); fsync as the policy or ``durable`` says.

        Raises:
            SearchError: Another process's records moved a trial still in flight to another id
                (it is written, RUNNING; a rerun of the search marks it failed).
        """
        backend = self._guarded_backend()
        if not self._pending:
            if durable:
                self.sync()
            return
        replay = self._replay_result
        pending = list(self._pending)
        records = [self._trial_record(tid) for tid in pending]
        known_end = backend.read_end(replay.log_number_read)
        if known_end is None:  # pragma: no cover - every read records its end
            raise SearchError(f"Lost track of the journal file {backend._file_path!r}.")
        now = time.monotonic()
        fsync = durable or now - self._last_fsync >= self._fsync_interval
        foreign_bytes, end = backend.append_records(records, known_end=known_end, fsync=fsync)
        self._pending.clear()
        if fsync:
            self._last_fsync, self._unsynced = now, False
        else:
            self._unsynced = True
            if self._final_fsync is None or not self._final_fsync.alive:
                self._final_fsync = weakref.finalize(self, _fsync_quietly, backend._file_path)
        try:
            foreign = [json.loads(line) for line in foreign_bytes.splitlines() if line.strip()]
        except ValueError:  # another process's garbage: reported as any damaged journal
            raise StorageCorruptedError(
                scan_journal(backend._file_path, settle_seconds=0.0).error_message()
            ) from None
        if any(r.get("op_code") in _POSITIONAL_OPS for r in foreign):
            self._rebuild(pending)
            return
        replay.apply_logs(foreign)
        replay.log_number_read += len(records)
        backend.set_read_end(replay.log_number_read, end)

    def sync(self) -> None:
        """fsync the trials written but not yet fsync'd (see ``fsync_interval``).

        A trial still in flight is not written: like a killed process, an interrupted search
        leaves nothing of it.
        """
        if self._unsynced:
            self._guarded_backend().fsync()
            self._last_fsync, self._unsynced = time.monotonic(), False
            if self._final_fsync is not None:
                self._final_fsync.detach()

    def _rebuild(self, pending: list[int]) -> None:
        """Replay the whole file: others' records before ours changed the ids of ours."""
        in_flight = [t for t in pending if not self._replay_result.get_trial(t).state.is_finished()]
        self._replay_result = JournalStorageReplayResult(self._worker_id_prefix)
        self._guarded_backend().forget_offsets()
        super()._sync_with_backend()
        if in_flight:
            raise SearchError(
                f"Another process created studies or trials in the journal file "
                f"{self._guarded_backend()._file_path!r} while trial(s) {in_flight} of this "
                "process were in flight, so their ids may have changed; rerun the search."
            )


def _fsync_quietly(path: str) -> None:
    """fsync ``path`` if it can be opened (at exit or when a storage is collected)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _StudyIndex:
    """The best COMPLETE trial and the unfinished trials of one study, updated incrementally.

    Trials only get added, and a finished trial never changes, so each update looks at the
    trials added since the last one and at those unfinished then.

    Attributes:
        replay: The replay result the ids refer to (a rebuilt one starts a new index).
        scanned: How many of the study's trial ids have been looked at.
        unfinished: Ids of the trials not finished at the last update, in trial order.
        best: The best COMPLETE trial so far (the lowest id among equal values), or None.
    """

    def __init__(self, replay: JournalStorageReplayResult, direction: StudyDirection) -> None:
        self.replay = replay
        self._sign = 1.0 if direction == StudyDirection.MAXIMIZE else -1.0
        self.scanned = 0
        self.unfinished: list[int] = []
        self.best: int | None = None

    def update(self, trial_ids: list[int]) -> None:
        """Look at the trials added since the last update and at the unfinished ones."""
        trials = self.replay._trials
        candidates = self.unfinished + trial_ids[self.scanned :]
        self.scanned = len(trial_ids)
        self.unfinished = []
        best, best_key = self.best, None
        if best is not None:
            best_key = self._sign * trials[best].values[0]
        for tid in candidates:
            t = trials[tid]
            if not t.state.is_finished():
                self.unfinished.append(tid)
            elif t.state == TrialState.COMPLETE and t.values:
                key = self._sign * t.values[0]
                if best_key is None or key > best_key or (key == best_key and tid < best):
                    best, best_key = tid, key
        self.best = best
