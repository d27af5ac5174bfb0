"""Extremely randomised trees (scikit-learn ``ExtraTreesRegressor``) on a tabular encoding."""

from __future__ import annotations

from typing import Any

import numpy as np

from predictor_nas._lazy import sklearn_ensemble
from predictor_nas._validation import check_float, check_int, param_error
from predictor_nas.encodings import Encoder, TableFeatures
from predictor_nas.predictors._base import Prediction, Predictor, check_calibration
from predictor_nas.spaces import Arch, SearchSpace


class ExtraTreesPredictor(Predictor):
    """Extra-trees forest: mean of the trees, std = their spread.

    Every tree is grown to pure leaves on the whole training set with random split thresholds
    (Geurts et al. 2006). With ``max_features=1.0`` each split draws one random threshold per
    feature and keeps the best, so the forest is a smooth average of many different piecewise
    constant fits. On NB201 (one-hot + op counts of pruned cells + zero-cost features, n = 100,
    sample seeds 100..111) it ranked better than the XGBoost ensemble on the same inputs
    (Kendall tau +0.015..0.02) and is the strongest member of ``EnsemblePredictor``. With
    ``encoding="counts+pathstats"`` (path count and lengths per op subset) it ranks better still
    (+0.020..0.035 at n = 100 with zero-cost features, ``benchmarks/results/
    predictors_nb201_pathstats.md``); that is what the ensemble uses. The default stays
    ``"onehot+counts"`` because path statistics need a space with at most 8 ops (not NB301).
    The std is the spread of the trees' predictions (like a random forest's). It is 0 where all
    trees agree, e.g. at the training archs and their isomorphic copies, whose true values still
    differ by training noise; ``calibrate=True`` adds a floor and a scale
    (``Predictor._calibrate_std``).

    Args:
        space: Search space (or its name).
        encoding: Encoding names joined by ``+`` (``"onehot"``, ``"path"``, ``"counts"``,
            ``"pathstats"``).
        extra: Optional ``TableFeatures`` (zero-cost proxies) appended to the encoding.
        prune: Encode ``space.prune(arch)`` (needs a space with ``prune``, e.g. NB201).
        n_estimators: Number of trees.
        max_features: Share of the features drawn at each split (1.0 = all).
        min_samples_leaf: Minimum training archs per leaf.
        seed: Seeds the forest (``random_state``).
        n_jobs: Threads for fitting and predicting (fixed: results do not depend on it).
        calibrate: Widen the std by a scale and a floor fitted on cross-validated residuals at
            fit time (``std_scale_``, ``std_floor_``; off by default: 1 and 0).
        calibration_folds: Folds of that cross-validation.
    """

    name = "et"

    def __init__(
        self,
        space: SearchSpace | str = "nb201",
        *,
        encoding: str = "onehot+counts",
        extra: TableFeatures | None = None,
        prune: bool = False,
        n_estimators: int = 500,
        max_features: float = 1.0,
        min_samples_leaf: int = 1,
        seed: int = 0,
        n_jobs: int = 1,
        calibrate: bool = False,
        calibration_folds: int = 5,
    ) -> None:
        super().__init__(space, seed=seed)
        self._store_params(locals())

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_int(self.n_estimators, "n_estimators", owner, minimum=1)
        check_int(self.min_samples_leaf, "min_samples_leaf", owner, minimum=1)
        check_int(self.n_jobs, "n_jobs", owner, minimum=1)
        v = check_float(self.max_features, "max_features", owner, minimum=0.0, exclusive=True)
        if v > 1.0:
            raise param_error("max_features", owner, "a float in (0, 1]", self.max_features)
        check_calibration(self, owner, members=self.n_estimators)

    def _fit(self, archs: list[Arch], y: np.ndarray, **extra: Any) -> None:
        self._check_params()

        self.encoder_ = Encoder(self.space_, self.encoding, self.extra, prune=self.prune)
        x = self.encoder_.transform(archs)
        self.model_ = sklearn_ensemble.ExtraTreesRegressor(
            n_estimators=self.n_estimators,
            max_features=float(self.max_features),
            min_samples_leaf=self.min_samples_leaf,
            random_state=int(self.seed),
            n_jobs=self.n_jobs,
        ).fit(x, y)
        self._calibrate_std(archs, y)

    def _predict(self, archs: list[Arch]) -> Prediction:
        x = self.encoder_.transform(archs)
        total = np.zeros(len(x))
        total_sq = np.zeros(len(x))
        for tree in self.model_.estimators_:  # running sums: no (trees, n) matrix
            p = tree.predict(x).astype(np.float64)
            total += p
            total_sq += p * p
        k = len(self.model_.estimators_)
        mean = total / k
        std = None
        if k > 1:
            std = self._calibrated(np.sqrt(np.maximum(total_sq / k - mean**2, 0.0)))
        return Prediction(mean, std)
