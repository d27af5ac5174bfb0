"""Table schema checks: files that pass every checksum but break the format are refused by name.

Each test writes a real small table with ``write_table``, damages it with h5py, then recomputes the
content hash and re-seals the file digest, so that only the schema check can catch the damage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from predictor_nas.cli import main
from predictor_nas.exceptions import InvalidParameterError, TableFormatError
from predictor_nas.spaces import NB201Space
from predictor_nas.tables import DatasetData, MetricData, Table, verify_table, write_table
from predictor_nas.tables._integrity import content_hash, seal_file

SPACE = NB201Space()
ARCHS = [SPACE.format(SPACE.from_index(i)) for i in range(4)]
VAL = np.array([[80.0, 81.0], [70.0, 71.0], [60.0, np.nan], [90.0, 91.0]])
TIME = np.array([[10.0], [20.0], [30.0], [40.0]])


def datasets(val: np.ndarray = VAL, time: np.ndarray | None = TIME) -> dict[str, DatasetData]:
    metrics = {
        "val_acc": MetricData(values={200: val}, unit="%", description="acc", higher_is_better=True)
    }
    if time is not None:
        metrics["train_time"] = MetricData(
            values={200: time}, unit="s", description="t", higher_is_better=False
        )
    return {"cifar10": DatasetData(metrics=metrics, description="CIFAR-10")}


def write(path: Path, archs: list[str] = ARCHS, **kw) -> Path:
    write_table(path, name="tiny", space="nb201", archs=archs, datasets=datasets(**kw))
    return path


def reseal(path: Path) -> None:
    """Recompute the content hash and the file digest after an edit (a consistent forgery)."""
    tree = {}
    with h5py.File(path, "r") as f:
        tree["/"] = (dict(f.attrs), None)
        f.visititems(
            lambda n, o: tree.__setitem__(
                "/" + n, (dict(o.attrs), o[()] if isinstance(o, h5py.Dataset) else None)
            )
        )
    with h5py.File(path, "r+") as f:
        f.attrs["content_hash"] = content_hash(tree)
    seal_file(path)


def damaged(tmp_path: Path, edit: Callable[[h5py.File], None]) -> Path:
    path = write(tmp_path / "t.h5")
    with h5py.File(path, "r+") as f:
        edit(f)
        hash_deleted = "content_hash" not in f.attrs
    if hash_deleted:
        seal_file(path)
    else:
        reseal(path)
    return path


def replace(f: h5py.File, name: str, data: np.ndarray, **attrs) -> None:
    old_attrs = dict(f[name].attrs)
    del f[name]
    f[name] = data
    f[name].attrs.update({**old_attrs, **attrs})


VAL_PATH = "datasets/cifar10/metrics/val_acc/200"


def test_undamaged_table_opens_and_verifies(tmp_path):
    """The writer's own file passes the schema and verify_table; resealing alone changes nothing."""
    path = write(tmp_path / "t.h5")
    reseal(path)
    assert Table(path).best("val_acc", dataset="cifar10") == (3, 90.5)
    assert verify_table(path).archs == ARCHS


@pytest.mark.parametrize("attr", ["name", "space", "license", "content_hash"])
def test_missing_root_attribute_is_named(tmp_path, attr):
    """A deleted root attribute raises TableFormatError naming the file and the attribute."""
    path = damaged(tmp_path, lambda f: f.attrs.__delitem__(attr))
    with pytest.raises(
        TableFormatError,
        match=rf"{re.escape(repr(str(path)))}.*root attribute "
        rf"'{attr}' is missing",
    ):
        Table(path)


def test_root_attribute_of_wrong_type_is_named(tmp_path):
    """A root attribute of the wrong type (format_version as text, name as int) is refused."""
    path = damaged(tmp_path, lambda f: f.attrs.__setitem__("name", 7))
    with pytest.raises(TableFormatError, match=r"root attribute 'name' must be a str; got 7"):
        Table(path)
    (tmp_path / "b").mkdir()
    path2 = damaged(tmp_path / "b", lambda f: f.attrs.__setitem__("format_version", "one"))
    with pytest.raises(TableFormatError, match="format version one; this predictor_nas reads"):
        Table(path2)


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (np.array([[80, 81], [70, 71], [60, 61], [90, 91]], dtype=np.int64), "int64"),
        (np.ones((4, 2), dtype=bool), "bool"),
        (VAL.astype(np.complex128), "complex128"),
        (VAL.astype(np.float32), "float32"),
    ],
)
def test_metric_values_of_another_dtype_are_refused(tmp_path, data, dtype):
    """int/bool/complex/float32 metric values are refused, naming the dataset path and dtype."""
    path = damaged(tmp_path, lambda f: replace(f, VAL_PATH, data))
    with pytest.raises(
        TableFormatError,
        match=rf"/{VAL_PATH} must hold float64 values; it holds "
        rf"{dtype}",
    ):
        Table(path)


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_value_is_refused(tmp_path, value):
    """An infinite metric value (the table's best would become inf) is refused with its position."""

    def edit(f: h5py.File) -> None:
        f[VAL_PATH][2, 1] = value

    path = damaged(tmp_path, edit)
    with pytest.raises(
        TableFormatError,
        match=rf"/{VAL_PATH} holds 1 infinite value\(s\), first "
        rf"-?inf at \(2, 1\)",
    ):
        Table(path)


def test_missing_train_time_is_refused(tmp_path):
    """A dataset without train_time (every query would cost 0 s) is refused."""
    path = damaged(tmp_path, lambda f: f.__delitem__("datasets/cifar10/metrics/train_time"))
    with pytest.raises(TableFormatError, match=r"/datasets/cifar10/metrics/train_time is missing"):
        Table(path)


def test_negative_train_time_is_refused(tmp_path):
    """A negative training time is refused."""

    def edit(f: h5py.File) -> None:
        f["datasets/cifar10/metrics/train_time/200"][1, 0] = -5.0

    with pytest.raises(TableFormatError, match="negative train_time"):
        Table(damaged(tmp_path, edit))


def test_short_metric_array_is_refused(tmp_path):
    """A metric array with fewer rows than /archs (a query of the last row would crash) is refused."""
    path = damaged(tmp_path, lambda f: replace(f, VAL_PATH, VAL[:3]))
    with pytest.raises(
        TableFormatError,
        match=rf"/{VAL_PATH} must have shape \(4, \?\); it has "
        rf"shape \(3, 2\)",
    ):
        Table(path)


def test_duplicate_arch_rows_are_refused(tmp_path):
    """Two rows holding the same arch string are refused, naming both rows."""

    def edit(f: h5py.File) -> None:
        f["archs"][2] = f["archs"][0]

    with pytest.raises(TableFormatError, match=r"/archs rows 0 and 2 are the same architecture"):
        Table(damaged(tmp_path, edit))


def test_missing_per_seed_and_metric_attribute_are_named(tmp_path):
    """A missing dataset attribute (per_seed) or metric attribute (unit) is named with its path."""
    path = damaged(tmp_path, lambda f: f[VAL_PATH].attrs.__delitem__("per_seed"))
    with pytest.raises(TableFormatError, match=rf"attribute of /{VAL_PATH}: 'per_seed' is missing"):
        Table(path)
    (tmp_path / "b").mkdir()
    path = damaged(
        tmp_path / "b", lambda f: f["datasets/cifar10/metrics/val_acc"].attrs.__delitem__("unit")
    )
    with pytest.raises(TableFormatError, match=r"metrics/val_acc: 'unit' is missing"):
        Table(path)


def test_fidelity_that_is_not_an_int_is_refused(tmp_path):
    """A fidelity dataset named 'final' (not epochs) is refused instead of a ValueError."""

    def edit(f: h5py.File) -> None:
        f["datasets/cifar10/metrics/val_acc"].move("200", "final")

    with pytest.raises(TableFormatError, match=r"val_acc/final must be named by a fidelity"):
        Table(damaged(tmp_path, edit))


def test_verify_refuses_rows_that_are_not_standard_arch_strings(tmp_path):
    """verify_table (not the cheap open) refuses a non-standard or unparsable arch string."""
    path = write(tmp_path / "a.h5", archs=[ARCHS[0], " " + ARCHS[1], ARCHS[2], ARCHS[3]])
    assert len(Table(path)) == 4
    with pytest.raises(TableFormatError, match=r"/archs row 1 .* is not the standard string"):
        verify_table(path)
    path = write(tmp_path / "b.h5", archs=[ARCHS[0], ARCHS[1], "garbage", ARCHS[3]])
    with pytest.raises(TableFormatError, match=r"/archs row 2 'garbage' is not a nb201 arch"):
        verify_table(path)


def test_writer_refuses_what_the_reader_would_refuse(tmp_path):
    """write_table refuses inf values and a dataset without train_time, and writes nothing."""
    bad = VAL.copy()
    bad[0, 0] = np.inf
    with pytest.raises(InvalidParameterError, match="infinite value"):
        write(tmp_path / "a.h5", val=bad)
    with pytest.raises(InvalidParameterError, match="train_time is missing"):
        write(tmp_path / "b.h5", time=None)
    assert list(tmp_path.iterdir()) == []


def test_cli_verify_reports_schema_errors_without_traceback(tmp_path, capsys):
    """`tables verify` prints FAILED naming the file and field (no KeyError traceback), exit 1."""
    path = damaged(tmp_path, lambda f: f.attrs.__delitem__("name"))
    good = write(tmp_path / "good.h5")
    assert main(["tables", "verify", str(good), str(path)]) == 1
    out = capsys.readouterr()
    assert re.search(rf"OK +{re.escape(str(good))}", out.out)
    assert f"FAILED   {path}" in out.out and "root attribute 'name' is missing" in out.out
    assert "Traceback" not in out.err


def test_embedded_table_passes_verify(nb201_table):
    """The shipped NB201 table passes every check of verify_table."""
    assert len(verify_table(nb201_table.path)) == 15625
