"""Read a curve corpus: learning curves recorded from this project's own training runs.

Format ``predictor_nas.curve_corpus``, version 1: JSON lines, gzip-compressed if the file name
ends in ``.gz``. The first line is a header object::

    {"format": "predictor_nas.curve_corpus", "format_version": 1, "name": ..., "description": ...,
     "epochs": E, "curves": {"<metric>": {"unit": ..., "higher_is_better": ..., ...}, ...},
     "n_runs": n (optional; checked when present), ...any other settings...}

and every further line is one training run::

    {"run": <int, unique>, "<metric>": [E finite numbers], ..., <scalar fields>}

with one list of E values per metric the header names (value after epoch 1, 2, ..., E) and any
scalar fields (numbers, strings or null), e.g. ``arch``, ``seed``, ``lr``, ``batch_size``,
``test_acc``, ``n_params``, ``seconds``. ``benchmarks/record_curves_digits.py`` writes one
(``benchmarks/results/digits_nb201_curves.jsonl.gz``).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas._validation import param_error
from predictor_nas.exceptions import DatasetError

CURVE_CORPUS_FORMAT = "predictor_nas.curve_corpus"
CURVE_CORPUS_VERSION = 1
_OWNER = "load_curve_corpus"


def _read_records(p: Path) -> list[tuple[int, Any]]:
    """(line number, parsed JSON) of every non-blank line; DatasetError on unreadable input."""
    opener = gzip.open if p.name.endswith(".gz") else open
    out = []
    try:
        with opener(p, "rt", encoding="utf-8") as fh:
            for k, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    out.append((k, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise DatasetError(
                        f"{_OWNER}: line {k} of {p} is not valid JSON ({exc.msg}); the corpus is "
                        "damaged or truncated."
                    ) from exc
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise DatasetError(f"{_OWNER}: cannot read {p}: {exc}") from exc
    return out


def _column(name: str, values: list[Any]) -> np.ndarray | list[Any]:
    """Scalar field values as int64 / float64 (None -> NaN) arrays, or a list if not numeric."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values):
        return np.asarray([math.nan if v is None else v for v in values], dtype=np.float64)
    return list(values)


def load_curve_corpus(
    path: str | os.PathLike[str], *, metric: str = "val_acc", with_info: bool = False
) -> np.ndarray | tuple[np.ndarray, dict[str, Any]]:
    """Per-epoch curves of every run in a curve corpus (see the module docstring), in run order.

    Args:
        path: The corpus file (``.jsonl`` or ``.jsonl.gz``).
        metric: Which curve to return; one of the metrics the header's ``curves`` lists (the
            digits corpus: ``"val_acc"`` (%) or ``"train_loss"`` (nats)).
        with_info: Also return a dict with ``header`` (the header object), ``metric_info``
            (the header's entry for ``metric``) and one entry per scalar run field: int64
            array (n,) if all values are ints, float64 array (n,) if they are numbers or null
            (null -> NaN), else a list of n values (e.g. ``arch`` strings).

    Returns:
        float64 array (n, E) with n runs sorted by ``run`` and E = the header's ``epochs``, or
        ``(curves, info)``.

    Raises:
        InvalidParameterError: ``path`` is not a path, or ``metric`` is not in the corpus.
        DatasetError: the file is missing, unreadable, not a curve corpus, of another format
            version, holds no runs, or a run is malformed (missing or duplicate ``run``, a
            curve of the wrong length or with a non-finite value, fewer or more runs than the
            header's ``n_runs``); the message names the line.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise param_error("path", _OWNER, "a str or os.PathLike file path", type(path).__name__)
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{_OWNER}: no curve corpus file at {p}.")
    records = _read_records(p)
    if not records:
        raise DatasetError(f"{_OWNER}: {p} is empty.")
    _, header = records[0]
    if not isinstance(header, dict) or header.get("format") != CURVE_CORPUS_FORMAT:
        raise DatasetError(
            f"{_OWNER}: {p} is not a curve corpus: its first line must be a header object with "
            f"format {CURVE_CORPUS_FORMAT!r}."
        )
    if header.get("format_version") != CURVE_CORPUS_VERSION:
        raise DatasetError(
            f"{_OWNER}: {p} has format_version {header.get('format_version')!r}; this version "
            f"of predictor_nas reads version {CURVE_CORPUS_VERSION}."
        )
    metrics = header.get("curves")
    epochs = header.get("epochs")
    if (
        not isinstance(metrics, dict)
        or not metrics
        or isinstance(epochs, bool)
        or not isinstance(epochs, int)
        or epochs < 1
    ):
        raise DatasetError(
            f"{_OWNER}: the header of {p} needs 'curves' (a non-empty object of metrics) and "
            "'epochs' (an int >= 1)."
        )
    if metric not in metrics:
        listed = ", ".join(repr(m) for m in metrics)
        raise param_error("metric", _OWNER, f"one of the corpus's curves ({listed})", metric)

    runs: list[tuple[int, dict[str, Any]]] = []
    seen: dict[int, int] = {}
    for line, rec in records[1:]:
        if not isinstance(rec, dict):
            raise DatasetError(f"{_OWNER}: line {line} of {p} is not a JSON object.")
        rid = rec.get("run")
        if isinstance(rid, bool) or not isinstance(rid, int):
            raise DatasetError(f"{_OWNER}: line {line} of {p} has no int 'run' field.")
        if rid in seen:
            raise DatasetError(
                f"{_OWNER}: run {rid} appears twice in {p} (lines {seen[rid]} and {line})."
            )
        seen[rid] = line
        for m in metrics:
            vals = rec.get(m)
            ok = (
                isinstance(vals, list)
                and len(vals) == epochs
                and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in vals
                )
            )
            if not ok:
                raise DatasetError(
                    f"{_OWNER}: run {rid} (line {line} of {p}) must have {m!r} as a list of "
                    f"{epochs} finite numbers (one per epoch)."
                )
        runs.append((rid, rec))
    if not runs:
        raise DatasetError(f"{_OWNER}: {p} holds a header but no runs.")
    n_runs = header.get("n_runs")
    if n_runs is not None and n_runs != len(runs):
        raise DatasetError(
            f"{_OWNER}: the header of {p} announces {n_runs} runs but the file holds "
            f"{len(runs)}; it is truncated or was edited."
        )
    runs.sort(key=lambda item: item[0])
    curves = np.asarray([rec[metric] for _, rec in runs], dtype=np.float64)
    if not with_info:
        return curves
    info: dict[str, Any] = {"header": header, "metric_info": metrics[metric]}
    fields: list[str] = []
    for _, rec in runs:
        fields.extend(k for k in rec if k not in metrics and k not in fields)
    for k in fields:
        vals = [rec.get(k) for _, rec in runs]
        if any(isinstance(v, (list, dict)) for v in vals):
            info[k] = vals
        else:
            info[k] = _column(k, vals)
    return curves, info
