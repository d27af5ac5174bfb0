"""Importers that turn public benchmark data into predictor_nas table files.

``IMPORTERS`` maps the kind named on the command line (``predictor-nas tables import KIND``) to a
function ``f(source, *, out=None, overwrite=False) -> (path written, content hash)``.
"""

from __future__ import annotations

from collections.abc import Callable

from predictor_nas.tables.importers._nb201_rich import import_nb201_rich

IMPORTERS: dict[str, Callable[..., tuple[str, str]]] = {"nb201-rich": import_nb201_rich}

#: What ``--source`` of each importer is, for messages about a table not imported yet.
IMPORT_SOURCES: dict[str, str] = {
    "nb201-rich": "the folder holding nb201.csv.gz, the curated NAS-Bench-201 CSV, e.g. "
    "../shared/data/nb201"
}

__all__ = ["IMPORTERS", "IMPORT_SOURCES", "import_nb201_rich"]
