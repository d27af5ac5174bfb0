"""The curve-model interface: extrapolate partial learning curves to a final epoch.

Every model has the same two calls::

    model.fit(curves=None)                    # corpus of full curves, (m, L); optional for some
    model.predict_final(partial, final_epoch=50) -> Prediction(mean (n,), std (n,))

Epochs are 1-based: column ``j`` of a curve array holds the value after epoch ``j + 1``. A batch of
partial curves is either a 2-D array (n, t) whose rows are an observed prefix followed by NaN
padding, or a list of n 1-D arrays of varying length (each array is the whole observed curve, so a
NaN in it is a reported value, not padding).

Diverged runs: a curve whose reported values turn NaN or inf (in a 2-D array: inf, since trailing
NaN there is padding) and stay so to its end diverged. ``predict_final`` predicts it as diverged:
mean = the worst value (``-inf`` for accuracy, ``+inf`` for loss, clipped to ``bounds`` when
given) and std = 0 exactly (the only case of a zero std). A non-finite value followed by finite
ones is refused with an error naming the value and its epoch.
"""

from __future__ import annotations

import abc
import numbers
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, Self

import numpy as np

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.predictors import NotFittedError, Prediction

Kind = Literal["accuracy", "loss"]
KINDS: tuple[str, ...] = ("accuracy", "loss")

#: Smallest std a model returns, relative to ``1 + |mean|`` (std is always > 0).
STD_FLOOR_REL = 1e-6

CurveBatch = np.ndarray | Sequence[np.ndarray] | Sequence[Sequence[float]]


# --------------------------------------------------------------------------- validation helpers
def split_partial(partial: CurveBatch, owner: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a batch of partial curves and separate diverged curves from padding.

    How long each curve is: a list gives each curve's length explicitly (the length of its
    array), so every NaN or inf in it is a reported value; a 2-D array (n, t) gives it by trailing
    NaN padding (the curve ends at its last non-NaN value), so there a diverged run is marked by
    ``inf`` (or passed in a list). A curve whose observed values turn non-finite at epoch ``e``
    and stay non-finite to its end diverged at ``e``. A non-finite value followed by finite ones is
    refused, naming the value and its epoch.

    Args:
        partial: 2-D array (n, t) with trailing NaN padding, or a list of n 1-D arrays.
        owner: Name used in error messages, e.g. ``"LastValueCurveModel.predict_final"``.

    Returns:
        ``(values, lengths, diverged_at)``: float64 array (n, T) holding each curve's finite
        prefix with NaN after it, int64 array (n,) of finite-prefix lengths (0 for a curve that
        diverged at epoch 1) and int64 array (n,) of the 1-based epoch of the first non-finite
        value (0 for a curve that did not diverge).

    Raises:
        InvalidParameterError: wrong shape, a curve with no observed value, or a non-finite value
            followed by finite ones.
    """
    if isinstance(partial, np.ndarray):
        if partial.ndim != 2:
            raise param_error(
                "partial",
                owner,
                "a 2-D array (n, t) or a list of 1-D arrays (wrap a single curve as [curve])",
                f"an array of shape {partial.shape}",
            )
        try:
            values = np.array(partial, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise param_error("partial", owner, "numeric", f"dtype {partial.dtype}") from exc
        width = values.shape[1]
        notnan = ~np.isnan(values)
        ends = np.where(notnan.any(axis=1), width - notnan[:, ::-1].argmax(axis=1), 0)
    elif isinstance(partial, (str, bytes)) or not isinstance(partial, Sequence):
        raise param_error(
            "partial", owner, "a 2-D array (n, t) or a list of 1-D arrays", type(partial).__name__
        )
    else:
        rows = []
        for i, row in enumerate(partial):
            try:
                r = np.asarray(row, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    f"{owner}: curve {i} is not a numeric 1-D array."
                ) from exc
            if r.ndim != 1:
                raise InvalidParameterError(
                    f"{owner}: curve {i} must be a 1-D array; got shape {r.shape}."
                )
            rows.append(r)
        width = max((len(r) for r in rows), default=0)
        values = np.full((len(rows), width), np.nan)
        for i, r in enumerate(rows):
            values[i, : len(r)] = r
        ends = np.array([len(r) for r in rows], dtype=np.int64)
    n, width = values.shape
    ends = np.asarray(ends, dtype=np.int64).reshape(n)
    if n == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        return values.reshape(0, width), empty_i, empty_i.copy()
    empty = np.flatnonzero(ends == 0)
    if empty.size:
        raise InvalidParameterError(
            f"{owner}: every curve needs at least one observed epoch; curves "
            f"{empty[:10].tolist()} have none (0-length or all-NaN)."
        )
    inside = np.arange(width)[None, :] < ends[:, None]
    nonfinite = inside & ~np.isfinite(values)
    has_bad = nonfinite.any(axis=1)
    first = np.where(has_bad, nonfinite.argmax(axis=1), ends)
    after_first = np.arange(width)[None, :] >= first[:, None]
    recovered = inside & after_first & np.isfinite(values)
    if recovered.any():
        i = int(np.flatnonzero(recovered.any(axis=1))[0])
        j = int(first[i])
        k = int(recovered[i].argmax())
        bad_v, good_v = float(values[i, j]), float(values[i, k])
        raise InvalidParameterError(
            f"{owner}: curve {i} has a non-finite value ({bad_v!r}) at epoch {j + 1} inside its "
            f"observed prefix, followed by the finite value {good_v!r} at epoch {k + 1}; a curve "
            "may only end in non-finite values (a diverged run). Fix or drop that report."
        )
    lengths = first.astype(np.int64)
    diverged_at = np.where(has_bad, first + 1, 0).astype(np.int64)
    values[after_first] = np.nan
    return values, lengths, diverged_at


def check_partial(partial: CurveBatch, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a batch of finite partial curves and return it NaN-padded.

    Like :func:`split_partial`, but a diverged curve (one ending in NaN or inf) is refused.

    Args:
        partial: 2-D array (n, t) with trailing NaN padding, or a list of n 1-D arrays.
        owner: Name used in error messages, e.g. ``"LastValueCurveModel.predict_final"``.

    Returns:
        ``(values, lengths)``: float64 array (n, T) with NaN after each observed prefix
        (T = the longest prefix) and int64 array (n,) of observed lengths (all >= 1).

    Raises:
        InvalidParameterError: wrong shape, a curve with no observed value, or a non-finite value
            anywhere in an observed curve (only trailing NaN padding of a 2-D array is allowed),
            naming the curve, the value and its epoch.
    """
    values, lengths, diverged_at = split_partial(partial, owner)
    bad = np.flatnonzero(diverged_at)
    if bad.size:
        i = int(bad[0])
        e = int(diverged_at[i])
        v = float(np.asarray(partial[i], dtype=np.float64)[e - 1])
        raise InvalidParameterError(
            f"{owner}: curve {i} has a non-finite value ({v!r}) at epoch {e}: a diverged run; "
            "only finite values (and trailing NaN padding of a 2-D array) are allowed here."
        )
    return values, lengths


def check_corpus(curves: Any, owner: str) -> np.ndarray:
    """Validate a corpus of full curves: finite float64 array (m, L) with m >= 2 and L >= 2."""
    try:
        c = np.asarray(curves, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise param_error(
            "curves", owner, "a finite 2-D array (m, L) of full curves", type(curves).__name__
        ) from exc
    if c.ndim != 2 or c.shape[0] < 2 or c.shape[1] < 2:
        raise param_error(
            "curves",
            owner,
            "a 2-D array (m, L) with m >= 2 curves of L >= 2 epochs",
            f"an array of shape {c.shape}",
        )
    if not np.all(np.isfinite(c)):
        bad = np.flatnonzero(~np.isfinite(c).all(axis=1))
        raise InvalidParameterError(
            f"{owner}: the corpus must hold full finite curves; curves {bad[:10].tolist()} "
            "have NaN or inf."
        )
    return c


def check_extra(extra: Any, n: int, owner: str, n_features: int | None = None) -> np.ndarray:
    """Validate an architecture feature matrix: finite float64 (n, d), d == n_features if given."""
    try:
        x = np.asarray(extra, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise param_error(
            "extra", owner, "a finite 2-D array (n, d)", type(extra).__name__
        ) from exc
    want = f"({n}, {'d' if n_features is None else n_features})"
    if x.ndim != 2 or x.shape[0] != n or (n_features is not None and x.shape[1] != n_features):
        raise param_error("extra", owner, f"a 2-D array of shape {want}", f"shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise param_error("extra", owner, "finite (no NaN or inf)", "non-finite values")
    return x


def check_bounds(bounds: Any, owner: str) -> tuple[float, float] | None:
    """``None`` or a pair ``(low, high)`` of floats (inf allowed) with ``low < high``."""
    if bounds is None:
        return None
    allowed = "None or a pair (low, high) of numbers with low < high"
    if (
        isinstance(bounds, (str, bytes))
        or not isinstance(bounds, Sequence)
        or len(bounds) != 2
        or not all(isinstance(b, numbers.Real) and not isinstance(b, bool) for b in bounds)
    ):
        raise param_error("bounds", owner, allowed, bounds)
    lo, hi = float(bounds[0]), float(bounds[1])
    if not lo < hi:  # also catches NaN
        raise param_error("bounds", owner, allowed, bounds)
    return lo, hi


def last_observed(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Last observed value per row: (n, T) NaN-padded and (n,) lengths -> (n,)."""
    return values[np.arange(len(lengths)), lengths - 1]


# --------------------------------------------------------------------------- base class
class CurveModel(abc.ABC):
    """Base class of learning-curve extrapolation models (scikit-learn style).

    Constructors only store their arguments; ``fit`` validates them, learns from an optional corpus
    of full curves, sets attributes ending in ``_`` and returns ``self``; ``predict_final``
    extrapolates partial curves to ``final_epoch``. Subclasses implement
    ``_fit(curves, extra)`` and ``_predict(values, lengths, final_epoch, extra) -> (mean, std)``
    on validated inputs, and must be deterministic for a given ``seed``.

    Diverged curves (reported values that turn NaN or inf and stay so, as with a too-high
    learning rate) are predicted as diverged by every model, in ``predict_final`` before the
    model sees them: mean = the worst value (``-inf`` for accuracy, ``+inf`` for loss, clipped
    to ``bounds``) and std = 0. ``_predict`` only ever sees finite prefixes. How a curve's length
    is given: a list of 1-D arrays gives it explicitly (a NaN in an array is a reported value); a
    2-D array gives it by trailing NaN padding, so mark divergence there with ``inf``.
    ``fit`` refuses corpora with non-finite values: drop diverged runs first, e.g.
    ``curves[np.isfinite(curves).all(axis=1)]``.

    Args:
        kind: ``"accuracy"`` (increasing, saturating, higher is better) or ``"loss"``
            (decreasing, lower is better).
        bounds: Optional ``(low, high)`` the predicted mean is clipped to, e.g. ``(0, 100)`` for
            accuracy in percent.
        seed: Seed of every random component (int >= 0).
    """

    #: Name used in reports.
    name: ClassVar[str] = "curve-model"
    #: Whether ``predict_final`` needs ``fit(curves)`` first (learned models).
    requires_fit: ClassVar[bool] = False
    #: Whether ``fit``/``predict_final`` take an architecture feature matrix ``extra`` (n, d).
    accepts_extra: ClassVar[bool] = False

    def __init__(
        self, *, kind: Kind = "accuracy", bounds: tuple[float, float] | None = None, seed: int = 0
    ) -> None:
        self.kind = kind
        self.bounds = bounds
        self.seed = seed

    # ----------------------------------------------------------------- public API
    def fit(self, curves: np.ndarray | None = None, *, extra: np.ndarray | None = None) -> Self:
        """Validate the settings and learn from a corpus of full curves.

        Args:
            curves: Finite array (m, L) of full curves, or ``None`` (allowed only when the model
                does not require a corpus).
            extra: Optional architecture features (m, d), only for models with
                ``accepts_extra``.

        Returns:
            ``self``.
        """
        owner = f"{type(self).__name__}.fit"
        self._check_params()
        corpus = None if curves is None else check_corpus(curves, owner)
        if corpus is None and self.requires_fit:
            raise InvalidParameterError(
                f"{owner} needs a corpus of full curves (m, L); got curves=None."
            )
        x = None
        if extra is not None:
            if not self.accepts_extra:
                raise InvalidParameterError(
                    f"{type(self).__name__} does not use architecture features; pass extra=None."
                )
            if corpus is None:
                raise InvalidParameterError(f"{owner} got extra without a corpus of curves.")
            x = check_extra(extra, len(corpus), owner)
        self._fit(corpus, x)
        self.n_curves_ = 0 if corpus is None else int(corpus.shape[0])
        self.curve_length_ = None if corpus is None else int(corpus.shape[1])
        self.n_extra_features_ = None if x is None else int(x.shape[1])
        return self

    def predict_final(
        self, partial: CurveBatch, *, final_epoch: int, extra: np.ndarray | None = None
    ) -> Prediction:
        """Predict the value at ``final_epoch`` for each partial curve.

        Args:
            partial: 2-D array (n, t) of observed prefixes with trailing NaN padding, or a list
                of n 1-D arrays of varying length. Column j is epoch j + 1. A curve ending in
                non-finite values (inf in a 2-D array; NaN or inf in a list) diverged.
            final_epoch: 1-based epoch to predict; must be >= every observed length.
            extra: Architecture features (n, d) when the model was fitted with them.

        Returns:
            ``Prediction`` with float64 ``mean`` (n,) and ``std`` (n,), std > 0. A curve already
            observed up to ``final_epoch`` gets its observed value as mean (std at the floor).
            A diverged curve gets the worst value as mean (``-inf`` for accuracy, ``+inf`` for
            loss, or the bound on that side when ``bounds`` is set) and std exactly 0.

        Raises:
            NotFittedError: the model requires ``fit`` and was not fitted.
            InvalidParameterError: bad curves, ``final_epoch`` or ``extra``.
        """
        cls = type(self).__name__
        owner = f"{cls}.predict_final"
        fitted = hasattr(self, "n_curves_")
        if self.requires_fit and not fitted:
            raise NotFittedError(
                f"This {cls} is not fitted yet; call fit(curves) with a corpus of full curves "
                "first."
            )
        if not fitted:
            self._check_params()
        values, lengths, diverged_at = split_partial(partial, owner)
        final = check_int(final_epoch, "final_epoch", owner, minimum=1)
        n = len(lengths)
        observed = np.maximum(lengths, diverged_at)
        if n and observed.max() > final:
            i = int(observed.argmax())
            raise param_error(
                "final_epoch",
                owner,
                f"an int >= every observed length (curve {i} has {int(observed[i])} epochs)",
                final,
            )
        x = None
        n_feat = getattr(self, "n_extra_features_", None)
        if extra is not None or n_feat is not None:
            if not self.accepts_extra:
                raise InvalidParameterError(
                    f"{cls} does not use architecture features; pass extra=None."
                )
            if n_feat is None:
                raise InvalidParameterError(
                    f"{cls} was fitted without architecture features; pass extra=None."
                )
            if extra is None:
                raise InvalidParameterError(
                    f"{cls} was fitted with architecture features ({n_feat} columns); "
                    "predict_final needs extra of shape (n, d) too."
                )
            x = check_extra(extra, n, owner, n_feat)
        if n == 0:
            return Prediction(np.zeros(0), np.zeros(0))
        diverged = diverged_at > 0
        mean = np.full(n, -self._sign * np.inf)
        std = np.zeros(n)
        ok = np.flatnonzero(~diverged)
        if ok.size:
            v, ln = values[ok], lengths[ok]
            m, s = self._predict(v, ln, final, None if x is None else x[ok])
            m = np.asarray(m, dtype=np.float64).reshape(ok.size).copy()
            s = np.asarray(s, dtype=np.float64).reshape(ok.size).copy()
            done = ln == final
            m[done] = last_observed(v, ln)[done]
            s[done] = 0.0
            mean[ok], std[ok] = m, s
        if self.bounds is not None:
            lo, hi = self.bounds
            mean = np.clip(mean, lo, hi)
        std = np.where(np.isfinite(std), std, np.inf)
        std = np.where(diverged, 0.0, np.maximum(std, STD_FLOOR_REL * (1.0 + np.abs(mean))))
        return Prediction(mean, std)

    # ----------------------------------------------------------------- to implement
    @abc.abstractmethod
    def _fit(self, curves: np.ndarray | None, extra: np.ndarray | None) -> None:
        """Learn from a validated corpus (m, L) (or ``None``) and features (m, d) (or ``None``)."""

    @abc.abstractmethod
    def _predict(
        self,
        values: np.ndarray,
        lengths: np.ndarray,
        final_epoch: int,
        extra: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (mean (n,), std (n,)) for NaN-padded prefixes (n, T) of lengths (n,)."""

    # ----------------------------------------------------------------- helpers
    @property
    def _sign(self) -> float:
        """+1 for accuracy, -1 for loss: ``_sign * value`` is increasing for a learning curve."""
        return 1.0 if self.kind == "accuracy" else -1.0

    def _check_params(self) -> None:
        """Validate the constructor arguments (subclasses extend and call super)."""
        cls = type(self).__name__
        check_choice(self.kind, "kind", cls, KINDS)
        check_bounds(self.bounds, cls)
        check_int(self.seed, "seed", cls, minimum=0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, seed={self.seed!r})"
