"""The named methods, schedules and promotion order of ``run_multifidelity``.

``METHODS`` maps each method name to its (schedule, proposer, promotion); see
``predictor_nas.multifidelity._run`` for what each choice does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from predictor_nas._validation import check_choice, param_error
from predictor_nas.evaluators import FidelityEvaluator
from predictor_nas.multifidelity._brackets import (
    Bracket,
    Rung,
    hyperband_brackets,
    successive_halving_bracket,
)

OWNER = "run_multifidelity"
CONFIG_ATTR = "predictor_nas_multifidelity_config"
SCHEDULES = ("hyperband", "successive_halving", "full")
PROPOSERS = ("predictor", "random")
PROMOTIONS = ("curve", "observed")

#: Named (schedule, proposer, promotion) combinations.
METHODS: dict[str, tuple[str, str, str]] = {
    "mf": ("hyperband", "predictor", "curve"),
    "mf-sh": ("successive_halving", "predictor", "curve"),
    "hyperband": ("hyperband", "random", "observed"),
    "sh": ("successive_halving", "random", "observed"),
    "guided": ("full", "predictor", "observed"),
    "random": ("full", "random", "observed"),
}
METHOD_HELP: dict[str, str] = {
    "mf": "Hyperband; predictor-proposed brackets; promotions by predicted final value",
    "mf-sh": "successive halving; predictor-proposed; promotions by predicted final value",
    "hyperband": "plain Hyperband: random proposals, promotions by observed value",
    "sh": "plain successive halving: random proposals, promotions by observed value",
    "guided": "single fidelity: predictor-guided (EI), one arch at a time at full fidelity",
    "random": "single fidelity: random search at full fidelity",
}
#: Predictor settings of the guided strategy (``samplers.GUIDED_KWARGS``).
DEFAULT_PREDICTOR_KWARGS: dict[str, Any] = {"n_estimators": 150}
#: Calibration needs this many (estimate, later-observed final value) pairs.
MIN_CALIBRATION = 5
#: Pairs (low, final) the NB201 low->final line needs.
MIN_PAIRS = 5
#: The learned curve model is refitted when the corpus of full curves grew by this factor.
REFIT_GROWTH = 1.25


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def method_settings(method: str) -> tuple[str, str, str]:
    """(schedule, proposer, promotion) of a named method."""
    check_choice(method, "method", OWNER, METHODS)
    return METHODS[method]


def schedule_brackets(
    schedule: str, evaluator: FidelityEvaluator, *, eta: int = 3, min_fidelity: int | None = None
) -> list[Bracket]:
    """The brackets a schedule cycles through on ``evaluator``'s fidelities.

    ``"full"`` is one rung of one architecture at the maximum fidelity.
    """
    check_choice(schedule, "schedule", OWNER, SCHEDULES)
    top = evaluator.max_fidelity
    if schedule == "full":
        return [Bracket(s=0, rungs=(Rung(fidelity=top, n_configs=1),))]
    low = evaluator.min_fidelity if min_fidelity is None else min_fidelity
    low = evaluator.check_fidelity(low, OWNER) if evaluator.levels is None else low
    if evaluator.levels is not None and low not in evaluator.levels:
        raise param_error("min_fidelity", OWNER, f"one of {list(evaluator.levels)}", low)
    if schedule == "hyperband":
        return hyperband_brackets(top, low, eta, evaluator.levels)
    return [successive_halving_bracket(top, low, eta, evaluator.levels)]


def promotion_order(score: np.ndarray, observed: np.ndarray, keep: int) -> np.ndarray:
    """Indices of the ``keep`` members promoted: highest ``score`` first, ties broken by the
    higher observed value, then by rung order.

    Args:
        score: (n,) promotion scores (predicted final values, or the observed values).
        observed: (n,) values observed at the rung.
        keep: How many go up (clipped to n).

    Returns:
        int64 array (min(keep, n),).
    """
    s = np.asarray(score, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    return np.lexsort((np.arange(len(s)), -o, -s))[: max(int(keep), 0)].astype(np.int64)
