"""Early stopping as an Optuna pruner: stop a run whose extrapolated curve cannot win."""

from __future__ import annotations

import logging
import math

import numpy as np
from optuna.pruners import BasePruner
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_float, check_int, param_error
from predictor_nas.curves._base import CurveModel

log = logging.getLogger(__name__)


def probability_to_beat(mean: float, std: float, best: float, *, maximize: bool) -> float:
    """P(final value beats ``best``) under a Gaussian N(mean, std^2)."""
    z = (mean - best) / max(std, 1e-12)
    if not maximize:
        z = -z
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


class CurvePruner(BasePruner):
    """Prune a trial when its extrapolated final value is unlikely to beat the incumbent.

    Trials report their learning curve with ``trial.report(value, step=epoch)`` (1-based epochs).
    After at least ``min_epochs`` reports, the curve model predicts the value at ``final_epoch``
    as N(mean, std^2); the trial is pruned when P(final beats the best completed trial's value)
    is below ``threshold``. Nothing is pruned before ``n_startup_trials`` trials completed.

    Diverged runs are pruned at once, whatever the epoch or the number of completed trials: a
    report that is NaN or inf, or whose absolute value exceeds ``max_abs_value``, marks the run
    diverged. The pruner records it on the trial through the study's storage as the user
    attributes ``diverged = True`` and ``diverged_epoch`` (the first such epoch), so that a
    sampler can read a pruned trial with ``trial.user_attrs.get("diverged")`` as a bad result
    (worse than every completed trial) rather than a missing one; its last intermediate value is
    the non-finite or huge report itself.

    Args:
        model: A curve model (fitted if it ``requires_fit``; otherwise it is fitted without a
            corpus on first use). Its ``kind`` must match the study direction (accuracy ->
            maximize, loss -> minimize).
        final_epoch: The epoch whose value the objective returns.
        threshold: Prune below this probability of beating the incumbent, in (0, 1).
        min_epochs: Epochs to observe before the first decision (>= 1).
        n_startup_trials: Completed trials needed before pruning starts (>= 1).
        interval: Decide every ``interval`` epochs only (>= 1).
        max_abs_value: A finite report with ``|value|`` above this counts as diverged (a float
            > 0, or ``None`` to treat only NaN and inf as divergence). The default 1e10 lies far
            beyond any accuracy or loss of a run that still trains (cross-entropy starts at
            ``ln(classes)``; a loss past 1e10 does not come back).
    """

    def __init__(
        self,
        model: CurveModel,
        *,
        final_epoch: int,
        threshold: float = 0.05,
        min_epochs: int = 3,
        n_startup_trials: int = 5,
        interval: int = 1,
        max_abs_value: float | None = 1e10,
    ) -> None:
        owner = "CurvePruner"
        if not isinstance(model, CurveModel):
            raise param_error("model", owner, "a predictor_nas.curves.CurveModel", model)
        self.model = model
        self.final_epoch = check_int(final_epoch, "final_epoch", owner, minimum=2)
        self.threshold = check_float(threshold, "threshold", owner, minimum=0.0, exclusive=True)
        if self.threshold >= 1.0:
            raise param_error("threshold", owner, "a float in (0, 1)", threshold)
        self.min_epochs = check_int(min_epochs, "min_epochs", owner, minimum=1)
        self.n_startup_trials = check_int(n_startup_trials, "n_startup_trials", owner, minimum=1)
        self.interval = check_int(interval, "interval", owner, minimum=1)
        self.max_abs_value = (
            None
            if max_abs_value is None
            else check_float(max_abs_value, "max_abs_value", owner, minimum=0.0, exclusive=True)
        )
        self._ready = model.requires_fit is False and hasattr(model, "n_curves_")

    def _ensure_model(self) -> None:
        if not self._ready:
            if not hasattr(self.model, "n_curves_"):
                if self.model.requires_fit:
                    raise param_error(
                        "model",
                        "CurvePruner",
                        "fitted before use (it requires a corpus)",
                        type(self.model).__name__,
                    )
                self.model.fit()
            self._ready = True

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Decide from the trial's reported curve; see the class docstring."""
        steps = sorted(trial.intermediate_values)
        if not steps:
            return False
        diverged = self._diverged_epoch(trial, steps)
        if diverged is not None:
            value = trial.intermediate_values[diverged]
            study._storage.set_trial_user_attr(trial._trial_id, "diverged", True)
            study._storage.set_trial_user_attr(trial._trial_id, "diverged_epoch", int(diverged))
            log.warning(
                "pruning trial %d at epoch %d: it diverged (reported %r at epoch %d)",
                trial.number,
                steps[-1],
                value,
                diverged,
            )
            return True
        last = steps[-1]
        if last < self.min_epochs or last >= self.final_epoch or last % self.interval:
            return False
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(complete) < self.n_startup_trials:
            return False
        maximize = study.direction == StudyDirection.MAXIMIZE
        expected = "accuracy" if maximize else "loss"
        if self.model.kind != expected:
            raise param_error(
                "model",
                "CurvePruner",
                f"a curve model of kind {expected!r} for a "
                f"{'maximized' if maximize else 'minimized'} study",
                self.model.kind,
            )
        self._ensure_model()
        values = [v for v in (complete_t.value for complete_t in complete) if v is not None]
        best = max(values) if maximize else min(values)
        curve = np.full(last, np.nan)
        for s in steps:
            if 1 <= s <= last:
                curve[s - 1] = trial.intermediate_values[s]
        observed = curve[: np.flatnonzero(~np.isnan(curve))[-1] + 1]
        if np.isnan(observed).any():  # gaps in the reports: fill forward, curves need a prefix
            observed = _fill_forward(observed)
        pred = self.model.predict_final(observed[None, :], final_epoch=self.final_epoch)
        p = probability_to_beat(float(pred.mean[0]), float(pred.std[0]), best, maximize=maximize)
        if p < self.threshold:
            log.info(
                "pruning trial %d at epoch %d: predicted final %.4g +- %.2g, P(beat %.4g) = %.3g",
                trial.number,
                last,
                pred.mean[0],
                pred.std[0],
                best,
                p,
            )
            return True
        return False

    def _diverged_epoch(self, trial: FrozenTrial, steps: list[int]) -> int | None:
        """The first epoch whose report is non-finite or beyond ``max_abs_value``, else None."""
        bound = self.max_abs_value
        for s in steps:
            v = trial.intermediate_values[s]
            if not math.isfinite(v) or (bound is not None and abs(v) > bound):
                return s
        return None


def _fill_forward(x: np.ndarray) -> np.ndarray:
    out = x.copy()
    first = np.flatnonzero(~np.isnan(out))
    if first.size:
        out[: first[0]] = out[first[0]]
    for i in range(1, len(out)):
        if np.isnan(out[i]):
            out[i] = out[i - 1]
    return out


__all__ = ["CurvePruner", "probability_to_beat"]
