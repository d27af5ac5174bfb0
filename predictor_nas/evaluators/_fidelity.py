"""Multi-fidelity evaluators: the value of an architecture after a given number of epochs, with
the simulated training seconds that costs.

Two kinds exist:

* :class:`TableFidelityEvaluator` - a benchmark table with a few fidelities (the ``nb201-rich``
  table: 12 and 200 epochs). NB201's 12-epoch numbers come from its separate ``hp='12'``
  schedule (a learning-rate schedule that ends at epoch 12), not from the first 12 epochs of the
  200-epoch run, so a 200-epoch evaluation is a new run from scratch and pays the full 200-epoch
  cost (``continues = False``). Only the value at the evaluated fidelity is revealed.
* :class:`SurrogateFidelityEvaluator` - the NB301 surrogate: any epoch 1..98 and the whole
  learning curve up to it. Training to a higher fidelity continues the same run
  (``continues = True``), paying only the extra seconds. The cost of training to epoch e is the
  running maximum of the surrogate's ``runtime`` over epochs 1..e (the raw output dips slightly
  near epoch 98; the running maximum keeps costs from going negative).
"""

from __future__ import annotations

import abc
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.evaluators._base import Evaluation, Evaluator
from predictor_nas.evaluators._surrogate import NB301SurrogateEvaluator
from predictor_nas.exceptions import InvalidParameterError, TableQueryError
from predictor_nas.spaces import Arch, SearchSpace, get_space
from predictor_nas.tables import COST_METRIC, Table, open_table

TEST_METRIC = "test_acc"


@dataclass(frozen=True)
class Observation:
    """What one training run to ``fidelity`` epochs reveals.

    Attributes:
        fidelity: Epochs trained.
        value: The objective (validation accuracy, %) after ``fidelity`` epochs.
        curve: Epoch -> value for every epoch the run reports (1..fidelity for a surrogate with
            curves, just ``{fidelity: value}`` for a table).
        cost_total: Simulated seconds to train from scratch to ``fidelity``.
    """

    fidelity: int
    value: float
    curve: dict[int, float] = field(default_factory=dict)
    cost_total: float = 0.0


class FidelityEvaluator(Evaluator):
    """Base class of the multi-fidelity evaluators ``run_multifidelity`` searches with.

    ``evaluate(arch, fidelity)`` is ``observe([arch], fidelity)`` as an ``Evaluation``;
    ``describe()["kind"]`` names the benchmark (``"table"``, ``"nb301-surrogate"``: the value
    stored with multi-fidelity studies), ``kind`` is ``"fidelity"``.

    Attributes:
        space: The search space.
        max_fidelity: Epochs of a full training (the objective's fidelity).
        min_fidelity: Fewest epochs an evaluation may use.
        levels: The only fidelities offered, ascending; ``None`` = every int in between.
        continues: Whether a run to a higher fidelity continues the run at a lower one (pays
            only the difference) rather than starting from scratch.
        has_curves: Whether observations carry the per-epoch curve.
    """

    kind = "fidelity"
    metric = "val_acc"
    higher_is_better = True
    space: SearchSpace
    max_fidelity: int
    min_fidelity: int
    levels: tuple[int, ...] | None
    continues: bool
    has_curves: bool

    @abc.abstractmethod
    def observe(self, archs: Sequence[Arch], fidelity: int) -> list[Observation]:
        """Train (look up) every arch to ``fidelity`` epochs; one ``Observation`` per arch."""

    @abc.abstractmethod
    def final_values(self, archs: Sequence[Arch]) -> np.ndarray:
        """True objective at ``max_fidelity`` (for reporting only), float64 (n,)."""

    def evaluate(self, arch: Arch | str, fidelity: int | None = None) -> Evaluation:
        """One arch trained (looked up) to ``fidelity`` epochs (``None``: ``max_fidelity``).

        Returns:
            ``Evaluation`` with the value at ``fidelity``, ``metrics = {metric: value}``,
            ``cost`` = seconds to train from scratch that far, and ``fidelity``.
        """
        f = self.max_fidelity if fidelity is None else fidelity
        obs = self.observe([self.space.coerce(arch)], f)[0]
        return Evaluation(
            value=obs.value,
            metrics={self.metric: obs.value},
            cost=obs.cost_total,
            fidelity=obs.fidelity,
        )

    def test_values(self, archs: Sequence[Arch]) -> np.ndarray | None:
        """Test accuracy at ``max_fidelity`` where the benchmark has it (reporting only)."""
        return None

    def optimum(self) -> float | None:
        """Best objective at ``max_fidelity`` over the whole space, when known (tables)."""
        return None

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-able identity (stored with a study so a resume uses the same benchmark)."""

    def check_fidelity(self, fidelity: int, owner: str) -> int:
        """``fidelity`` if this evaluator offers it, else the standard error."""
        lo, hi = self.min_fidelity, self.max_fidelity
        allowed = (
            f"one of {list(self.levels)}" if self.levels is not None else f"an int in [{lo}, {hi}]"
        )
        if isinstance(fidelity, bool) or not isinstance(fidelity, (int, np.integer)):
            raise param_error("fidelity", owner, allowed, fidelity)
        ok = fidelity in self.levels if self.levels is not None else lo <= fidelity <= hi
        if not ok:
            raise param_error("fidelity", owner, allowed, fidelity)
        return int(fidelity)


class TableFidelityEvaluator(FidelityEvaluator):
    """Look architectures up in a table at its stored fidelities (mean over training trials).

    Args:
        table: A ``Table`` or a table name / path (e.g. ``"nb201-rich"``).
        dataset: Dataset of the table.
        metric: Validation metric to maximise (``test_*`` refused).
        continues: Whether a higher fidelity continues a lower one (``False`` for NB201, whose
            12-epoch values come from a separate schedule).
    """

    def __init__(
        self,
        table: Table | str | os.PathLike,
        dataset: str,
        *,
        metric: str = "val_acc",
        continues: bool = False,
    ) -> None:
        owner = "TableFidelityEvaluator"
        self.table = table if isinstance(table, Table) else open_table(table)
        self.dataset = check_choice(dataset, "dataset", owner, self.table.datasets)
        self.metric = check_choice(metric, "metric", owner, self.table.metrics(dataset))
        if metric.startswith("test"):
            raise InvalidParameterError(
                f"Searching on {metric!r} would select architectures by test accuracy; "
                "search on a validation metric."
            )
        info = self.table.metric_info(metric, dataset=dataset)
        if not info.higher_is_better:
            raise param_error("metric", owner, "a metric where higher is better", metric)
        self.space = get_space(self.table.space)
        self.levels = tuple(int(f) for f in info.fidelities)
        cost_fids = self.table.fidelities(COST_METRIC, dataset=dataset)
        missing = [f for f in self.levels if f not in cost_fids]
        if missing:
            raise InvalidParameterError(
                f"Table {self.table.name!r} has no {COST_METRIC} at fidelities {missing} of "
                f"{dataset}/{metric}; a multi-fidelity search needs a cost per fidelity."
            )
        self.min_fidelity = self.levels[0]
        self.max_fidelity = self.levels[-1]
        self.continues = bool(continues)
        self.has_curves = False

    def __repr__(self) -> str:
        return f"TableFidelityEvaluator(table={self.table.name!r}, dataset={self.dataset!r})"

    def observe(self, archs: Sequence[Arch], fidelity: int) -> list[Observation]:
        """Values and costs at ``fidelity`` (one of ``levels``)."""
        f = self.check_fidelity(fidelity, "TableFidelityEvaluator.observe")
        rows = self.table.rows(list(archs))
        vals = self.table.query_many(rows, self.metric, dataset=self.dataset, fidelity=f)
        costs = self.table.cost_many(rows, dataset=self.dataset, fidelity=f)
        bad = np.flatnonzero(np.isnan(vals) | np.isnan(costs))
        if bad.size:
            raise TableQueryError(
                f"Table {self.table.name!r} has no {self.dataset}/{self.metric} value or cost at "
                f"fidelity {f} for {self.table.archs[rows[bad[0]]]}."
            )
        return [
            Observation(fidelity=f, value=float(v), curve={f: float(v)}, cost_total=float(c))
            for v, c in zip(vals, costs)
        ]

    def final_values(self, archs: Sequence[Arch]) -> np.ndarray:
        """Mean ``metric`` at the top fidelity, (n,)."""
        return self.table.query_many(
            list(archs), self.metric, dataset=self.dataset, fidelity=self.max_fidelity
        )

    def test_values(self, archs: Sequence[Arch]) -> np.ndarray | None:
        """Mean ``test_acc`` at the top fidelity, or ``None`` when the table lacks it there
        (e.g. ImageNet16-120 in ``nb201-rich``: test accuracy at 12 epochs only)."""
        if TEST_METRIC not in self.table.metrics(self.dataset):
            return None
        if self.max_fidelity not in self.table.fidelities(TEST_METRIC, dataset=self.dataset):
            return None
        return self.table.query_many(
            list(archs), TEST_METRIC, dataset=self.dataset, fidelity=self.max_fidelity
        )

    def optimum(self) -> float | None:
        """The table's best mean ``metric`` at the top fidelity."""
        return self.table.best(self.metric, dataset=self.dataset, fidelity=self.max_fidelity)[1]

    def describe(self) -> dict[str, Any]:
        """Table name and content hash, dataset, metric."""
        return {
            "kind": "table",
            "table": self.table.name,
            "table_content_hash": self.table.content_hash,
            "dataset": self.dataset,
            "metric": self.metric,
            "continues": self.continues,
        }


class SurrogateFidelityEvaluator(FidelityEvaluator):
    """The NB301 surrogate as a multi-fidelity evaluator: full curves, continued runs.

    Curves already computed are cached per architecture (the surrogate is deterministic), so a
    promotion only pays the surrogate call for the epochs not seen before.

    Args:
        surrogate: An ``NB301SurrogateEvaluator`` or the folder of YAHPO's nb301 files.
        max_fidelity: Epochs of a full training (<= 98).
        min_fidelity: Fewest epochs an evaluation may use (>= 1).
    """

    def __init__(
        self,
        surrogate: Any,
        *,
        max_fidelity: int = 98,
        min_fidelity: int = 1,
    ) -> None:
        owner = "SurrogateFidelityEvaluator"
        self.surrogate = (
            surrogate
            if isinstance(surrogate, NB301SurrogateEvaluator)
            else NB301SurrogateEvaluator(surrogate)
        )
        hi = check_int(max_fidelity, "max_fidelity", owner, minimum=2)
        if hi > self.surrogate.max_epoch:
            raise param_error(
                "max_fidelity", owner, f"an int in [2, {self.surrogate.max_epoch}]", max_fidelity
            )
        lo = check_int(min_fidelity, "min_fidelity", owner, minimum=self.surrogate.min_epoch)
        if lo > hi:
            raise param_error("min_fidelity", owner, f"an int <= max_fidelity ({hi})", lo)
        self.space = self.surrogate.space
        self.max_fidelity = hi
        self.min_fidelity = lo
        self.levels = None
        self.continues = True
        self.has_curves = True
        self._cache: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}

    def __repr__(self) -> str:
        return f"SurrogateFidelityEvaluator({self.surrogate!r}, max_fidelity={self.max_fidelity})"

    def _curves(self, archs: Sequence[Arch], upto: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(val (>= upto,), cumulative cost (>= upto,)) per arch, from the cache or one call."""
        todo = [a for a in dict.fromkeys(archs) if len(self._cache.get(a.ops, ((),))[0]) < upto]
        if todo:
            c = self.surrogate.curves(todo, np.arange(1, upto + 1))
            cost = np.maximum.accumulate(c.runtime, axis=1)
            for i, a in enumerate(todo):
                self._cache[a.ops] = (c.val_acc[i], cost[i])
        return [self._cache[a.ops] for a in archs]

    def observe(self, archs: Sequence[Arch], fidelity: int) -> list[Observation]:
        """Curves 1..``fidelity`` and the cost of training that far, in one surrogate call."""
        f = self.check_fidelity(fidelity, "SurrogateFidelityEvaluator.observe")
        archs = [self.space.coerce(a) for a in archs]
        out = []
        for val, cost in self._curves(archs, f):
            curve = {e + 1: float(val[e]) for e in range(f)}
            out.append(
                Observation(fidelity=f, value=curve[f], curve=curve, cost_total=float(cost[f - 1]))
            )
        return out

    def final_values(self, archs: Sequence[Arch]) -> np.ndarray:
        """Surrogate validation accuracy at ``max_fidelity``, (n,)."""
        archs = [self.space.coerce(a) for a in archs]
        f = self.max_fidelity
        return np.array([val[f - 1] for val, _ in self._curves(archs, f)], dtype=np.float64)

    def describe(self) -> dict[str, Any]:
        """Surrogate model hash and the fidelity range."""
        return {
            "kind": "nb301-surrogate",
            "model_sha256": self.surrogate.model_sha256,
            "max_fidelity": self.max_fidelity,
            "min_fidelity": self.min_fidelity,
        }
