"""Importers that turn public benchmark data into predictor_nas table files.

``IMPORTERS`` maps the kind named on the command line (``predictor-nas tables import KIND``) to a
function ``f(source, *, out=None, overwrite=False) -> (path written, content hash)``; the kind is
also the name of the table it writes. ``predictor-nas tables import file`` (``import_file``)
imports a user's own CSV / JSON / JSON-lines / Parquet file for any space.
"""

from __future__ import annotations

from collections.abc import Callable

from predictor_nas.tables.importers._generic import (
    FORMATS,
    CurveSpec,
    MetricSpec,
    import_file,
    import_records,
    read_records,
)
from predictor_nas.tables.importers._macro import import_nas_bench_macro
from predictor_nas.tables.importers._nas_bench_graph import import_nas_bench_graph
from predictor_nas.tables.importers._nb101 import import_nb101_zc
from predictor_nas.tables.importers._nb201_rich import import_nb201_rich

IMPORTERS: dict[str, Callable[..., tuple[str, str]]] = {
    "nb201-rich": import_nb201_rich,
    "nas-bench-macro": import_nas_bench_macro,
    "nb101-zc": import_nb101_zc,
    "nas-bench-graph": import_nas_bench_graph,
}

#: What ``--source`` of each importer is, for messages about a table not imported yet.
IMPORT_SOURCES: dict[str, str] = {
    "nb201-rich": "the folder holding nb201.csv.gz, the curated NAS-Bench-201 CSV, e.g. "
    "../shared/data/nb201",
    "nas-bench-macro": "the folder holding nas-bench-macro_cifar10.json (GitHub "
    "xiusu/NAS-Bench-Macro), e.g. ../shared/data/nas-bench-macro",
    "nb101-zc": "the folder holding nb101_zc_500.json (NAS-Bench-Suite-Zero's NB101 subset), e.g. "
    "../shared/data/nb101",
    "nas-bench-graph": "the nas_bench_graph-1.4.0-py3-none-any.whl of `pip download --no-deps "
    "nas-bench-graph==1.4.0`, a folder holding it, or the extracted wheel",
}

__all__ = [
    "FORMATS",
    "IMPORTERS",
    "IMPORT_SOURCES",
    "CurveSpec",
    "MetricSpec",
    "import_file",
    "import_nas_bench_graph",
    "import_nas_bench_macro",
    "import_nb101_zc",
    "import_nb201_rich",
    "import_records",
    "read_records",
]
