"""The metrics of a real-training multi-objective search: parsing its objectives and
constraints, and ``CostMeter``, which measures the cost metrics of untrained networks (see
``predictor_nas.search._mo_real`` for the table of metrics).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from optuna.trial import FrozenTrial

from predictor_nas._lazy import models
from predictor_nas._validation import param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search._mo_spec import (
    _CONSTRAINT_RE,
    DIRECTIONS,
    Constraint,
    Objective,
    _split,
)
from predictor_nas.spaces import Arch

if TYPE_CHECKING:
    from predictor_nas.evaluators import TrainEvaluator

OWNER = "real multi-objective search"
#: Metrics known without training, and their only sensible direction.
COST_METRICS = {"params": "minimize", "flops": "minimize", "latency_ms": "minimize"}
#: Metrics of a trained network (learned by the predictors), and their direction.
TRAINED_METRICS = {"val_acc": "maximize", "train_time": "minimize"}
REAL_METRICS = {**COST_METRICS, **TRAINED_METRICS}
#: User attribute holding a trial's measured metrics.
METRICS_ATTR = "metrics"


def _listing() -> str:
    return ", ".join(f"{m} ({d[:3]})" for m, d in REAL_METRICS.items())


def parse_real_objectives(objectives: Sequence[str] | str) -> list[Objective]:
    """Objectives ``METRIC:max|min`` of a real-training search (metrics: module docstring).

    Raises:
        InvalidParameterError: An unknown metric, a direction other than the metric's own
            (e.g. ``latency_ms:max``), a repeated metric or an empty list; the message lists
            the metrics and their directions.
    """
    allowed = (
        f"a non-empty list of METRIC:DIRECTION with METRIC one of {_listing()} (the direction "
        "in brackets)"
    )
    items = _split(objectives) if isinstance(objectives, (str, list, tuple)) else None
    if not items:
        raise param_error("objectives", OWNER, allowed, objectives)
    out: list[Objective] = []
    for item in items:
        metric, sep, word = item.rpartition(":")
        metric, word = metric.strip(), word.strip().lower()
        if not sep or metric not in REAL_METRICS or word not in DIRECTIONS:
            raise param_error("objectives", OWNER, allowed, item)
        if DIRECTIONS[word] != REAL_METRICS[metric]:
            raise InvalidParameterError(
                f"The objective {item!r} of {OWNER} goes the wrong way: {metric} is "
                f"{REAL_METRICS[metric][:-1]}ed ({metric}:{REAL_METRICS[metric][:3]}). "
                f"Metrics: {_listing()}."
            )
        if any(o.metric == metric for o in out):
            raise param_error("objectives", OWNER, "a list naming each metric once", item)
        out.append(Objective(metric, REAL_METRICS[metric]))
    return out


def parse_real_constraints(constraints: Sequence[str] | str | None) -> list[Constraint]:
    """Constraints ``METRIC<=NUMBER`` (also ``>=``, ``<``, ``>``) on the cost metrics.

    Raises:
        InvalidParameterError: A malformed constraint, or one on a metric that needs training
            (it could not be checked before training); the message lists what is allowed.
    """
    allowed = (
        f"a list of METRIC OP NUMBER with METRIC one of {', '.join(COST_METRICS)} (known "
        "before training), OP one of <=, >=, <, > and NUMBER a finite number, e.g. "
        "'params<=20000'"
    )
    if constraints is not None and not isinstance(constraints, (str, list, tuple)):
        raise param_error("constraints", OWNER, allowed, constraints)
    out = []
    for item in _split(constraints):
        m = _CONSTRAINT_RE.match(item)
        if m is not None and m.group(1) in TRAINED_METRICS:
            raise InvalidParameterError(
                f"The constraint {item!r} of {OWNER} bounds {m.group(1)}, which is known only "
                f"after training; constraints are checked before training, on "
                f"{', '.join(COST_METRICS)}. Make {m.group(1)} an objective instead."
            )
        try:
            bound = float(m.group(3)) if m is not None else math.nan
        except ValueError:
            bound = math.nan
        if m is None or m.group(1) not in COST_METRICS or not math.isfinite(bound):
            raise param_error("constraints", OWNER, allowed, item)
        out.append(Constraint(m.group(1), m.group(2), bound))
    return out


# --------------------------------------------------------------------------- cost metrics
class CostMeter:
    """Cost metrics of architectures on their untrained networks, each measured once.

    Args:
        evaluator: Builds the networks (``TrainEvaluator.build_network``).
        latency_repeats: Timed passes per latency measurement.
        latency_warmup: Untimed passes before them.
    """

    def __init__(
        self, evaluator: TrainEvaluator, *, latency_repeats: int, latency_warmup: int
    ) -> None:
        self.evaluator = evaluator
        self.shape = tuple(int(s) for s in evaluator.data.x_train.shape[1:])
        self.repeats = latency_repeats
        self.warmup = latency_warmup
        self.values: dict[str, dict[str, float]] = {}
        self.latency_measured = 0
        self.latency_reused = 0

    def load(self, trials: Sequence[FrozenTrial]) -> None:
        """Take the stored cost metrics of ``trials`` (any state) instead of measuring again."""
        for t in trials:
            stored = t.user_attrs.get(METRICS_ATTR)
            arch = t.user_attrs.get("arch")
            if not isinstance(stored, dict) or arch is None or arch in self.values:
                continue
            got = {k: float(stored[k]) for k in COST_METRICS if k in stored}
            if got:
                self.values[arch] = got
                self.latency_reused += "latency_ms" in got

    def get(self, arch: Arch, metrics: Sequence[str] = tuple(COST_METRICS)) -> dict[str, float]:
        """``{metric: value}`` of ``arch`` for ``metrics`` (built and measured if not known)."""
        key = self.evaluator.space.format(arch)
        have = self.values.setdefault(key, {})
        missing = [m for m in metrics if m not in have]
        if missing:
            net = self.evaluator.build_network(arch)
            if "params" in missing:
                have["params"] = float(models.count_params(net))
            if "flops" in missing:
                have["flops"] = float(models.count_flops(net, self.shape))
            if "latency_ms" in missing:
                have["latency_ms"] = models.measure_latency(
                    net,
                    self.shape,
                    batch_size=1,
                    repeats=self.repeats,
                    warmup=self.warmup,
                    threads=1,
                )
                self.latency_measured += 1
        return {m: have[m] for m in metrics}


def _check_reference(reference: Sequence[float] | None, objs: Sequence[Objective]) -> bool:
    if reference is None:
        return False
    ok = isinstance(reference, (list, tuple)) and len(reference) == len(objs)
    ok = ok and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for v in reference
    )
    if not ok:
        raise param_error(
            "reference",
            OWNER,
            f"None or {len(objs)} finite numbers (one per objective)",
            reference,
        )
    return True
