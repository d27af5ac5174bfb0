"""Gradient-boosted trees (XGBoost) on a tabular encoding, with an ensemble for uncertainty."""

from __future__ import annotations

from typing import Any

import numpy as np

from predictor_nas._lazy import xgboost
from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.encodings import Encoder, TableFeatures
from predictor_nas.predictors._base import Prediction, Predictor, check_calibration
from predictor_nas.spaces import Arch, SearchSpace

#: Training losses: squared error, or pseudo-Huber (slope 1 on standardised targets).
LOSSES = ("squared", "huber")
_OBJECTIVES = {"squared": "reg:squarederror", "huber": "reg:pseudohubererror"}

#: Defaults per encoding, for the arguments left at ``None`` (see ``XGBPredictor``).
_AUTO = {
    "onehot": {"n_estimators": 300, "max_depth": 4, "loss": "squared"},
    "path": {"n_estimators": 200, "max_depth": 3, "loss": "huber"},
}


class XGBPredictor(Predictor):
    """An ensemble of ``xgboost.XGBRegressor`` on one-hot / path encodings (+ table features).

    Every member is trained on its own bootstrap resample of the training set, with its own
    ``random_state`` for the row (``subsample``) and column (``colsample_bytree``) subsampling
    of each tree; the prediction is the members' mean and the std their spread. Away from the
    training archs the members disagree more, so the std is larger there (a heuristic, not a
    calibrated posterior; trees cannot extrapolate to a feature never seen in training).
    Targets are standardised before boosting; trees use ``tree_method="hist"`` and a fixed
    ``n_jobs``, so results are identical for a given ``seed``.

    Defaults were tuned on NAS-Bench-201 cifar10 with 60..500 training archs (sample seeds
    100..107). Arguments left at ``None`` depend on the encoding:

    * ``"onehot"`` and ``"onehot+path"``: 300 trees of depth 4, squared error. One-hot columns
      only score in interaction, so deeper trees help.
    * ``"path"``: 200 trees of depth 3, pseudo-Huber loss. Path counts already are op
      conjunctions; deeper or more trees overfit, and the squared error let the few collapsed
      cells (~10 % accuracy, -7 std) dominate small training sets.

    ``min_child_weight=1`` lets 20 training archs still split.

    ``prune=True`` encodes every cell as its dead-op-pruned representative (``space.prune``), so
    the trees see which operations act, not which are merely present (+0.07..0.11 Kendall tau at
    n = 100 on NB201, more with zero-cost proxies). ``calibrate=True`` rescales the ensemble's std,
    which is otherwise far too narrow (see ``Predictor._calibrate_std``); it costs
    ``calibration_folds`` extra fits.

    Args:
        space: Search space (or its name).
        encoding: Encoding names joined by ``+`` (``"onehot"``, ``"path"``, ``"counts"``,
            ``"pathstats"``, e.g. ``"onehot+path"``); see ``predictor_nas.encodings.Encoder``.
        extra: Optional ``TableFeatures`` (zero-cost proxies) appended to the encoding.
        prune: Encode ``space.prune(arch)`` (needs a space with ``prune``, e.g. NB201).
        n_estimators: Trees per member (``None``: by encoding, see above).
        max_depth: Depth of each tree (``None``: by encoding).
        learning_rate: Shrinkage per tree.
        loss: ``"squared"`` or ``"huber"`` (``None``: by encoding).
        subsample: Fraction of the (bootstrapped) rows each tree sees.
        colsample_bytree: Fraction of the columns each tree sees.
        min_child_weight: Minimum hessian (number of rows, for squared error) in a leaf.
        reg_lambda: L2 penalty on leaf weights.
        bootstrap: Train each member on a bootstrap resample (much better std, ~0.01 tau).
        ensemble_size: Number of members (1 gives ``std=None``).
        seed: Seeds the bootstraps and every member's ``random_state``.
        n_jobs: Threads per member (fixed so results do not depend on the machine).
        calibrate: Widen the std by a scale and a floor fitted on cross-validated residuals at
            fit time (``std_scale_``, ``std_floor_``; off by default: 1 and 0).
        calibration_folds: Folds of that cross-validation.
    """

    name = "xgb"

    def __init__(
        self,
        space: SearchSpace | str = "nb201",
        *,
        encoding: str = "onehot",
        extra: TableFeatures | None = None,
        prune: bool = False,
        n_estimators: int | None = None,
        max_depth: int | None = None,
        learning_rate: float = 0.05,
        loss: str | None = None,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        bootstrap: bool = True,
        ensemble_size: int = 5,
        seed: int = 0,
        n_jobs: int = 1,
        calibrate: bool = False,
        calibration_folds: int = 5,
    ) -> None:
        super().__init__(space, seed=seed)
        self._store_params(locals())

    def _resolve_params(self) -> dict[str, Any]:
        """Validated hyper-parameters, with the ``None`` ones filled in from the encoding."""
        owner = type(self).__name__
        auto = _AUTO["path" if self.encoding == "path" else "onehot"]
        p = {k: auto[k] if getattr(self, k) is None else getattr(self, k) for k in auto}
        check_int(p["n_estimators"], "n_estimators", owner, minimum=1)
        check_int(p["max_depth"], "max_depth", owner, minimum=1)
        check_choice(p["loss"], "loss", owner, LOSSES)
        check_int(self.ensemble_size, "ensemble_size", owner, minimum=1)
        check_int(self.n_jobs, "n_jobs", owner, minimum=1)
        check_calibration(self, owner)
        check_float(self.learning_rate, "learning_rate", owner, minimum=0.0, exclusive=True)
        check_float(self.min_child_weight, "min_child_weight", owner, minimum=0.0)
        check_float(self.reg_lambda, "reg_lambda", owner, minimum=0.0)
        for name in ("subsample", "colsample_bytree"):
            v = check_float(getattr(self, name), name, owner, minimum=0.0, exclusive=True)
            if v > 1.0:
                raise param_error(name, owner, "a float in (0, 1]", getattr(self, name))
        return p

    def _fit(self, archs: list[Arch], y: np.ndarray, **extra: Any) -> None:
        self.params_ = self._resolve_params()
        self.encoder_ = Encoder(self.space_, self.encoding, self.extra, prune=self.prune)

        x = self.encoder_.transform(archs)
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() or 1.0)
        z = (y - self.y_mean_) / self.y_std_
        seeds = np.random.SeedSequence([self.seed, 0x584742]).generate_state(self.ensemble_size)
        self.models_ = []
        for s in seeds:
            rows = np.arange(len(x))
            if self.bootstrap and self.ensemble_size > 1:
                rows = np.random.default_rng(int(s)).integers(len(x), size=len(x))
            model = xgboost.XGBRegressor(
                n_estimators=self.params_["n_estimators"],
                max_depth=self.params_["max_depth"],
                objective=_OBJECTIVES[self.params_["loss"]],
                huber_slope=1.0,
                learning_rate=self.learning_rate,
                subsample=self.subsample,
                colsample_bytree=self.colsample_bytree,
                min_child_weight=self.min_child_weight,
                reg_lambda=self.reg_lambda,
                tree_method="hist",
                base_score=0.0,
                random_state=int(s) & 0x7FFFFFFF,
                n_jobs=self.n_jobs,
                verbosity=0,
            )
            self.models_.append(model.fit(x[rows], z[rows]))
        self._calibrate_std(archs, y)

    def _predict(self, archs: list[Arch]) -> Prediction:
        x = self.encoder_.transform(archs)
        preds = np.stack([m.predict(x) for m in self.models_]).astype(np.float64)
        mean = preds.mean(axis=0) * self.y_std_ + self.y_mean_
        std = None
        if len(self.models_) > 1:
            std = self._calibrated(preds.std(axis=0) * self.y_std_)
        return Prediction(mean, std)
