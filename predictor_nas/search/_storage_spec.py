"""Storage specs: their forms (``STORAGE_FORMS``), their kind, file paths and redacted display."""

from __future__ import annotations

from predictor_nas._lazy import sqlalchemy_engine
from predictor_nas.exceptions import InvalidParameterError

#: Default storage of the CLI: a journal file in the current directory.
DEFAULT_STORAGE = "predictor-nas.journal"


STORAGE_FORMS = (
    "'memory' (in-process, lost on exit), a journal file path ending in .journal or .log "
    "(or 'journal:PATH'), 'sqlite:///PATH' (one worker only) or 'postgresql://...'"
)


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
            return sqlalchemy_engine.make_url(spec).render_as_string(hide_password=True)
        except Exception:  # an unparsable URL is reported by make_storage, not here
            return spec.split("://", 1)[0] + "://***"
    return spec


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
