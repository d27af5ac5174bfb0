"""The one interface of every evaluator: evaluate an architecture at a fidelity, report the
objective, all metrics and the cost.

Kinds (``Evaluator.kind``):

* ``"table"`` - look the architecture up in a benchmark table (``TableEvaluator``);
* ``"surrogate"`` - ask a surrogate model (``NB301SurrogateEvaluator``);
* ``"fidelity"`` - a multi-fidelity benchmark whose ``observe`` trains (looks up) many
  architectures to a given number of epochs (``TableFidelityEvaluator``,
  ``SurrogateFidelityEvaluator``);
* ``"train"`` - build the network and really train it (``TrainEvaluator``).

``evaluate`` may take, besides the architecture, keyword arguments the caller offers when the
signature names them: ``rng`` (a ``numpy.random.Generator``, e.g. to draw a training trial),
``trial`` (the running ``optuna.Trial``, to report a learning curve and be pruned) and
``fidelity`` (epochs; ``None`` = the evaluator's own). Workers of a distributed search pass
the ones the signature names.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

#: The kinds of evaluator (``Evaluator.kind``).
KINDS = ("table", "surrogate", "fidelity", "train")


@dataclass(frozen=True)
class Evaluation:
    """Result of evaluating one architecture.

    Attributes:
        value: The objective (the chosen metric; a drawn trial's value when seeds are drawn).
        metrics: Every metric measured (a table: mean over trials of every metric it holds for
            the dataset, at the evaluator's fidelity where the metric has it, else the metric's
            highest fidelity).
        cost: (Simulated) training seconds charged for this evaluation.
        seed_position: The trial position drawn, or ``None`` when the mean was used.
        fidelity: Epochs the value belongs to, when the evaluator knows them.
    """

    value: float
    metrics: dict[str, float] = field(default_factory=dict)
    cost: float = 0.0
    seed_position: int | None = None
    fidelity: int | None = None


class Evaluator(abc.ABC):
    """Base class of the evaluators; also a structural type: any object with ``evaluate`` and
    ``direction`` is an instance (``isinstance(obj, Evaluator)``), so plain objects can still
    be passed to ``run_worker(evaluator=...)``.

    Attributes:
        kind: One of ``KINDS``.
        metric: Name of the objective metric.
        higher_is_better: Whether a larger objective is better.
    """

    kind: ClassVar[str]
    metric: str
    higher_is_better: bool

    @classmethod
    def __subclasshook__(cls, other: type) -> bool:
        if cls is not Evaluator:
            return NotImplemented
        names = set().union(*(vars(c) for c in other.__mro__))
        return True if {"evaluate", "direction"} <= names else NotImplemented

    @property
    def direction(self) -> str:
        """Optuna direction of the objective."""
        return "maximize" if self.higher_is_better else "minimize"

    @abc.abstractmethod
    def evaluate(self, arch: Any, **context: Any) -> Evaluation:
        """Evaluate ``arch`` (an ``Arch`` or its string); see the module docstring for the
        keyword arguments an evaluator may take."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-able identity: ``kind`` plus every setting that changes results."""
