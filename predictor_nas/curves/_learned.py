"""Learned extrapolation: gradient boosting from partial-curve features to the remaining change."""

from __future__ import annotations

import logging

import numpy as np
from threadpoolctl import threadpool_limits

from predictor_nas._lazy import sklearn_ensemble
from predictor_nas._validation import check_float, check_int, param_error
from predictor_nas.curves._base import CurveModel, Kind, last_observed
from predictor_nas.curves._features import FEATURE_NAMES, curve_features
from predictor_nas.exceptions import InvalidParameterError

log = logging.getLogger(__name__)

#: Quantiles of the remaining change that bracket +-Z_QUANTILE standard deviations of a Gaussian:
#: std = (upper - lower) / (2 * Z_QUANTILE). The +-2 sigma quantiles (2.3%, 97.7%) carry the heavy
#: tails of real curves better than +-1 sigma: on NAS-Bench-NLP (5-fold, seed 0) they raised the
#: mean log-likelihood at 10/20/50% observed from 0.60/-0.48/2.23 to 0.76/1.45/2.33 and the
#: +-2 std coverage from 0.87-0.89 to 0.90-0.94, at the same MAE.
Z_QUANTILE = 2.0
QUANTILES = (0.022750131948179195, 0.9772498680518208)


def training_pairs(
    length: int, n_curves: int, rng: np.random.Generator, extra_horizons: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(curve, t, F) triples a corpus of ``n_curves`` curves of ``length`` epochs is cut into.

    Every curve gives every cut ``t = 1 .. length - 1`` with ``F = length``, plus
    ``round(extra_horizons * (length - 1))`` random pairs ``1 <= t < F < length`` so that the model
    also sees final epochs before the corpus end.

    Returns:
        Three int64 arrays (N,): curve index, observed length t, final epoch F.
    """
    t_full = np.arange(1, length)
    curve = [np.repeat(np.arange(n_curves), len(t_full))]
    t = [np.tile(t_full, n_curves)]
    f = [np.full(n_curves * len(t_full), length)]
    n_extra = round(extra_horizons * (length - 1)) if length > 2 else 0
    if n_extra:
        fe = rng.integers(2, length, size=(n_curves, n_extra))
        te = np.floor(rng.random((n_curves, n_extra)) * (fe - 1)).astype(np.int64) + 1
        curve.append(np.repeat(np.arange(n_curves), n_extra))
        t.append(te.ravel())
        f.append(fe.ravel())
    return np.concatenate(curve), np.concatenate(t), np.concatenate(f)


def exploded_curves(curves: np.ndarray, factor: float) -> np.ndarray:
    """Indices of corpus curves that explode far outside the corpus' range of values.

    The scale is robust to a minority of such curves: the median ``med`` and the interquartile
    range ``iqr`` of all the corpus' values. A curve explodes when one of its values lies further
    than ``factor * iqr`` from ``med`` (with ``iqr`` floored at ``1e-6 * (1 + |med|)``).

    Args:
        curves: Finite corpus (m, L).
        factor: Multiple of the interquartile range (> 0).

    Returns:
        int64 array of the exploded curves' row indices, ascending.
    """
    q25, med, q75 = np.quantile(curves, (0.25, 0.5, 0.75))
    scale = max(q75 - q25, 1e-6 * (1.0 + abs(med)))
    return np.flatnonzero(np.abs(curves - med).max(axis=1) > factor * scale).astype(np.int64)


class LearnedCurveModel(CurveModel):
    """Gradient boosting on partial-curve features, trained on a corpus of full curves.

    Each corpus curve is cut at every epoch (and at random earlier final epochs, see
    :func:`training_pairs`); the target is ``final - last`` in the improving direction and the
    features are :data:`~predictor_nas.curves._features.FEATURE_NAMES` (plus the architecture
    features ``extra`` when given). Three scikit-learn ``HistGradientBoostingRegressor`` are
    fitted: squared error for the mean and the 2.3% / 97.7% quantiles, a quarter of whose
    distance is the std (see ``Z_QUANTILE``). ``predict_final`` needs ``final_epoch`` <= the
    corpus length (boosted trees do not extrapolate in the horizon).

    Preparing a corpus: ``fit`` takes an array (m, L) of full, finite curves of one length. Runs
    that diverged to NaN or inf are refused with an error naming them: drop them first
    (``curves[np.isfinite(curves).all(axis=1)]``) and cut or drop runs of other lengths. Runs that
    exploded to huge finite values (a loss of 1e12 after a too-high learning rate) are dropped by
    ``fit`` itself (see ``outlier_factor``; :func:`exploded_curves`): with squared error a few
    of them would shift every prediction by their size (4% of curves at 1e12 moved predictions
    by about 5e12), and no clean prefix could predict them anyway; divergence during a run is
    the pruner's job (``CurvePruner`` stops it when it happens). ``fit`` logs a warning with
    their count and stores their row indices in ``outlier_curves_``.

    Args:
        kind: ``"accuracy"`` or ``"loss"``.
        bounds: Optional ``(low, high)`` the mean is clipped to.
        max_iter: Boosting iterations per model.
        learning_rate: Boosting learning rate.
        max_leaf_nodes: Leaves per tree.
        min_samples_leaf: Smallest leaf.
        l2_regularization: L2 penalty on leaf values.
        extra_horizons: Random earlier-final-epoch pairs per curve, as a fraction of L - 1.
        n_threads: OpenMP threads of the boosting (``None``: scikit-learn's default, all cores).
            1 by default: the training sets are small, and on busy cores OpenMP threads slow the
            fit down several times (measured 7x with 2 threads on a shared 2-core machine).
        outlier_factor: Corpus curves with a value further than this many interquartile ranges
            (of all corpus values) from the corpus median are dropped as exploded runs, with a
            warning (a float > 0; ``None`` keeps every curve). The default 1000 is far beyond
            the spread of curves that train: on NAS-Bench-NLP the widest clean curve reaches 29
            interquartile ranges.
        seed: Seeds the pair sampling and the boosting.

    Attributes:
        outlier_curves_: int64 array of the corpus rows dropped as exploded (set by ``fit``).
    """

    name = "learned"
    requires_fit = True
    accepts_extra = True

    def __init__(
        self,
        *,
        kind: Kind = "accuracy",
        bounds: tuple[float, float] | None = None,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
        extra_horizons: float = 0.5,
        n_threads: int | None = 1,
        outlier_factor: float | None = 1000.0,
        seed: int = 0,
    ) -> None:
        super().__init__(kind=kind, bounds=bounds, seed=seed)
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.extra_horizons = extra_horizons
        self.n_threads = n_threads
        self.outlier_factor = outlier_factor

    def _check_params(self) -> None:
        super()._check_params()
        cls = type(self).__name__
        check_int(self.max_iter, "max_iter", cls, minimum=1)
        check_float(self.learning_rate, "learning_rate", cls, minimum=0.0, exclusive=True)
        check_int(self.max_leaf_nodes, "max_leaf_nodes", cls, minimum=2)
        check_int(self.min_samples_leaf, "min_samples_leaf", cls, minimum=1)
        check_float(self.l2_regularization, "l2_regularization", cls, minimum=0.0)
        h = check_float(self.extra_horizons, "extra_horizons", cls, minimum=0.0)
        if h > 10:
            raise param_error("extra_horizons", cls, "a finite float in [0, 10]", h)
        if self.n_threads is not None:
            check_int(self.n_threads, "n_threads", cls, minimum=1)
        if self.outlier_factor is not None:
            check_float(self.outlier_factor, "outlier_factor", cls, minimum=0.0, exclusive=True)

    def _threads(self):
        return threadpool_limits(limits=self.n_threads, user_api="openmp")

    def _features(
        self,
        values: np.ndarray,
        lengths: np.ndarray,
        final_epoch: np.ndarray | int,
        extra: np.ndarray | None,
    ) -> np.ndarray:
        x = curve_features(values, lengths, final_epoch, self._sign)
        return x if extra is None else np.hstack([x, extra])

    def _fit(self, curves: np.ndarray | None, extra: np.ndarray | None) -> None:
        assert curves is not None  # requires_fit
        curves, extra = self._drop_exploded(curves, extra)
        m, length = curves.shape
        rng = np.random.default_rng(self.seed)
        ci, t, f = training_pairs(length, m, rng, float(self.extra_horizons))
        values = np.where(np.arange(length)[None, :] < t[:, None], curves[ci], np.nan)
        x = self._features(values, t, f, None if extra is None else extra[ci])
        target = self._sign * (curves[ci, f - 1] - curves[ci, t - 1])
        log.debug("LearnedCurveModel: %d training pairs from %d curves", len(target), m)
        common = {
            "max_iter": int(self.max_iter),
            "learning_rate": float(self.learning_rate),
            "max_leaf_nodes": int(self.max_leaf_nodes),
            "min_samples_leaf": int(self.min_samples_leaf),
            "l2_regularization": float(self.l2_regularization),
            "early_stopping": False,
            "random_state": int(self.seed),
        }
        with self._threads():
            self.mean_model_ = sklearn_ensemble.HistGradientBoostingRegressor(
                loss="squared_error", **common
            ).fit(x, target)
            self.quantile_models_ = tuple(
                sklearn_ensemble.HistGradientBoostingRegressor(
                    loss="quantile", quantile=q, **common
                ).fit(x, target)
                for q in QUANTILES
            )
        self.n_pairs_ = len(target)
        self.feature_names_ = FEATURE_NAMES + tuple(
            f"extra{j}" for j in range(0 if extra is None else extra.shape[1])
        )

    def _drop_exploded(
        self, curves: np.ndarray, extra: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Drop exploded corpus curves (and their feature rows); set ``outlier_curves_``."""
        if self.outlier_factor is None:
            self.outlier_curves_ = np.zeros(0, dtype=np.int64)
            return curves, extra
        out = exploded_curves(curves, float(self.outlier_factor))
        self.outlier_curves_ = out
        if not out.size:
            return curves, extra
        m = len(curves)
        if m - out.size < 2:
            raise InvalidParameterError(
                f"{type(self).__name__}.fit: {out.size} of the {m} corpus curves lie more than "
                f"outlier_factor={self.outlier_factor} interquartile ranges from the corpus "
                "median, leaving fewer than 2 curves; raise outlier_factor or pass None."
            )
        worst = float(np.abs(curves[out]).max())
        log.warning(
            "LearnedCurveModel.fit: dropped %d of %d corpus curves as exploded runs (values up to "
            "%.3g, beyond %g interquartile ranges of the corpus); their rows are in "
            "outlier_curves_: %s",
            out.size,
            m,
            worst,
            self.outlier_factor,
            out[:10].tolist(),
        )
        keep = np.setdiff1d(np.arange(m), out)
        return curves[keep], None if extra is None else extra[keep]

    def _predict(
        self, values: np.ndarray, lengths: np.ndarray, final_epoch: int, extra: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        length = self.curve_length_
        if final_epoch > length:
            raise param_error(
                "final_epoch",
                f"{type(self).__name__}.predict_final",
                f"an int <= the corpus curve length ({length})",
                final_epoch,
            )
        x = self._features(values, lengths, final_epoch, extra)
        with self._threads():
            delta = self.mean_model_.predict(x)
            lo, hi = (mdl.predict(x) for mdl in self.quantile_models_)
        mean = last_observed(values, lengths) + self._sign * delta
        return mean, np.abs(hi - lo) / (2.0 * Z_QUANTILE)
