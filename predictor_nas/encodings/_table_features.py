"""Per-architecture features read from a benchmark table (zero-cost proxies, cost, size)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces import Arch
from predictor_nas.tables import Table

#: The zero-cost proxies of the nb201-rich table used by default (NAS-Bench-Suite-Zero names).
DEFAULT_ZC = (
    "zc_epe_nas",
    "zc_fisher",
    "zc_flops",
    "zc_grad_norm",
    "zc_grasp",
    "zc_jacov",
    "zc_l2_norm",
    "zc_nwot",
    "zc_params",
    "zc_plain",
    "zc_snip",
    "zc_synflow",
    "zc_zen",
)


class TableFeatures:
    """Reads metrics of a table as features, with NaN filled and a missing-value flag.

    Args:
        table: The table holding the features.
        dataset: Dataset of the table.
        metrics: Metric names (at their lowest stored fidelity, which is 0 for proxies).
        log_scale: Apply ``sign(v) * log1p(|v|)`` (proxies span many orders of magnitude).
    """

    def __init__(
        self, table: Table, dataset: str, metrics: Sequence[str], *, log_scale: bool = True
    ) -> None:
        if not metrics:
            raise InvalidParameterError("TableFeatures needs at least one metric name.")
        for m in metrics:
            if m not in table.metrics(dataset):
                raise InvalidParameterError(
                    f"The 'metrics' parameter of TableFeatures must name metrics of "
                    f"{table.name}/{dataset} (available: {', '.join(table.metrics(dataset))}). "
                    f"Got {m!r} instead."
                )
            if m.startswith(("val_", "test_")):
                raise InvalidParameterError(
                    f"{m!r} is an accuracy, not a feature: using it would leak the target."
                )
        self.table = table
        self.dataset = dataset
        self.metrics = tuple(metrics)
        self.log_scale = log_scale

    @property
    def names(self) -> list[str]:
        """Feature names: the metrics, then ``missing`` (1 where any metric was NaN)."""
        return [*self.metrics, "missing"]

    def transform(self, archs: Sequence[Arch] | np.ndarray) -> np.ndarray:
        """Features of ``archs``: float32 (n, len(metrics) + 1); NaN -> 0 with the flag set."""
        rows = self.table.rows(archs)
        cols = []
        for m in self.metrics:
            fid = self.table.fidelities(m, dataset=self.dataset)[0]
            cols.append(self.table.query_many(rows, m, dataset=self.dataset, fidelity=fid))
        x = np.stack(cols, axis=1) if cols else np.zeros((len(rows), 0))
        missing = np.isnan(x).any(axis=1, keepdims=True)
        x = np.nan_to_num(x, nan=0.0)
        if self.log_scale:
            x = np.sign(x) * np.log1p(np.abs(x))
        return np.concatenate([x, missing], axis=1).astype(np.float32)
