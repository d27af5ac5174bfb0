"""Turn a storage spec (CLI ``--storage``) into an Optuna storage."""

from __future__ import annotations

import os

import optuna

from predictor_nas.exceptions import InvalidParameterError

#: Default storage of the CLI: a journal file in the current directory.
DEFAULT_STORAGE = "predictor-nas.journal"

STORAGE_FORMS = (
    "'memory' (in-process, lost on exit), a journal file path ending in .journal or .log "
    "(or 'journal:PATH'), 'sqlite:///PATH' (one worker only) or 'postgresql://...'"
)


def make_storage(spec: str | None, *, n_workers: int = 1) -> optuna.storages.BaseStorage:
    """Build the storage named by ``spec``.

    Args:
        spec: See ``STORAGE_FORMS``; ``None`` means in-memory.
        n_workers: Number of processes that will write to it; SQLite is refused for more than one
            (it has no row locks, and parallel workers duplicate trials).
    """
    if spec is None or spec in ("memory", ":memory:"):
        return optuna.storages.InMemoryStorage()
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidParameterError(f"The 'storage' must be {STORAGE_FORMS}. Got {spec!r} instead.")
    spec = spec.strip()
    if spec.startswith("sqlite:"):
        if n_workers > 1:
            raise InvalidParameterError(
                f"SQLite storage cannot be shared by {n_workers} workers (no row locking; trials "
                "get duplicated). Use a journal file for several processes on one machine or "
                "postgresql://... for several machines."
            )
        return optuna.storages.RDBStorage(spec)
    if spec.startswith(("postgresql://", "postgresql+")):
        return optuna.storages.RDBStorage(spec, heartbeat_interval=60, grace_period=120)
    path = spec[len("journal:") :] if spec.startswith("journal:") else spec
    if spec.startswith("journal:") or path.endswith((".journal", ".log")):
        if not path:
            raise InvalidParameterError("The 'storage' spec 'journal:' needs a file path after it.")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise InvalidParameterError(
                f"The folder of the journal file {path!r} does not exist; create {folder!r} first."
            )
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

        backend = JournalFileBackend(path, lock_obj=JournalFileOpenLock(path))
        return optuna.storages.JournalStorage(backend)
    raise InvalidParameterError(f"The 'storage' must be {STORAGE_FORMS}. Got {spec!r} instead.")
