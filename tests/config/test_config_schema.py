"""YAML run configurations: schema validation rejects unknown keys and wrong types."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictor_nas.config import ConfigField, load_config, validate_config
from predictor_nas.exceptions import InvalidParameterError, PredictorNASError

FIELDS = {
    "dataset": ConfigField("str"),
    "strategy": ConfigField("str", choices=("random", "rea", "tpe")),
    "budget": ConfigField("int", minimum=1),
    "time_budget": ConfigField("float", minimum=0, nullable=True),
    "draw_seed": ConfigField("bool"),
}


def _write(tmp_path, text: str, name: str = "run.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_valid_file_returns_typed_values(tmp_path):
    """A valid file gives exactly its keys with checked, typed values."""
    p = _write(tmp_path, "dataset: cifar100\nstrategy: rea\nbudget: 50\ntime_budget: 3600\n")
    assert load_config(p, FIELDS) == {
        "dataset": "cifar100",
        "strategy": "rea",
        "budget": 50,
        "time_budget": 3600.0,
    }
    assert isinstance(load_config(p, FIELDS)["time_budget"], float)


def test_unknown_key_names_closest_and_allowed(tmp_path):
    """A typo is refused with the closest allowed key and the full list."""
    p = _write(tmp_path, "budgett: 10\n")
    with pytest.raises(InvalidParameterError) as exc:
        load_config(p, FIELDS)
    msg = str(exc.value)
    assert "unknown option 'budgett'" in msg
    assert "Did you mean 'budget'?" in msg
    assert "Allowed: budget, dataset, draw_seed, strategy, time_budget." in msg
    assert str(p) in msg


def test_hyphenated_keys_are_accepted_as_underscored():
    """CLI-style 'time-budget' is the same option as 'time_budget'."""
    assert validate_config({"time-budget": 5}, FIELDS) == {"time_budget": 5.0}


def test_same_option_twice_is_refused():
    """'time-budget' and 'time_budget' in one file is an error, not a silent override."""
    with pytest.raises(InvalidParameterError, match="given twice"):
        validate_config({"time-budget": 5, "time_budget": 6}, FIELDS)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("budget: '100'\n", "'budget' must be an int >= 1. Got '100' instead."),
        ("budget: 0\n", "'budget' must be an int >= 1. Got 0 instead."),
        ("budget: true\n", "'budget' must be an int >= 1. Got True instead."),
        ("budget: 2.5\n", "Got 2.5 instead"),
        ("draw_seed: 1\n", "'draw_seed' must be true or false. Got 1 instead."),
        ("strategy: evolution\n", "one of 'random', 'rea', 'tpe'"),
        ("time_budget: .nan\n", "'time_budget' must be a number >= 0 (or null"),
        ("time_budget: -1\n", "Got -1 instead"),
        ("dataset: ''\n", "'dataset' must be a string"),
        ("dataset: ~\n", "'dataset' must be a string. Got None instead."),
    ],
)
def test_wrong_types_and_ranges_are_refused(tmp_path, text, needle):
    """Every wrong value is refused with a message naming the key, what is allowed and the value."""
    with pytest.raises(InvalidParameterError) as exc:
        load_config(_write(tmp_path, text), FIELDS)
    assert needle in str(exc.value)


def test_null_means_default_only_where_allowed(tmp_path):
    """A nullable key may be null; it is kept as None."""
    assert load_config(_write(tmp_path, "time_budget: null\n"), FIELDS) == {"time_budget": None}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("- 1\n- 2\n", "must be a mapping of option names to values"),
        ("budget: [1\n", "not valid YAML at line"),
        ("a: 1\n---\nb: 2\n", "holds 2 YAML documents"),
        ("1: 2\n", "option names must be strings"),
        ("!!python/object/apply:os.system ['echo hacked']\n", "not valid YAML"),
    ],
)
def test_malformed_files_are_refused(tmp_path, text, needle):
    """Non-mappings, syntax errors, several documents and Python tags all give a clear error."""
    with pytest.raises(InvalidParameterError) as exc:
        load_config(_write(tmp_path, text), FIELDS)
    assert needle in str(exc.value)


def test_empty_file_is_empty_config(tmp_path):
    """An empty file (or only comments) sets nothing."""
    assert load_config(_write(tmp_path, "# nothing\n"), FIELDS) == {}


def test_missing_binary_and_folder_paths(tmp_path):
    """Missing files, folders and non-UTF-8 bytes are refused with the path in the message."""
    with pytest.raises(InvalidParameterError, match="does not exist"):
        load_config(tmp_path / "nope.yaml", FIELDS)
    with pytest.raises(InvalidParameterError, match="is a folder"):
        load_config(tmp_path, FIELDS)
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"budget: \xff\xfe\n")
    with pytest.raises(InvalidParameterError, match="not UTF-8"):
        load_config(bad, FIELDS)


def test_bad_field_kind_is_refused():
    """A schema with an unknown kind is a programming error reported clearly."""
    with pytest.raises(InvalidParameterError, match="'kind' parameter of ConfigField"):
        ConfigField("list")


_yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=12), _yaml_scalars, max_size=6))
def test_any_mapping_is_accepted_or_refused_cleanly(data):
    """Any mapping either validates to known keys with checked values or raises our error."""
    try:
        out = validate_config(data, FIELDS)
    except PredictorNASError as exc:
        assert str(exc)
        return
    assert set(out) <= set(FIELDS)
    if "budget" in out:
        assert isinstance(out["budget"], int) and out["budget"] >= 1


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_as_file_are_accepted_or_refused_cleanly(tmp_path_factory, blob):
    """Arbitrary file bytes never crash the loader with anything but our error."""
    p = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    p.write_bytes(blob)
    try:
        out = load_config(p, FIELDS)
    except PredictorNASError:
        return
    assert set(out) <= set(FIELDS)


# ----------------------------------------------------------------- CLI: search --config
def _cli(argv, capsys):
    from predictor_nas.cli import main

    code = main(argv)
    return code, capsys.readouterr()


def test_cli_search_reads_config_and_flags_win(tmp_path, capsys):
    """'search --config' takes options from the file; an explicit flag overrides the file."""
    import json

    cfg = _write(tmp_path, "dataset: cifar100\nstrategy: random\nbudget: 7\nseed: 4\n")
    code, out = _cli(["search", "--config", str(cfg), "--storage", "memory", "--json"], capsys)
    assert code == 0, out.err
    res = json.loads(out.out)
    assert (res["dataset"], res["strategy"], res["n_queries"], res["seed"]) == (
        "cifar100", "random", 7, 4)
    code, out = _cli(
        ["search", "--config", str(cfg), "--budget", "3", "--storage", "memory", "--json"], capsys
    )
    assert code == 0 and json.loads(out.out)["n_queries"] == 3


def test_cli_search_config_errors_exit_2(tmp_path, capsys):
    """Unknown keys and wrong types in the config file exit 2 with one clear line."""
    bad = _write(tmp_path, "budgett: 5\n")
    code, out = _cli(["search", "--config", str(bad), "--storage", "memory"], capsys)
    assert code == 2
    assert "unknown option 'budgett'. Did you mean 'budget'?" in out.err
    assert len(out.err.strip().splitlines()) == 1
    bad2 = _write(tmp_path, "draw_seed: yes please\n", name="b.yaml")
    code, out = _cli(["search", "--config", str(bad2), "--storage", "memory"], capsys)
    assert code == 2 and "'draw_seed' must be true or false" in out.err
    code, out = _cli(["search", "--config", str(tmp_path / "none.yaml")], capsys)
    assert code == 2 and "does not exist" in out.err
