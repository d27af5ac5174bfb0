"""The generic file importer and the NAS-Bench-Macro / NB101 importers, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from predictor_nas.exceptions import InvalidParameterError, TableFormatError
from predictor_nas.spaces import get_space
from predictor_nas.tables import open_table
from predictor_nas.tables.importers import (
    IMPORT_SOURCES,
    IMPORTERS,
    import_file,
    import_nas_bench_macro,
    import_nb101_zc,
)


def _tiny(n: int) -> list[str]:
    s = get_space("tiny_cell")
    return [s.format(s.from_index(i)) for i in range(n)]


def _csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_csv_with_seed_column_round_trips(tmp_path):
    """CSV rows with a seed column become per-trial values, cost and curves, read back exactly."""
    archs = _tiny(3)
    rows = [
        f'"{a}",{sd},{90 + i + sd / 10},{i + 1},{10.0 * (i + 1)},"[50, 60, {70 + i}]"'
        for i, a in enumerate(archs)
        for sd in (7, 3)
    ]
    src = _csv(tmp_path / "b.csv", "arch,seed,acc,params,secs,curve", rows)
    path, chash = import_file(
        src,
        space="tiny_cell",
        name="mine",
        metrics=["val_acc=acc:max:%", "params:min:M@0"],
        dataset="cifar10",
        fidelity=50,
        seed_column="seed",
        cost_column="secs",
        curves=["val_acc=curve"],
        out=tmp_path / "mine.h5",
    )
    t = open_table(path)
    assert chash.startswith("sha256:") and t.space == "tiny_cell" and t.archs == archs
    # seeds 3 and 7 -> positions 0 and 1 (sorted by seed value)
    assert t.query(archs[1], "val_acc", dataset="cifar10", seed=0) == 91.3
    assert t.query(archs[1], "val_acc", dataset="cifar10", seed=1) == 91.7
    assert t.query(archs[2], "val_acc", dataset="cifar10") == pytest.approx(92.5)
    assert t.fidelities("params", dataset="cifar10") == (0,)
    assert t.cost(archs[2], dataset="cifar10", fidelity=50) == 30.0
    assert t.curve(archs[2], "val_acc", dataset="cifar10").tolist() == [50, 60, 72]
    info = t.metric_info("val_acc", dataset="cifar10")
    assert info.higher_is_better and info.unit == "%" and "'acc'" in info.source
    assert "[3, 7]" in info.description


def test_json_object_with_list_cells_and_no_cost(tmp_path):
    """{arch: record} JSON with a list per cell: one trial per list item; train_time NaN."""
    s = get_space("layer_chain")
    archs = [s.format(s.sample(i)) for i in range(20)]
    archs = list(dict.fromkeys(archs))[:4]
    data = {a: {"acc": [80.0 + i, 81.0 + i], "flops": 1000 * (i + 1)} for i, a in enumerate(archs)}
    src = tmp_path / "c.json"
    src.write_text(json.dumps(data))
    path, _ = import_file(
        src,
        space="layer_chain",
        name="chain",
        metrics=["acc:max:%", "flops:min:FLOPs@0"],
        dataset="digits",
        fidelity=5,
        out=tmp_path / "chain.h5",
    )
    t = open_table(path)
    assert len(t) == len(archs)
    assert t.values("acc", dataset="digits").shape == (len(archs), 2)
    assert t.query(archs[3], "acc", dataset="digits") == 83.5
    assert t.query(archs[0], "flops", dataset="digits") == 1000.0
    tt = t.values("train_time", dataset="digits", fidelity=5)
    assert np.isnan(tt).all()
    assert "NOT MEASURED" in t.metric_info("train_time", dataset="digits").description


def test_jsonl_dataset_column_and_seed_suffixed_columns(tmp_path):
    """JSON lines with a dataset column and acc_seed1/acc_seed2 columns: two datasets, 2 trials."""
    archs = _tiny(2)
    lines = [
        {"arch": a, "ds": ds, "acc_seed1": 70.0 + i, "acc_seed2": 71.0 + i}
        for i, a in enumerate(archs)
        for ds in ("a", "b")
    ]
    src = tmp_path / "d.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines))
    path, _ = import_file(
        src,
        space="tiny_cell",
        name="s",
        metrics=["acc:max:%"],
        dataset_column="ds",
        fidelity=1,
        out=tmp_path / "s.h5",
    )
    t = open_table(path)
    assert sorted(t.datasets) == ["a", "b"]
    assert t.query(archs[1], "acc", dataset="b", seed=1) == 72.0


def test_arch_strings_are_stored_in_standard_form(tmp_path):
    """A layer_chain string with extra spaces is parsed and stored in the space's standard form."""
    s = get_space("layer_chain")
    a = s.format(s.sample(0))
    messy = " , ".join(a.split(","))
    src = tmp_path / "e.json"
    src.write_text(json.dumps([{"arch": messy, "acc": 1.0}]))
    path, _ = import_file(
        src,
        space="layer_chain",
        name="e",
        metrics=["acc:max"],
        dataset="x",
        fidelity=1,
        out=tmp_path / "e.h5",
    )
    assert open_table(path).archs == [a]


def test_bad_arch_row_names_file_row_and_space_message(tmp_path):
    """A row the space rejects raises TableFormatError naming the file, row, line and reason."""
    archs = _tiny(1)
    src = _csv(tmp_path / "f.csv", "arch,acc", [f'"{archs[0]}",1', '"|conv_9x9~0|",2'])
    with pytest.raises(TableFormatError, match=r"f\.csv' row 2 \(line 3\).*tiny_cell"):
        import_file(
            src,
            space="tiny_cell",
            name="f",
            metrics=["acc:max"],
            dataset="x",
            fidelity=1,
            out=tmp_path / "f.h5",
        )
    assert not (tmp_path / "f.h5").exists()


def test_duplicate_arch_and_seed_refused(tmp_path):
    """Two rows of the same arch and seed are refused, naming both rows."""
    a = _tiny(1)[0]
    src = _csv(tmp_path / "g.csv", "arch,seed,acc", [f'"{a}",0,1', f'"{a}",1,2', f'"{a}",0,3'])
    with pytest.raises(TableFormatError, match=r"row 3 .*second 'acc'.*seed 0.*row 1"):
        import_file(
            src,
            space="tiny_cell",
            name="g",
            metrics=["acc:max"],
            dataset="x",
            fidelity=1,
            seed_column="seed",
            out=tmp_path / "g.h5",
        )


def test_bad_arguments_and_values_are_clear_errors(tmp_path):
    """Missing columns, non-numbers, no fidelity and train_time as a metric raise clear errors."""
    a = _tiny(1)[0]
    src = _csv(tmp_path / "h.csv", "arch,acc", [f'"{a}",oops'])
    kw = dict(space="tiny_cell", name="h", dataset="x", out=tmp_path / "h.h5")
    with pytest.raises(TableFormatError, match=r"no column.*'loss'"):
        import_file(src, metrics=["loss:min"], fidelity=1, **kw)
    with pytest.raises(TableFormatError, match=r"row 1 .*'acc' holds 'oops', not a number"):
        import_file(src, metrics=["acc:max"], fidelity=1, **kw)
    with pytest.raises(InvalidParameterError, match="training epochs"):
        import_file(src, metrics=["acc:max"], **kw)
    with pytest.raises(InvalidParameterError, match="cost_column"):
        import_file(src, metrics=["train_time:min:s"], fidelity=1, **kw)
    with pytest.raises(InvalidParameterError, match="metric spec must be"):
        import_file(src, metrics=["acc:up"], fidelity=1, **kw)


def test_parquet_without_pandas_says_how_to_install(tmp_path):
    """A Parquet file without pandas/pyarrow installed raises an error saying what to install."""
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pandas and pyarrow are installed")
    src = tmp_path / "p.parquet"
    src.write_bytes(b"PAR1")
    with pytest.raises(InvalidParameterError, match="pip install pandas pyarrow"):
        import_file(
            src,
            space="tiny_cell",
            name="p",
            metrics=["acc:max"],
            dataset="x",
            fidelity=1,
            out=tmp_path / "p.h5",
        )


def test_cli_tables_import_file(tmp_path, capsys):
    """`predictor-nas tables import file` writes a table; a bad row exits 2 with one line."""
    from predictor_nas.cli import main

    archs = _tiny(2)
    src = _csv(tmp_path / "i.csv", "arch,acc", [f'"{a}",{i}' for i, a in enumerate(archs)])
    out = tmp_path / "i.h5"
    argv = [
        "tables",
        "import",
        "file",
        "--source",
        str(src),
        "--space",
        "tiny_cell",
        "--name",
        "i",
        "--metric",
        "acc:max:%",
        "--dataset",
        "x",
        "--fidelity",
        "3",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert open_table(out).query(archs[1], "acc", dataset="x") == 1.0
    bad = [
        "tables",
        "import",
        "file",
        "--source",
        str(src),
        "--space",
        "layer_chain",
        "--name",
        "j",
        "--metric",
        "acc:max",
        "--dataset",
        "x",
        "--fidelity",
        "3",
        "--out",
        str(tmp_path / "j.h5"),
    ]
    assert main(bad) == 2
    assert "row 1 (line 2)" in capsys.readouterr().err


def test_importers_registered():
    """The new importers are registered with a --source description."""
    for kind in ("nas-bench-macro", "nb101-zc"):
        assert kind in IMPORTERS and kind in IMPORT_SOURCES


def test_nas_bench_macro_import(shared_data, tmp_path):
    """NAS-Bench-Macro: 6,561 archs, test_acc per trial (not renamed), best mean 93.1267."""
    src = shared_data / "nas-bench-macro"
    if not (src / "nas-bench-macro_cifar10.json").is_file():
        pytest.skip("nas-bench-macro data absent")
    path, _ = import_nas_bench_macro(src, out=tmp_path / "m.h5")
    t = open_table(path)
    assert t.name == "nas-bench-macro" and t.space == "nas_bench_macro" and len(t) == 6561
    assert "val_acc" not in t.metrics("cifar10")
    assert t.values("test_acc", dataset="cifar10").shape == (6561, 3)
    s = get_space("nas_bench_macro")
    best = s.format(s.make([s.blocks[int(c)] for c in "22212220"]))
    assert t.query(best, "test_acc", dataset="cifar10") == pytest.approx(93.12666320800781)
    assert t.best("test_acc", dataset="cifar10")[1] == pytest.approx(93.12666320800781)
    worst = s.format(s.make([s.blocks[0]] * 8))
    assert t.query(worst, "test_acc", dataset="cifar10") == pytest.approx(45.36333211263021)
    assert t.fidelities("params", dataset="cifar10") == (0,)
    assert np.isnan(t.values("train_time", dataset="cifar10")).all()


def test_nb101_zc_import(shared_data, tmp_path):
    """NB101 subset: 494 cells after NB101 pruning, 292 isomorphism classes, 11 zc proxies."""
    src = shared_data / "nb101"
    if not (src / "nb101_zc_500.json").is_file():
        pytest.skip("nb101 data absent")
    path, _ = import_nb101_zc(src, out=tmp_path / "n.h5")
    t = open_table(path)
    assert t.space == "nb101" and len(t) == 494
    zc = [m for m in t.metrics("cifar10") if m.startswith("zc_")]
    assert len(zc) == 11
    assert t.best("val_acc", dataset="cifar10")[1] == pytest.approx(94.71153616905212)
    s = get_space("nb101")
    assert len({s.canonical_key(s.parse(a)) for a in t.archs}) == 292
    assert np.sum(~np.isnan(t.values("val_acc", dataset="cifar10"))) == 500


def test_zero_cost_metrics_leave_out_a_cost_column_without_values(tmp_path):
    """A fidelity-0 metric with no value at all is not a zero-cost feature (it would be a
    constant flagged missing); one with values is."""
    from predictor_nas.encodings import zero_cost_metrics

    rows = [f'"{a}",{90 + i},{i + 1},' for i, a in enumerate(_tiny(5))]
    src = _csv(tmp_path / "z.csv", "arch,acc,params,lat", rows)
    path, _ = import_file(
        src, space="tiny_cell", name="z", metrics=["val_acc=acc:max:%", "params:min:M@0",
        "lat:min:s@0"], dataset="d", fidelity=5, out=tmp_path / "z.h5",
    )  # fmt: skip
    t = open_table(path)
    assert {"lat", "params"} <= set(t.metrics("d"))
    assert zero_cost_metrics(t, "d") == ["params"]
