"""The curve corpus format: the committed digits corpus, its loader and the recording script."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from predictor_nas.curves import (
    CURVE_CORPUS_FORMAT,
    CURVE_CORPUS_VERSION,
    LastValueCurveModel,
    load_curve_corpus,
)
from predictor_nas.exceptions import DatasetError, InvalidParameterError
from predictor_nas.spaces import get_space

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
CORPUS = BENCHMARKS / "results" / "digits_nb201_curves.jsonl.gz"


def _header(**over) -> dict:
    h = {
        "format": CURVE_CORPUS_FORMAT,
        "format_version": CURVE_CORPUS_VERSION,
        "name": "tiny",
        "epochs": 3,
        "curves": {"val_acc": {"unit": "%"}, "train_loss": {"unit": "nats"}},
    }
    h.update(over)
    return h


def _run(i: int, **over) -> dict:
    r = {
        "run": i,
        "arch": f"a{i}",
        "lr": 0.1 * (i + 1),
        "batch_size": 64,
        "test_acc": None if i == 1 else 90.0 + i,
        "val_acc": [10.0 + i, 50.0 + i, 80.0 + i],
        "train_loss": [2.3, 1.0, 0.5],
    }
    r.update(over)
    return r


def _write(path: Path, records: list, gz: bool | None = None) -> Path:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    if gz if gz is not None else path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture(scope="module")
def recorder(load_benchmark):
    """The recording script as a module."""
    return load_benchmark("record_curves_digits")


# --------------------------------------------------------------------------- committed corpus
def test_digits_corpus_has_documented_shape_and_sane_values():
    """The committed digits corpus loads as (n_runs, 20) accuracy curves in [0, 100] with valid
    NB201 archs, settings in the documented ranges and finite positive training losses."""
    curves, info = load_curve_corpus(CORPUS, with_info=True)
    header = info["header"]
    n = header["n_runs"]
    assert header["name"] == "digits-nb201-curves"
    assert header["epochs"] == 20 and header["width"] == 8 and header["depth"] == 1
    assert n >= 50 and curves.shape == (n, 20)
    assert curves.dtype == np.float64
    assert np.all((curves >= 0) & (curves <= 100))
    # accuracies are counts of the 359 validation images
    assert np.allclose(curves * 359 / 100, np.round(curves * 359 / 100), atol=1e-6)
    np.testing.assert_array_equal(info["run"], np.arange(n))
    space = get_space("nb201")
    for a, idx in zip(info["arch"], info["arch_index"]):
        assert space.index(space.coerce(a)) == idx
    lo, hi = header["lr_range"]
    assert np.all((info["lr"] >= lo * 0.99) & (info["lr"] <= hi * 1.01))
    assert set(info["batch_size"].tolist()) <= set(header["batch_sizes"])
    assert np.all((info["test_acc"] >= 0) & (info["test_acc"] <= 100))
    assert np.all(info["n_params"] > 0) and np.all(info["seconds"] > 0)
    assert len(info["epoch_seconds"]) == n and all(len(e) == 20 for e in info["epoch_seconds"])
    loss = load_curve_corpus(CORPUS, metric="train_loss")
    assert loss.shape == (n, 20) and np.all(np.isfinite(loss)) and np.all(loss > 0)
    # real learning: most runs end far above chance and their training loss fell
    assert np.median(curves[:, -1]) > 90
    assert np.mean(loss[:, -1] < loss[:, 0]) > 0.9
    # and the curves differ in shape: some are still rising after half the epochs
    assert np.sum(curves[:, -1] - curves[:, 9] >= 1.0) >= 3


def test_digits_corpus_runs_match_the_recording_settings(recorder):
    """Every run's arch, learning rate, batch size and seed are the ones the recording script
    derives from (corpus seed, run index), so the corpus can be re-recorded or extended."""
    _, info = load_curve_corpus(CORPUS, with_info=True)
    header = info["header"]
    for i in range(len(info["run"])):
        cfg = recorder.run_config(header["seed"], i, header)
        assert cfg["arch"] == info["arch"][i]
        assert cfg["lr"] == info["lr"][i]
        assert cfg["batch_size"] == info["batch_size"][i]
        assert cfg["seed"] == info["seed"][i]


def test_digits_corpus_feeds_curve_models():
    """A curve model fitted on the corpus predicts its final accuracies from half the epochs
    with a small error (last-value at 50% is within 3 points on average)."""
    curves = load_curve_corpus(CORPUS)
    model = LastValueCurveModel(kind="accuracy", bounds=(0, 100)).fit(curves)
    pred = model.predict_final(curves[:, :10], final_epoch=20)
    assert np.mean(np.abs(pred.mean - curves[:, -1])) < 3.0
    assert np.all(pred.std > 0)


# --------------------------------------------------------------------------- loader
def test_loader_reads_runs_sorted_with_typed_fields(tmp_path):
    """Runs come back sorted by 'run'; int fields as int64, numbers/null as float64 (null ->
    NaN), strings as lists; plain .jsonl and .jsonl.gz read alike."""
    recs = [_header(n_runs=3), _run(2), _run(0), _run(1)]
    for name in ("c.jsonl", "c.jsonl.gz"):
        curves, info = load_curve_corpus(_write(tmp_path / name, recs), with_info=True)
        np.testing.assert_array_equal(curves[:, 0], [10.0, 11.0, 12.0])
        assert curves.shape == (3, 3)
        assert info["run"].dtype == np.int64 and info["run"].tolist() == [0, 1, 2]
        assert info["batch_size"].dtype == np.int64
        assert info["arch"] == ["a0", "a1", "a2"]
        assert np.isnan(info["test_acc"][1]) and info["test_acc"][2] == 92.0
        assert info["metric_info"] == {"unit": "%"}
    loss = load_curve_corpus(tmp_path / "c.jsonl", metric="train_loss")
    np.testing.assert_array_equal(loss[0], [2.3, 1.0, 0.5])


def test_loader_rejects_bad_arguments(tmp_path):
    """A non-path argument and a metric the corpus lacks raise InvalidParameterError naming
    what is allowed."""
    path = _write(tmp_path / "c.jsonl", [_header(), _run(0)])
    with pytest.raises(InvalidParameterError, match=r"'path' parameter of load_curve_corpus"):
        load_curve_corpus(3)
    with pytest.raises(
        InvalidParameterError,
        match=r"'metric' parameter of load_curve_corpus must be one of the corpus's curves "
        r"\('val_acc', 'train_loss'\). Got 'test_acc' instead",
    ):
        load_curve_corpus(path, metric="test_acc")


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([], "is empty"),
        ([{"format": "something else"}, _run(0)], "is not a curve corpus"),
        (["[1, 2]"], "is not a curve corpus"),
        ([_header(format_version=2), _run(0)], "format_version 2; this version .* reads version 1"),
        ([_header(epochs=0), _run(0)], "needs 'curves'"),
        ([_header(curves={}), _run(0)], "needs 'curves'"),
        ([_header()], "holds a header but no runs"),
        ([_header(), "{not json"], "line 2 .* is not valid JSON"),
        ([_header(), "[1]"], "line 2 .* is not a JSON object"),
        ([_header(), _run(0, run="x")], "line 2 .* has no int 'run' field"),
        ([_header(), _run(0), _run(0)], r"run 0 appears twice .* \(lines 2 and 3\)"),
        ([_header(), _run(0, val_acc=[1.0, 2.0])], r"run 0 \(line 2 .*'val_acc' as a list of 3"),
        ([_header(), _run(0, val_acc=[1.0, None, 2.0])], "list of 3 finite numbers"),
        ([_header(), '{"run": 0, "val_acc": [1, NaN, 2], "train_loss": [1, 1, 1]}'],
         "list of 3 finite numbers"),
        ([_header(), _run(0, train_loss=[1.0, True, 2.0])], r"'train_loss' as a list of 3"),
        ([_header(n_runs=3), _run(0), _run(1)], "announces 3 runs but the file holds 2"),
    ],
)
def test_loader_rejects_malformed_corpora(tmp_path, records, message):
    """Each kind of damage raises DatasetError with a message naming the problem (and the line
    or run where there is one)."""
    path = _write(tmp_path / "c.jsonl", records)
    with pytest.raises(DatasetError, match=message):
        load_curve_corpus(path)


def test_loader_rejects_missing_and_unreadable_files(tmp_path):
    """A missing file, a truncated gzip stream and bytes that are not UTF-8 raise DatasetError."""
    with pytest.raises(DatasetError, match="no curve corpus file at"):
        load_curve_corpus(tmp_path / "absent.jsonl.gz")
    good = _write(tmp_path / "c.jsonl.gz", [_header(), *(_run(i) for i in range(50))])
    torn = tmp_path / "torn.jsonl.gz"
    torn.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DatasetError, match="cannot read"):
        load_curve_corpus(torn)
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n")
    with pytest.raises(DatasetError, match="cannot read"):
        load_curve_corpus(binary)


# --------------------------------------------------------------------------- recording script
def test_run_config_is_a_function_of_seed_and_index(recorder):
    """Run i's settings depend only on (seed, i): recomputing gives the same, other indices or
    seeds give other draws, and every value lies in the configured ranges."""
    settings = {"lr_range": [0.005, 0.2], "batch_sizes": [64, 128, 256], "epochs": 20}
    a = [recorder.run_config(0, i, settings) for i in range(20)]
    assert a == [recorder.run_config(0, i, settings) for i in range(20)]
    assert a[0] != recorder.run_config(1, 0, settings)
    assert len({c["seed"] for c in a}) == 20
    assert all(0.005 * 0.99 <= c["lr"] <= 0.2 * 1.01 for c in a)
    assert {c["batch_size"] for c in a} <= {64, 128, 256}
    assert [c["run"] for c in a] == list(range(20))


@pytest.mark.slow
def test_recording_writes_a_loadable_corpus_and_resumes(recorder, tmp_path, caplog):
    """The recording script trains tiny runs into a corpus the loader reads; extending --runs
    keeps the recorded runs byte-for-byte and trains only the new one."""
    out = tmp_path / "c.jsonl.gz"
    argv = ["--epochs", "2", "--batch-sizes", "256", "--out", str(out)]
    assert recorder.main([*argv, "--runs", "1"]) == 0
    first = load_curve_corpus(out, with_info=True)
    assert first[0].shape == (1, 2) and first[1]["header"]["n_runs"] == 1
    assert not out.with_name(out.name + ".partial").exists()
    with caplog.at_level("INFO", logger="record_curves_digits"):
        assert recorder.main([*argv, "--runs", "2"]) == 0
    assert "1 of 2 runs already recorded; 1 to train" in caplog.text
    curves, info = load_curve_corpus(out, with_info=True)
    assert curves.shape == (2, 2) and info["header"]["n_runs"] == 2
    np.testing.assert_array_equal(curves[0], first[0][0])
    assert info["seconds"][0] == first[1]["seconds"][0]
    assert np.all((curves >= 0) & (curves <= 100))
    with pytest.raises(SystemExit, match="recorded with other settings"):
        recorder.main(["--epochs", "3", "--batch-sizes", "256", "--out", str(out), "--runs", "3"])
