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
from collections.abc import Generator, Sequence
from typing import Any

from optuna.exceptions import DuplicatedStudyError
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.storages.journal._file import get_lock_file
from optuna.study import StudyDirection

from predictor_nas.exceptions import SearchError, StorageCorruptedError, StudyInUseError
from predictor_nas.search._journal_repair import (
    _check_record,
    check_journal,
    repair_journal,
    scan_journal,
)
from predictor_nas.search._storage_spec import journal_path, sqlite_path, storage_kind

__all__ = [
    "GuardedJournalFileBackend",
    "GuardedJournalStorage",
    "StudyRunLock",
    "check_journal",
    "repair_journal",
    "scan_journal",
]

log = logging.getLogger(__name__)





















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








# --------------------------------------------------------------------------- run lock
def _storage_file(spec: str | None) -> str | None:
    """The file of a journal or SQLite storage spec, else None."""

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
