"""Promotion scores of a multi-fidelity search: the predicted final value of each rung member.

``_PromotionEstimates`` is the part of ``_Search`` (``predictor_nas.multifidelity._search``)
that extrapolates a rung's results to the final fidelity (a curve model on learning curves, a
low->final line on NB201's two fidelities) and merges them with the predictor's estimate made
when each arch was proposed; see ``predictor_nas.multifidelity._run`` for the method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas.curves import make_curve_model
from predictor_nas.multifidelity._promotion import (
    LinearFidelityMapping,
    calibration_scale,
    combine_gaussians,
)
from predictor_nas.multifidelity._settings import (
    MIN_CALIBRATION,
    MIN_PAIRS,
    REFIT_GROWTH,
    _seed,
)

if TYPE_CHECKING:
    from predictor_nas.evaluators import FidelityEvaluator
    from predictor_nas.multifidelity._search import _Eval


class _PromotionEstimates:
    """Promotion scoring of ``_Search`` (a mixin: it reads the search's state below)."""

    ev: FidelityEvaluator
    promotion: str
    seed: int
    curve_model: str
    top: int
    evals: list[_Eval]
    by_key: dict[str, list[_Eval]]
    final: dict[str, float]
    extrapolated: dict[str, tuple[float, float]]
    curve_estimates: dict[int, list[tuple[str, float, float]]]
    _curve_cache: tuple[int, Any] | None

    def _promotion_scores(self, evals: Sequence[_Eval]) -> np.ndarray:
        observed = np.array([e.value for e in evals], dtype=np.float64)
        if self.promotion == "observed":
            return observed
        fidelity = evals[0].fidelity
        if self.ev.has_curves:
            mean, std = self._curve_estimate(evals, fidelity)
        else:
            mean, std = self._mapping_estimate(evals, fidelity)
        if std is None:
            return mean
        for e, m, sd in zip(evals, mean, std):
            self.extrapolated[e.key] = (float(m), float(sd))
        pm = np.array([np.nan if e.pred_mean is None else e.pred_mean for e in evals])
        ps = np.array([np.nan if e.pred_std is None else e.pred_std for e in evals])
        scale = self._predictor_scale()
        if scale is None or np.all(np.isnan(pm)):
            return mean
        combined, _ = combine_gaussians(mean, std, pm, ps * scale)
        return combined

    def _predictor_scale(self) -> float | None:
        """Calibration of the predictor's std on archs that reached the final fidelity, using
        the prediction made when each was first proposed."""
        rows = {}
        for e in self.evals:
            if e.pred_mean is not None and e.key in self.final and e.key not in rows:
                rows[e.key] = (e.pred_mean, e.pred_std, self.final[e.key])
        if not rows:
            return None
        m, s, o = zip(*rows.values())
        return calibration_scale(m, s, o, min_count=MIN_CALIBRATION)

    def _mapping_estimate(
        self, evals: Sequence[_Eval], fidelity: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """NB201-style: a line from the value at ``fidelity`` to the final value."""
        observed = np.array([e.value for e in evals], dtype=np.float64)
        low, high = [], []
        for key, evs in self.by_key.items():
            at = [e.value for e in evs if e.fidelity == fidelity]
            if at and key in self.final:
                low.append(at[0])
                high.append(self.final[key])
        if len(low) < MIN_PAIRS:
            return observed, None
        pred = LinearFidelityMapping(min_pairs=MIN_PAIRS).fit(low, high).predict(observed)
        return pred.mean, pred.std

    def _curve_estimate(
        self, evals: Sequence[_Eval], fidelity: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A curve model extrapolates each prefix 1..fidelity to the final epoch; the std is
        rescaled by the z-scores of this rung's earlier estimates (None until calibrated)."""
        partial = np.array([[e.curve[t] for t in range(1, fidelity + 1)] for e in evals])
        model = self._fitted_curve_model()
        pred = model.predict_final(partial, final_epoch=self.top)
        past = self.curve_estimates.setdefault(fidelity, [])
        rows = [(m, s, self.final[k]) for k, m, s in past if k in self.final]
        past.extend((e.key, float(m), float(s)) for e, m, s in zip(evals, pred.mean, pred.std))
        scale = None
        if rows:
            m, s, o = zip(*rows)
            scale = calibration_scale(m, s, o, min_count=MIN_CALIBRATION)
        if scale is None:
            return pred.mean, None
        return pred.mean, pred.std * scale

    def _fitted_curve_model(self) -> Any:
        """The curve model, refitted when the corpus of full curves grew by ``REFIT_GROWTH``
        (the parametric model uses no corpus and is fitted once)."""
        corpus = [
            [e.curve[t] for t in range(1, self.top + 1)]
            for e in self.evals
            if e.fidelity == self.top and len(e.curve) >= self.top
        ]
        m = len(corpus)
        if self._curve_cache is not None:
            fitted_at, model = self._curve_cache
            grown = m > fitted_at and m >= math.ceil(fitted_at * REFIT_GROWTH)
            if self.curve_model == "parametric" or not grown:
                return model
        model = make_curve_model(
            self.curve_model,
            np.array(corpus) if m else None,
            seed=_seed(self.seed, 0x435256) % 2**31,
        )
        self._curve_cache = (m, model)
        return model
