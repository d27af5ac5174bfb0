"""The evaluator registry: name -> ``Evaluator`` class (listed by the CLI and the docs).

The distributed worker's factories (``make_evaluator``: a study's configuration -> an evaluator
object) are a separate, narrower map of the evaluators a study can name (``table``, ``train``
and those added with ``register_evaluator``).
"""

from __future__ import annotations

from typing import Any

from predictor_nas._validation import param_error
from predictor_nas.evaluators._base import KINDS, Evaluator
from predictor_nas.evaluators._fidelity import SurrogateFidelityEvaluator, TableFidelityEvaluator
from predictor_nas.evaluators._surrogate import NB301SurrogateEvaluator
from predictor_nas.evaluators._table import TableEvaluator
from predictor_nas.evaluators._train import TrainEvaluator

_CLASSES: dict[str, type[Evaluator]] = {
    "table": TableEvaluator,
    "nb301-surrogate": NB301SurrogateEvaluator,
    "table-fidelity": TableFidelityEvaluator,
    "surrogate-fidelity": SurrogateFidelityEvaluator,
    "train": TrainEvaluator,
}


def evaluator_classes() -> dict[str, type[Evaluator]]:
    """Registered evaluator classes by name (a copy)."""
    return dict(_CLASSES)


def register_evaluator_class(name: str, cls: type[Evaluator]) -> None:
    """Add ``cls`` (a subclass of ``Evaluator`` with a ``kind`` of ``KINDS``) as ``name``.

    Raises:
        InvalidParameterError: ``name`` is empty or taken, or ``cls`` is not such a class.
    """
    owner = "register_evaluator_class"
    if not isinstance(name, str) or not name or name in _CLASSES:
        raise param_error("name", owner, f"a new non-empty str (taken: {list(_CLASSES)})", name)
    ok = isinstance(cls, type) and issubclass(cls, Evaluator) and Evaluator in cls.__mro__
    if not ok or getattr(cls, "kind", None) not in KINDS:
        raise param_error("cls", owner, f"a subclass of Evaluator with kind in {KINDS}", cls)
    _CLASSES[name] = cls


def evaluator_summaries() -> list[dict[str, Any]]:
    """One row per registered evaluator: name, kind, class and the docstring's first line."""
    rows = []
    for name, cls in _CLASSES.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        rows.append(
            {
                "name": name,
                "kind": cls.kind,
                "class": f"{cls.__module__.split('._')[0]}.{cls.__name__}",
                "summary": doc[0] if doc else "",
            }
        )
    return rows
