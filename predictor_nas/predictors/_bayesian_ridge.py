"""Baseline: Bayesian linear regression on a tabular encoding (scikit-learn ``BayesianRidge``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from predictor_nas._lazy import sklearn_linear_model, sklearn_preprocessing
from predictor_nas.encodings import Encoder, TableFeatures
from predictor_nas.predictors._base import Prediction, Predictor
from predictor_nas.spaces import Arch, SearchSpace

#: Encodings ``encoding="auto"`` chooses among, by the evidence of the fitted model.
AUTO_ENCODINGS = ("onehot", "onehot+counts", "onehot+pathstats")


class BayesianRidgePredictor(Predictor):
    """Linear model with a Gaussian posterior: mean and std in closed form.

    Args:
        space: Search space (or its name).
        encoding: Encoding names joined by ``+`` (``"onehot"``, ``"path"``, ``"counts"``,
            ``"pathstats"``), or ``"auto"``: fit one model per encoding of ``AUTO_ENCODINGS``
            and keep the one with the highest log marginal likelihood (the evidence that
            ``BayesianRidge`` maximises over its own prior and noise precisions), so a space
            whose accuracy follows op counts or paths gets those features without a person
            choosing them; the choice is ``encoding_``.
        extra: Optional ``TableFeatures`` (zero-cost proxies) appended to the encoding.
        prune: Encode ``space.prune(arch)`` (needs a space with ``prune``, e.g. NB201).
        seed: Unused by the model (it is deterministic); kept for the common API.
    """

    name = "ridge"

    def __init__(
        self,
        space: SearchSpace | str = "nb201",
        *,
        encoding: str = "onehot",
        extra: TableFeatures | None = None,
        prune: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(space, seed=seed)
        self._store_params(locals())

    def _fit(self, archs: list[Arch], y: np.ndarray, **extra: Any) -> None:
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std() or 1.0)
        target = (y - self.y_mean_) / self.y_std_
        auto = self.encoding == "auto"
        best = None
        for encoding in AUTO_ENCODINGS if auto else (self.encoding,):
            encoder = Encoder(self.space_, encoding, self.extra, prune=self.prune)
            x = encoder.transform(archs)
            scaler = sklearn_preprocessing.StandardScaler().fit(x)
            model = sklearn_linear_model.BayesianRidge(compute_score=auto).fit(
                scaler.transform(x), target
            )
            evidence = float(model.scores_[-1]) if auto else 0.0
            if best is None or evidence > best[0]:
                best = (evidence, encoding, encoder, scaler, model)
        _, self.encoding_, self.encoder_, self.scaler_, self.model_ = best

    def _predict(self, archs: list[Arch]) -> Prediction:
        x = self.scaler_.transform(self.encoder_.transform(archs))
        mean, std = self.model_.predict(x, return_std=True)
        return Prediction(mean * self.y_std_ + self.y_mean_, std * self.y_std_)
