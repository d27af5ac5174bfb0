"""Journal files: an integrity check before anything is written, repair, and a run lock.

Optuna's ``JournalFileBackend`` stores a study as an operation log: one JSON object per line,
each ending in ``\\n``, appended under a lock file (``FILE.lock``) and fsync'd. Its reader
tolerates an incomplete last line (it may be another process's write in flight) and silently
skips a bad *last* line, but the next append is glued onto that line, after which every read
fails with a ``JSONDecodeError``: a torn tail (power loss, full disk) turns into the loss of the
whole study on the next run. Hence:

- ``scan_journal`` checks every line of a journal (complete, a JSON object, a known ``op_code``)
  and ``make_storage`` refuses a damaged file with ``StorageCorruptedError`` *before* writing,
  naming the byte offset where the damage starts;
- ``repair_journal`` (``predictor-nas storage repair FILE``) keeps the intact prefix and moves
  everything from the first bad byte on to a backup file next to it;
- ``GuardedJournalFileBackend`` never appends after a torn or garbled last record, removes
  its own partial record when a write fails, turns read errors into ``StorageCorruptedError`` and
  a read-only file into a one-line ``SearchError``;
- ``GuardedJournalStorage`` does not append a ``CREATE_STUDY`` record when the study exists, so a
  finished study can be read from a read-only journal;
- ``BufferedJournalStorage`` (single-process searches) writes each trial as one record at its
  ``tell``, in one write and one fsync, instead of about 13 fsync'd records (issue 19);
- ``StudyRunLock`` lets only one process run a single-process search of a given study.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from optuna.distributions import distribution_to_json
from optuna.exceptions import DuplicatedStudyError
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.storages.journal._file import get_lock_file
from optuna.storages.journal._storage import JournalOperation, JournalStorageReplayResult
from optuna.study import StudyDirection
from optuna.trial import TrialState

from predictor_nas.exceptions import SearchError, StorageCorruptedError, StudyInUseError

log = logging.getLogger(__name__)

#: ``op_code`` values of Optuna's journal records (``JournalOperation``: 0 CREATE_STUDY ... 10).
KNOWN_OP_CODES = frozenset(range(11))
#: How long an incomplete last line may take to complete while another process holds the
#: journal's write lock before it counts as torn (a write in flight lasts microseconds).
SETTLE_SECONDS = 1.0
#: Optuna's journal lock file (``JournalFileOpenLock``) and its grace period in seconds.
OPTUNA_LOCK_SUFFIX = ".lock"
OPTUNA_LOCK_GRACE = 30.0


@dataclass(frozen=True)
class JournalScan:
    """Result of checking a journal file line by line.

    Attributes:
        path: The file.
        size: Its size in bytes when read.
        good_end: Byte offset where the intact prefix ends (== ``size`` if intact).
        n_records: Intact records (lines) in ``[0, good_end)``.
        problem: ``None`` if intact, else what is wrong at ``good_end``.
        torn: The damage is an incomplete last line (a torn write), nothing after it.
        lines_after: Complete lines after the first bad one (moved aside by a repair).
    """

    path: str
    size: int
    good_end: int
    n_records: int
    problem: str | None
    torn: bool = False
    lines_after: int = 0

    @property
    def intact(self) -> bool:
        """Whether every line is a complete journal record."""
        return self.problem is None

    def error_message(self) -> str:
        """The one-line message of ``StorageCorruptedError`` for a damaged journal."""
        after = (
            f"; {self.lines_after} more line(s) follow it"
            if self.lines_after and not self.torn
            else ""
        )
        return (
            f"The journal file {self.path!r} is damaged from byte offset {self.good_end} of "
            f"{self.size} on (record {self.n_records + 1}: {self.problem}{after}). Nothing was "
            f"written to it. Run 'predictor-nas storage repair {self.path}' to keep the "
            f"{self.n_records} intact record(s) and move bytes {self.good_end}-{self.size} to a "
            "backup file next to it; then rerun to resume the study."
        )


def _check_record(line: bytes) -> str | None:
    """``None`` if ``line`` (without its ``\\n``) is a journal record, else what is wrong."""
    try:
        rec = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not JSON ({exc})"
    if not isinstance(rec, dict):
        return f"a JSON {type(rec).__name__}, not an object"
    op = rec.get("op_code")
    if isinstance(op, bool) or not isinstance(op, int) or op not in KNOWN_OP_CODES:
        return f"no known op_code (got {op!r})"
    if not isinstance(rec.get("worker_id"), str):
        return "no worker_id"
    return None


def _scan_bytes(data: bytes, start: int, n_before: int) -> tuple[int, int, str | None, bool, int]:
    """Scan ``data`` (the file from byte ``start`` on).

    Returns:
        ``(good_end, n_records, problem, torn, lines_after)`` as in ``JournalScan``.
    """
    pos, n = 0, n_before
    size = len(data)
    while pos < size:
        nl = data.find(b"\n", pos)
        if nl == -1:
            return (
                start + pos,
                n,
                f"incomplete last record, {size - pos} byte(s) without an end of line - a torn "
                "write from a crash, power loss or full disk",
                True,
                0,
            )
        problem = _check_record(data[pos:nl])
        if problem is not None:
            rest = data[nl + 1 :]
            after = rest.count(b"\n") + (1 if rest and not rest.endswith(b"\n") else 0)
            return start + pos, n, f"line {n + 1} is {problem}", False, after
        n += 1
        pos = nl + 1
    return start + pos, n, None, False, 0


def scan_journal(path: str, *, settle_seconds: float = SETTLE_SECONDS) -> JournalScan:
    """Check every line of the journal at ``path``; cost: one read and ``json.loads`` per line.

    An incomplete last line while Optuna's lock file exists may be a write in flight by another
    process (distributed workers): it is re-read for up to ``settle_seconds`` before it counts as
    torn. Without a lock file nobody is writing, and it counts as torn at once.
    """
    with open(path, "rb") as f:
        data = f.read()
    size = len(data)
    good_end, n, problem, torn, after = _scan_bytes(data, 0, 0)
    deadline = time.monotonic() + settle_seconds
    while torn and os.path.exists(path + OPTUNA_LOCK_SUFFIX) and time.monotonic() < deadline:
        time.sleep(0.02)
        with open(path, "rb") as f:
            f.seek(good_end)
            rest = f.read()
        size = good_end + len(rest)
        good_end, n, problem, torn, after = _scan_bytes(rest, good_end, n)
    return JournalScan(path, size, good_end, n, problem, torn, after)


def check_journal(path: str) -> None:
    """Raise ``StorageCorruptedError`` if the existing journal at ``path`` is damaged."""
    scan = scan_journal(path)
    if not scan.intact:
        raise StorageCorruptedError(scan.error_message())


# --------------------------------------------------------------------------- repair
@dataclass(frozen=True)
class RepairResult:
    """What ``repair_journal`` did.

    Attributes:
        path: The journal.
        kept_records: Intact records left in it.
        kept_bytes: Its size afterwards.
        moved_bytes: Bytes moved to ``backup`` (0 = the file was intact, nothing done).
        backup: The backup file holding the moved bytes, or None.
        problem: What was wrong (``JournalScan.problem``), or None.
    """

    path: str
    kept_records: int
    kept_bytes: int
    moved_bytes: int
    backup: str | None
    problem: str | None


def _backup_path(path: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{path}.damaged-{stamp}"
    candidate, i = base, 1
    while os.path.exists(candidate):
        i += 1
        candidate = f"{base}-{i}"
    return candidate


def _take_optuna_lock(path: str) -> str:
    """Create Optuna's lock file of ``path`` (refused while a live writer may hold it)."""
    lock = path + OPTUNA_LOCK_SUFFIX
    for _ in range(2):
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return lock
        except FileExistsError:
            try:
                age = time.time() - os.stat(lock).st_mtime
            except FileNotFoundError:
                continue
            if age < OPTUNA_LOCK_GRACE:
                raise SearchError(
                    f"The journal {path!r} is being written by another process (lock file "
                    f"{lock!r}, {age:.0f} s old); stop it before repairing the journal."
                ) from None
            log.warning("removing the stale lock file %s (%.0f s old)", lock, age)
            os.unlink(lock)
    raise SearchError(f"Cannot take the lock file {lock!r} of the journal {path!r}.")


def repair_journal(path: str) -> RepairResult:
    """Keep the intact prefix of a journal and move the rest to a backup file next to it.

    The journal is an operation log: each record applies to the state the records before it
    built (trial ids are the order of ``CREATE_TRIAL`` records, a state or parameter record
    names a trial by that id). Records after a lost or garbled one may refer to what it did, so
    keeping them could silently attach values to the wrong trial. The repair is therefore
    conservative: it keeps exactly the longest prefix of complete, valid records and moves
    *everything* from the first bad byte to the end, valid-looking lines included, into
    ``FILE.damaged-<UTC time>`` (never deleted; ``cat FILE FILE.damaged-...`` restores the
    original bytes). A torn last record is the usual case: its trial is left RUNNING, and a
    rerun of the search marks it failed and queries that step again.

    Order of writes: the backup is written and fsync'd first, then the journal is truncated;
    a crash in between leaves the journal as it was, and repairing again is safe. Optuna's lock
    file is held meanwhile, so no Optuna writer appends during the repair.

    Args:
        path: The journal file.

    Returns:
        A ``RepairResult``; ``moved_bytes == 0`` if the file was intact.

    Raises:
        InvalidParameterError: No such file, or a folder.
        SearchError: Another process holds the journal's lock, or it cannot be written.
    """
    from predictor_nas.exceptions import InvalidParameterError

    if os.path.isdir(path):
        raise InvalidParameterError(f"The journal {path!r} is a folder, not a journal file.")
    if not os.path.isfile(path):
        raise InvalidParameterError(f"The journal file {path!r} does not exist.")
    scan = scan_journal(path, settle_seconds=0.0)
    if scan.intact:
        return RepairResult(path, scan.n_records, scan.size, 0, None, None)
    try:
        lock = _take_optuna_lock(path)
    except PermissionError:
        raise SearchError(f"Cannot repair {path!r}: its folder is not writable.") from None
    try:
        scan = scan_journal(path, settle_seconds=0.0)  # again, under the lock
        if scan.intact:
            return RepairResult(path, scan.n_records, scan.size, 0, None, None)
        backup = _backup_path(path)
        try:
            with open(path, "r+b") as f:
                f.seek(scan.good_end)
                rest = f.read()
                with open(backup, "xb") as b:
                    b.write(rest)
                    b.flush()
                    os.fsync(b.fileno())
                f.truncate(scan.good_end)
                f.flush()
                os.fsync(f.fileno())
        except PermissionError as exc:
            raise SearchError(f"Cannot repair {path!r}: {exc.strerror}.") from None
        log.info("moved %d bytes of %s to %s", len(rest), path, backup)
        return RepairResult(path, scan.n_records, scan.good_end, len(rest), backup, scan.problem)
    finally:
        os.unlink(lock)


# --------------------------------------------------------------------------- storage classes
_READ_ONLY_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)


def _last_line_problem(fd: int, size: int) -> str | None:
    """What is wrong with the last line of the open journal ``fd`` of ``size`` bytes, or None.

    Reads only the tail (4 KB, more for a longer last record), so it costs about one
    ``json.loads`` per append.
    """
    if os.pread(fd, 1, size - 1) != b"\n":
        return "incomplete last record"
    chunk = 4096
    while True:
        start = max(0, size - 1 - chunk)
        tail = os.pread(fd, size - 1 - start, start)
        nl = tail.rfind(b"\n")
        if nl != -1 or start == 0:
            return _check_record(tail[nl + 1 :])
        chunk *= 4


class GuardedJournalFileBackend(JournalFileBackend):
    """``JournalFileBackend`` that never builds on a damaged file (see the module docstring)."""

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        """Optuna's reader, with a damaged file reported as ``StorageCorruptedError``."""
        try:
            yield from super().read_logs(log_number_from)
        except ValueError as exc:  # json.JSONDecodeError or Optuna's "Invalid log format."
            scan = scan_journal(self._file_path, settle_seconds=0.0)
            if scan.intact:
                raise StorageCorruptedError(
                    f"The journal file {self._file_path!r} could not be read ({exc})."
                ) from None
            raise StorageCorruptedError(scan.error_message()) from None

    def _read_only(self) -> SearchError:
        return SearchError(
            f"The journal file {self._file_path!r} (or its folder) is read-only and this run "
            "needs to write to it; make both writable, or rerun with the options of the finished "
            "study (nothing is written when its budget is already met)."
        )

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append ``logs`` as Optuna does (under its lock, fsync'd), after a valid record only."""
        self.append_records(logs)

    def append_records(
        self, logs: Sequence[dict[str, Any]], *, known_end: int | None = None, fsync: bool = True
    ) -> tuple[bytes, int]:
        """Append ``logs`` in one write under Optuna's lock, after a valid record only.

        Args:
            logs: The records.
            known_end: Byte offset up to which the caller has read the file; the bytes other
                processes appended after it are returned (read under the lock, so complete).
            fsync: Make the write durable before returning (``os.fsync``).

        Returns:
            ``(foreign, end)``: the bytes between ``known_end`` and the old end of the file
            (``b""`` when ``known_end`` is None), and the end of the file after the write.

        Raises:
            StorageCorruptedError: The last record in the file is torn or garbled.
            SearchError: The file is read-only or cannot be written; or it shrank below
                ``known_end`` (truncated by another process).
        """
        folder = os.path.dirname(os.path.abspath(self._file_path))
        if not (os.access(self._file_path, os.W_OK) and os.access(folder, os.W_OK)):
            raise self._read_only()
        data = ("\n".join(json.dumps(r, separators=(",", ":")) for r in logs) + "\n").encode()
        try:
            with get_lock_file(self._lock), open(self._file_path, "a+b") as f:
                fd = f.fileno()
                size = os.fstat(fd).st_size
                if size and _last_line_problem(fd, size) is not None:
                    scan = scan_journal(self._file_path, settle_seconds=0.0)
                    raise StorageCorruptedError(scan.error_message())
                foreign = b""
                if known_end is not None and size != known_end:
                    if size < known_end:
                        raise SearchError(
                            f"The journal file {self._file_path!r} shrank from {known_end} to "
                            f"{size} bytes while this process was using it (truncated or "
                            "repaired by another process); rerun the command."
                        )
                    foreign = os.pread(fd, size - known_end, known_end)
                try:
                    _write_all(fd, data)
                    if fsync:
                        os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, size)  # never leave our own torn record behind
                    raise
        except OSError as exc:
            if exc.errno in _READ_ONLY_ERRNOS:
                raise self._read_only() from None
            raise SearchError(
                f"Cannot write to the journal file {self._file_path!r}: {exc.strerror or exc}."
            ) from None
        return foreign, size + len(data)

    def fsync(self) -> None:
        """Make everything written to the file so far durable."""
        try:
            fd = os.open(self._file_path, os.O_RDONLY)
        except OSError:
            return  # nothing of ours can be pending in a file we cannot open
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_end(self, log_number: int) -> int | None:
        """Byte offset where record ``log_number`` starts, if this backend has read that far."""
        return self._log_number_offset.get(log_number)

    def set_read_end(self, log_number: int, offset: int) -> None:
        """Record that record ``log_number`` starts at byte ``offset`` (after our own append)."""
        self._log_number_offset[log_number] = offset

    def forget_offsets(self) -> None:
        """Drop the line offsets read so far (the next read starts at the top of the file)."""
        self._log_number_offset = {0: 0}


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until all of ``data`` is written (one call for a journal-sized batch)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class GuardedJournalStorage(JournalStorage):
    """``JournalStorage`` that writes no ``CREATE_STUDY`` record for a study that exists.

    Optuna appends one on every ``create_study(load_if_exists=True)``, so merely loading a study
    wrote to the file (and failed on a read-only one).
    """

    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        """Create the study, or raise ``DuplicatedStudyError`` without writing if it exists."""
        if study_name is not None:
            with self._thread_lock:
                self._sync_with_backend()
                names = {s.study_name for s in self._replay_result.get_all_studies()}
            if study_name in names:
                raise DuplicatedStudyError(
                    f"Another study with name '{study_name}' already exists."
                )
        return super().create_new_study(directions, study_name)


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


# --------------------------------------------------------------------------- run lock
def _storage_file(spec: str | None) -> str | None:
    """The file of a journal or SQLite storage spec, else None."""
    from predictor_nas.search._storage import journal_path, sqlite_path, storage_kind

    kind = storage_kind(spec)
    assert spec is None or isinstance(spec, str)
    if kind == "journal":
        return journal_path(spec)  # type: ignore[arg-type]
    if kind == "sqlite":
        return sqlite_path(spec)  # type: ignore[arg-type]
    return None


class StudyRunLock:
    """An exclusive ``flock`` that one single-process search holds on its study.

    The lock file is ``FILE.<hash of the study name>.run-lock`` next to the journal or SQLite
    file (Optuna's own lock is ``FILE.lock``); other studies in the same file are not blocked.
    The kernel drops the lock when the process dies, so a SIGKILLed search never blocks its
    rerun. In a read-only folder no lock is taken (such a run cannot write anyway). In-memory
    storages need none; on PostgreSQL a search is single-process by contract and is not locked
    (use ``coordinate``/``worker`` for several processes).
    """

    def __init__(self, path: str, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, spec: str | None, study_name: str) -> StudyRunLock:
        """Take the lock of ``study_name`` in ``spec``, or raise ``StudyInUseError``."""
        target = _storage_file(spec)
        if target is None:
            return cls("", None)
        import fcntl  # POSIX only; imported here so that the package imports everywhere

        digest = hashlib.sha256(study_name.encode("utf-8")).hexdigest()[:12]
        path = f"{target}.{digest}.run-lock"
        for _ in range(5):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                if exc.errno in _READ_ONLY_ERRNOS:
                    log.info("no run lock (cannot create %s): read-only folder", path)
                    return cls(path, None)
                raise
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                os.close(fd)
                raise StudyInUseError(
                    f"Study {study_name!r} in {target!r} is being searched by another process "
                    f"({holder or 'unknown pid'}; lock file {path!r}). A search is single-process: "
                    "wait for it to finish, choose another --study-name, or use 'predictor-nas "
                    "coordinate' and 'worker' for several processes."
                ) from None
            try:  # the file we locked must still be the one at ``path`` (see release)
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
                return cls(path, fd)
            os.close(fd)
        raise StudyInUseError(f"Could not take the lock file {path!r} of study {study_name!r}.")

    def release(self) -> None:
        """Remove the lock file and drop the lock (idempotent)."""
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # unlinked while locked: a waiter re-checks the inode
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None

    def __del__(self) -> None:  # an exception between acquire and release
        self.release()
