"""Objectives and constraints of a multi-objective search: parsing, study names, and what the
table and real-training loops share about refusing infeasible proposals and building fronts.

Constraint values are stored the Optuna way (``Trial.set_constraint``, one value per constraint
named like ``"params<=1.5"``, <= 0 when satisfied); a refused proposal is told FAIL with the user
attribute ``infeasible`` naming the violated constraints.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.multiobjective import pareto_front
from predictor_nas.search._ask import FALLBACK_ATTR, INFEASIBLE_ATTR
from predictor_nas.spaces import Arch, SearchSpace
from predictor_nas.tables import Table

log = logging.getLogger(__name__)

OWNER = "search"
#: Direction words of an objective string and Optuna's names for them.
DIRECTIONS = {"max": "maximize", "min": "minimize"}
#: Metrics known without training (a table's cost columns): ``mo-guided`` reads them exactly
#: from the table instead of learning them, as are metrics the table holds at fidelity 0.
STATIC_METRICS = ("params", "flops", "latency")
#: Refused proposals in a row after which a random feasible architecture is used for the query.
MAX_INFEASIBLE = 50
#: Constraint operators and their tests.
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda v, b: v <= b,
    ">=": lambda v, b: v >= b,
    "<": lambda v, b: v < b,
    ">": lambda v, b: v > b,
}
_CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_][\w\-.]*)\s*(<=|>=|<|>)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Objective:
    """One objective: a table metric and its Optuna direction (``"maximize"``/``"minimize"``)."""

    metric: str
    direction: str

    def __str__(self) -> str:
        return f"{self.metric}:{self.direction[:3]}"


@dataclass(frozen=True)
class Constraint:
    """A bound on a table metric, e.g. ``params <= 1.5``."""

    metric: str
    op: str
    bound: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.bound:g}"

    def satisfied(self, value: float) -> bool:
        """Whether ``value`` satisfies the bound (a missing value, NaN, never does)."""
        return value == value and _OPS[self.op](value, self.bound)

    def violation(self, value: float) -> float:
        """Optuna's constraint value: <= 0 when satisfied, > 0 by how much it is not.

        A strict bound met with equality gets the smallest positive float; NaN gets ``inf``.
        """
        if value != value:
            return math.inf
        v = value - self.bound if self.op in ("<=", "<") else self.bound - value
        if not self.satisfied(value):
            return max(v, 5e-324)
        return v


def _split(items: Sequence[str] | str | None) -> list[str]:
    if items is None:
        return []
    if isinstance(items, str):
        items = items.split(",")
    return [str(s).strip() for s in items if str(s).strip()]


def _metric_listing(table: Table, dataset: str) -> str:
    """The metrics a search may use: the table's, test metrics left out (they are refused)."""
    return ", ".join(repr(m) for m in table.metrics(dataset) if not m.startswith("test"))


def parse_objectives(
    objectives: Sequence[str] | str, table: Table, dataset: str
) -> list[Objective]:
    """Objectives from strings ``METRIC:max`` / ``METRIC:min`` (a list or one comma-separated).

    Raises:
        InvalidParameterError: Naming the metrics of ``table``/``dataset`` and the directions
            allowed; a test metric, a repeated metric or an empty list is refused too.
    """
    metrics = table.metrics(dataset)
    allowed = (
        f"a non-empty list of METRIC:DIRECTION, METRIC one of {_metric_listing(table, dataset)} "
        f"(table {table.name!r}, {dataset}) and DIRECTION max or min"
    )
    items = _split(objectives) if isinstance(objectives, (str, list, tuple)) else None
    if not items:
        raise param_error("objectives", OWNER, allowed, objectives)
    out: list[Objective] = []
    for item in items:
        metric, sep, direction = item.rpartition(":")
        metric, direction = metric.strip(), direction.strip().lower()
        if not sep or metric not in metrics or direction not in DIRECTIONS:
            raise param_error("objectives", OWNER, allowed, item)
        if metric.startswith("test"):
            raise InvalidParameterError(
                f"Searching on {metric!r} would select architectures by test accuracy; use a "
                "validation metric as the objective (allowed: "
                f"{_metric_listing(table, dataset)})."
            )
        if any(o.metric == metric for o in out):
            raise param_error("objectives", OWNER, "a list naming each metric once", item)
        out.append(Objective(metric, DIRECTIONS[direction]))
    return out


def parse_constraints(
    constraints: Sequence[str] | str | None, table: Table, dataset: str
) -> list[Constraint]:
    """Constraints from strings ``METRIC<=NUMBER`` (also ``>=``, ``<``, ``>``).

    Raises:
        InvalidParameterError: Naming the metrics of ``table``/``dataset`` and the operators.
    """
    metrics = table.metrics(dataset)
    allowed = (
        f"a list of METRIC OP NUMBER, METRIC one of {_metric_listing(table, dataset)} (table "
        f"{table.name!r}, {dataset}), OP one of <=, >=, <, > and NUMBER a finite number, e.g. "
        "'params<=1.5'"
    )
    if constraints is not None and not isinstance(constraints, (str, list, tuple)):
        raise param_error("constraints", OWNER, allowed, constraints)
    out = []
    for item in _split(constraints) if constraints is not None else []:
        m = _CONSTRAINT_RE.match(item)
        if m is None or m.group(1) not in metrics:
            raise param_error("constraints", OWNER, allowed, item)
        try:
            bound = float(m.group(3))
        except ValueError:
            raise param_error("constraints", OWNER, allowed, item) from None
        if not math.isfinite(bound):
            raise param_error("constraints", OWNER, allowed, item)
        if m.group(1).startswith("test"):
            raise InvalidParameterError(
                f"A constraint on {m.group(1)!r} would select architectures by test results; "
                f"constrain another metric ({_metric_listing(table, dataset)})."
            )
        out.append(Constraint(m.group(1), m.group(2), bound))
    return out


def default_mo_study_name(
    space: str,
    table: str,
    dataset: str,
    strategy: str,
    seed: int,
    objectives: Sequence[Objective],
    constraints: Sequence[Constraint],
) -> str:
    """Study name the CLI uses: rerunning the same command resumes the same study, and other
    objectives or constraints get another study."""
    name = f"{space}-{table}-{dataset}-{strategy}-seed{seed}-" + "+".join(map(str, objectives))
    if constraints:
        digest = hashlib.sha256(",".join(map(str, constraints)).encode()).hexdigest()[:8]
        name += f"-c{digest}"
    return name


def _set_constraints(
    trial: optuna.trial.Trial, cons: Sequence[Constraint], values: Sequence[float]
) -> None:
    """Store each constraint's value on ``trial`` (Optuna's ``constraints:NAME`` attributes)."""
    for c, v in zip(cons, values):
        trial.set_constraint(str(c), v if math.isfinite(v) else 1e300)


def _refuse(
    study: optuna.Study,
    trial: optuna.trial.Trial,
    cons: Sequence[Constraint],
    violations: Sequence[float],
) -> list[str]:
    """Tell ``trial`` (its constraint values already stored) FAIL as infeasible; its
    ``infeasible`` attr names the broken constraints. Returns their strings."""
    broken = [str(c) for c, x in zip(cons, violations) if x > 0]
    trial.set_user_attr(INFEASIBLE_ATTR, "violates " + ", ".join(broken))
    study.tell(trial, state=TrialState.FAIL)
    return broken


#: Why a query takes a random feasible architecture (its ``fallback`` attr and the warning).
_FALLBACK_WHY = (
    f"The sampler proposed {MAX_INFEASIBLE} architectures in a row that break a constraint"
)


def _enqueue_fallback(study: optuna.Study, sp: SearchSpace, arch: Arch) -> None:
    """Queue ``arch`` (a random feasible one) as the next trial, marked ``fallback``, warning."""
    log.warning("%s; this query takes a random feasible architecture instead.", _FALLBACK_WHY)
    study.enqueue_trial(sp.to_params(arch), user_attrs={FALLBACK_ATTR: f"random ({_FALLBACK_WHY})"})


def _used_keys(study: optuna.Study) -> set[Any]:
    """Canonical keys of the study's COMPLETE trials (a fallback picks an unused architecture)."""
    return {
        t.user_attrs.get("canonical_key")
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    }


def _infeasible_count(trials: Sequence[FrozenTrial]) -> int:
    """Trials refused before evaluation for breaking a constraint."""
    return sum(1 for t in trials if t.state == TrialState.FAIL and INFEASIBLE_ATTR in t.user_attrs)


def _front_points(
    done: Sequence[FrozenTrial],
    pts: np.ndarray,
    signs: np.ndarray,
    point: Callable[[int], dict[str, Any]],
) -> list[dict[str, Any]]:
    """The Pareto front of ``pts`` (n, m) (objectives' units; ``* signs`` minimises), sorted by
    the first objective, one ``point(i)`` per distinct architecture (user attr ``arch``)."""
    front: list[dict[str, Any]] = []
    seen: set[str] = set()
    if len(done):
        for i in pareto_front(pts * signs):
            arch = done[i].user_attrs["arch"]
            if arch not in seen:
                seen.add(arch)
                front.append(point(int(i)))
    return front
