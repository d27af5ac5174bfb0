"""Reading a user's benchmark file (CSV, JSON, JSON lines, Parquet) into records.

Part of the generic importer (``_generic.py``); ``read_records`` is public through
``predictor_nas.tables.importers``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas.exceptions import InvalidParameterError, TableFormatError, TableNotFoundError

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


def detect_format(path: Path, fmt: str | None) -> str:
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
    kind = detect_format(p, fmt)
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
