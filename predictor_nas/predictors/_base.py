"""The predictor interface: fit on architectures and targets, predict a mean and a std."""

from __future__ import annotations

import abc
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from predictor_nas._validation import check_int, param_error
from predictor_nas.exceptions import InvalidParameterError, PredictorNASError
from predictor_nas.spaces import Arch, SearchSpace, get_space

log = logging.getLogger(__name__)

#: Share of a Gaussian within ±1σ: ``calibrate=True`` widens the std so that this share of the
#: cross-validated residuals falls within ±1σ.
ONE_SIGMA = 0.6827


#: Floors tried by ``fit_std_calibration``, as multiples of the median absolute residual.
_FLOOR_GRID = (0.0, 0.1, 0.25, 0.5)


def fit_std_calibration(err: np.ndarray, std: np.ndarray) -> tuple[float, float]:
    """Scale ``a`` and floor ``b`` so that ``sqrt((a * std)^2 + b^2)`` fits held-out residuals.

    For each floor ``b`` of a small grid (0, 0.1, 0.25 and 0.5 times the median ``|err|``),
    ``a`` is the smallest scale with which ±1σ covers 68.27 % of the residuals (the ideal
    Gaussian share); of these pairs the one with the highest mean Gaussian log-likelihood of the
    residuals wins. The coverage constraint, not a variance estimate, sets the width, so the few
    collapsed cells (chance accuracy, many std away) do not widen every interval; the floor
    covers points where an ensemble is unanimous yet wrong (e.g. isomorphic copies of training
    archs). The floor stays small so that the std keeps the shape of the ensemble's spread; only
    when no scale works (a std of 0 almost everywhere) is the std a constant, the 68.27 %
    quantile of ``|err|``.

    Args:
        err: (n,) held-out residuals ``y - mean``.
        std: (n,) predicted std (>= 0) at those points.

    Returns:
        ``(a, b)``, both >= 0; ``(1.0, 0.0)`` when there is nothing to fit (no nonzero residual).
    """
    e = np.abs(np.asarray(err, dtype=np.float64))
    s = np.maximum(np.asarray(std, dtype=np.float64), 0.0)
    ok = np.isfinite(e) & np.isfinite(s)
    e, s = e[ok], s[ok]
    if not len(e) or not np.any(e > 0):
        return 1.0, 0.0
    med = float(np.median(e))
    best: tuple[float, float, float] | None = None
    for b in (c * med for c in _FLOOR_GRID):
        need = np.sqrt(np.maximum(e**2 - b**2, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(need > 0, need / s, 0.0)
        a = float(np.quantile(ratio, ONE_SIGMA, method="higher"))
        if not np.isfinite(a) or a <= 0:
            continue
        var = (a * s) ** 2 + b**2
        if np.any(var <= 0):
            continue
        ll = float(np.mean(-0.5 * np.log(2 * np.pi * var) - 0.5 * e**2 / var))
        if best is None or ll > best[0]:
            best = (ll, a, b)
    if best is None:
        return 0.0, float(np.quantile(e, ONE_SIGMA, method="higher"))
    return best[1], best[2]


def check_calibration(predictor: Predictor, owner: str, members: int | None = None) -> None:
    """Validate ``prune``, ``calibrate`` and ``calibration_folds`` of an ensemble predictor.

    ``members`` is the number of ensemble members (default: ``predictor.ensemble_size``); with
    one member there is no std to calibrate.
    """

    if predictor.prune is not None and not isinstance(predictor.prune, bool):
        raise param_error("prune", owner, "a bool", predictor.prune)
    if not isinstance(predictor.calibrate, bool):
        raise param_error("calibrate", owner, "a bool", predictor.calibrate)
    check_int(predictor.calibration_folds, "calibration_folds", owner, minimum=2)
    size = predictor.ensemble_size if members is None else members
    if predictor.calibrate and size < 2:
        raise InvalidParameterError(
            f"The 'calibrate' parameter of {owner} needs an ensemble (ensemble_size >= 2) to "
            f"have a std to calibrate. Got ensemble_size={size!r}."
        )


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
    def _store_params(self, params: dict[str, Any]) -> None:
        """Store a subclass's constructor arguments as attributes, unchanged (scikit-learn
        style: validation happens in ``fit``).

        Args:
            params: ``locals()`` taken first thing in the subclass's ``__init__``: its
                arguments; ``self``, ``space``, ``seed`` (stored by this ``__init__``) and
                dunder names are skipped.
        """
        for name, value in params.items():
            if name not in ("self", "space", "seed") and not name.startswith("__"):
                setattr(self, name, value)

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments as stored (scikit-learn style): name -> value."""
        sig = inspect.signature(type(self).__init__)
        return {
            name: getattr(self, name)
            for name, p in sig.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

    def _calibrate_std(self, archs: list[Arch], y: np.ndarray) -> None:
        """Set ``std_scale_`` and ``std_floor_`` (1 and 0 unless ``self.calibrate``).

        The calibrated std is ``sqrt((std_scale_ * std)^2 + std_floor_^2)``, fitted by
        ``fit_std_calibration`` on ``calibration_folds``-fold cross-validated residuals of copies
        of this predictor (``calibrate=False``, own seeds) trained without the held-out archs.
        With fewer than 4 archs there is no split to learn from and the std is left as is.
        """
        self.std_scale_, self.std_floor_ = 1.0, 0.0
        if not self.calibrate:
            return
        k = min(int(self.calibration_folds), len(archs) // 2)
        if k < 2:
            log.warning(
                "%s: %d archs are too few to calibrate the std; left as is.",
                type(self).__name__,
                len(archs),
            )
            return
        params = {**self.get_params(), "calibrate": False, "space": self.space_}
        rng = np.random.default_rng([int(self.seed), 0xCA11])
        splits = np.array_split(rng.permutation(len(archs)), k)
        seeds = np.random.SeedSequence([int(self.seed), 0xCA11]).generate_state(k)
        errs, stds = [], []
        for test, s in zip(splits, seeds):
            train = np.setdiff1d(np.arange(len(archs)), test, assume_unique=True)
            model = type(self)(**{**params, "seed": int(s) & 0x7FFFFFFF})
            model.fit([archs[i] for i in train], y[train])
            pred = model.predict([archs[i] for i in test])
            errs.append(y[test] - pred.mean)
            stds.append(pred.std)
        self.std_scale_, self.std_floor_ = fit_std_calibration(
            np.concatenate(errs), np.concatenate(stds)
        )

    def _calibrated(self, std: np.ndarray) -> np.ndarray:
        """Apply the fitted ``std_scale_`` / ``std_floor_`` to a raw (n,) std."""
        a = getattr(self, "std_scale_", 1.0)
        b = getattr(self, "std_floor_", 0.0)
        if b == 0.0:
            return std * a
        return np.sqrt((a * std) ** 2 + b**2)

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
