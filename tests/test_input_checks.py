"""Up-front input checks: class counts, model outputs, evaluator options, journals, hints, --config."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from predictor_nas.cli import main
from predictor_nas.config import ConfigField, validate_config
from predictor_nas.distributed import run_coordinator, run_worker
from predictor_nas.exceptions import InvalidParameterError, SearchError, TableNotFoundError
from predictor_nas.tables import open_table
from predictor_nas.training import from_arrays
from predictor_nas.training._datasets import MAX_CLASSES


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, size=(n, 3, 8, 8), dtype=np.uint8)


# --------------------------------------------------------------------------- from_arrays / train
def test_from_arrays_refuses_a_huge_label_instead_of_allocating():
    """One label of 10**9 (inferred num_classes) is refused with the label and the limit."""
    y = np.arange(20) % 4
    y[7] = 10**9
    with pytest.raises(InvalidParameterError, match=r"holds label 1000000000.*at most 100000"):
        from_arrays(_images(20), y, _images(5), y[:5] % 4)


def test_from_arrays_bounds_explicit_num_classes_and_negative_labels():
    """num_classes above MAX_CLASSES and negative labels are refused; the limit itself is fine."""
    y = np.arange(20) % 4
    with pytest.raises(InvalidParameterError, match=r"'num_classes' parameter .* \[2, 100000\]"):
        from_arrays(_images(20), y, _images(5), y[:5], num_classes=MAX_CLASSES + 1)
    neg = y.copy()
    neg[3] = -1
    with pytest.raises(InvalidParameterError, match=r"labels in \[0, 3\]. Got -1 at position 3"):
        from_arrays(_images(20), neg, _images(5), y[:5])
    assert from_arrays(_images(20), y, _images(5), y[:5], num_classes=MAX_CLASSES).num_classes == (
        MAX_CLASSES
    )


def test_train_refuses_a_model_with_too_few_outputs():
    """train() with a 3-logit model on 5-class data raises a clear error, not an IndexError."""
    import torch

    from predictor_nas.training import train

    y = np.arange(20) % 5
    data = from_arrays(_images(20), y, _images(5, 1), y[:5])

    def model(k: int) -> torch.nn.Module:
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, k))

    with pytest.raises(InvalidParameterError, match=r"5 classes \(labels up to 4\) but the model "
                       r"outputs 3 values per image"):  # fmt: skip
        train(model(3), data, epochs=1, device="cpu", num_threads=1)
    res = train(model(5), data, epochs=1, device="cpu", num_threads=1)
    assert len(res.val_acc) == 1


# --------------------------------------------------------------------------- coordinate / worker
@pytest.mark.parametrize(
    ("option", "needle"),
    [
        ("epochs=-1", "The 'epochs' parameter of the train evaluator must be an int >= 1. Got -1"),
        ("lr=0", "The 'lr' parameter of the train evaluator must be a finite float > 0.0. Got 0"),
        ("width=2.5", "'width' parameter of the train evaluator must be an int >= 1. Got 2.5"),
        ("amp=fp8", "'amp' parameter of the train evaluator must be one of 'bfloat16'"),
        ("download=maybe", "'download' parameter of the train evaluator must be true or false"),
    ],
)
def test_coordinate_refuses_bad_evaluator_option_before_creating_the_study(
    tmp_path, capsys, option, needle
):
    """A bad train option exits 2 naming it, and writes no journal (the fixed rerun can start)."""
    spec = tmp_path / "c.journal"
    argv = ["coordinate", "--storage", str(spec), "--evaluator", "train", "--dataset", "digits",
            "--strategy", "random", "--budget", "1", "--json"]  # fmt: skip
    assert main([*argv, "--evaluator-option", option]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not spec.exists()


def test_coordinate_accepts_the_fixed_option_after_a_refusal(tmp_path):
    """After epochs=-1 is refused, the same study with epochs=1 is created (no config mismatch)."""
    spec = str(tmp_path / "c.journal")
    kw = dict(evaluator="train", dataset="digits", strategy="random", budget=1, max_seconds=0.2)
    with pytest.raises(InvalidParameterError, match="'epochs'"):
        run_coordinator(spec, evaluator_options={"epochs": -1}, **kw)
    res = run_coordinator(spec, evaluator_options={"epochs": 1, "width": 4, "depth": 1}, **kw)
    assert res.n_proposed == 1


def test_worker_on_a_missing_journal_creates_nothing(tmp_path, capsys):
    """`worker --storage missing.journal` waits --wait seconds, exits 2, and creates no file."""
    spec = tmp_path / "missing.journal"
    t0 = time.monotonic()
    assert main(["worker", "--storage", str(spec), "--wait", "0.3"]) == 2
    assert time.monotonic() - t0 >= 0.3
    err = capsys.readouterr().err
    assert "No journal file" in err and "a worker never creates it" in err
    assert "start `predictor-nas coordinate` first" in err
    assert not spec.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(SearchError, match="No journal file"):
        run_worker(f"journal:{spec}", wait_for_study=0)
    assert not spec.exists()


# --------------------------------------------------------------------------- tables, --config
def test_missing_imported_table_names_the_import_command(tmp_path, monkeypatch):
    """--table nb201-rich before the import says how to import it; other names do not."""
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(TableNotFoundError, match=r"predictor-nas tables import nb201-rich "
                       r"--source PATH` \(PATH: the folder holding nb201\.csv\.gz"):  # fmt: skip
        open_table("nb201-rich")
    with pytest.raises(TableNotFoundError) as exc:
        open_table("nb999")
    assert "tables import" not in str(exc.value)


def test_cli_search_on_missing_rich_table_exits_2_with_hint(tmp_path, monkeypatch, capsys):
    """The CLI prints the import hint on one line and exits 2."""
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(tmp_path / "empty-cache"))
    assert main(["search", "--table", "nb201-rich", "--storage", "memory", "--budget", "2"]) == 2
    err = capsys.readouterr().err
    assert "tables import nb201-rich --source PATH" in err and len(err.strip().splitlines()) == 1


def test_config_list_fields_take_strings_numbers_and_lists():
    """A 'csv' field joins YAML lists with commas and accepts a bare number; bools are refused."""
    fields = {"seeds": ConfigField("csv"), "thresholds": ConfigField("csv")}
    assert validate_config({"seeds": 20, "thresholds": [0.1, 0.05]}, fields) == {
        "seeds": "20", "thresholds": "0.1,0.05"}  # fmt: skip
    assert validate_config({"seeds": "0-9"}, fields) == {"seeds": "0-9"}
    for bad in (True, [], [None], [1, True], float("nan")):
        with pytest.raises(InvalidParameterError, match="'seeds' must be a string, a number or"):
            validate_config({"seeds": bad}, fields)


def test_cli_compare_reads_config_and_flags_win(tmp_path, capsys):
    """`compare --config` takes options (lists included) from YAML; a flag overrides the file."""
    cfg = tmp_path / "cmp.yaml"
    cfg.write_text(
        "dataset: [cifar10, cifar100]\nstrategies: [random, rea]\nbudget: 4\nseeds: 2\n"
        "thresholds: [0.5, 1]\nno_progress: true\n",
        encoding="utf-8",
    )
    assert main(["compare", "--config", str(cfg), "--budget", "3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["dataset_names"] == ["cifar10", "cifar100"]
    assert res["strategy_names"] == ["random", "rea"]
    assert (res["budget"], res["seeds"], res["thresholds"], res["n_runs"]) == (
        3, [0, 1], [0.5, 1.0], 8)  # fmt: skip
    cfg.write_text("strategys: [rea]\n", encoding="utf-8")
    assert main(["compare", "--config", str(cfg)]) == 2
    assert "unknown option 'strategys'. Did you mean 'strategies'?" in capsys.readouterr().err
