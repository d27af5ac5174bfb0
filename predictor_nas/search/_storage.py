"""Turn a storage spec (CLI ``--storage``) into an Optuna storage."""

from __future__ import annotations

import logging
import os
import time
import warnings

import optuna
from optuna.storages.journal import JournalFileOpenLock

from predictor_nas.exceptions import InvalidParameterError, SearchError
from predictor_nas.search._journal_repair import OPTUNA_LOCK_GRACE

log = logging.getLogger(__name__)

#: Default storage of the CLI: a journal file in the current directory.
DEFAULT_STORAGE = "predictor-nas.journal"

STORAGE_FORMS = (
    "'memory' (in-process, lost on exit), a journal file path ending in .journal or .log "
    "(or 'journal:PATH'), 'sqlite:///PATH' (one worker only) or 'postgresql://...'"
)

#: Heartbeat defaults of PostgreSQL storages (seconds): a running trial whose worker has not
#: beaten for ``DEFAULT_GRACE_PERIOD`` seconds counts as dead and is retried.
DEFAULT_HEARTBEAT_INTERVAL = 60
DEFAULT_GRACE_PERIOD = 120
#: How many times a trial whose worker died is put back in the queue.
DEFAULT_MAX_RETRY = 3


def storage_kind(spec: str | None) -> str:
    """``"memory"``, ``"journal"``, ``"sqlite"`` or ``"postgresql"`` for a storage spec.

    Raises ``InvalidParameterError`` for a spec of none of these forms.
    """
    if spec is None or spec in ("memory", ":memory:"):
        return "memory"
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidParameterError(f"The 'storage' must be {STORAGE_FORMS}. Got {spec!r} instead.")
    spec = spec.strip()
    if spec.startswith("sqlite:"):
        return "sqlite"
    if spec.startswith(("postgresql://", "postgresql+", "postgres://")):
        return "postgresql"
    if spec.startswith("journal:") or spec.endswith((".journal", ".log")):
        return "journal"
    raise InvalidParameterError(f"The 'storage' must be {STORAGE_FORMS}. Got {spec!r} instead.")


def redact_storage(spec: str | None) -> str:
    """The spec with any password in a database URL replaced by ``***`` (for logs and output)."""
    if spec is None:
        return "memory"
    if "://" in spec and "@" in spec and not spec.startswith("sqlite:"):
        try:
            from sqlalchemy.engine import make_url

            return make_url(spec).render_as_string(hide_password=True)
        except Exception:  # an unparsable URL is reported by make_storage, not here
            return spec.split("://", 1)[0] + "://***"
    return spec


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


def journal_path(spec: str) -> str:
    """The file path of a journal storage spec (``PATH`` or ``journal:PATH``)."""
    spec = spec.strip()
    path = spec[len("journal:") :] if spec.startswith("journal:") else spec
    if not path:
        raise InvalidParameterError("The 'storage' spec 'journal:' needs a file path after it.")
    if "\0" in path:
        raise InvalidParameterError(
            f"The journal file path must not contain a NUL character. Got {path!r} instead."
        )
    return path


def sqlite_path(spec: str) -> str | None:
    """The database file of a ``sqlite:///PATH`` spec, or None for an in-memory database."""
    rest = spec.strip()[len("sqlite:") :]
    if not rest.startswith("///"):
        return None
    path = rest[3:].split("?", 1)[0]
    return path if path and path != ":memory:" else None


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

    from predictor_nas.search._journal import (
        GuardedJournalFileBackend,
        GuardedJournalStorage,
        check_journal,
    )
    from predictor_nas.search._journal_buffered import BufferedJournalStorage

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
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(spec)
    except (ArgumentError, ValueError) as exc:
        raise InvalidParameterError(
            f"The 'storage' must be {STORAGE_FORMS}. Got {redact_storage(spec)!r} instead ({exc})."
        ) from None


def postgres_url_with_driver(spec: str) -> str:
    """A PostgreSQL URL with the driver we ship (psycopg2) named explicitly.

    SQLAlchemy 2.1 maps a plain ``postgresql://`` URL to psycopg 3, which this package does not
    install, and knows no ``postgres://`` scheme at all; both are rewritten to
    ``postgresql+psycopg2://``. A URL that names a driver (``postgresql+psycopg://``) is kept.
    """
    for scheme in ("postgresql://", "postgres://"):
        if spec.startswith(scheme):
            return "postgresql+psycopg2://" + spec[len(scheme) :]
    return spec


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
    from sqlalchemy.exc import IntegrityError as SAIntegrityError
    from sqlalchemy.exc import OperationalError, ProgrammingError

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
        except (OperationalError, ProgrammingError, SAIntegrityError) as exc:
            if attempt == connect_retries:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
                raise SearchError(
                    f"Cannot use the PostgreSQL storage {redact_storage(spec)}: {first}"
                ) from exc
            log.info("PostgreSQL storage not ready (%s); retrying in %.1f s", type(exc), delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
