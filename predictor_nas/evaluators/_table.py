"""Objective functions that look architectures up in a benchmark table ("zero-cost" evaluation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from predictor_nas._validation import check_choice
from predictor_nas.evaluators._base import Evaluation, Evaluator
from predictor_nas.exceptions import InvalidParameterError, TableQueryError
from predictor_nas.spaces import Arch
from predictor_nas.tables import COST_METRIC, Table


class TableEvaluator(Evaluator):
    """Evaluate architectures by looking them up in a table.

    Args:
        table: The benchmark table.
        dataset: Dataset name in the table (e.g. ``"cifar10"``).
        metric: The objective metric; must be a validation metric for a fair search.
        fidelity: Epochs to look up; ``None`` = the metric's highest fidelity.
        draw_seed: Draw one training trial per query, uniformly among the measured ones (as the
            NAS-Bench-201 protocol does) instead of returning the mean over trials.
    """

    kind = "table"

    def __init__(
        self,
        table: Table,
        dataset: str,
        *,
        metric: str = "val_acc",
        fidelity: int | None = None,
        draw_seed: bool = False,
    ) -> None:
        self.table = table
        self.dataset = check_choice(dataset, "dataset", "TableEvaluator", table.datasets)
        self.metric = check_choice(metric, "metric", "TableEvaluator", table.metrics(dataset))
        if metric.startswith("test"):
            raise InvalidParameterError(
                f"Searching on {metric!r} would select architectures by test accuracy; "
                "search on a validation metric and report the test metric of the chosen one."
            )
        fids = table.fidelities(metric, dataset=dataset)
        if fidelity is not None and fidelity not in fids:
            raise InvalidParameterError(
                f"The 'fidelity' parameter of TableEvaluator must be one of {list(fids)} for "
                f"{dataset}/{metric}. Got {fidelity!r} instead."
            )
        self.fidelity = fids[-1] if fidelity is None else fidelity
        self.draw_seed = bool(draw_seed)
        if (
            self.draw_seed
            and not table.metric_info(metric, dataset=dataset).per_seed[self.fidelity]
        ):
            raise InvalidParameterError(
                f"{dataset}/{metric} at {self.fidelity} epochs stores only the mean over trials; "
                "seeds cannot be drawn."
            )
        self.higher_is_better = table.metric_info(metric, dataset=dataset).higher_is_better

    def describe(self) -> dict[str, Any]:
        """Table name and content hash, dataset, metric, fidelity, whether seeds are drawn."""
        return {
            "kind": self.kind,
            "table": self.table.name,
            "table_content_hash": self.table.content_hash,
            "dataset": self.dataset,
            "metric": self.metric,
            "fidelity": self.fidelity,
            "draw_seed": self.draw_seed,
        }

    def _metric_fidelity(self, metric: str, fidelity: int) -> int:
        fids = self.table.fidelities(metric, dataset=self.dataset)
        return fidelity if fidelity in fids else fids[-1]

    def _check_fidelity(self, fidelity: int | None) -> int:
        """The fidelity of one evaluation: the evaluator's, or one the metric is stored at."""
        if fidelity is None:
            return self.fidelity
        fids = self.table.fidelities(self.metric, dataset=self.dataset)
        if fidelity not in fids or isinstance(fidelity, bool):
            raise InvalidParameterError(
                f"The 'fidelity' parameter of TableEvaluator.evaluate must be one of "
                f"{list(fids)} for {self.dataset}/{self.metric}. Got {fidelity!r} instead."
            )
        info = self.table.metric_info(self.metric, dataset=self.dataset)
        if self.draw_seed and not info.per_seed[fidelity]:
            raise InvalidParameterError(
                f"{self.dataset}/{self.metric} at {fidelity} epochs stores only the mean over "
                "trials; seeds cannot be drawn."
            )
        return int(fidelity)

    def evaluate(
        self,
        arch: Arch | str,
        rng: np.random.Generator | None = None,
        *,
        fidelity: int | None = None,
    ) -> Evaluation:
        """Look ``arch`` up.

        Args:
            arch: The architecture (or its string).
            rng: Required when ``draw_seed`` is set; draws the trial position.
            fidelity: Epochs to look up (one the metric is stored at); ``None`` = the
                evaluator's ``fidelity``.

        Returns:
            The ``Evaluation``; raises ``TableQueryError`` if the table has no value.
        """
        fid = self._check_fidelity(fidelity)
        row = self.table.row(arch)
        metrics = {}
        for m in self.table.metrics(self.dataset):
            v = self.table.query_many(
                np.array([row]), m, dataset=self.dataset, fidelity=self._metric_fidelity(m, fid)
            )[0]
            if v == v:
                metrics[m] = float(v)
        if self.metric not in metrics:
            raise TableQueryError(
                f"Table {self.table.name!r} has no {self.dataset}/{self.metric} value for "
                f"{self.table.archs[row]}."
            )
        seed_position = None
        value = metrics[self.metric]
        if self.draw_seed:
            if rng is None:
                raise InvalidParameterError("draw_seed=True needs an rng to draw the trial.")
            vals = self.table.values(self.metric, dataset=self.dataset, fidelity=fid)[row]
            measured = np.flatnonzero(~np.isnan(vals))
            seed_position = int(rng.choice(measured))
            value = float(vals[seed_position])
        cost = metrics.get(COST_METRIC, 0.0)
        return Evaluation(
            value=value, metrics=metrics, cost=cost, seed_position=seed_position, fidelity=fid
        )
