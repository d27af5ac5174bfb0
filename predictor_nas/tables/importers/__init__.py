"""Importers that turn public benchmark data into predictor_nas table files.

``IMPORTERS`` maps the kind named on the command line (``predictor-nas tables import KIND``) to a
function ``f(source, *, out=None, overwrite=False) -> (path written, content hash)``.
"""

from __future__ import annotations

from collections.abc import Callable

from predictor_nas.tables.importers._nb201_rich import import_nb201_rich

IMPORTERS: dict[str, Callable[..., tuple[str, str]]] = {"nb201-rich": import_nb201_rich}

__all__ = ["IMPORTERS", "import_nb201_rich"]
