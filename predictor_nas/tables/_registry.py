"""Find tables by name: the embedded ones shipped in data/ and the user's import cache."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from predictor_nas.exceptions import TableNotFoundError
from predictor_nas.tables._reader import Table

#: Name of the table searches use when none is given.
DEFAULT_TABLE = "nb201"

log = logging.getLogger(__name__)

_OPEN: dict[tuple[str, float, int], Table] = {}


def embedded_dir() -> Path:
    """Folder of the tables shipped with the package.

    A wheel carries them in ``predictor_nas/_data``; a source checkout (editable install) reads the
    repository's ``data/``. ``PREDICTOR_NAS_DATA`` overrides both.
    """
    env = os.environ.get("PREDICTOR_NAS_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_data"
    if packaged.is_dir():
        return packaged
    return here.parent / "data"


def cache_dir() -> Path:
    """Folder of imported tables: ``PREDICTOR_NAS_CACHE`` or ``~/.cache/predictor_nas/tables``."""
    env = os.environ.get("PREDICTOR_NAS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "predictor_nas" / "tables"


def table_paths() -> dict[str, Path]:
    """Name -> path of every table found (cache entries shadow embedded ones of the same name)."""
    found: dict[str, Path] = {}
    for folder in (embedded_dir(), cache_dir()):
        try:
            if folder.is_dir():
                for p in sorted(folder.glob("*.h5")):
                    found[p.stem] = p
        except PermissionError:  # an unreadable cache holds no table we can open
            log.warning("Cannot read the table folder %s (permission denied); skipped.", folder)
    return found


def _import_hint(name: str) -> str:
    """How to import ``name`` when an importer of that name exists, else ``""``."""
    from predictor_nas.tables.importers import IMPORT_SOURCES, IMPORTERS

    if name not in IMPORTERS:
        return ""
    source = IMPORT_SOURCES.get(name, "the folder holding its source files")
    return (
        f" {name!r} is not shipped; import it once with `predictor-nas tables import {name} "
        f"--source PATH` (PATH: {source}); it is written to {cache_dir()}."
    )


def open_table(name_or_path: str | os.PathLike = DEFAULT_TABLE) -> Table:
    """Open a table by name (see ``table_paths``) or by file path; opened files are reused.

    Raises:
        TableNotFoundError: neither a file nor a known name; the message lists the known names
            and, for a table an importer makes (``nb201-rich``), the import command.
    """
    text = os.fspath(name_or_path)
    path = Path(text)
    if not path.is_file():
        known = table_paths()
        if text not in known:
            names = ", ".join(repr(n) for n in known) or "none"
            raise TableNotFoundError(
                f"No table named or at {text!r}.{_import_hint(text)} Known tables: {names} "
                f"(embedded in {embedded_dir()}, imported into {cache_dir()})."
            )
        path = known[text]
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime, st.st_size)
    if key not in _OPEN:
        _OPEN[key] = Table(path)
    return _OPEN[key]
