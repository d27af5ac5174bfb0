"""Ask a study for one architecture of a space, whatever the sampler.

Our samplers only propose valid architectures. Optuna's own (random, TPE, GP) know nothing of a
space's constraints, so a proposal may break one: such a trial is told FAIL with the user
attribute ``infeasible`` (the reason) and the study is asked again; it costs no budget. A
sampler that keeps proposing infeasible architectures (GP ignores failed trials, so it proposes
the same one again) gets, after ``max_infeasible`` refusals in a row, a uniform random feasible
architecture from the space for that query, marked with the user attribute ``fallback`` and a
warning in the log: never silently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from predictor_nas.exceptions import InvalidArchitectureError, SearchError
from predictor_nas.spaces import Arch, SearchSpace

#: User attribute of a trial refused because its params break the space's constraints.
INFEASIBLE_ATTR = "infeasible"
#: User attribute of a trial the search proposed itself after the sampler's refused ones.
FALLBACK_ATTR = "fallback"
#: Refused proposals in a row after which the space's own random draw is used for the query.
MAX_INFEASIBLE = 20

log = logging.getLogger(__name__)


def ask_arch(
    study: optuna.Study,
    space: SearchSpace,
    *,
    distributions: Mapping[str, Any] | None = None,
    max_infeasible: int = MAX_INFEASIBLE,
    rng: np.random.Generator | None = None,
) -> tuple[optuna.trial.Trial, Arch]:
    """A new trial of ``study`` and its architecture.

    On a plain space the trial is asked with the space's fixed distributions (all decisions at
    once); otherwise define-by-run (``space.suggest``: only the active decisions).

    Args:
        study: The study.
        space: The space searched.
        distributions: ``space.distributions()``, if the caller has it already.
        max_infeasible: Infeasible proposals in a row before the fallback.
        rng: Draws the fallback architecture; ``None``: no fallback, raise instead.

    Raises:
        SearchError: ``max_infeasible`` proposals in a row broke the space's constraints and
            no ``rng`` was given.
    """
    dists = distributions if distributions is not None else None
    for _ in range(max_infeasible):
        try:
            if space.plain:
                trial = study.ask(fixed_distributions=dists or space.distributions())
                return trial, space.from_params(trial.params)
            trial = study.ask()
            return trial, space.suggest(trial)
        except InvalidArchitectureError as exc:
            trial.set_user_attr(INFEASIBLE_ATTR, str(exc))
            study.tell(trial, state=TrialState.FAIL)
    what = (
        f"The sampler proposed {max_infeasible} architectures in a row that break a constraint "
        f"of space {space.name!r}"
    )
    if rng is None:
        raise SearchError(
            f"{what}; use a strategy that honours constraints (rea, ls, reinforce, guided, grid) "
            "or loosen the constraints."
        )
    arch = space.sample(rng)
    log.warning("%s; this query takes a random feasible architecture instead.", what)
    study.enqueue_trial(space.to_params(arch), user_attrs={FALLBACK_ATTR: f"random ({what})"})
    trial = study.ask()
    return trial, space.suggest(trial)
