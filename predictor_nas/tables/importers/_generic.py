"""Import a user's benchmark data (CSV, JSON, JSON lines, Parquet) into a table of any space.

A source is a list of records (rows). Each record holds:

- an architecture in the space's string form (column ``arch_column``, default ``"arch"``); every
  string is parsed by the space and stored in its standard form (``space.format``);
- one column per metric (``MetricSpec``: name, direction, unit, optional source column and a
  fixed fidelity such as 0 for a property of the untrained network). A cell is a number (blank /
  ``None`` / ``"nan"`` = not measured) or a list of numbers, one per training trial (JSON lists, or
  JSON text such as ``"[91.2, 90.8]"`` in a CSV cell). A metric column may instead be split into
  seed-suffixed columns ``<column>_seed<k>`` / ``<column>_<k>`` (one trial each, ordered by k);
- optionally the dataset (``dataset_column``; else the fixed ``dataset``), the training seed
  (``seed_column``: several rows of one architecture = its trials, ordered by seed value), the
  fidelity in epochs (``fidelity_column``; else the fixed ``fidelity``), the training cost in
  seconds (``cost_column``, stored as the schema's ``train_time``; without it ``train_time`` is
  NaN, "not measured") and per-epoch curves (``CurveSpec``: a column holding a list per row).

Every value is stored per trial position (``per_seed = True``) unless its ``MetricSpec`` says
``aggregated`` (the source's value is already a mean over trials). A second value for the same
(dataset, metric, fidelity, architecture, trial) is refused, naming both rows, as is any row
whose architecture the space rejects (naming the file, the row and what the space says).

JSON sources are a list of records or an object ``{arch string: record}``. Parquet needs
``pandas`` and ``pyarrow``, which predictor_nas does not depend on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas._progress import step_reporter
from predictor_nas.exceptions import InvalidParameterError, PredictorNASError, TableFormatError
from predictor_nas.spaces import SearchSpace, get_space
from predictor_nas.tables._locations import cache_dir
from predictor_nas.tables._schema import COST_METRIC
from predictor_nas.tables._writer import DatasetData, MetricData, write_table
from predictor_nas.tables.importers._import_read import FORMATS, detect_format, read_records
from predictor_nas.tables.importers._import_specs import (
    NAME,
    CurveSpec,
    MetricSpec,
    check_import_args,
)
from predictor_nas.tables.importers._import_values import (
    Cells,
    Where,
    as_list,
    cost_metric,
    curve_data,
    fidelity_value,
    is_blank,
    number,
    seed_key,
    suffix_columns,
    trial_array,
    trial_text,
)

__all__ = ["FORMATS", "CurveSpec", "MetricSpec", "import_file", "import_records", "read_records"]

log = logging.getLogger(__name__)


def _check_columns(
    records: Sequence[Mapping[str, Any]],
    w: Where,
    required: Sequence[str | None],
    metric_specs: Sequence[MetricSpec],
) -> dict[str, dict[str, int]]:
    """Refuse records that are not mappings or lack a needed column; the seed-suffixed columns.

    Returns:
        Metric name -> its seed-suffixed columns (``suffix_columns``).
    """
    if not records:
        raise TableFormatError(f"{w.source!r} holds no records.")
    all_columns: set[str] = set()
    for k, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise w.error(k, f"a record must be an object of columns; got {type(rec).__name__}.")
        all_columns.update(map(str, rec.keys()))
    missing = [c for c in required if c is not None and c not in all_columns]
    suffixed = {m.name: suffix_columns(all_columns, m.source_column) for m in metric_specs}
    missing += [
        m.source_column
        for m in metric_specs
        if m.source_column not in all_columns and not suffixed[m.name]
    ]
    if missing:
        raise TableFormatError(
            f"{w.source!r} has no column(s) {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(map(repr, sorted(all_columns)))}."
        )
    return suffixed


class _Collector:
    """Gathers every record's values by (dataset, metric, fidelity), architecture and trial."""

    def __init__(
        self,
        space: SearchSpace,
        w: Where,
        metric_specs: Sequence[MetricSpec],
        curve_specs: Sequence[CurveSpec],
        suffixed: dict[str, dict[str, int]],
        columns: dict[str, str | None],
        dataset: str | None,
        fidelity: int | None,
    ) -> None:
        self.space, self.w = space, w
        self.metric_specs, self.curve_specs, self.suffixed = metric_specs, curve_specs, suffixed
        self.columns, self.dataset, self.fidelity = columns, dataset, fidelity
        self.arch_rows: dict[str, int] = {}
        self.cells: dict[tuple[str, str, int], Cells] = {}
        self.curve_cells: dict[tuple[str, str], dict[tuple[int, tuple], tuple[list, int]]] = {}
        self.ds_fids: dict[str, set[int]] = {}
        self.seed_values: set[tuple[int, Any]] = set()

    def put(
        self, key: tuple[str, str, int], arch_row: int, trial: tuple, value: Any, k: int, col: str
    ) -> None:
        """Store one value; a second value for the same cell and trial is refused."""
        c = self.cells.setdefault(key, Cells({}, set(), set()))
        if (arch_row, trial) in c.values:
            first = c.values[(arch_row, trial)][1]
            raise self.w.error(
                k,
                f"architecture {list(self.arch_rows)[arch_row]!r} has a second {key[1]!r} value "
                f"for dataset {key[0]!r}, fidelity {key[2]}, {trial_text(trial)}; the first is in "
                f"{self.w.row(first)}. Several trainings of one architecture need a seed column "
                "(CLI --seed-column) or a list of values per cell.",
            )
        c.values[(arch_row, trial)] = (value, k)
        c.columns.add(col)
        c.trial_kinds.add(trial[0])

    def add(self, k: int, rec: Mapping[str, Any]) -> None:
        """Read record ``k`` (1-based): its architecture, dataset, fidelity, seed and values."""
        w, cols = self.w, self.columns
        text = rec.get(cols["arch"])
        if not isinstance(text, str) or not text.strip():
            raise w.error(
                k, f"the architecture column {cols['arch']!r} is empty or not a string ({text!r})."
            )
        try:
            arch_str = self.space.format(self.space.parse(text))
        except PredictorNASError as exc:
            raise w.error(
                k, f"{text!r} is not an architecture of space {self.space.name!r}: {exc}"
            ) from None
        arch_row = self.arch_rows.setdefault(arch_str, len(self.arch_rows))
        ds = self.dataset if self.dataset is not None else rec.get(cols["dataset"])
        if not isinstance(ds, str) or not NAME.match(ds.strip()):
            raise w.error(
                k,
                f"the dataset column {cols['dataset']!r} holds {ds!r}; a dataset "
                "name of letters, digits and '_.+-' is needed.",
            )
        ds = ds.strip()
        fid_col = cols["fidelity"]
        row_fid = (
            self.fidelity if fid_col is None else fidelity_value(rec.get(fid_col), w, k, fid_col)
        )
        seed = None
        if cols["seed"] is not None:
            seed = seed_key(rec.get(cols["seed"]), w, k, cols["seed"])
            self.seed_values.add(seed)
        trial = ("seed", seed) if seed is not None else ("pos", 0)
        for m in self.metric_specs:
            self._metric(
                k,
                rec,
                m,
                (ds, m.name, m.fidelity if m.fidelity is not None else row_fid),
                arch_row,
                seed,
            )
            self.ds_fids.setdefault(ds, set()).add(
                m.fidelity if m.fidelity is not None else row_fid
            )
        if cols["cost"] is not None:
            v = number(rec.get(cols["cost"]), w, k, cols["cost"])
            if v < 0:
                raise w.error(
                    k, f"the cost column {cols['cost']!r} holds {v!r}; training seconds are >= 0."
                )
            self.put((ds, COST_METRIC, row_fid), arch_row, trial, v, k, cols["cost"])
        for cs in self.curve_specs:
            self._curve(k, rec, cs, ds, arch_row, arch_str, trial)

    def _metric(
        self, k: int, rec: Mapping[str, Any], m: MetricSpec, key: tuple, arch_row: int, seed: Any
    ) -> None:
        w, col = self.w, m.source_column
        if col in rec:
            v = rec[col]
            items = as_list(v, w, k, col)
            if items is None:
                trial = ("seed", seed) if seed is not None else ("pos", 0)
                self.put(key, arch_row, trial, number(v, w, k, col), k, col)
                return
            if seed is not None:
                raise w.error(
                    k,
                    f"column {col!r} holds a list of trials, but the row also "
                    f"has a seed ({self.columns['seed']!r}); use one or the other.",
                )
            for i, item in enumerate(items):
                self.put(key, arch_row, ("pos", i), number(item, w, k, col), k, col)
            return
        for c, n in self.suffixed[m.name].items():
            if c in rec:
                if seed is not None:
                    raise w.error(
                        k,
                        f"seed-suffixed column {c!r} and a seed column "
                        f"({self.columns['seed']!r}) cannot be combined.",
                    )
                self.put(key, arch_row, ("suffix", n), number(rec[c], w, k, c), k, c)

    def _curve(
        self,
        k: int,
        rec: Mapping[str, Any],
        cs: CurveSpec,
        ds: str,
        arch_row: int,
        arch_str: str,
        trial: tuple,
    ) -> None:
        w, col = self.w, cs.column or cs.name
        v = rec.get(col)
        if is_blank(v):
            return
        items = as_list(v, w, k, col)
        if items is None:
            raise w.error(
                k, f"curve column {col!r} holds {v!r}; a list of per-epoch values is needed."
            )
        values = [number(x, w, k, col) for x in items]
        cc = self.curve_cells.setdefault((ds, cs.name), {})
        if (arch_row, trial) in cc:
            raise w.error(
                k,
                f"architecture {arch_str!r} has a second {cs.name!r} curve for "
                f"dataset {ds!r}, {trial_text(trial)}; the first is in "
                f"{w.row(cc[(arch_row, trial)][1])}.",
            )
        cc[(arch_row, trial)] = (values, k)


def _datasets(
    col: _Collector,
    shown: str,
    source: str,
    cost_description: str,
    say: Callable[[str], None],
    name: str,
) -> dict[str, DatasetData]:
    """The collected values as the writer's ``DatasetData`` per dataset."""
    n = len(col.arch_rows)
    seed_column = col.columns["seed"]
    seed_order = {s: i for i, s in enumerate(sorted(col.seed_values))}
    seed_text = (
        f"trial positions 0..{len(seed_order) - 1} = values "
        f"{[s[1] for s in sorted(col.seed_values)]} of the seed column {seed_column!r}"
        if seed_order
        else ""
    )
    datasets: dict[str, DatasetData] = {}
    for ds in sorted({k[0] for k in col.cells} | set(col.ds_fids)):
        say(f"tables import {name}: dataset {ds} ({n} archs) ...")
        metrics_out: dict[str, MetricData] = {}
        for m in col.metric_specs:
            arrays: dict[int, np.ndarray] = {}
            notes: list[str] = []
            for (d, mn, fid), c in sorted(col.cells.items(), key=lambda t: t[0][2]):
                if d != ds or mn != m.name:
                    continue
                arrays[fid], note = trial_array(c, n, seed_order, seed_text)
                notes.append(f"fidelity {fid}: {note}")
            if not arrays:
                continue
            metrics_out[m.name] = MetricData(
                values=arrays,
                unit=m.unit,
                description=(m.description + " " if m.description else "")
                + f"Imported from {shown!r}; "
                + "; ".join(notes)
                + ".",
                higher_is_better=m.higher_is_better,
                source=f"{shown!r} column {m.source_column!r}"
                + (f" (imported as {m.name!r})" if m.column and m.column != m.name else "")
                + (f"; {source}" if source else ""),
                aggregated=list(arrays) if m.aggregated else (),
            )
        metrics_out[COST_METRIC] = cost_metric(
            col.cells,
            ds,
            col.ds_fids.get(ds, {0}),
            n,
            seed_order,
            seed_text,
            col.columns["cost"],
            cost_description,
            shown,
        )
        curves_out = {
            cname: curve_data(
                cc, n, seed_order, next(c for c in col.curve_specs if c.name == cname), col.w
            )
            for (d, cname), cc in col.curve_cells.items()
            if d == ds
        }
        datasets[ds] = DatasetData(
            metrics=metrics_out,
            curves=curves_out,
            description=f"{ds}: imported from {shown!r} ({n} {col.space.name} architectures).",
        )
    return datasets


def import_records(
    records: Sequence[Mapping[str, Any]],
    *,
    space: str | PathLike | SearchSpace,
    name: str,
    metrics: Sequence[MetricSpec | str],
    arch_column: str = "arch",
    dataset: str | None = None,
    dataset_column: str | None = None,
    fidelity: int | None = None,
    fidelity_column: str | None = None,
    seed_column: str | None = None,
    cost_column: str | None = None,
    cost_description: str = "",
    curves: Sequence[CurveSpec | str] = (),
    out: str | PathLike | None = None,
    overwrite: bool = False,
    description: str = "",
    license: str = "",
    source: str = "",
    where: str = "records",
    csv_lines: bool = False,
    progress: bool = False,
) -> tuple[str, str]:
    """Write records (one per architecture, trial, dataset and fidelity) as a table.

    See the module docstring for what a record holds.

    Args:
        records: (R,) mappings column -> value.
        space: Space name, YAML declaration path or space object; the table's ``space``.
        name: Table name; the default output is ``cache_dir() / f"{name}.h5"``.
        metrics: ``MetricSpec`` s or their spec strings (``MetricSpec.parse``).
        arch_column: Column of the architecture strings.
        dataset, dataset_column: A fixed dataset name, or the column naming each row's dataset.
        fidelity, fidelity_column: Fixed training epochs of the values, or their column.
        seed_column: Column of the training seed (rows of one arch = its trials).
        cost_column: Column of the training cost in seconds, stored as ``train_time``.
        cost_description: What the cost column measured (stored with ``train_time``).
        curves: ``CurveSpec`` s or ``NAME[=COLUMN]`` strings.
        out: Destination ``.h5``.
        overwrite: Replace an existing ``out``.
        description, license, source: Table attributes.
        where: The source's name for messages (a file path).
        csv_lines: Rows came from a CSV (messages also give the line number).
        progress: A status line on stderr per dataset and for the write
            (``predictor_nas._progress``); otherwise they are logged at INFO.

    Returns:
        ``(path written, content hash)``.

    Raises:
        InvalidParameterError: bad arguments, or ``out`` exists and ``overwrite`` is False.
        TableFormatError: a row the space rejects, a non-numeric value, a duplicate (same arch,
            trial, dataset, fidelity and metric) or a missing column, naming ``where`` and the row.
    """
    space_obj = get_space(space)
    metric_specs = [MetricSpec.parse(m) if isinstance(m, str) else m for m in metrics]
    curve_specs = [CurveSpec.parse(c) if isinstance(c, str) else c for c in curves]
    check_import_args(
        name,
        metric_specs,
        dataset,
        dataset_column,
        fidelity,
        fidelity_column,
        cost_column,
        curve_specs,
    )
    out_path = Path(os.fspath(out)).expanduser() if out is not None else cache_dir() / f"{name}.h5"
    if out_path.exists() and not overwrite:
        raise InvalidParameterError(
            f"{os.fspath(out_path)!r} already exists; pass overwrite=True (CLI: --overwrite) to "
            "replace it."
        )
    w = Where(where, csv_lines)
    shown = Path(where).name or where  # stored attributes name the file, not the machine path
    columns = {
        "arch": arch_column,
        "dataset": dataset_column,
        "fidelity": fidelity_column,
        "seed": seed_column,
        "cost": cost_column,
    }
    required = [*columns.values(), *(c.column or c.name for c in curve_specs)]
    suffixed = _check_columns(records, w, required, metric_specs)
    col = _Collector(space_obj, w, metric_specs, curve_specs, suffixed, columns, dataset, fidelity)
    for k, rec in enumerate(records, start=1):
        col.add(k, rec)
    archs = list(col.arch_rows)
    say = step_reporter(progress, log)
    datasets = _datasets(col, shown, source, cost_description, say, name)
    say(f"tables import {name}: writing {out_path} ...")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    chash = write_table(
        out_path,
        name=name,
        space=space_obj.name,
        archs=archs,
        datasets=datasets,
        description=description
        or f"{len(archs)} {space_obj.name} architectures imported from {shown!r}.",
        license=license,
        source=source or f"{shown!r}, imported by predictor_nas.tables.importers (file)",
        overwrite=overwrite,
    )
    log.info(
        "wrote %s (%d archs, %d datasets), content hash %s",
        out_path,
        len(archs),
        len(datasets),
        chash,
    )
    return os.fspath(out_path), chash


def import_file(
    source: str | PathLike,
    *,
    fmt: str | None = None,
    arch_column: str = "arch",
    progress: bool = False,
    **kwargs: Any,
) -> tuple[str, str]:
    """Import a CSV / JSON / JSON-lines / Parquet file (``read_records`` + ``import_records``).

    Args:
        source: The file.
        fmt: Its format (default: from the suffix).
        arch_column: Column of the architecture strings (also where the keys of a JSON object
            ``{arch: record}`` go).
        progress: Status lines on stderr per step (``predictor_nas._progress``).
        **kwargs: Passed to ``import_records`` (``space``, ``name``, ``metrics`` required).

    Returns:
        ``(path written, content hash)``.
    """
    name = kwargs.get("name", "file")
    step_reporter(progress, log)(f"tables import {name}: reading {os.fspath(source)} ...")
    records, digest = read_records(source, fmt=fmt, arch_column=arch_column)
    where = os.fspath(source)
    kind = detect_format(Path(where), fmt)
    kwargs.setdefault("source", f"{Path(where).name} {digest}")
    return import_records(
        records,
        arch_column=arch_column,
        where=where,
        csv_lines=kind == "csv",
        progress=progress,
        **kwargs,
    )
