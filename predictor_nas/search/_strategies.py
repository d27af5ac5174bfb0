"""Search strategies by name: each is a factory of an Optuna sampler from a space and a seed.

Every strategy is handed the space it searches (``make_sampler(strategy, space, seed)``); our
samplers refuse params of another space instead of searching it at random. Optuna's own samplers
(random, TPE, GP) see the space through the trial's distributions (define-by-run on conditional
spaces); proposals that break a space's constraints are refused by the search loop.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
from optuna.samplers._lazy_random_state import LazyRandomState
from optuna.trial import TrialState

from predictor_nas._lazy import torch
from predictor_nas._validation import check_choice
from predictor_nas.encodings import TableFeatures, zero_cost_metrics
from predictor_nas.exceptions import InvalidParameterError, TableNotFoundError
from predictor_nas.predictors import ScorePredictor
from predictor_nas.samplers import (
    GUIDED_KWARGS,
    ExhaustiveSampler,
    LocalSearchSampler,
    PredictorGuidedSampler,
    RegularizedEvolutionSampler,
    ReinforceSampler,
    SpaceEvolutionSampler,
    table_proxy_scorer,
)
from predictor_nas.spaces import SearchSpace, get_space
from predictor_nas.tables import open_table


def _random(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _rea(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    if space.plain:
        return RegularizedEvolutionSampler(population_size=10, sample_size=3, seed=seed)
    return SpaceEvolutionSampler(space, population_size=10, sample_size=3, seed=seed)


#: What ``guided-zc`` changes in ``GUIDED_KWARGS`` (``climb_scorer``, the proxy ranker, is set
#: by the factory): the warm-up archs are the proxy ranker's best of 1,000 random ones each; the
#: climb takes the neighbour the proxy ranks highest; at a local optimum the predictor, which
#: also sees every zero-cost metric of ``ZC_TABLE`` (49 columns, see ``_zero_cost_inputs``),
#: picks the restart from the BANANAS pool (mutations of the 10 best + random archs). Tuning
#: seeds 1000-1029, mean val regret at 30/50/100 queries (hit rate): cifar10 0.010/0.000/0.000
#: (100%), cifar100 0.006/0.000/0.000 (100%), ImageNet16-120 0.185/0.097/0.041 (60%; seeds
#: 1030-1099: 0.155/0.083/0.027, 69%). Earlier settings, same seeds: the predictor ordering the
#: climb too, warm-up pool 1,000, random restarts: 0.040/0.016/0.000, 0.024/0.000/0.000,
#: 0.194/0.136/0.083 (53%), at ~20x the CPU (a fit per query); the same with a pool of 100:
#: 0.16/0.05/0.00, 0.18/0.00/0.00, 0.46/0.16/0.09 (12 seeds). The pool is scored by table
#: lookups (~1 ms for 1,000). With the proxy rank average as one more feature (``transfer``)
#: ImageNet16-120 was worse (0.13 at 100, 14 seeds); a linear fit on the rank average with a
#: Bayesian-ridge or GP (one-hot) model of the residuals was worse at 30 queries (cifar10
#: 0.05-0.06). ``zc-ls`` (restarts ranked by the proxies too) on ImageNet16-120, 100 seeds:
#: 0.164/0.093/0.047, 63%, against guided-zc's 0.164/0.087/0.031, 66% (paired at 100: p = 0.1).
GUIDED_ZC_KWARGS: dict = {"warmup": "proxy", "warmup_pool": 1000, "restart": "pool"}
#: guided-zc's restart predictor, as tuned (one-hot + the zc features, which ``_zero_cost_sampler``
#: adds); path statistics were not tried there.
GUIDED_ZC_PREDICTOR_KWARGS: dict = {"n_estimators": 150}


def _guided(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return PredictorGuidedSampler.benchmarked(space, seed=seed)


#: Where the ``guided-zc`` strategy reads its zero-cost proxies: NAS-Bench-Suite-Zero's proxies
#: (``zc_*``), ``naslib_zen`` and HW-NAS-Bench's ``hw_*`` costs of every NB201 cell, as imported
#: into ``nb201-rich`` (``predictor-nas tables import nb201-rich ...``), read from cifar10 and
#: ImageNet16-120 (proxies describe the untrained network: they serve any target dataset).
ZC_TABLE = "nb201-rich"
ZC_DATASETS: tuple[str, ...] = ("cifar10", "ImageNet16-120")


@functools.lru_cache(maxsize=1)
def _zero_cost_inputs() -> tuple[Any, Any]:
    """(predictor features, warm-up scorer) from ``ZC_TABLE``; built once per process."""

    try:
        table = open_table(ZC_TABLE)
    except TableNotFoundError as e:
        raise TableNotFoundError(
            f"The strategies {_zc_names()} read zero-cost proxies from the table "
            f"{ZC_TABLE!r}, which is not imported. Import it once with `predictor-nas tables "
            f"import {ZC_TABLE} --source PATH/TO/nb201` (the folder of nb201.csv.gz), or use the "
            f"'guided' strategy, which needs no proxies. ({e})"
        ) from None
    features = TableFeatures(table, list(ZC_DATASETS), zero_cost_metrics(table, ZC_DATASETS))
    return features, table_proxy_scorer(table, list(ZC_DATASETS))


#: The strategies that read ``ZC_TABLE``'s zero-cost proxies (named in its errors).
ZC_STRATEGIES = ("guided-zc", "zc-ls", "mo-guided-zc")


def _zc_names() -> str:
    """``ZC_STRATEGIES`` as the errors list them: ``'guided-zc', 'zc-ls', 'mo-guided-zc'``."""
    return ", ".join(repr(s) for s in ZC_STRATEGIES)


def zero_cost_inputs(space: SearchSpace) -> tuple[TableFeatures, Any]:
    """(predictor features, proxy rank scorer) of ``ZC_TABLE`` for a zero-cost strategy.

    Raises:
        InvalidParameterError: ``space`` is not NB201 (the only space with such a table).
        TableNotFoundError: ``ZC_TABLE`` is not imported (the error says how to import it).
    """
    if space.name != "nb201":
        raise InvalidParameterError(
            f"The strategies {_zc_names()} read zero-cost proxies of every arch from the table "
            f"{ZC_TABLE!r}, which exists for space 'nb201' only; space {space.name!r} has "
            "none. Use 'guided' or 'mo-guided' (no proxies needed)."
        )
    return _zero_cost_inputs()


def _zero_cost_sampler(
    space: SearchSpace, seed: int, *, learned: bool
) -> optuna.samplers.BaseSampler:
    """guided-zc (``learned``: the XGBoost ensemble + zc features picks the restarts) or its
    ablation zc-ls (the proxy ranker picks them); everything else is shared."""
    features, scorer = zero_cost_inputs(space)
    kwargs = {**GUIDED_KWARGS, **GUIDED_ZC_KWARGS}
    if learned:
        kwargs["predictor_kwargs"] = {**GUIDED_ZC_PREDICTOR_KWARGS, "extra": features}
    else:
        kwargs.pop("predictor_kwargs", None)
        kwargs["predictor"] = lambda s: ScorePredictor(scorer, space, seed=s)
    return PredictorGuidedSampler(
        space, seed=seed, warmup_scorer=scorer, climb_scorer=scorer, **kwargs
    )


def _guided_zc(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return _zero_cost_sampler(space, seed, learned=True)


def _zc_ls(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return _zero_cost_sampler(space, seed, learned=False)


def _tpe(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(seed=seed)


def _ls(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return LocalSearchSampler(space, n_init=10, move="first", seed=seed)


def _reinforce(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return ReinforceSampler(space, learning_rate=0.3, baseline_momentum=0.9, seed=seed)


def _gp(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    # Optuna imports torch itself, only when the GP is first fitted. On a conditional space
    # (nb301, define-by-run) the GP models the decisions every trial has (nb301: the input
    # pairs) and the conditional ones are drawn at random: said once here, not per parameter.
    if space.plain:
        return optuna.samplers.GPSampler(seed=seed)
    return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)


def _grid(space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return ExhaustiveSampler(space, shuffle=True, seed=seed)


Factory = Callable[[SearchSpace, int], optuna.samplers.BaseSampler]

STRATEGIES: dict[str, tuple[Factory, str]] = {
    "gp": (_gp, "Gaussian-process Bayesian optimisation (Optuna GPSampler, default settings)"),
    "grid": (
        _grid,
        "brute force: the whole space in a seeded random order, no repeats (ours)",
    ),
    "guided": (
        _guided,
        "predictor-guided search: on nb201 an xgb ensemble (150 trees x 5, rank targets, op "
        "counts + path statistics of pruned cells) steers a local search by expected "
        "improvement (one-edit neighbours, best first) and picks each restart among 200 random "
        "archs; on other spaces a Bayesian ridge model (rank targets, its encoding chosen by "
        "evidence) picks by expected improvement among 500 candidates around the 10 best; 10 "
        "random warm-up (ours)",
    ),
    "guided-zc": (
        _guided_zc,
        "guided, plus zero-cost proxies of the nb201-rich table: the proxy rank average "
        "(synflow, jacov, nwot, flops) picks the warm-up (best of 1,000 random each) and "
        "orders the climb; the predictor (+ 49 proxy/cost features) picks each restart from "
        "mutations of the 10 best and random archs (ours; needs nb201-rich imported)",
    ),
    "ls": (
        _ls,
        "local search: best of 10 random, then first-improvement one-edit moves, random "
        "restart at a local optimum (ours)",
    ),
    "random": (_random, "uniform random sampling (Optuna RandomSampler)"),
    "rea": (_rea, "regularized evolution, population 10, tournament 3 (ours)"),
    "reinforce": (
        _reinforce,
        "REINFORCE controller: per-edge softmax policy, Adam lr 0.3 (tuned on seeds >= 1000), "
        "EMA baseline 0.9 (ours)",
    ),
    "tpe": (_tpe, "Tree-structured Parzen Estimator (Optuna TPESampler, default settings)"),
    "zc-ls": (
        _zc_ls,
        "ablation of guided-zc without learning: the same proxy warm-up, climb and restart "
        "pool, the restarts ranked by the proxy rank average instead of a fitted predictor "
        "(ours; needs nb201-rich imported)",
    ),
}


def available_strategies() -> list[str]:
    """Names accepted by ``make_sampler``."""
    return list(STRATEGIES)


def make_sampler(strategy: str, space: SearchSpace | str, seed: int) -> optuna.samplers.BaseSampler:
    """A fresh sampler for ``strategy`` on ``space`` (an instance or a name), seeded with
    ``seed``."""
    check_choice(strategy, "strategy", "search", available_strategies())
    return STRATEGIES[strategy][0](get_space(space), seed)


def step_seed(seed: int, step: int) -> int:
    """Seed of the sampler for the ``step``-th query; a resumed run reuses the same seeds."""
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


#: Trial system attr holding the GP kernel parameters the ``gp`` strategy's sampler had fitted
#: when the trial was told: ``{"isl": [...], "scale": float, "noise": float}``.
GP_KERNEL_ATTR = "predictor_nas:gp_kernel"


class StepSamplers:
    """The sampler of each query of a single-process search, as exact as one sampler per query.

    Query ``n`` is proposed by ``make_sampler(strategy, space, step_seed(seed, n))``: its
    proposals depend only on the study and the step, so a resumed search equals an uninterrupted
    one. Every strategy but ``gp`` gets a fresh sampler per query (their state is rebuilt from the
    study anyway). ``gp`` keeps one ``GPSampler`` (its random states reseeded per step) because it
    starts each kernel fit from the last fit's parameters, which makes later fits faster; those
    parameters are stored on each trial (``GP_KERNEL_ATTR``) and read back when a search resumes,
    so resuming gives the same fits as running on.

    Args:
        strategy, space, seed: As for ``make_sampler`` (``seed``: the search's).
    """

    def __init__(self, strategy: str, space: SearchSpace, seed: int) -> None:
        self.strategy = strategy
        self.space = space
        self.seed = seed
        self._gp: Any = None

    def at(self, study: optuna.Study, n: int) -> optuna.samplers.BaseSampler:
        """The sampler of query ``n`` of ``study``."""
        seed = step_seed(self.seed, n)
        if self.strategy != "gp":
            return make_sampler(self.strategy, self.space, seed)
        if self._gp is None:
            self._gp = make_sampler("gp", self.space, seed)
            self._gp._gprs_cache_list = _stored_gp_kernel(study)
        else:
            # What ``GPSampler(seed=seed)`` sets; the fitted kernel cache is kept.
            self._gp._rng = LazyRandomState(seed)
            self._gp._independent_sampler = optuna.samplers.RandomSampler(seed=seed)
        return self._gp

    def record(self, trial: optuna.trial.Trial) -> None:
        """Store the kept GP's kernel parameters on ``trial`` (call before telling it)."""
        cache = None if self._gp is None else self._gp._gprs_cache_list
        if not cache:
            return
        gpr = cache[0]
        value = {
            "isl": [float(v) for v in gpr.inverse_squared_lengthscales.detach().cpu().numpy()],
            "scale": float(gpr.kernel_scale.item()),
            "noise": float(gpr.noise_var.item()),
        }
        trial.storage.set_trial_system_attr(trial._trial_id, GP_KERNEL_ATTR, value)


def _stored_gp_kernel(study: optuna.Study) -> list[Any] | None:
    """The kernel parameters stored on the study's last finished (complete or pruned) trial
    that has them, as ``GPSampler``'s cache; None if none has (a new study, fewer queries than
    the GP's start-up, or one run before they were stored). A trial failed because its run was
    killed is skipped: its query is proposed again, from the fit before it."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    with_kernel = [t for t in done if GP_KERNEL_ATTR in t.system_attrs]
    if not with_kernel:
        return None
    stored = max(with_kernel, key=lambda t: t.number).system_attrs[GP_KERNEL_ATTR]

    f64 = torch.float64
    return [
        types.SimpleNamespace(
            inverse_squared_lengthscales=torch.tensor(stored["isl"], dtype=f64),
            kernel_scale=torch.tensor(stored["scale"], dtype=f64),
            noise_var=torch.tensor(stored["noise"], dtype=f64),
        )
    ]
