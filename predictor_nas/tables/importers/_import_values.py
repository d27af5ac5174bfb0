"""Cell values of the generic importer: parsing one source value, and trial positions -> arrays."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from predictor_nas.exceptions import TableFormatError
from predictor_nas.tables._schema import COST_METRIC
from predictor_nas.tables._writer import CurveData, MetricData
from predictor_nas.tables.importers._import_specs import CurveSpec


class Where:
    """Names the source and the row in error messages."""

    def __init__(self, source: str, csv_lines: bool) -> None:
        self.source = source
        self.csv_lines = csv_lines

    def row(self, k: int) -> str:
        line = f" (line {k + 1})" if self.csv_lines else ""
        return f"{self.source!r} row {k}{line}"

    def error(self, k: int, problem: str) -> TableFormatError:
        return TableFormatError(f"{self.row(k)}: {problem}")


def is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def number(v: Any, where: Where, k: int, column: str) -> float:
    if is_blank(v):
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


def as_list(v: Any, where: Where, k: int, column: str) -> list[Any] | None:
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


def seed_key(v: Any, where: Where, k: int, column: str) -> tuple[int, Any]:
    """Sort key of a seed value: ints in numeric order, then other strings."""
    if is_blank(v):
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


def fidelity_value(v: Any, where: Where, k: int, column: str) -> int:
    try:
        f = float(str(v).strip())
    except ValueError:
        f = -1.0
    if is_blank(v) or isinstance(v, bool) or not f.is_integer() or f < 0:
        raise where.error(
            k, f"the fidelity column {column!r} holds {v!r}; fidelities are epochs, ints >= 0."
        )
    return int(f)


def suffix_columns(columns: Iterable[str], column: str) -> dict[str, int]:
    """Seed-suffixed columns of ``column`` (``col_seed1``, ``col-seed-2``, ``col_3``) -> k."""
    pattern = re.compile(re.escape(column) + r"(?:[_.-]?seed[_.-]?|_)(\d+)$")
    return {c: int(m.group(1)) for c in columns if (m := pattern.fullmatch(c))}


@dataclass
class Cells:
    """Values of one (dataset, metric, fidelity) keyed by (arch row, trial key)."""

    values: dict[tuple[int, tuple], tuple[Any, int]]
    columns: set[str]
    trial_kinds: set[str]


def trial_text(trial: tuple) -> str:
    kind, v = trial
    if kind == "seed":
        return f"seed {v[1]!r}"
    if kind == "suffix":
        return f"seed-suffixed column number {v}"
    return f"trial position {v}"


def positions(c: Cells | dict, seed_order: dict) -> dict[tuple, int]:
    keys = c.values if isinstance(c, Cells) else c
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


def trial_array(c: Cells, n: int, seed_order: dict, seed_text: str) -> tuple[np.ndarray, str]:
    pos = positions(c, seed_order)
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


def cost_metric(
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
            values[fid], _ = trial_array(c, n, seed_order, seed_text)
    return MetricData(
        values=values,
        unit="s",
        description=(cost_description + " " if cost_description else "")
        + f"Training seconds from the cost column {cost_column!r}.",
        higher_is_better=False,
        source=f"{shown!r} column {cost_column!r}",
    )


def curve_data(
    cc: dict[tuple[int, tuple], tuple[list[float], int]],
    n: int,
    seed_order: dict,
    spec: CurveSpec,
    w: Where,
) -> CurveData:
    pos = positions(cc, seed_order)
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
