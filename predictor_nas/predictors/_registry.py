"""The predictor registry: names -> classes, and ``make_predictor``.

The package ``__init__`` fills ``PREDICTORS`` once every predictor module is imported; modules
that look predictors up by name (the ensemble, ``evaluate_predictors``) import this module, which
imports no predictor, so there is no import cycle.
"""

from __future__ import annotations

from typing import Any

from predictor_nas._validation import check_choice
from predictor_nas.predictors._base import Predictor

#: Predictors by the name the CLI and reports use (filled by ``predictor_nas.predictors``).
PREDICTORS: dict[str, type[Predictor]] = {}


def make_predictor(name: str, *, seed: int = 0, extra: Any = None, **kwargs: Any) -> Predictor:
    """Build the predictor registered under ``name`` (see ``PREDICTORS``).

    Args:
        name: A key of ``PREDICTORS``: ``"ensemble"``, ``"et"``, ``"gin"``, ``"ridge"`` or
            ``"xgb"``.
        seed: Seed of the predictor.
        extra: Optional ``TableFeatures`` (zero-cost proxies) the predictor uses as extra inputs.
        **kwargs: Other constructor arguments of that predictor (``space``, ``encoding``...).

    Raises:
        InvalidParameterError: ``name`` is not a registered predictor.
    """
    check_choice(name, "predictor", "make_predictor", sorted(PREDICTORS))
    return PREDICTORS[name](seed=seed, extra=extra, **kwargs)
