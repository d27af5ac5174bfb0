"""Multi-fidelity search (successive halving / Hyperband) as an Optuna study.

One search combines three choices:

* **schedule** - ``"hyperband"`` (brackets s = s_max..0, repeated), ``"successive_halving"``
  (bracket s_max, repeated) or ``"full"`` (one architecture at a time at full fidelity: the
  single-fidelity baselines);
* **proposer** - how a bracket's first rung is filled: ``"random"`` (uniform, unseen archs) or
  ``"predictor"`` (BANANAS-style: an accuracy predictor fitted on the final values seen so far,
  plus extrapolated final values of archs seen only at low fidelity, scores a pool of mutations
  of the best archs and random archs by expected improvement; the top ones are proposed);
* **promotion** - who goes up a rung: ``"observed"`` (best value at the rung, classic successive
  halving) or ``"curve"`` (best *predicted final* value: the partial result extrapolated to the
  final fidelity - a learned curve model on curves, a learned low->final line on NB201's two
  fidelities - merged with the predictor's estimate made when the arch was proposed, both
  Gaussians with std calibrated on the search's own past errors).

``METHODS`` names the combinations the benchmark compares (``"mf"`` = Hyperband + predictor +
curve). The budget is simulated training seconds (the evaluator's costs); an evaluation that
continues an earlier run of the same arch pays only the extra epochs where the evaluator allows
it (NB301 surrogate) and the full cost otherwise (NB201 tables).

**The study is the ledger.** Every evaluation is one trial, added whole (``study.add_trial``) once
its result is known: params = the arch's active decisions; user attrs ``step``, ``arch``,
``canonical_key``, ``fidelity``, ``bracket``, ``bracket_s``, ``rung``, ``cost_s`` (charged),
``cost_total_s`` (from scratch) and, for predictor proposals, ``predicted_mean`` /
``predicted_std``; intermediate values = the revealed learning curve. Evaluations below the
final fidelity are PRUNED trials (value = their value at that fidelity), final ones COMPLETE, so
``study.best_trial`` is the best fully trained arch. **Resuming** replays the algorithm from the
start: every random choice comes from a generator seeded by (seed, bracket), model fits are
deterministic, and an evaluation already in the ledger is read back instead of recomputed - so a
resumed search makes exactly the decisions of an uninterrupted one (a ledger that disagrees with
the replay raises ``StudyConfigMismatchError``).

Code: ``_settings`` (methods, schedules, promotion order), ``_search`` (the bracket loop and the
ledger), ``_estimates`` (promotion scores), ``_result`` (``MultiFidelityResult``); this module
checks the arguments, opens the study and runs the search.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import optuna

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.curves import CURVE_MODELS
from predictor_nas.evaluators import FidelityEvaluator
from predictor_nas.multifidelity._result import MultiFidelityResult, search_result
from predictor_nas.multifidelity._search import _Search
from predictor_nas.multifidelity._settings import (
    CONFIG_ATTR,
    DEFAULT_PREDICTOR_KWARGS,
    METHOD_HELP,
    METHODS,
    MIN_CALIBRATION,
    MIN_PAIRS,
    OWNER,
    PROMOTIONS,
    PROPOSERS,
    REFIT_GROWTH,
    SCHEDULES,
    method_settings,
    promotion_order,
    schedule_brackets,
)
from predictor_nas.predictors import PREDICTORS
from predictor_nas.search import Budget, Progress, open_study

__all__ = [
    "CONFIG_ATTR",
    "DEFAULT_PREDICTOR_KWARGS",
    "METHODS",
    "METHOD_HELP",
    "MIN_CALIBRATION",
    "MIN_PAIRS",
    "OWNER",
    "PROMOTIONS",
    "PROPOSERS",
    "REFIT_GROWTH",
    "SCHEDULES",
    "MultiFidelityResult",
    "default_mf_study_name",
    "method_settings",
    "promotion_order",
    "run_multifidelity",
    "schedule_brackets",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- public API
def default_mf_study_name(
    evaluator: FidelityEvaluator, schedule: str, proposer: str, promotion: str, eta: int, seed: int
) -> str:
    """Study name derived from the options, so that rerunning the same call resumes it."""
    d = evaluator.describe()
    bench = f"{d['table']}-{d['dataset']}" if d.get("kind") == "table" else str(d.get("kind"))
    return f"mf-{bench}-{schedule}-{proposer}-{promotion}-eta{eta}-seed{seed}"


def run_multifidelity(
    evaluator: FidelityEvaluator,
    *,
    method: str = "mf",
    time_budget: float | None = None,
    max_evaluations: int | None = None,
    eta: int = 3,
    min_fidelity: int | None = None,
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    schedule: str | None = None,
    proposer: str | None = None,
    promotion: str | None = None,
    predictor: str = "xgb",
    predictor_kwargs: Mapping[str, Any] | None = None,
    n_warmup: int = 10,
    n_candidates: int = 200,
    n_parents: int = 10,
    n_mutations_per_parent: int = 10,
    curve_model: str = "learned",
    progress: bool = False,
) -> MultiFidelityResult:
    """Run (or resume) a multi-fidelity search; see the module docstring.

    Args:
        evaluator: A ``FidelityEvaluator`` (``TableFidelityEvaluator`` for NB201 tables,
            ``SurrogateFidelityEvaluator`` for the NB301 surrogate).
        method: A name in ``METHODS``; ``schedule`` / ``proposer`` / ``promotion`` override its
            parts.
        time_budget: Simulated training seconds; the search stops before the first evaluation
            that starts with the budget spent (the last one may overshoot).
        max_evaluations: Also stop after this many evaluations (trials).
        eta: Keep ratio of successive halving (int >= 2).
        min_fidelity: Lowest rung fidelity (default: the evaluator's minimum).
        seed: Seed of every random choice and model; same seed, same search.
        storage: See ``predictor_nas.search.make_storage``; ``None`` = in memory.
        study_name: Defaults to ``default_mf_study_name(...)``.
        schedule: ``"hyperband"``, ``"successive_halving"`` or ``"full"``.
        proposer: ``"predictor"`` or ``"random"``.
        promotion: ``"curve"`` or ``"observed"``.
        predictor: Registered predictor name (``make_predictor``).
        predictor_kwargs: Its constructor arguments (default ``DEFAULT_PREDICTOR_KWARGS``).
        n_warmup: Archs with a (final or extrapolated) value before the predictor proposes.
        n_candidates: Candidate pool per proposal (at least 4x the rung size).
        n_parents: Best archs mutated into candidates.
        n_mutations_per_parent: Mutations per parent (alternately 1 and 2 edits).
        curve_model: ``"learned"``, ``"parametric"`` or ``"last-value"`` (benchmarks with curves).
        progress: Progress bar (simulated seconds) on stderr.

    Returns:
        The ``MultiFidelityResult`` of the whole study (including evaluations before a resume).
    """
    if not isinstance(evaluator, FidelityEvaluator):
        raise param_error("evaluator", OWNER, "a FidelityEvaluator", evaluator)
    sched, prop, promo = method_settings(method)
    sched = sched if schedule is None else check_choice(schedule, "schedule", OWNER, SCHEDULES)
    prop = prop if proposer is None else check_choice(proposer, "proposer", OWNER, PROPOSERS)
    promo = promo if promotion is None else check_choice(promotion, "promotion", OWNER, PROMOTIONS)
    limits = Budget.checked(
        OWNER, queries=max_evaluations, simulated_seconds=time_budget,
        names={"queries": "max_evaluations"},
        required=("time_budget", "a finite float > 0 when max_evaluations is not given"),
        unit="evaluations",
    )
    eta = check_int(eta, "eta", OWNER, minimum=2)
    seed = check_int(seed, "seed", OWNER, minimum=0)
    counts = _checked_counts(n_warmup, n_candidates, n_parents, n_mutations_per_parent)
    check_choice(curve_model, "curve_model", OWNER, CURVE_MODELS)
    if prop == "predictor":
        check_choice(predictor, "predictor", OWNER, sorted(PREDICTORS))
    pkw = dict(DEFAULT_PREDICTOR_KWARGS if predictor_kwargs is None else predictor_kwargs)
    brackets = schedule_brackets(sched, evaluator, eta=eta, min_fidelity=min_fidelity)
    ladder = sorted({r.fidelity for br in brackets for r in br.rungs})
    config = {
        "benchmark": evaluator.describe(),
        "schedule": sched,
        "proposer": prop,
        "promotion": promo,
        "eta": eta,
        "ladder": ladder,
        "seed": seed,
        "predictor": predictor if prop == "predictor" else None,
        "predictor_kwargs": pkw if prop == "predictor" else None,
        **counts,
        "curve_model": curve_model if promo == "curve" and evaluator.has_curves else None,
    }
    name = study_name or default_mf_study_name(evaluator, sched, prop, promo, eta, seed)
    # Evaluations are added whole (``add_trial``): no trial is ever left RUNNING.
    study = open_study(
        storage=storage, name=name, config=_jsonable(config), attr=CONFIG_ATTR,
        creator="predictor-nas multifidelity", name_option="study name",
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed),
        interrupted=False,
    ).study
    bar = Progress(
        progress and time_budget is not None, total=time_budget, desc=f"{method} {name}", unit="s"
    )
    search = _Search(
        evaluator, study=study, brackets=brackets, proposer=prop, promotion=promo, seed=seed,
        limits=limits, predictor=predictor, predictor_kwargs=pkw, curve_model=curve_model,
        bar=bar, **counts,
    )
    t0 = time.perf_counter()
    with bar:
        search.run()
    wall = time.perf_counter() - t0
    return search_result(search, method, sched, prop, promo, eta, ladder, seed, name, storage, wall)


def _checked_counts(
    n_warmup: int, n_candidates: int, n_parents: int, n_mutations_per_parent: int
) -> dict[str, int]:
    """The proposer's counts of ``run_multifidelity``, checked, by argument name."""
    return {
        "n_warmup": check_int(n_warmup, "n_warmup", OWNER, minimum=2),
        "n_candidates": check_int(n_candidates, "n_candidates", OWNER, minimum=1),
        "n_parents": check_int(n_parents, "n_parents", OWNER, minimum=1),
        "n_mutations_per_parent": check_int(
            n_mutations_per_parent, "n_mutations_per_parent", OWNER, minimum=0
        ),
    }


def _jsonable(obj: Any) -> Any:
    """What a JSON storage gives back for ``obj`` (tuples become lists)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj

