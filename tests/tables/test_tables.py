"""Benchmark tables: write/read round trip, queries, error messages, corruption and content hash."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from predictor_nas.exceptions import (
    InvalidArchitectureError,
    InvalidParameterError,
    TableCorruptedError,
    TableError,
    TableFormatError,
    TableNotFoundError,
    TableQueryError,
)
from predictor_nas.spaces import NB201Space
from predictor_nas.tables import (
    CurveData,
    DatasetData,
    MetricData,
    Table,
    open_table,
    write_table,
)
from predictor_nas.tables._integrity import content_hash, seal_file
from predictor_nas.tables._schema import USERBLOCK_SIZE

SPACE = NB201Space()
ARCHS = [SPACE.format(SPACE.from_index(i)) for i in (0, 1, 2, 3)]
OUTSIDE = SPACE.format(SPACE.from_index(4))
NAN = np.nan

# val_acc at 12 epochs: 3 trial positions, some not measured; row 2 never measured.
VAL_12 = np.array(
    [[80.25, 81.75, NAN], [70.5, NAN, NAN], [NAN, NAN, NAN], [90.0, 91.0, 92.5]], dtype=np.float64
)
# val_acc at 200 epochs: one column, the source's mean over trials (aggregated).
VAL_200 = np.array([[85.125], [75.0], [60.0], [93.5]])
TIME_12 = np.array([[10.0], [20.0], [30.0], [40.0]])
TIME_200 = np.array([[100.0], [200.0], [300.0], [400.0]])
LATENCY_0 = np.array([1.5, 0.5, NAN, 2.5])  # 1-D: stored as one column
LATENCY_200 = np.array([1.0, 2.0, 3.0, 4.0])
CURVE = np.arange(4 * 3 * 3, dtype=np.float32).reshape(4, 3, 3) / 4
CURVE[0, :, 2] = NAN
C100_VAL = np.array([[50.0, 52.0], [61.0, 63.0], [40.0, NAN], [55.0, 57.0]])
C100_TIME = np.array([[1.0], [2.0], [3.0], [4.0]])


def tiny_datasets(val_12: np.ndarray = VAL_12, unit: str = "%") -> dict[str, DatasetData]:
    return {
        "cifar10": DatasetData(
            metrics={
                "val_acc": MetricData(
                    values={12: val_12, 200: VAL_200},
                    unit=unit,
                    description="validation accuracy",
                    higher_is_better=True,
                    source="made up",
                    aggregated=[200],
                ),
                "train_time": MetricData(
                    values={12: TIME_12, 200: TIME_200},
                    unit="s",
                    description="training seconds",
                    higher_is_better=False,
                ),
                "latency": MetricData(
                    values={0: LATENCY_0, 200: LATENCY_200},
                    unit="ms",
                    description="latency",
                    higher_is_better=False,
                ),
            },
            curves={"val_acc": CurveData(values=CURVE, epochs=[4, 8, 12])},
            description="CIFAR-10",
        ),
        "cifar100": DatasetData(
            metrics={
                "val_acc": MetricData(
                    values={200: C100_VAL}, unit="%", description="acc", higher_is_better=True
                ),
                "train_time": MetricData(
                    values={200: C100_TIME}, unit="s", description="t", higher_is_better=False
                ),
            }
        ),
    }


def write_tiny(path: Path, **kw) -> str:
    args = dict(
        name="tiny",
        space="nb201",
        archs=ARCHS,
        datasets=tiny_datasets(),
        description="four cells",
        license="MIT",
        source="tests",
    )
    args.update(kw)
    return write_table(path, **args)


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny table written once per module."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.h5"
    write_tiny(path)
    return path


@pytest.fixture(scope="module")
def tiny(tiny_path: Path) -> Table:
    """The tiny table, opened."""
    return Table(tiny_path)


def copy_of(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def flip_byte(path: Path, pos: int) -> None:
    data = bytearray(path.read_bytes())
    data[pos] ^= 0xFF
    path.write_bytes(bytes(data))


def read_tree(path: Path) -> dict:
    tree = {}
    with h5py.File(path, "r") as f:
        tree["/"] = (dict(f.attrs), None)
        f.visititems(
            lambda n, o: tree.__setitem__(
                "/" + n, (dict(o.attrs), o[()] if isinstance(o, h5py.Dataset) else None)
            )
        )
    return tree


# ------------------------------------------------------------------ round trip
def test_round_trip_values_and_attributes(tiny):
    """Every stored value and metric attribute comes back exactly."""
    assert (tiny.name, tiny.space, len(tiny)) == ("tiny", "nb201", 4)
    assert (tiny.description, tiny.license, tiny.source) == ("four cells", "MIT", "tests")
    assert tiny.archs == ARCHS
    assert tiny.datasets == ["cifar10", "cifar100"]
    assert sorted(tiny.metrics("cifar10")) == ["latency", "train_time", "val_acc"]
    np.testing.assert_array_equal(tiny.values("val_acc", dataset="cifar10", fidelity=12), VAL_12)
    np.testing.assert_array_equal(tiny.values("val_acc", dataset="cifar10"), VAL_200)
    latency_0 = tiny.values("latency", dataset="cifar10", fidelity=0)
    np.testing.assert_array_equal(latency_0, LATENCY_0[:, None])
    np.testing.assert_array_equal(tiny.values("val_acc", dataset="cifar100"), C100_VAL)
    assert not tiny.values("val_acc", dataset="cifar10").flags.writeable
    mi = tiny.metric_info("val_acc", dataset="cifar10")
    assert (mi.unit, mi.higher_is_better, mi.source) == ("%", True, "made up")
    assert mi.fidelities == (12, 200)
    assert mi.n_seeds == {12: 3, 200: 1}
    assert mi.per_seed == {12: True, 200: False}
    tt = tiny.metric_info("train_time", dataset="cifar10")
    assert (tt.unit, tt.higher_is_better, tt.fidelities) == ("s", False, (12, 200))
    assert tiny.fidelities("latency", dataset="cifar10") == (0, 200)


def test_round_trip_curves(tiny):
    """Curves come back (float32 stored, float64 returned), mean over non-NaN seeds or one seed."""
    assert tiny.has_curve("val_acc", dataset="cifar10")
    assert not tiny.has_curve("train_time", dataset="cifar10")
    assert not tiny.has_curve("val_acc", dataset="cifar100")
    mean0 = tiny.curve(ARCHS[0], "val_acc", dataset="cifar10")
    assert mean0.dtype == np.float64
    np.testing.assert_allclose(mean0, [0.125, 0.875, 1.625])  # seeds 0 and 1 only
    seed2 = tiny.curve(3, "val_acc", dataset="cifar10", seed=2)
    np.testing.assert_array_equal(seed2, [7.25, 8.0, 8.75])
    assert tiny.curve(0, "train_time", dataset="cifar10") is None


def test_info_summarises_everything(tiny, tiny_path):
    """info() reports name, path, hash, and per metric unit/direction/fidelities/seeds/curves."""
    info = tiny.info()
    assert info["name"] == "tiny" and info["path"] == str(tiny_path)
    assert info["n_archs"] == 4 and info["space"] == "nb201"
    assert info["content_hash"] == tiny.content_hash
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", info["content_hash"])
    assert info["datasets"]["cifar10"]["val_acc"] == {
        "unit": "%",
        "higher_is_better": True,
        "fidelities": [12, 200],
        "n_seeds": {"12": 3, "200": 1},
        "per_seed": {"12": True, "200": False},
        "has_curve": True,
        "description": "validation accuracy",
    }
    assert info["datasets"]["cifar10"]["latency"]["fidelities"] == [0, 200]
    assert info["datasets"]["cifar100"]["val_acc"]["n_seeds"] == {"200": 2}
    assert sorted(info["datasets"]) == ["cifar10", "cifar100"]


def test_query_means_over_measured_seeds(tiny):
    """query averages non-NaN trials; default fidelity is the highest; seed=k reads one trial."""
    q = tiny.query
    assert q(ARCHS[0], "val_acc", dataset="cifar10", fidelity=12) == 81.0
    assert q(ARCHS[1], "val_acc", dataset="cifar10", fidelity=12) == 70.5
    assert q(3, "val_acc", dataset="cifar10", fidelity=12) == pytest.approx(91.16666666666667)
    assert q(0, "val_acc", dataset="cifar10") == 85.125
    assert q(0, "val_acc", dataset="cifar10", fidelity=12, seed=1) == 81.75
    assert q(SPACE.parse(ARCHS[3]), "val_acc", dataset="cifar10", fidelity=12, seed=2) == 92.5
    assert q(f"  {ARCHS[2]} ", "val_acc", dataset="cifar100", seed=0) == 40.0
    assert q(1, "latency", dataset="cifar10", fidelity=0) == 0.5


def test_query_many_accepts_archs_strings_and_rows(tiny):
    """query_many gives the same (n,) float64 array for Arch, str and int-row inputs."""
    expected = np.array([81.0, 70.5, NAN, 91.16666666666667])
    order = [3, 0, 2]
    by_rows = tiny.query_many(np.array(order), "val_acc", dataset="cifar10", fidelity=12)
    by_list = tiny.query_many(order, "val_acc", dataset="cifar10", fidelity=12)
    by_str = tiny.query_many([ARCHS[i] for i in order], "val_acc", dataset="cifar10", fidelity=12)
    by_arch = tiny.query_many(
        [SPACE.parse(ARCHS[i]) for i in order], "val_acc", dataset="cifar10", fidelity=12
    )
    for got in (by_rows, by_list, by_str, by_arch):
        assert got.dtype == np.float64 and got.shape == (3,)
        np.testing.assert_allclose(got, expected[order])
    seeds = tiny.query_many(
        np.array([0, 3, 3]), "val_acc", dataset="cifar10", fidelity=12, seed=np.array([1, 0, 2])
    )
    np.testing.assert_array_equal(seeds, [81.75, 90.0, 92.5])
    empty = tiny.query_many(np.array([], dtype=int), "val_acc", dataset="cifar10")
    assert empty.shape == (0,)


def test_cost_best_and_n_trials(tiny):
    """cost reads train_time; best respects direction; n_trials counts measured trials."""
    assert tiny.cost(ARCHS[2], dataset="cifar10") == 300.0
    assert tiny.cost(2, dataset="cifar10", fidelity=12) == 30.0
    np.testing.assert_array_equal(tiny.cost_many([3, 1], dataset="cifar100"), [4.0, 2.0])
    assert tiny.best("val_acc", dataset="cifar10") == (3, 93.5)
    assert tiny.best("val_acc", dataset="cifar10", fidelity=12) == (3, pytest.approx(91.1666667))
    assert tiny.best("train_time", dataset="cifar10", fidelity=12) == (0, 10.0)
    assert tiny.best("latency", dataset="cifar10", fidelity=0) == (1, 0.5)  # NaN row skipped
    assert tiny.best("latency", dataset="cifar10") == (0, 1.0)
    assert tiny.best("val_acc", dataset="cifar100") == (1, 62.0)
    n = tiny.n_trials(np.arange(4), "val_acc", dataset="cifar10", fidelity=12)
    np.testing.assert_array_equal(n, [2, 1, 0, 3])
    assert n.dtype.kind == "i"
    np.testing.assert_array_equal(tiny.n_trials(ARCHS, "val_acc", dataset="cifar100"), [2, 2, 1, 2])


# ------------------------------------------------------------------ query errors
def test_unknown_dataset_lists_datasets(tiny):
    """An unknown dataset raises TableQueryError listing the table's datasets."""
    with pytest.raises(TableQueryError, match=r"'imagenet'.*available: 'cifar10', 'cifar100'"):
        tiny.query(0, "val_acc", dataset="imagenet")
    with pytest.raises(TableQueryError, match="available: 'cifar10', 'cifar100'"):
        tiny.metrics("imagenet")


def test_unknown_metric_lists_metrics(tiny):
    """An unknown metric raises TableQueryError listing the dataset's metrics."""
    with pytest.raises(TableQueryError) as exc:
        tiny.query(0, "test_acc", dataset="cifar10")
    msg = str(exc.value)
    assert "'test_acc'" in msg and "'cifar10'" in msg
    assert all(f"'{m}'" in msg for m in ("latency", "train_time", "val_acc"))
    with pytest.raises(TableQueryError, match="available: 'train_time', 'val_acc'"):
        tiny.query(0, "latency", dataset="cifar100")


def test_unknown_fidelity_lists_fidelities(tiny):
    """An unknown fidelity raises TableQueryError listing the stored epochs."""
    with pytest.raises(TableQueryError, match=r"no fidelity 50; available \(epochs\): 12, 200"):
        tiny.query(0, "val_acc", dataset="cifar10", fidelity=50)
    with pytest.raises(TableQueryError, match=r"available \(epochs\): 0, 200\."):
        tiny.query_many([0], "latency", dataset="cifar10", fidelity=12)


@pytest.mark.parametrize("seed", [3, -1])
def test_seed_out_of_range(tiny, seed):
    """A seed position outside 0..n_seeds-1 raises TableQueryError naming the allowed range."""
    with pytest.raises(TableQueryError, match=rf"are 0\.\.2; got \[{seed}\]"):
        tiny.query(0, "val_acc", dataset="cifar10", fidelity=12, seed=seed)
    with pytest.raises(TableQueryError, match=r"curves are 0\.\.2; got"):
        tiny.curve(0, "val_acc", dataset="cifar10", seed=seed)


def test_seed_on_aggregated_fidelity(tiny):
    """A seed query on a fidelity that stores only the mean raises and says to use seed=None."""
    with pytest.raises(TableQueryError, match=r"stores only the mean over trials.*seed=None"):
        tiny.query(0, "val_acc", dataset="cifar10", seed=0)


def test_arch_not_in_table(tiny):
    """Archs/rows outside the table raise TableQueryError; bad strings InvalidArchitectureError."""
    with pytest.raises(TableQueryError, match=re.escape(f"{OUTSIDE!r} is not in table 'tiny' (4 ")):
        tiny.query(OUTSIDE, "val_acc", dataset="cifar10")
    with pytest.raises(TableQueryError, match="is not in table 'tiny'"):
        tiny.query_many([ARCHS[0], SPACE.parse(OUTSIDE)], "val_acc", dataset="cifar10")
    with pytest.raises(TableQueryError, match="Row 4 is out of range; table 'tiny' has 4 rows"):
        tiny.query(4, "val_acc", dataset="cifar10")
    with pytest.raises(TableQueryError, match=r"Row numbers must be in \[0, 3\]"):
        tiny.query_many(np.array([0, -1]), "val_acc", dataset="cifar10")
    with pytest.raises(TableQueryError, match="pass an Arch, an arch string or a row number"):
        tiny.query(1.0, "val_acc", dataset="cifar10")
    with pytest.raises(InvalidArchitectureError, match="3 node groups"):
        tiny.query("|none~0|", "val_acc", dataset="cifar10")


def test_nan_value_raises_in_query_but_not_query_many(tiny):
    """query of an unmeasured value raises naming metric, fidelity, arch, trial; query_many: NaN."""
    with pytest.raises(TableQueryError) as exc:
        tiny.query(2, "val_acc", dataset="cifar10", fidelity=12)
    assert str(exc.value) == (
        f"Table 'tiny' has no cifar10/val_acc value at fidelity 12 for {ARCHS[2]} (any trial)."
    )
    with pytest.raises(TableQueryError, match=r"fidelity 12 for .*\(trial position 2\)"):
        tiny.query(ARCHS[0], "val_acc", dataset="cifar10", fidelity=12, seed=2)
    with pytest.raises(TableQueryError, match=r"cifar10/latency value at fidelity 0 for"):
        tiny.query(2, "latency", dataset="cifar10", fidelity=0)
    assert np.isnan(tiny.query_many([2], "val_acc", dataset="cifar10", fidelity=12)[0])


def test_missing_file_raises_not_found(tmp_path):
    """Table() of a path that does not exist raises TableNotFoundError naming it."""
    with pytest.raises(TableNotFoundError, match=re.escape(str(tmp_path / "none.h5"))):
        Table(tmp_path / "none.h5")


# ------------------------------------------------------------------ corruption
@pytest.mark.parametrize(
    "where",
    ["magic", "digest", "newline", "padding", "header_end", "data_start", "middle", "end"],
)
def test_flipped_byte_is_detected(tiny_path, tmp_path, where):
    """One flipped byte anywhere raises TableCorruptedError whose message names the file."""
    size = tiny_path.stat().st_size
    pos = {
        "magic": 0,
        "digest": 30,
        "newline": 80,
        "padding": 300,
        "header_end": USERBLOCK_SIZE - 1,
        "data_start": USERBLOCK_SIZE,
        "middle": size // 2,
        "end": size - 1,
    }[where]
    bad = copy_of(tiny_path, tmp_path / "bad.h5")
    flip_byte(bad, pos)
    with pytest.raises(TableCorruptedError, match=re.escape(repr(str(bad)))):
        Table(bad)


@pytest.mark.parametrize("keep", [1.0 - 1e-9, 0.5, USERBLOCK_SIZE + 1, 100])
def test_truncated_file_is_detected(tiny_path, tmp_path, keep):
    """A truncated copy raises TableCorruptedError naming the file."""
    data = tiny_path.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    bad = tmp_path / "short.h5"
    bad.write_bytes(data[:n])
    with pytest.raises(TableCorruptedError, match=re.escape(repr(str(bad)))):
        Table(bad)


def test_changed_value_with_resealed_digest_fails_content_hash(tiny_path, tmp_path):
    """Editing a value and re-sealing the file digest is still caught by the content hash."""
    bad = copy_of(tiny_path, tmp_path / "edited.h5")
    with h5py.File(bad, "r+") as f:
        f["datasets/cifar10/metrics/val_acc/200"][0, 0] = 99.0
    seal_file(bad)
    with pytest.raises(TableCorruptedError, match=r"content hash sha256:\w+ differs from the"):
        Table(bad)


def test_other_format_version_is_a_format_error(tiny_path, tmp_path):
    """A consistent file of another format version raises TableFormatError naming both versions."""
    other = copy_of(tiny_path, tmp_path / "v2.h5")
    with h5py.File(other, "r+") as f:
        f.attrs["format_version"] = 2
    tree = read_tree(other)
    with h5py.File(other, "r+") as f:
        f.attrs["content_hash"] = content_hash(tree)
    seal_file(other)
    with pytest.raises(TableFormatError, match="format version 2; this predictor_nas reads ver"):
        Table(other)


def test_plain_hdf5_file_is_a_format_error(tmp_path):
    """A plain HDF5 file (no predictor_nas header) raises TableFormatError."""
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(TableFormatError, match="plain HDF5 file, not a predictor_nas table"):
        Table(path)


@pytest.mark.parametrize("n_bytes", [0, 10, 4096])
def test_random_bytes_are_a_table_error(tmp_path, n_bytes):
    """A file of random bytes (or an empty one) raises a TableError subclass naming it."""
    path = tmp_path / "noise.h5"
    path.write_bytes(np.random.default_rng(n_bytes).bytes(n_bytes))
    with pytest.raises(TableError, match=re.escape(repr(str(path)))) as exc:
        Table(path)
    assert type(exc.value) in (TableFormatError, TableCorruptedError)


# ------------------------------------------------------------------ writing
def test_write_refuses_to_overwrite(tiny_path, tmp_path):
    """write_table refuses an existing path; the old file is byte-identical and still opens."""
    path = copy_of(tiny_path, tmp_path / "t.h5")
    before = path.read_bytes()
    with pytest.raises(InvalidParameterError, match="already exists; pass overwrite=True"):
        write_tiny(path, name="other")
    assert path.read_bytes() == before
    assert Table(path).name == "tiny"
    write_tiny(path, name="other", overwrite=True)
    assert Table(path).name == "other"
    assert os.listdir(tmp_path) == ["t.h5"]


def test_write_is_atomic(tiny_path, tmp_path):
    """A write that fails midway leaves the old file intact and no temporary file behind."""
    path = copy_of(tiny_path, tmp_path / "t.h5")
    before = path.read_bytes()
    with pytest.raises(ValueError, match="NULL"):  # h5py cannot store a NUL in a string attribute
        write_tiny(path, description="a\0b", overwrite=True)
    assert path.read_bytes() == before
    assert Table(path).content_hash
    write_tiny(tmp_path / "u.h5")
    assert sorted(os.listdir(tmp_path)) == ["t.h5", "u.h5"]


def test_write_validates_input(tmp_path):
    """Duplicate archs and mis-shaped values raise InvalidParameterError and write nothing."""
    with pytest.raises(InvalidParameterError, match="must be unique"):
        write_tiny(tmp_path / "a.h5", archs=[ARCHS[0]] * 4)
    bad = tiny_datasets(val_12=VAL_12[:3])
    with pytest.raises(InvalidParameterError, match=r"cifar10/val_acc at fidelity 12 .*\(3, 3\)"):
        write_tiny(tmp_path / "a.h5", datasets=bad)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ content hash
def test_content_hash_is_stable_and_sensitive(tiny_path, tmp_path):
    """Same content gives the same hash; one changed value or attribute gives another."""
    first = write_tiny(tmp_path / "a.h5")
    again = write_tiny(tmp_path / "b.h5")
    assert first == again == Table(tmp_path / "a.h5").content_hash == Table(tiny_path).content_hash
    changed = VAL_12.copy()
    changed[3, 2] = 92.50000000000001
    other_value = write_tiny(tmp_path / "c.h5", datasets=tiny_datasets(val_12=changed))
    other_unit = write_tiny(tmp_path / "d.h5", datasets=tiny_datasets(unit="percent"))
    assert len({first, other_value, other_unit}) == 3
    assert Table(tmp_path / "c.h5").content_hash == other_value


# ------------------------------------------------------------------ the embedded NB201 table
def test_embedded_table_facts(nb201_table):
    """The shipped NB201 table: 3 datasets, known best archs and 8,169 archs with 3 trials."""
    t = nb201_table
    assert t.name == "nb201" and t.space == "nb201" and len(t) == 15_625
    assert sorted(t.datasets) == ["ImageNet16-120", "cifar10", "cifar100"]
    assert t.best("val_acc", dataset="cifar10") == (6111, 91.60666665039064)
    row, val = t.best("val_acc", dataset="cifar100")
    assert row == 9930 and val == pytest.approx(73.493333, abs=1e-5)
    row, val = t.best("val_acc", dataset="ImageNet16-120")
    assert row == 10676 and val == pytest.approx(46.733333, abs=1e-5)
    for ds in t.datasets:
        n = t.n_trials(np.arange(len(t)), "val_acc", dataset=ds)
        assert np.bincount(n, minlength=4).tolist() == [0, 0, 7456, 8169]


def test_embedded_rows_follow_official_index(nb201_table):
    """Row i of the embedded table is the arch at official NAS-Bench-201 index i."""
    assert nb201_table.archs == [SPACE.format(a) for a in SPACE]
    assert nb201_table.row(SPACE.from_index(6111)) == 6111


def test_embedded_query_many_all_rows(nb201_table):
    """query_many on all 15,625 rows returns shape (15625,) with no NaN for val_acc."""
    rows = np.arange(15_625)
    for ds in nb201_table.datasets:
        v = nb201_table.query_many(rows, "val_acc", dataset=ds)
        assert v.shape == (15_625,) and not np.isnan(v).any()
        assert 0.0 < v.min() and v.max() < 100.0
    by_str = nb201_table.query_many(nb201_table.archs, "val_acc", dataset="cifar10")
    by_row = nb201_table.query_many(rows, "val_acc", dataset="cifar10")
    np.testing.assert_array_equal(by_str, by_row)


def test_open_table_unknown_name_lists_known(tmp_path):
    """open_table of an unknown name raises TableNotFoundError listing the known tables."""
    with pytest.raises(TableNotFoundError, match=r"'does-not-exist'\. Known tables: 'nb201'"):
        open_table("does-not-exist")


def test_open_table_by_path_reuses_the_open_table(tiny_path):
    """open_table accepts a file path and returns the same Table object for an unchanged file."""
    t = open_table(tiny_path)
    assert t.name == "tiny" and open_table(str(tiny_path)) is t


def test_unreadable_cache_folder_is_skipped_not_a_traceback(tmp_path):
    """A cache folder that cannot be listed is skipped: embedded tables still open by name."""
    import os

    from predictor_nas.tables import table_paths

    if os.geteuid() != 0:
        pytest.skip("needs root to drop to nobody in a forked child")
    table_paths()  # import everything before the fork
    cache = tmp_path / "cache"
    (cache / "inner").mkdir(parents=True)
    cache.chmod(0o700)  # nobody cannot look inside
    tmp_path.chmod(0o755)
    pid = os.fork()
    if pid == 0:  # the child: nobody, an unreadable cache
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.environ["PREDICTOR_NAS_CACHE"] = str(cache / "inner")
            code = 0 if "nb201" in table_paths() else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
