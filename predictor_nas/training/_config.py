"""``TrainConfig``: the one place that holds the training recipe's defaults.

Every real-training entry point reads its defaults from here: ``TrainEvaluator``,
``run_real_search`` (``search --evaluator train``), the distributed ``train`` evaluator
(``coordinate --evaluator train``) and ``train_final`` (``predictor-nas train``).

The defaults are the ones ``search --evaluator train`` always had and the README documents
("defaults suit digits on a CPU in minutes"): NB201 cells at width 8 with one cell per stage,
4 epochs of SGD (batch 64, lr 0.1, weight decay 5e-4, NB201's cosine recipe). The full NB201
network is ``width=16, depth=5`` (README: ``--width 16 --depth 5 --epochs 12`` on CIFAR-10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from predictor_nas._validation import check_float, check_int


def _check(name: str, value: Any, owner: str) -> int | float:
    """``value`` of field ``name`` checked with the standard message naming ``owner``."""
    if name == "lr":
        return check_float(value, name, owner, minimum=0.0, exclusive=True)
    if name == "weight_decay":
        return check_float(value, name, owner, minimum=0.0)
    return check_int(value, name, owner, minimum=1)


@dataclass(frozen=True)
class TrainConfig:
    """The training recipe of one architecture (model size and SGD settings).

    Attributes:
        width: Channels of the first stage (NB201 and cell spaces; NB201's own network: 16).
        depth: Cells per stage (NB201 and cell spaces; NB201's own network: 5).
        epochs: Training epochs per architecture (the cosine schedule's length).
        batch_size: Training batch size.
        lr: Initial learning rate (> 0).
        weight_decay: L2 weight decay (>= 0).

    Raises:
        InvalidParameterError: a field is not an int >= 1 (width, depth, epochs, batch_size),
            a finite float > 0 (lr) or a finite float >= 0 (weight_decay).
    """

    width: int = 8
    depth: int = 1
    epochs: int = 4
    batch_size: int = 64
    lr: float = 0.1
    weight_decay: float = 5e-4

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _check(f.name, getattr(self, f.name), "TrainConfig"))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """``("width", "depth", "epochs", "batch_size", "lr", "weight_decay")``."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_options(cls, options: Mapping[str, Any], owner: str = "TrainConfig") -> TrainConfig:
        """The defaults overridden by ``options`` (entries that are ``None`` keep the default).

        Args:
            options: Field name -> value; keys that are not fields are ignored (the caller
                checks its own option names).
            owner: Named in the error message of a bad value (e.g. ``"TrainEvaluator"``).

        Returns:
            The checked ``TrainConfig``.
        """
        names = cls.field_names()
        given = {k: v for k, v in options.items() if k in names and v is not None}
        return cls(**{k: _check(k, v, owner) for k, v in given.items()})

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of the fields."""
        return asdict(self)
