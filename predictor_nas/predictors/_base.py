"""The predictor interface: fit on architectures and targets, predict a mean and a std."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from predictor_nas.exceptions import InvalidParameterError, PredictorNASError
from predictor_nas.spaces import Arch, SearchSpace, get_space


class NotFittedError(PredictorNASError, AttributeError):
    """``predict`` was called before ``fit``."""


@dataclass(frozen=True)
class Prediction:
    """Predictive distribution per architecture.

    Attributes:
        mean: float64 array of shape (n,).
        std: float64 array of shape (n,) (>= 0), or ``None`` when the predictor has no uncertainty.
    """

    mean: np.ndarray
    std: np.ndarray | None = None


class Predictor(abc.ABC):
    """Base class of accuracy predictors (scikit-learn style).

    Constructors only store their arguments; ``fit`` validates them, learns, sets attributes
    ending in ``_`` and returns ``self``; ``predict`` needs a fitted predictor. Subclasses implement
    ``_fit(archs, y)`` and ``_predict(archs) -> Prediction`` on validated inputs, and must be
    deterministic for a given ``seed``.
    """

    #: Name used by the CLI and reports.
    name: str = "predictor"

    def __init__(self, space: SearchSpace | str = "nb201", *, seed: int = 0) -> None:
        self.space = space
        self.seed = seed

    # ----------------------------------------------------------------- public API
    def fit(
        self, archs: Sequence[Arch | str], y: Sequence[float] | np.ndarray, **extra: Any
    ) -> Self:
        """Fit on (n,) architectures and (n,) targets; returns ``self``."""
        self.space_ = get_space(self.space) if isinstance(self.space, str) else self.space
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, (int, np.integer))
            or self.seed < 0
        ):
            raise InvalidParameterError(
                f"The 'seed' parameter of {type(self).__name__} must be an int >= 0. "
                f"Got {self.seed!r} instead."
            )
        a = self._check_archs(archs)
        yy = np.asarray(y, dtype=np.float64)
        if yy.ndim != 1 or len(yy) != len(a):
            raise InvalidParameterError(
                f"{type(self).__name__}.fit needs one target per architecture: got {len(a)} "
                f"architectures and targets of shape {yy.shape}."
            )
        if not np.all(np.isfinite(yy)):
            raise InvalidParameterError(
                f"{type(self).__name__}.fit got non-finite targets (NaN or inf) at positions "
                f"{np.flatnonzero(~np.isfinite(yy))[:10].tolist()}."
            )
        if len(a) < 2:
            raise InvalidParameterError(
                f"{type(self).__name__}.fit needs at least 2 architectures; got {len(a)}."
            )
        self._fit(a, yy, **extra)
        self.n_train_ = len(a)
        return self

    def predict(self, archs: Sequence[Arch | str]) -> Prediction:
        """Predict for (n,) architectures; returns ``Prediction`` with arrays of shape (n,)."""
        if not hasattr(self, "n_train_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(archs, y) first."
            )
        a = self._check_archs(archs, allow_empty=True)
        if not a:
            return Prediction(np.zeros(0), None)
        p = self._predict(a)
        mean = np.asarray(p.mean, dtype=np.float64).reshape(len(a))
        std = (
            None if p.std is None else np.maximum(np.asarray(p.std, np.float64).reshape(len(a)), 0)
        )
        return Prediction(mean, std)

    # ----------------------------------------------------------------- to implement
    @abc.abstractmethod
    def _fit(self, archs: list[Arch], y: np.ndarray, **extra: Any) -> None:
        """Learn from validated inputs."""

    @abc.abstractmethod
    def _predict(self, archs: list[Arch]) -> Prediction:
        """Predict for validated inputs."""

    # ----------------------------------------------------------------- helpers
    def _check_archs(self, archs: Sequence[Arch | str], *, allow_empty: bool = False) -> list[Arch]:
        if isinstance(archs, (str, Arch)):
            raise InvalidParameterError(
                f"{type(self).__name__} expects a sequence of architectures, got a single one."
            )
        space = getattr(self, "space_", None) or (
            get_space(self.space) if isinstance(self.space, str) else self.space
        )
        out = [space.coerce(a) for a in archs]
        if not out and not allow_empty:
            raise InvalidParameterError(f"{type(self).__name__} got no architectures.")
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed!r})"
