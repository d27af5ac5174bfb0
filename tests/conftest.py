"""Shared fixtures: the embedded table, ../shared/data when present, the imported rich table, and
benchmark scripts loaded as modules."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

import optuna
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("PREDICTOR_NAS_SHARED_DATA", REPO.parent / "shared" / "data"))
NB201_CSV = SHARED_DATA / "nb201" / "nb201.csv.gz"

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _load_benchmark(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` as a module (benchmarks/ on sys.path while it imports its
    own helpers, such as ``_common``)."""
    path = str(REPO / "benchmarks")
    sys.path.insert(0, path)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(path)


@pytest.fixture(scope="session")
def load_benchmark():
    """A function that imports a benchmark script by name (``load_benchmark("curves_nlp")``)."""
    return _load_benchmark


@pytest.fixture(scope="session")
def nb201_table():
    """The embedded NB201 table shipped in data/."""
    from predictor_nas.tables import open_table

    return open_table("nb201")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test when it is absent."""
    if not NB201_CSV.is_file():
        pytest.skip(f"shared benchmark data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def rich_table_path(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The richer NB201 table imported once per session from ../shared/data into a temp cache."""
    from predictor_nas.tables.importers import import_nb201_rich

    out = tmp_path_factory.mktemp("cache") / "nb201-rich.h5"
    path, _ = import_nb201_rich(shared_data / "nb201", out=out)
    return Path(path)


@pytest.fixture
def rich_in_cache(rich_table_path: Path, monkeypatch: pytest.MonkeyPatch):
    """nb201-rich findable by name: the cache the zero-cost strategies open it from."""
    from predictor_nas.search import _strategies

    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(rich_table_path.parent))
    _strategies._zero_cost_inputs.cache_clear()
    yield
    _strategies._zero_cost_inputs.cache_clear()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Tests never read or write the user's real table cache."""
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(tmp_path_factory.getbasetemp() / "table-cache"))


# --------------------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole session, stopped at the end.

    Skips only when no PostgreSQL server is installed at all (.ci/run installs one).
    """
    from predictor_nas.distributed import TemporaryPostgres, find_postgres_bin

    if find_postgres_bin() is None:
        pytest.skip(
            "no PostgreSQL server installed (initdb/pg_ctl not on PATH nor in "
            "/usr/lib/postgresql/*/bin; apt-get install postgresql)"
        )
    server = TemporaryPostgres(durable=False).start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """SQLAlchemy URL of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture(autouse=True)
def _forget_spaces_registered_by_the_test():
    """Spaces a test registers (or loads from a file) are forgotten after it."""
    from predictor_nas.spaces import available_spaces, unregister_space

    before = set(available_spaces())
    yield
    for name in set(available_spaces()) - before:
        unregister_space(name)
