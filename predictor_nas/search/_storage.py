"""Turn a storage spec (CLI ``--storage``) into an Optuna storage."""

from __future__ import annotations

import logging
import os
import time
import warnings

import optuna
from optuna.storages.journal import JournalFileOpenLock

from predictor_nas._lazy import sqlalchemy_engine, sqlalchemy_exc
from predictor_nas.exceptions import InvalidParameterError, SearchError
from predictor_nas.search._journal import (
    GuardedJournalFileBackend,
    GuardedJournalStorage,
    check_journal,
)
from predictor_nas.search._journal_buffered import BufferedJournalStorage
from predictor_nas.search._journal_repair import OPTUNA_LOCK_GRACE
from predictor_nas.search._storage_spec import (
    STORAGE_FORMS,
    journal_path,
    postgres_url_with_driver,
    redact_storage,
    sqlite_path,
    storage_kind,
)

log = logging.getLogger(__name__)


#: Heartbeat defaults of PostgreSQL storages (seconds): a running trial whose worker has not
#: beaten for ``DEFAULT_GRACE_PERIOD`` seconds counts as dead and is retried.
DEFAULT_HEARTBEAT_INTERVAL = 60
DEFAULT_GRACE_PERIOD = 120
#: How many times a trial whose worker died is put back in the queue.
DEFAULT_MAX_RETRY = 3


def make_storage(
    spec: str | None,
    *,
    n_workers: int = 1,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    max_retry: int | None = DEFAULT_MAX_RETRY,
    connect_retries: int = 3,
    journal_buffered: bool = False,
    journal_fsync_interval: float = 1.0,
    journal_lock_timeout: int | None = None,
) -> optuna.storages.BaseStorage:
    """Build the storage named by ``spec``.

    Args:
        spec: See ``STORAGE_FORMS``; ``None`` means in-memory.
        n_workers: Number of processes that will write to it. SQLite is refused for more than one
            (it has no row locks, and parallel workers duplicate trials), and so is the in-memory
            storage (other processes cannot see it).
        heartbeat_interval: PostgreSQL only: seconds between a running trial's heartbeats
            (default ``DEFAULT_HEARTBEAT_INTERVAL``). Journal files get their heartbeats from
            ``predictor_nas.distributed`` instead (Optuna's journal storage has none).
        grace_period: PostgreSQL only: seconds without a heartbeat after which a running trial
            is failed by ``optuna.storages.fail_stale_trials`` (default ``DEFAULT_GRACE_PERIOD``).
        max_retry: PostgreSQL only: a trial failed that way is put back in the queue as a
            WAITING copy (``RetryHeartbeatStaleTrialCallback``) at most this many times;
            ``None`` = always.
        connect_retries: PostgreSQL only: attempts to connect and create the schema, 0.5 s, 1 s,
            2 s, ... apart (several processes starting at once on a new database race to create
            its tables).
        journal_buffered: Journal files only: write each trial as one record when it finishes
            (``BufferedJournalStorage``: one write per trial instead of about 13 fsync'd ones).
            Only for a process that alone writes its study (``run_search`` holds a
            ``StudyRunLock``); distributed workers must not use it.
        journal_fsync_interval: Buffered journals only: fsync a finished trial only when this
            many seconds have passed since the last fsync (0: every trial; default 1 s; the
            storage's ``sync()``, called at the end of a search, fsyncs the rest). A SIGKILL
            loses no finished trial either way; a power loss may lose the trials finished
            within this many seconds.
        journal_lock_timeout: Journal files only: seconds after which the write lock file of a
            process that died while writing is broken (default: Optuna's, 30).

    Raises:
        InvalidParameterError: A spec of no known form, SQLite or memory for several workers, a
            journal or SQLite file that is a folder or in a folder that does not exist, or no
            PostgreSQL driver installed.
        StorageCorruptedError: The journal file has a torn or garbled record (checked before
            anything is written; ``predictor-nas storage repair FILE`` fixes it).
        SearchError: The PostgreSQL server cannot be reached.
    """
    kind = storage_kind(spec)
    if kind == "memory":
        if n_workers > 1:
            raise InvalidParameterError(
                f"In-memory storage cannot be shared by {n_workers} workers (each process has "
                "its own). Use a journal file for several processes on one machine or "
                "postgresql://... for several machines."
            )
        return optuna.storages.InMemoryStorage()
    assert spec is not None
    spec = spec.strip()
    if kind in ("sqlite", "postgresql"):
        _check_database_url(spec)
    if kind == "sqlite":
        if n_workers > 1:
            raise InvalidParameterError(
                f"SQLite storage cannot be shared by {n_workers} workers (no row locking; trials "
                "get duplicated). Use a journal file for several processes on one machine or "
                "postgresql://... for several machines."
            )
        db = sqlite_path(spec)
        if db is not None:
            _check_storage_file(db, "SQLite database", "search.db")
        return optuna.storages.RDBStorage(spec)
    if kind == "postgresql":
        return _postgres_storage(
            spec,
            heartbeat_interval=heartbeat_interval or DEFAULT_HEARTBEAT_INTERVAL,
            grace_period=grace_period or DEFAULT_GRACE_PERIOD,
            max_retry=max_retry,
            connect_retries=connect_retries,
        )
    return _journal_storage(
        journal_path(spec),
        buffered=journal_buffered,
        fsync_interval=journal_fsync_interval,
        lock_timeout=journal_lock_timeout,
    )


def _check_storage_file(path: str, what: str, example: str) -> None:
    """Refuse a storage file that is a folder or whose folder does not exist."""
    if os.path.isdir(path):
        raise InvalidParameterError(
            f"The {what} {path!r} is a folder; give a file path such as "
            f"{os.path.join(path, example)!r}."
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidParameterError(
            f"The folder of the {what} {path!r} does not exist; create {folder!r} first."
        )
    if not os.path.exists(path) and not os.access(folder, os.W_OK):
        raise InvalidParameterError(
            f"The {what} {path!r} does not exist and its folder {folder!r} is not writable."
        )


def _journal_storage(
    path: str,
    *,
    buffered: bool = False,
    fsync_interval: float = 1.0,
    lock_timeout: int | None = None,
) -> optuna.storages.BaseStorage:
    """A journal storage on ``path``, refused before any write if the file is damaged."""

    _check_storage_file(path, "journal file", "search.journal")
    if os.path.exists(path):
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise InvalidParameterError(f"The journal file {path!r} is not a readable file.")
        check_journal(path)
    lock = JournalFileOpenLock(path, int(lock_timeout or OPTUNA_LOCK_GRACE))
    backend = GuardedJournalFileBackend(path, lock_obj=lock)
    if buffered:
        return BufferedJournalStorage(backend, fsync_interval=fsync_interval)
    return GuardedJournalStorage(backend)


def _check_database_url(spec: str) -> None:
    """Refuse a database URL that SQLAlchemy cannot parse or Optuna would mangle."""
    if any(ord(c) < 32 or ord(c) == 127 for c in spec):
        raise InvalidParameterError(
            f"The 'storage' URL must not contain control characters. Got {spec!r} instead."
        )
    if "{" in spec or "}" in spec:  # Optuna fills the URL as a str.format template
        raise InvalidParameterError(
            f"The 'storage' URL must not contain '{{' or '}}'. Got {redact_storage(spec)!r} "
            "instead (percent-encode them in a password: %7B, %7D)."
        )
    try:
        sqlalchemy_engine.make_url(spec)
    except (sqlalchemy_exc.ArgumentError, ValueError) as exc:
        raise InvalidParameterError(
            f"The 'storage' must be {STORAGE_FORMS}. Got {redact_storage(spec)!r} instead ({exc})."
        ) from None


def _postgres_storage(
    spec: str,
    *,
    heartbeat_interval: int,
    grace_period: int,
    max_retry: int | None,
    connect_retries: int,
) -> optuna.storages.RDBStorage:
    spec = postgres_url_with_driver(spec)
    if spec.startswith("postgresql+psycopg2://"):
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            raise InvalidParameterError(
                "PostgreSQL storage needs the psycopg2 driver: pip install "
                "'predictor-nas[postgres]' (or psycopg2-binary)."
            ) from None
    delay = 0.5
    for attempt in range(connect_retries + 1):
        try:
            with warnings.catch_warnings():
                # Heartbeats and the retry callback are marked experimental in Optuna 5.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                callback = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
                return optuna.storages.RDBStorage(
                    spec,
                    heartbeat_interval=int(heartbeat_interval),
                    grace_period=int(grace_period),
                    heartbeat_stale_trial_callback=callback,
                )
        except (
            sqlalchemy_exc.OperationalError,
            sqlalchemy_exc.ProgrammingError,
            sqlalchemy_exc.IntegrityError,
        ) as exc:
            if attempt == connect_retries:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
                raise SearchError(
                    f"Cannot use the PostgreSQL storage {redact_storage(spec)}: {first}"
                ) from exc
            log.info("PostgreSQL storage not ready (%s); retrying in %.1f s", type(exc), delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
