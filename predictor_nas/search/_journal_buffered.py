"""A journal storage that buffers a trial's records and writes them in one append."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from optuna.distributions import distribution_to_json
from optuna.storages.journal._storage import JournalOperation, JournalStorageReplayResult
from optuna.trial import TrialState

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
    journal for Optuna, optuna-dashboard and ``predictor-nas``), in one write and, by default,
    one fsync.

    Crash safety: a finished trial is in the file (fsync'd) before ``tell`` returns; a process
    killed during a trial leaves nothing of that trial behind (previously a RUNNING trial that
    the rerun marked failed), and the rerun queries that step again.

    Only for a process that alone writes its study (``run_search`` holds ``StudyRunLock``):
    while a trial is in flight its records are not in the file, so another process could not
    see or share it. Other studies in the same file may be written by other processes meanwhile:
    their records are read under the lock at our append, and if they created studies or trials
    (whose ids depend on their place in the file) the in-memory state is rebuilt from the file.

    Args:
        backend: The journal file.
        fsync_interval: Seconds: a finished trial is fsync'd when this long has passed since
            the last fsync (0: every trial, the default). Durability against a SIGKILL does not
            depend on it (the write is in the kernel's cache); against a power loss, at most
            this many seconds of finished trials may be lost. ``flush(durable=True)`` fsyncs.
    """

    def __init__(self, backend: GuardedJournalFileBackend, *, fsync_interval: float = 0.0) -> None:
        self._pending: list[int] = []  # ids of trials created here and not yet written
        self._fsync_interval = float(fsync_interval)
        self._last_fsync = time.monotonic()
        self._unsynced = False
        super().__init__(backend)

    def __getstate__(self) -> dict[Any, Any]:
        if self._pending:
            raise SearchError("A journal storage with a trial in flight cannot be pickled.")
        return super().__getstate__()

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
