"""Ensemble of parametric learning-curve families, fitted to all curves at once.

Each family (see ``_families``) is fitted to every curve of the batch together, in numpy:

1. a grid over its nonlinear parameters theta (q <= 2), with the linear ones (A, B) solved in
   closed form per grid point and curve (variable projection); the best grid point of each curve
   is its starting point, so every curve gets the best of 16-56 starts;
2. a batched, box-bounded Levenberg-Marquardt on theta only (A and B stay solved in closed form,
   which removes the strong A/B/theta correlations of the full problem): forward-difference
   Jacobians, per-curve damping, positive parameters on a log scale, an active set for
   parameters at a bound, and curves dropping out of the batch as they converge.

``solver="scipy"`` instead refines the grid start with one bounded
``scipy.optimize.least_squares(method="trf")`` call per curve and family on the full parameter
vector (analytic Jacobian): the slow reference the batched solver is tested against (it reaches
the same optimum within 1% on >= 90% of the fits in ``tests/curves/test_curve_models.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from predictor_nas._lazy import scipy_optimize
from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.curves._base import CurveModel, Kind, last_observed
from predictor_nas.curves._families import DEFAULT_FAMILIES, FAMILIES
from predictor_nas.curves._last_value import LastValueCurveModel, heuristic_std
from predictor_nas.curves._parametric_fit import (
    fit_family,
)

#: Noise floor of the normalised curve (observed range = 1) used in the fit criteria.
NOISE_FLOOR = 1e-3
#: A family with p parameters is fitted to curves with at least p + MIN_DOF observed epochs.
MIN_DOF = 1
#: Number of cut lengths (geometric in 1 .. L - 1) the std is calibrated at.
CALIBRATION_CUTS = 12
WEIGHTINGS = ("bic", "inverse_variance", "equal")
SOLVERS = ("batched", "scipy")


# --------------------------------------------------------------------------- the ensemble
class ParametricEnsembleCurveModel(CurveModel):
    """Weighted ensemble of parametric curve families, fitted by bounded least squares.

    Per curve, the observed prefix is turned to increase (losses negated) and scaled to [0, 1];
    each family with fewer parameters than observed epochs is fitted (see ``_families`` and
    :func:`fit_family`) and extrapolated to ``final_epoch``; members are weighted per curve by
    fit quality and the prediction is their weighted mean. Curves with fewer than 3 observed
    epochs, where no family can be fitted, get the last observed value and the corpus-free std
    of :class:`LastValueCurveModel`.

    Monotonicity: every member is non-decreasing in the improving direction (accuracy up, loss
    down), so the extrapolation never goes backwards from the ensemble's fitted value at the last
    observed epoch. The prediction is deliberately not forced past the best (or last) observed
    value: those carry the curve's noise, and real validation curves can get worse late in
    training (28% of the epoch-to-epoch steps of the NAS-Bench-NLP validation losses go up).
    Clip to a valid range with ``bounds`` (e.g. ``(0, 100)`` for accuracy in percent).

    Weights (``weighting``), with ``T = temperature``: ``"bic"`` uses ``exp(-BIC / (2 T))`` with
    ``BIC = t log(RSS / t + floor^2) + p log t``; ``"inverse_variance"`` uses
    ``(RSS / (t - p) + floor^2)^(-1 / T)``; ``"equal"`` weighs members equally (``floor`` =
    ``NOISE_FLOOR`` of the observed range). ``T = 1`` is the textbook BIC model average; on
    NAS-Bench-NLP with 5 of 50 epochs observed it was no better than the last value, because a
    few epochs cannot tell the families apart and plain BIC puts nearly all the weight on the
    member that happens to interpolate them best. The default ``T = 10`` keeps the ranking by
    fit but mixes the members (on clean pow3 curves it still finds the right family).

    Std: without a corpus, the root sum of squares of the weighted spread of the member
    predictions, the weighted residual noise ``RSS / (t - p)`` of the fits, the predicted
    remaining change itself (``mean - fitted value at the last epoch``: an extrapolation is
    uncertain by about as much as it moves) and :func:`heuristic_std`. After ``fit(curves)``
    with ``calibrate=True``, this std ``s`` becomes ``sqrt(c^2 s^2 + tau^2 rms^2)`` where ``rms``
    is the corpus spread of ``final - last`` at the same cut (the std of
    :class:`LastValueCurveModel`) and ``log c``, ``log tau`` are linear in ``log(t / F)``; the
    four coefficients maximise the Gaussian likelihood of the corpus curves cut at
    ``CALIBRATION_CUTS`` lengths. The calibration never changes the mean.

    Args:
        kind: ``"accuracy"`` or ``"loss"``.
        bounds: Optional ``(low, high)`` the mean is clipped to.
        families: Family names (see ``FAMILIES``); ``None`` = ``DEFAULT_FAMILIES``.
        weighting: ``"bic"``, ``"inverse_variance"`` or ``"equal"``.
        temperature: T > 0 of the weights (see above).
        max_iter: Levenberg-Marquardt iterations at most (batched solver).
        solver: ``"batched"`` (vectorised over curves) or ``"scipy"`` (one
            ``least_squares`` call per curve and family; slow reference).
        calibrate: Whether ``fit(curves)`` calibrates the std on the corpus.
        chunk_size: Curves fitted together at most (bounds memory).
        seed: Unused (the fit is deterministic); kept for the common API.
    """

    name = "parametric"
    requires_fit = False

    def __init__(
        self,
        *,
        kind: Kind = "accuracy",
        bounds: tuple[float, float] | None = None,
        families: Sequence[str] | None = None,
        weighting: str = "bic",
        temperature: float = 10.0,
        max_iter: int = 20,
        solver: str = "batched",
        calibrate: bool = True,
        chunk_size: int = 1024,
        seed: int = 0,
    ) -> None:
        super().__init__(kind=kind, bounds=bounds, seed=seed)
        self.families = families
        self.calibrate = calibrate
        self.weighting = weighting
        self.temperature = temperature
        self.max_iter = max_iter
        self.solver = solver
        self.chunk_size = chunk_size

    def _check_params(self) -> None:
        super()._check_params()
        cls = type(self).__name__
        fams = self._family_list()
        if not fams or len(set(fams)) != len(fams) or any(f not in FAMILIES for f in fams):
            raise param_error(
                "families", cls, f"None or distinct names among {sorted(FAMILIES)}", self.families
            )
        check_choice(self.weighting, "weighting", cls, WEIGHTINGS)
        check_float(self.temperature, "temperature", cls, minimum=0.0, exclusive=True)
        check_int(self.max_iter, "max_iter", cls, minimum=1)
        check_choice(self.solver, "solver", cls, SOLVERS)
        check_int(self.chunk_size, "chunk_size", cls, minimum=1)
        if not isinstance(self.calibrate, (bool, np.bool_)):
            raise param_error("calibrate", cls, "a bool", self.calibrate)

    def _family_list(self) -> list[Any]:
        if self.families is None:
            return list(DEFAULT_FAMILIES)
        if isinstance(self.families, str) or not isinstance(self.families, Sequence):
            return []
        return list(self.families)

    def _fit(self, curves: np.ndarray | None, extra: np.ndarray | None) -> None:
        self.families_ = tuple(self._family_list())
        self.calibration_ = None
        if curves is not None and self.calibrate:
            self.calibration_ = self._calibrate(curves)

    def _calibrate(self, curves: np.ndarray) -> dict[str, Any]:
        """Fit ``std^2 -> c^2 std^2 + tau^2 rms^2`` on the corpus (Gaussian max likelihood).

        ``rms`` is the corpus spread of ``final - last`` for the same cut (what
        :class:`LastValueCurveModel` uses as its std), which carries the dependence on how far
        the curve still has to go; the two numbers c and tau are pooled over
        ``CALIBRATION_CUTS`` cut lengths (geometric in 1 .. L - 1), which keeps them stable when a
        few corpus curves behave unlike the rest.
        """

        m, length = curves.shape
        baseline = LastValueCurveModel(kind=self.kind).fit(curves)
        cuts = np.unique(np.rint(np.geomspace(1, length - 1, CALIBRATION_CUTS)).astype(int))
        e2, s2, r2, lf = [], [], [], []
        for t in cuts:
            lengths = np.full(m, t)
            mean, std = self._predict_raw(curves[:, :t], lengths, length)
            _, rms = baseline._predict(curves[:, :t], lengths, length, None)
            e2.append((curves[:, -1] - mean) ** 2)
            s2.append(std**2)
            r2.append(rms**2)
            lf.append(np.full(m, np.log(t / length)))
        e2a, s2a, r2a, lfa = (np.concatenate(a) for a in (e2, s2, r2, lf))

        def nll(x: np.ndarray) -> float:
            var = np.exp(2 * (x[0] + x[1] * lfa)) * s2a + np.exp(2 * (x[2] + x[3] * lfa)) * r2a
            return float(0.5 * np.mean(np.log(var + 1e-300) + e2a / (var + 1e-300)))

        res = scipy_optimize.minimize(
            nll,
            np.array([0.0, 0.0, -2.0, 0.0]),
            method="L-BFGS-B",
            bounds=[(-7.0, 7.0), (-2.0, 2.0), (-7.0, 7.0), (-2.0, 2.0)],
        )
        return {"coef": res.x, "baseline": baseline}

    def _predict(
        self, values: np.ndarray, lengths: np.ndarray, final_epoch: int, extra: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self._predict_raw(values, lengths, final_epoch)
        cal = getattr(self, "calibration_", None)
        if cal is not None:
            _, rms = cal["baseline"]._predict(values, lengths, final_epoch, None)
            x, lf = cal["coef"], np.log(lengths / final_epoch)
            c, tau = np.exp(x[0] + x[1] * lf), np.exp(x[2] + x[3] * lf)
            std = np.sqrt((c * std) ** 2 + (tau * rms) ** 2)
        return mean, std

    def _predict_raw(
        self, values: np.ndarray, lengths: np.ndarray, final_epoch: int
    ) -> tuple[np.ndarray, np.ndarray]:
        mean = np.empty(len(lengths))
        std = np.empty(len(lengths))
        step = int(self.chunk_size)
        for start in range(0, len(lengths), step):
            sl = slice(start, start + step)
            ln = lengths[sl]
            v = values[sl, : int(ln.max())]
            mean[sl], std[sl] = self._predict_chunk(v, ln, final_epoch)
        return mean, std

    def member_predictions(
        self, values: np.ndarray, lengths: np.ndarray, final_epoch: int
    ) -> dict[str, np.ndarray]:
        """Per-family fits of validated, NaN-padded prefixes (n, T) with lengths (n,).

        Returns:
            Dict with ``final`` (n, K) member predictions at ``final_epoch`` and ``fitted_last``
            (n, K) at the last observed epoch (original units), ``weight`` (n, K) (rows sum to 1,
            0 for members not fitted), ``noise`` (n,) weighted residual std (original units) and
            ``ok`` (n,) whether any member was fitted; K = number of families.
        """
        z = self._sign * values
        mask = ~np.isnan(z)
        lo = np.where(mask, z, np.inf).min(axis=1)
        hi = np.where(mask, z, -np.inf).max(axis=1)
        rng = hi - lo
        rng = np.where(rng > 1e-12 * (1.0 + np.abs(hi)), rng, 1.0)
        u = np.where(mask, (z - lo[:, None]) / rng[:, None], 0.0)
        t = lengths.astype(np.float64)
        names = getattr(self, "families_", None) or tuple(self._family_list())
        k = len(names)
        n = len(lengths)
        final = np.zeros((n, k))
        fitted = np.zeros((n, k))
        crit = np.full((n, k), np.inf)
        var = np.zeros((n, k))
        valid = np.zeros((n, k), dtype=bool)
        with np.errstate(all="ignore"):
            for j, name in enumerate(names):
                fam = FAMILIES[name]
                p = fam.n_params
                rows = lengths >= p + MIN_DOF
                if not rows.any():
                    continue
                res = fit_family(
                    fam,
                    u[rows],
                    lengths[rows],
                    final_epoch,
                    max_iter=int(self.max_iter),
                    solver=self.solver,
                )
                tr = t[rows]
                ok = np.isfinite(res["final"]) & np.isfinite(res["rss"])
                idx = np.flatnonzero(rows)[ok]
                rss = res["rss"][ok]
                tr = tr[ok]
                final[idx, j] = res["final"][ok]
                fitted[idx, j] = res["fitted_last"][ok]
                var[idx, j] = rss / np.maximum(tr - p, 1.0)
                valid[idx, j] = True
                if self.weighting == "bic":
                    crit[idx, j] = tr * np.log(rss / tr + NOISE_FLOOR**2) + p * np.log(tr)
                elif self.weighting == "inverse_variance":
                    crit[idx, j] = np.log(var[idx, j] + NOISE_FLOOR**2)
                else:
                    crit[idx, j] = 0.0
            crit = np.where(valid, crit, np.inf)
            best = crit.min(axis=1, keepdims=True)
            factor = (0.5 if self.weighting == "bic" else 1.0) / float(self.temperature)
            shift = np.where(np.isfinite(best), best, 0.0)
            w = np.where(valid, np.exp(-factor * (crit - shift)), 0.0)
            tot = w.sum(axis=1, keepdims=True)
            w = np.where(tot > 0, w / np.where(tot > 0, tot, 1.0), 0.0)
        ok = valid.any(axis=1)
        noise = np.sqrt((w * var).sum(axis=1)) * rng
        to_orig = self._sign * rng[:, None]
        return {
            "final": self._sign * lo[:, None] + to_orig * final,
            "fitted_last": self._sign * lo[:, None] + to_orig * fitted,
            "weight": w,
            "noise": noise,
            "ok": ok,
        }

    def _predict_chunk(
        self, values: np.ndarray, lengths: np.ndarray, final_epoch: int
    ) -> tuple[np.ndarray, np.ndarray]:
        mem = self.member_predictions(values, lengths, final_epoch)
        w, f = mem["weight"], mem["final"]
        mean = (w * f).sum(axis=1)
        spread2 = (w * (f - mean[:, None]) ** 2).sum(axis=1)
        remaining = mean - (w * mem["fitted_last"]).sum(axis=1)
        heur = heuristic_std(values, lengths, final_epoch)
        std = np.sqrt(spread2 + mem["noise"] ** 2 + remaining**2 + heur**2)
        ok = mem["ok"]
        if not ok.all():
            mean = np.where(ok, mean, last_observed(values, lengths))
            std = np.where(ok, std, heur)
        return mean, std
