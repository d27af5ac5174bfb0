"""Fuzzing every user-facing parser: bad input gets our clear error, never a crash or traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predictor_nas.cli import main
from predictor_nas.exceptions import (
    InvalidArchitectureError,
    InvalidParameterError,
    PredictorNASError,
    SearchError,
    TableCorruptedError,
    TableError,
)
from predictor_nas.search import make_storage
from predictor_nas.search._storage_spec import postgres_url_with_driver, storage_kind
from predictor_nas.spaces import Arch, get_space

SPACE = get_space("nb201")
VALID = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.text(max_size=120))
def test_arch_parser_on_any_text(text):
    """Any text parses to a valid Arch or raises InvalidArchitectureError (a ValueError)."""
    try:
        arch = SPACE.parse(text)
    except InvalidArchitectureError as exc:
        assert str(exc)
        return
    assert isinstance(arch, Arch) and SPACE.format(arch) == text.strip()  # outer space allowed


@FUZZ
@given(st.integers(0, len(VALID)), st.integers(0, 8), st.text(max_size=4))
def test_arch_parser_on_edited_valid_strings(pos, n_delete, insert):
    """Deleting / inserting characters in a valid string never crashes the parser."""
    text = VALID[:pos] + insert + VALID[pos + n_delete :]
    try:
        arch = SPACE.parse(text)
    except InvalidArchitectureError:
        return
    assert SPACE.format(arch) == text.strip()


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10), st.floats(), st.text(max_size=15),
    st.sampled_from(SPACE.choices),
)


@FUZZ
@given(st.dictionaries(st.sampled_from([*SPACE.param_names, "edge_6", "x"]), _values))
def test_from_params_on_any_mapping(params):
    """Any params mapping gives a valid Arch or InvalidArchitectureError."""
    try:
        arch = SPACE.from_params(params)
    except InvalidArchitectureError:
        return
    assert SPACE.to_params(arch) == {k: params[k] for k in SPACE.param_names}


@FUZZ
@given(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["postgres://", "postgresql://", "postgresql+psycopg2://"]).flatmap(
            lambda scheme: st.text(max_size=20).map(lambda rest: scheme + rest)
        ),
    )
)
def test_storage_spec_on_any_text(tmp_path_factory, monkeypatch_session, spec):
    """Any --storage text gives a storage, InvalidParameterError or a PostgreSQL SearchError."""
    monkeypatch_session.chdir(tmp_path_factory.mktemp("storage"))
    try:
        make_storage(spec, connect_retries=0)
    except InvalidParameterError as exc:
        assert "storage" in str(exc) or "PostgreSQL" in str(exc)
    except SearchError as exc:
        assert storage_kind(spec) == "postgresql"
        assert "Cannot use the PostgreSQL storage" in str(exc)


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://"])
def test_plain_postgres_urls_use_the_shipped_driver(postgres_url, scheme, tmp_path):
    """postgresql:// and postgres:// URLs (as the README writes them) open with psycopg2."""
    assert postgres_url.startswith("postgresql://")
    url = scheme + postgres_url.split("://", 1)[1]
    assert postgres_url_with_driver(url).startswith("postgresql+psycopg2://")
    rc = main(["search", "--storage", url, "--budget", "3", "--seed", "0", "--json"])
    assert rc == 0
    storage = make_storage(url)
    (summary,) = optuna.get_all_study_summaries(storage)
    assert summary.n_trials == 3


@pytest.fixture(scope="module")
def monkeypatch_session():
    """A monkeypatch usable from Hypothesis tests (module scope; undone at the end)."""
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def table_copy_source(tmp_path_factory) -> Path:
    """A private copy of the embedded table file."""
    from predictor_nas.tables import open_table

    src = Path(open_table("nb201").path)
    dst = tmp_path_factory.mktemp("tbl") / "src.h5"
    shutil.copyfile(src, dst)
    return dst


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_table_file_random_damage_is_detected(table_copy_source, tmp_path_factory, data):
    """Random flipped bytes or truncation of a table file raise a TableError naming the file."""
    from predictor_nas.tables import Table

    blob = bytearray(table_copy_source.read_bytes())
    if data.draw(st.booleans(), label="truncate"):
        blob = blob[: data.draw(st.integers(0, len(blob) - 1), label="keep")]
    else:
        pos = data.draw(st.integers(0, len(blob) - 1), label="pos")
        blob[pos] ^= data.draw(st.integers(1, 255), label="xor")
    bad = tmp_path_factory.mktemp("bad") / "damaged.h5"
    bad.write_bytes(bytes(blob))
    with pytest.raises(TableError) as exc:
        Table(bad)
    assert "damaged.h5" in str(exc.value)
    assert isinstance(exc.value, (TableCorruptedError, TableError))


_cli_value = st.one_of(
    st.sampled_from(["0", "-1", "1.5", "", " ", "abc", "nan", "1e9x", "--", "☃", "\x00"]),
    st.text(max_size=10),
)
_SEARCH_OPTIONS = ["--budget", "--seed", "--dataset", "--strategy", "--table", "--time-budget",
                   "--space"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from(_SEARCH_OPTIONS), _cli_value)
def test_cli_search_bad_option_values(tmp_path_factory, monkeypatch_session, capsys, option, value):
    """A bad value for any search option exits 0 or 2 with a message, never a traceback."""
    monkeypatch_session.chdir(tmp_path_factory.mktemp("cli"))
    argv = ["search", "--storage", "memory", "--budget", "2", "--no-progress", option, value]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        assert "error" in err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=8), max_size=4))
def test_cli_any_arguments(tmp_path_factory, monkeypatch_session, capsys, argv):
    """Random argument lists never end in a traceback: usage errors exit 2."""
    monkeypatch_session.chdir(tmp_path_factory.mktemp("cli"))
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code in (0, 2), (argv, code, err)


def test_errors_are_in_the_documented_tree():
    """Every error the parsers raise derives from PredictorNASError and ValueError where apt."""
    assert issubclass(InvalidArchitectureError, (PredictorNASError, ValueError))
    assert issubclass(InvalidParameterError, (PredictorNASError, ValueError))
