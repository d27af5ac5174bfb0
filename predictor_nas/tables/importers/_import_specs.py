"""What the generic importer imports: metric and curve specs, and the check of its arguments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.tables._schema import COST_METRIC

_DIRECTIONS = {"max": True, "min": False}
NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


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


def check_import_args(
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
    if not isinstance(name, str) or not NAME.match(name):
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
        if not m.name or not NAME.match(m.name):
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
    if dataset is not None and not NAME.match(str(dataset)):
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
    if len(set(names)) != len(names) or any(not n or not NAME.match(n) for n in names):
        raise InvalidParameterError(f"Curve names must be distinct names. Got {names!r} instead.")
