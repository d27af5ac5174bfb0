"""A fixed scorer (e.g. a zero-cost proxy ranker) behind the predictor API: a zero-shot model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from predictor_nas._validation import param_error, scores_of
from predictor_nas.predictors._base import Prediction, Predictor
from predictor_nas.spaces import Arch, SearchSpace


class ScorePredictor(Predictor):
    """Predicts ``scorer(archs)`` whatever it was fitted on; no uncertainty.

    The ablation of a learned predictor: plugged into ``PredictorGuidedSampler`` with a
    zero-cost proxy ranker, the search is steered by the proxies alone (``fit`` only validates
    its inputs, as every predictor's does, and learns nothing).

    Args:
        scorer: Maps (n,) architectures to (n,) scores, higher = better.
        space: Search space (or its name).
        seed: Unused (the scorer is fixed); kept for the common API.
    """

    name = "score"

    def __init__(
        self,
        scorer: Callable[[Sequence[Arch]], np.ndarray],
        space: SearchSpace | str = "nb201",
        *,
        seed: int = 0,
    ) -> None:
        super().__init__(space, seed=seed)
        self.scorer = scorer

    def _fit(self, archs: list[Arch], y: np.ndarray, **extra: Any) -> None:
        if not callable(self.scorer):
            raise param_error(
                "scorer", type(self).__name__, "a callable archs -> scores", self.scorer
            )

    def _predict(self, archs: list[Arch]) -> Prediction:
        return Prediction(scores_of(self.scorer, archs, "ScorePredictor"), None)
