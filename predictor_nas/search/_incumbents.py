"""Anytime incumbents of a search: the best query so far after each query (table, surrogate)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from optuna.trial import FrozenTrial

from predictor_nas.exceptions import SearchError
from predictor_nas.tables import Table


def incumbent_trajectory(
    trials: Sequence[FrozenTrial],
    table: Table,
    dataset: str,
    *,
    metric: str = "val_acc",
    maximize: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Anytime incumbent of a search, chosen by the observed objective.

    Args:
        trials: Completed trials in query order; each has user attr ``"arch"``.
        table, dataset, metric: Where to read the incumbent's mean validation value.
        maximize: Direction of the objective.

    Returns:
        ``(val, regret, rows)``: the incumbent's mean validation value after each query, shape (n,);
        its regret to the table's best, shape (n,); and the incumbent's table row after each query.
    """
    rows = table.rows([t.user_attrs["arch"] for t in trials])
    observed = np.array([t.value for t in trials], dtype=np.float64)
    if not maximize:
        observed = -observed
    inc_rows = []
    best = -math.inf
    cur = -1
    for r, v in zip(rows, observed):
        if v > best:
            best, cur = v, int(r)
        inc_rows.append(cur)
    val = table.query_many(np.array(inc_rows, dtype=np.int64), metric, dataset=dataset)
    _, top = table.best(metric, dataset=dataset)
    regret = (top - val) if maximize else (val - top)
    return val, regret, inc_rows


def _surrogate_incumbents(
    trials: Sequence[FrozenTrial], maximize: bool
) -> tuple[np.ndarray, FrozenTrial]:
    """Anytime incumbent value after each query, shape (n,), and the final incumbent's trial
    (the surrogate is deterministic: the observed value is the value)."""
    vals = np.empty(len(trials), dtype=np.float64)
    best: FrozenTrial | None = None
    for i, t in enumerate(trials):
        if best is None or (t.value > best.value if maximize else t.value < best.value):
            best = t
        vals[i] = best.value
    if best is None:
        raise SearchError("The search made no query; give a budget >= 1.")
    return vals, best
