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

import csv
import gzip
import hashlib
import io
import json
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas._progress import step_reporter
from predictor_nas.exceptions import (
    InvalidParameterError,
    PredictorNASError,
    TableFormatError,
    TableNotFoundError,
)
from predictor_nas.spaces import SearchSpace, get_space
from predictor_nas.tables._registry import cache_dir
from predictor_nas.tables._schema import COST_METRIC
from predictor_nas.tables._writer import CurveData, DatasetData, MetricData, write_table

log = logging.getLogger(__name__)

#: File formats ``read_records`` knows, by name; ``None`` = from the file's suffix.
FORMATS = ("csv", "json", "jsonl", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DIRECTIONS = {"max": True, "min": False}
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


@dataclass(frozen=True)
class MetricSpec:
    """One metric to import.

    Attributes:
        name: Metric name in the table (``"val_acc"``); never ``train_time`` (see ``cost_column``).
        higher_is_better: Direction.
        unit: Unit of the values (``"%"``, ``"s"``, ``"M"``...).
        column: Source column; default ``name``. A different name is an explicit rename, recorded
            in the metric's ``source`` attribute.
        fidelity: Fixed fidelity (epochs) of this metric, e.g. 0 for a zero-cost proxy or a
            parameter count; default: the row's fidelity.
        description: What was measured (split, schedule...); stored with the metric.
        aggregated: The source's values are already means over trials (``per_seed = False``).
    """

    name: str
    higher_is_better: bool
    unit: str = ""
    column: str | None = None
    fidelity: int | None = None
    description: str = ""
    aggregated: bool = False

    @property
    def source_column(self) -> str:
        """The column the values are read from."""
        return self.column or self.name

    @classmethod
    def parse(cls, text: str) -> MetricSpec:
        """``NAME[=COLUMN]:max|min[:UNIT][@EPOCHS]``, e.g. ``val_acc:max:%`` or ``params:min:M@0``.

        Raises:
            InvalidParameterError: not of that form.
        """
        form = "NAME[=COLUMN]:max|min[:UNIT][@EPOCHS] (e.g. val_acc:max:% or params:min:M@0)"
        if not isinstance(text, str):
            raise InvalidParameterError(f"A metric spec must be {form}. Got {text!r} instead.")
        body, at, fid_text = text.partition("@")
        parts = body.split(":")
        if len(parts) not in (2, 3) or parts[1].strip() not in _DIRECTIONS:
            raise InvalidParameterError(f"A metric spec must be {form}. Got {text!r} instead.")
        name, _, column = parts[0].strip().partition("=")
        fidelity = None
        if at:
            if not fid_text.strip().isdigit():
                raise InvalidParameterError(
                    f"The fidelity after '@' in metric spec {text!r} must be an int >= 0 "
                    f"(epochs; 0 = untrained network). Got {fid_text!r} instead."
                )
            fidelity = int(fid_text)
        return cls(
            name=name.strip(),
            higher_is_better=_DIRECTIONS[parts[1].strip()],
            unit=parts[2].strip() if len(parts) == 3 else "",
            column=column.strip() or None,
            fidelity=fidelity,
        )


@dataclass(frozen=True)
class CurveSpec:
    """Per-epoch values of one metric: a column holding a list per row.

    Attributes:
        name: Curve name in the table (usually a metric name, e.g. ``"val_acc"``).
        column: Source column; default ``name``.
        epochs: Epoch number of each list position; default 1, 2, ... (the longest list's length;
            shorter lists are padded with NaN).
    """

    name: str
    column: str | None = None
    epochs: Sequence[int] | None = None

    @classmethod
    def parse(cls, text: str) -> CurveSpec:
        """``NAME[=COLUMN]``."""
        name, _, column = str(text).partition("=")
        return cls(name=name.strip(), column=column.strip() or None)


# ----------------------------------------------------------------------------- reading files
def _detect_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise InvalidParameterError(
                f"The 'fmt' parameter of read_records must be one of "
                f"{', '.join(map(repr, FORMATS))} or None. Got {fmt!r} instead."
            )
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if kind is None:
        raise InvalidParameterError(
            f"Cannot tell the format of {os.fspath(path)!r} from its name; name it .csv, .json, "
            ".jsonl or .parquet (optionally .gz) or pass the format (CLI: --format)."
        )
    return kind


def _text(path: Path, raw: bytes) -> str:
    if path.suffix.lower() == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise TableFormatError(
                f"{os.fspath(path)!r} is not a readable gzip file: {exc}"
            ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableFormatError(f"{os.fspath(path)!r} is not UTF-8 text: {exc}") from exc


def _read_csv(path: Path, text: str) -> list[dict[str, Any]]:
    delimiter = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise TableFormatError(f"{os.fspath(path)!r} is empty (no CSV header).") from None
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise TableFormatError(f"{os.fspath(path)!r}: the CSV header repeats column(s) {dup}.")
    rows = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise TableFormatError(
                f"{os.fspath(path)!r} line {line} has {len(row)} fields; the header has "
                f"{len(header)}."
            )
        rows.append(dict(zip(header, row)))
    return rows


def _read_json(path: Path, text: str, arch_column: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TableFormatError(f"{os.fspath(path)!r} is not valid JSON: {exc}") from exc
    if isinstance(data, Mapping):
        rows = []
        for arch, rec in data.items():
            if not isinstance(rec, Mapping):
                raise TableFormatError(
                    f"{os.fspath(path)!r}: the value of key {arch!r} must be an object (a record "
                    f"of metric columns); got {type(rec).__name__}."
                )
            rows.append({arch_column: arch, **rec})
        return rows
    if isinstance(data, list):
        return data
    raise TableFormatError(
        f"{os.fspath(path)!r} must hold a JSON list of records or an object "
        f"{{arch: record}}; it holds a {type(data).__name__}."
    )


def _read_jsonl(path: Path, text: str) -> list[dict[str, Any]]:
    rows = []
    for line, item in enumerate(text.splitlines(), start=1):
        if not item.strip():
            continue
        try:
            rows.append(json.loads(item))
        except json.JSONDecodeError as exc:
            raise TableFormatError(f"{os.fspath(path)!r} line {line} is not JSON: {exc}") from exc
    return rows


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pandas as pd  # optional: not a dependency of predictor_nas
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise InvalidParameterError(
            f"Reading the Parquet file {os.fspath(path)!r} needs pandas and pyarrow, which are "
            f"not installed ({exc}). Install them with `pip install pandas pyarrow`, or convert "
            "the file to CSV or JSON."
        ) from None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise TableFormatError(
            f"{os.fspath(path)!r} is not a readable Parquet file: {exc}"
        ) from exc
    rows = frame.to_dict(orient="records")
    for row in rows:
        for k, v in row.items():
            if isinstance(v, np.ndarray):
                row[k] = v.tolist()
    return rows


def read_records(
    path: str | PathLike, *, fmt: str | None = None, arch_column: str = "arch"
) -> tuple[list[dict[str, Any]], str]:
    """Records of a CSV / JSON / JSON-lines / Parquet file and the file's SHA-256.

    Args:
        path: The file (``.gz`` allowed for the text formats).
        fmt: ``"csv"``, ``"json"``, ``"jsonl"`` or ``"parquet"``; default from the suffix.
        arch_column: Where a JSON object's keys go when the file is ``{arch: record}``.

    Returns:
        ``(records, "sha256:<hex>")``. CSV values are strings (parsed later).

    Raises:
        TableNotFoundError: no such file.
        TableFormatError: the file does not parse.
        InvalidParameterError: unknown format, or Parquet without pandas + pyarrow.
    """
    p = Path(os.fspath(path)).expanduser()
    if not p.is_file():
        raise TableNotFoundError(f"No file to import at {os.fspath(path)!r}.")
    kind = _detect_format(p, fmt)
    raw = p.read_bytes()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    if kind == "parquet":
        return _read_parquet(p), digest
    text = _text(p, raw)
    if kind == "csv":
        return _read_csv(p, text), digest
    if kind == "json":
        return _read_json(p, text, arch_column), digest
    return _read_jsonl(p, text), digest


# ----------------------------------------------------------------------------- values
class _Where:
    """Names the source and the row in error messages."""

    def __init__(self, source: str, csv_lines: bool) -> None:
        self.source = source
        self.csv_lines = csv_lines

    def row(self, k: int) -> str:
        line = f" (line {k + 1})" if self.csv_lines else ""
        return f"{self.source!r} row {k}{line}"

    def error(self, k: int, problem: str) -> TableFormatError:
        return TableFormatError(f"{self.row(k)}: {problem}")


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _number(v: Any, where: _Where, k: int, column: str) -> float:
    if _is_blank(v):
        return math.nan
    if isinstance(v, bool | np.bool_):
        raise where.error(k, f"column {column!r} holds {v!r}; a number is needed.")
    try:
        x = float(v.strip() if isinstance(v, str) else v)
    except (TypeError, ValueError):
        raise where.error(k, f"column {column!r} holds {v!r}, not a number.") from None
    if math.isinf(x):
        raise where.error(k, f"column {column!r} holds {v!r}; values must be finite (blank = NaN).")
    return x


def _as_list(v: Any, where: _Where, k: int, column: str) -> list[Any] | None:
    """The list a cell holds (a JSON list, or JSON text of one), else ``None``."""
    if isinstance(v, list | tuple | np.ndarray):
        return list(v)
    if isinstance(v, str) and v.strip().startswith("["):
        try:
            parsed = json.loads(v)
        except json.JSONDecodeError as exc:
            raise where.error(k, f"column {column!r} holds {v!r}, not a JSON list: {exc}") from None
        if isinstance(parsed, list):
            return parsed
    return None


def _seed_key(v: Any, where: _Where, k: int, column: str) -> tuple[int, Any]:
    """Sort key of a seed value: ints in numeric order, then other strings."""
    if _is_blank(v):
        raise where.error(k, f"the seed column {column!r} is empty.")
    if isinstance(v, bool):
        raise where.error(k, f"the seed column {column!r} holds {v!r}; seeds are ints or names.")
    text = str(v).strip()
    try:
        f = float(text)
        if f.is_integer():
            return (0, int(f))
    except ValueError:
        pass
    return (1, text)


def _fidelity(v: Any, where: _Where, k: int, column: str) -> int:
    try:
        f = float(str(v).strip())
    except ValueError:
        f = -1.0
    if _is_blank(v) or isinstance(v, bool) or not f.is_integer() or f < 0:
        raise where.error(
            k, f"the fidelity column {column!r} holds {v!r}; fidelities are epochs, ints >= 0."
        )
    return int(f)


def _suffix_columns(columns: Iterable[str], column: str) -> dict[str, int]:
    """Seed-suffixed columns of ``column`` (``col_seed1``, ``col-seed-2``, ``col_3``) -> k."""
    pattern = re.compile(re.escape(column) + r"(?:[_.-]?seed[_.-]?|_)(\d+)$")
    return {c: int(m.group(1)) for c in columns if (m := pattern.fullmatch(c))}


# ----------------------------------------------------------------------------- import
@dataclass
class _Cells:
    """Values of one (dataset, metric, fidelity) keyed by (arch row, trial key)."""

    values: dict[tuple[int, tuple], tuple[Any, int]]
    columns: set[str]
    trial_kinds: set[str]


def _check_args(
    space: SearchSpace,
    name: str,
    metrics: Sequence[MetricSpec],
    dataset: str | None,
    dataset_column: str | None,
    fidelity: int | None,
    fidelity_column: str | None,
    cost_column: str | None,
    curves: Sequence[CurveSpec],
) -> None:
    owner = "import_records"
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameterError(
            f"The 'name' parameter of {owner} must be a table name of letters, digits and "
            f"'_.+-' (it names the file <name>.h5). Got {name!r} instead."
        )
    if not metrics:
        raise InvalidParameterError(
            f"The 'metrics' parameter of {owner} must list at least one metric "
            "(CLI: --metric NAME:max|min[:UNIT]). Got none instead."
        )
    seen: set[str] = set()
    for m in metrics:
        if not isinstance(m, MetricSpec):
            raise InvalidParameterError(
                f"The 'metrics' parameter of {owner} must hold MetricSpec or spec strings. Got "
                f"{m!r} instead."
            )
        if not m.name or not _NAME.match(m.name):
            raise InvalidParameterError(
                f"Metric names are letters, digits and '_.+-'. Got {m.name!r} instead."
            )
        if m.name == COST_METRIC:
            raise InvalidParameterError(
                f"{COST_METRIC!r} is the table's training cost in seconds; import it with "
                "cost_column (CLI: --cost-column COLUMN), not as a metric."
            )
        if m.name in seen:
            raise InvalidParameterError(f"Metric {m.name!r} is listed twice.")
        seen.add(m.name)
    if (dataset is None) == (dataset_column is None):
        raise InvalidParameterError(
            f"{owner} needs exactly one of 'dataset' (a fixed dataset name, CLI --dataset) and "
            f"'dataset_column' (CLI --dataset-column). Got dataset={dataset!r}, "
            f"dataset_column={dataset_column!r}."
        )
    if dataset is not None and not _NAME.match(str(dataset)):
        raise InvalidParameterError(
            f"The 'dataset' parameter of {owner} must be a name of letters, digits and '_.+-'. "
            f"Got {dataset!r} instead."
        )
    if fidelity is not None and (
        isinstance(fidelity, bool) or not isinstance(fidelity, int) or fidelity < 0
    ):
        raise InvalidParameterError(
            f"The 'fidelity' parameter of {owner} must be an int >= 0 (training epochs of the "
            f"values). Got {fidelity!r} instead."
        )
    if fidelity is not None and fidelity_column is not None:
        raise InvalidParameterError(f"{owner} takes 'fidelity' or 'fidelity_column', not both.")
    if fidelity is None and fidelity_column is None and any(m.fidelity is None for m in metrics):
        raise InvalidParameterError(
            f"{owner} needs the training epochs the values were measured at: pass 'fidelity' "
            "(CLI --fidelity EPOCHS), a 'fidelity_column', or a fidelity per metric (@EPOCHS)."
        )
    if cost_column is not None and fidelity is None and fidelity_column is None:
        raise InvalidParameterError(
            f"{owner} needs 'fidelity' or 'fidelity_column' with a 'cost_column': the training "
            "seconds are stored at the fidelity (epochs) they were measured at."
        )
    names = [c.name for c in curves]
    if len(set(names)) != len(names) or any(not n or not _NAME.match(n) for n in names):
        raise InvalidParameterError(f"Curve names must be distinct names. Got {names!r} instead.")


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
    _check_args(
        space_obj,
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
    w = _Where(where, csv_lines)
    shown = Path(where).name or where  # stored attributes name the file, not the machine path
    if not records:
        raise TableFormatError(f"{where!r} holds no records.")
    all_columns: set[str] = set()
    for k, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise w.error(k, f"a record must be an object of columns; got {type(rec).__name__}.")
        all_columns.update(map(str, rec.keys()))
    required = [arch_column, dataset_column, fidelity_column, seed_column, cost_column]
    required += [c.column or c.name for c in curve_specs]
    missing = [c for c in required if c is not None and c not in all_columns]
    suffixed = {m.name: _suffix_columns(all_columns, m.source_column) for m in metric_specs}
    missing += [
        m.source_column
        for m in metric_specs
        if m.source_column not in all_columns and not suffixed[m.name]
    ]
    if missing:
        raise TableFormatError(
            f"{where!r} has no column(s) {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(map(repr, sorted(all_columns)))}."
        )

    arch_rows: dict[str, int] = {}
    cells: dict[tuple[str, str, int], _Cells] = {}
    curve_cells: dict[tuple[str, str], dict[tuple[int, tuple], tuple[list[Any], int]]] = {}
    ds_fids: dict[str, set[int]] = {}
    seed_values: set[tuple[int, Any]] = set()

    def put(
        key: tuple[str, str, int], arch_row: int, trial: tuple, value: Any, k: int, column: str
    ) -> None:
        c = cells.setdefault(key, _Cells({}, set(), set()))
        if (arch_row, trial) in c.values:
            first = c.values[(arch_row, trial)][1]
            raise w.error(
                k,
                f"architecture {list(arch_rows)[arch_row]!r} has a second {key[1]!r} value for "
                f"dataset {key[0]!r}, fidelity {key[2]}, {_trial_text(trial)}; the first is in "
                f"{w.row(first)}. Several trainings of one architecture need a seed column "
                "(CLI --seed-column) or a list of values per cell.",
            )
        c.values[(arch_row, trial)] = (value, k)
        c.columns.add(column)
        c.trial_kinds.add(trial[0])

    for k, rec in enumerate(records, start=1):
        text = rec.get(arch_column)
        if not isinstance(text, str) or not text.strip():
            raise w.error(
                k, f"the architecture column {arch_column!r} is empty or not a string ({text!r})."
            )
        try:
            arch_str = space_obj.format(space_obj.parse(text))
        except PredictorNASError as exc:
            raise w.error(
                k, f"{text!r} is not an architecture of space {space_obj.name!r}: {exc}"
            ) from None
        arch_row = arch_rows.setdefault(arch_str, len(arch_rows))
        ds = dataset if dataset is not None else rec.get(dataset_column)
        if not isinstance(ds, str) or not _NAME.match(ds.strip()):
            raise w.error(
                k,
                f"the dataset column {dataset_column!r} holds {ds!r}; a dataset "
                "name of letters, digits and '_.+-' is needed.",
            )
        ds = ds.strip()
        row_fid = (
            fidelity
            if fidelity_column is None
            else _fidelity(rec.get(fidelity_column), w, k, fidelity_column)
        )
        seed = None
        if seed_column is not None:
            seed = _seed_key(rec.get(seed_column), w, k, seed_column)
            seed_values.add(seed)
        for m in metric_specs:
            fid = m.fidelity if m.fidelity is not None else row_fid
            key = (ds, m.name, fid)
            col = m.source_column
            if col in rec:
                v = rec[col]
                items = _as_list(v, w, k, col)
                if items is None:
                    trial = ("seed", seed) if seed is not None else ("pos", 0)
                    put(key, arch_row, trial, _number(v, w, k, col), k, col)
                    continue
                if seed is not None:
                    raise w.error(
                        k,
                        f"column {col!r} holds a list of trials, but the row also "
                        f"has a seed ({seed_column!r}); use one or the other.",
                    )
                for i, item in enumerate(items):
                    put(key, arch_row, ("pos", i), _number(item, w, k, col), k, col)
            else:
                for c, n in suffixed[m.name].items():
                    if c in rec:
                        if seed is not None:
                            raise w.error(
                                k,
                                f"seed-suffixed column {c!r} and a seed column "
                                f"({seed_column!r}) cannot be combined.",
                            )
                        put(key, arch_row, ("suffix", n), _number(rec[c], w, k, c), k, c)
            ds_fids.setdefault(ds, set()).add(fid)
        if cost_column is not None:
            key = (ds, COST_METRIC, row_fid)
            v = _number(rec.get(cost_column), w, k, cost_column)
            if v < 0:
                raise w.error(
                    k, f"the cost column {cost_column!r} holds {v!r}; training seconds are >= 0."
                )
            trial = ("seed", seed) if seed is not None else ("pos", 0)
            put(key, arch_row, trial, v, k, cost_column)
        for cs in curve_specs:
            col = cs.column or cs.name
            v = rec.get(col)
            if _is_blank(v):
                continue
            items = _as_list(v, w, k, col)
            if items is None:
                raise w.error(
                    k, f"curve column {col!r} holds {v!r}; a list of per-epoch values is needed."
                )
            values = [_number(x, w, k, col) for x in items]
            trial = ("seed", seed) if seed is not None else ("pos", 0)
            cc = curve_cells.setdefault((ds, cs.name), {})
            if (arch_row, trial) in cc:
                raise w.error(
                    k,
                    f"architecture {arch_str!r} has a second {cs.name!r} curve for "
                    f"dataset {ds!r}, {_trial_text(trial)}; the first is in "
                    f"{w.row(cc[(arch_row, trial)][1])}.",
                )
            cc[(arch_row, trial)] = (values, k)

    archs = list(arch_rows)
    seed_order = {s: i for i, s in enumerate(sorted(seed_values))}
    seed_text = (
        f"trial positions 0..{len(seed_order) - 1} = values {[s[1] for s in sorted(seed_values)]}"
        f" of the seed column {seed_column!r}"
        if seed_order
        else ""
    )
    datasets: dict[str, DatasetData] = {}
    say = step_reporter(progress, log)
    for ds in sorted({k[0] for k in cells} | set(ds_fids)):
        say(f"tables import {name}: dataset {ds} ({len(archs)} archs) ...")
        metrics_out: dict[str, MetricData] = {}
        for m in metric_specs:
            arrays: dict[int, np.ndarray] = {}
            notes: list[str] = []
            for (d, mn, fid), c in sorted(cells.items(), key=lambda t: t[0][2]):
                if d != ds or mn != m.name:
                    continue
                arr, note = _array(c, len(archs), seed_order, seed_text)
                arrays[fid] = arr
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
        metrics_out[COST_METRIC] = _cost(
            cells,
            ds,
            ds_fids.get(ds, {0}),
            len(archs),
            seed_order,
            seed_text,
            cost_column,
            cost_description,
            shown,
        )
        curves_out = {}
        for (d, cname), cc in curve_cells.items():
            if d == ds:
                spec = next(c for c in curve_specs if c.name == cname)
                curves_out[cname] = _curve(cc, len(archs), seed_order, spec, w)
        datasets[ds] = DatasetData(
            metrics=metrics_out,
            curves=curves_out,
            description=f"{ds}: imported from {shown!r} ({len(archs)} {space_obj.name} "
            "architectures).",
        )
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


def _trial_text(trial: tuple) -> str:
    kind, v = trial
    if kind == "seed":
        return f"seed {v[1]!r}"
    if kind == "suffix":
        return f"seed-suffixed column number {v}"
    return f"trial position {v}"


def _positions(c: _Cells | dict, seed_order: dict) -> dict[tuple, int]:
    keys = c.values if isinstance(c, _Cells) else c
    trials = {t for (_, t) in keys}
    suffixes = sorted(v for kind, v in trials if kind == "suffix")
    pos: dict[tuple, int] = {}
    for kind, v in trials:
        if kind == "seed":
            pos[(kind, v)] = seed_order[v]
        elif kind == "suffix":
            pos[(kind, v)] = suffixes.index(v)
        else:
            pos[(kind, v)] = v
    return pos


def _array(c: _Cells, n: int, seed_order: dict, seed_text: str) -> tuple[np.ndarray, str]:
    pos = _positions(c, seed_order)
    width = max(pos.values()) + 1
    arr = np.full((n, width), np.nan)
    for (row, trial), (v, _k) in c.values.items():
        arr[row, pos[trial]] = v
    kinds = c.trial_kinds
    if "seed" in kinds:
        note = seed_text
    elif "suffix" in kinds:
        note = f"trial positions 0..{width - 1} = columns {', '.join(sorted(c.columns))}"
    elif width > 1:
        note = f"trial positions 0..{width - 1} = list positions in the cells"
    else:
        note = "one value per architecture"
    return arr, note


def _cost(
    cells: dict,
    ds: str,
    fids: set[int],
    n: int,
    seed_order: dict,
    seed_text: str,
    cost_column: str | None,
    cost_description: str,
    shown: str,
) -> MetricData:
    if cost_column is None:
        return MetricData(
            values={f: np.full((n, 1), np.nan) for f in sorted(fids)},
            unit="s",
            description="Training cost: NOT MEASURED (the source has no cost column); NaN "
            "everywhere, so cost-aware budgets cannot use this table.",
            higher_is_better=False,
            source=f"{shown!r} (no cost column)",
        )
    values = {}
    for (d, mn, fid), c in cells.items():
        if d == ds and mn == COST_METRIC:
            values[fid], _ = _array(c, n, seed_order, seed_text)
    return MetricData(
        values=values,
        unit="s",
        description=(cost_description + " " if cost_description else "")
        + f"Training seconds from the cost column {cost_column!r}.",
        higher_is_better=False,
        source=f"{shown!r} column {cost_column!r}",
    )


def _curve(
    cc: dict[tuple[int, tuple], tuple[list[float], int]],
    n: int,
    seed_order: dict,
    spec: CurveSpec,
    w: _Where,
) -> CurveData:
    pos = _positions(cc, seed_order)
    width = max(pos.values()) + 1
    length = max(len(v) for v, _ in cc.values())
    epochs = list(spec.epochs) if spec.epochs is not None else list(range(1, length + 1))
    if len(epochs) < length:
        k = next(k for v, k in cc.values() if len(v) > len(epochs))
        raise w.error(k, f"curve {spec.name!r} has more points than its {len(epochs)} epochs.")
    arr = np.full((n, len(epochs), width), np.nan, dtype=np.float32)
    for (row, trial), (values, _k) in cc.items():
        arr[row, : len(values), pos[trial]] = values
    return CurveData(values=arr, epochs=epochs)


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
    kind = _detect_format(Path(where), fmt)
    kwargs.setdefault("source", f"{Path(where).name} {digest}")
    return import_records(
        records,
        arch_column=arch_column,
        where=where,
        csv_lines=kind == "csv",
        progress=progress,
        **kwargs,
    )
