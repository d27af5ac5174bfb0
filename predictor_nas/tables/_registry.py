"""Open tables by name or path (``open_table``), with an import hint for the importable ones."""

from __future__ import annotations

import os
from pathlib import Path

from predictor_nas.exceptions import TableNotFoundError
from predictor_nas.tables._locations import cache_dir, embedded_dir, table_paths
from predictor_nas.tables._reader import Table
from predictor_nas.tables.importers import IMPORT_SOURCES, IMPORTERS

#: Name of the table searches use when none is given.
DEFAULT_TABLE = "nb201"

_OPEN: dict[tuple[str, float, int], Table] = {}


def _import_hint(name: str) -> str:
    """How to import ``name`` when an importer of that name exists, else ``""``."""
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
