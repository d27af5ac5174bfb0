"""A journal file's records: finding a torn or corrupt tail, and repairing it.

Repair keeps every intact record and moves the rest aside to a backup file."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from predictor_nas.exceptions import InvalidParameterError, SearchError, StorageCorruptedError

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
