"""The benchmarked settings of the ``guided`` strategy (``PredictorGuidedSampler.benchmarked``):
``GUIDED_KWARGS`` on NB201, where they were tuned, ``GUIDED_DECLARED_KWARGS`` on every other
space; ``guided_kwargs(space)`` picks."""

from __future__ import annotations

import copy
from typing import Any

from predictor_nas.spaces import SearchSpace, get_space

#: Settings of the ``guided`` strategy; ``PredictorGuidedSampler.benchmarked`` builds its sampler.
#: (150 trees per xgb member instead of 300 keeps a fit at 100 trials near 0.4 s on one core.)
#: Chosen on NB201 tuning seeds 1000-1029 (never the reported seeds 0-99), 100 queries, all
#: three datasets: a predictor-steered local search
#: (neighbours tried best-predicted first) whose restarts are the predictor's pick among 200
#: random unused archs. Mean val regret at 30/50/100 queries: cifar10 0.34/0.19/0.09, cifar100
#: 1.32/0.39/0.04, ImageNet16-120 0.97/0.61/0.24; local search on the same seeds 0.32/0.16/0.04,
#: 1.30/0.62/0.11, 1.03/0.70/0.24. The BANANAS pool (mutations of the best) as the restart pool
#: climbed back into the basin just left (cifar10: 0.14 at 100); restarting after 8 unimproved
#: neighbours was worse everywhere. Since 2026-11-23 the xgb members see op counts + path
#: statistics of dead-op-pruned cells (``encoding="counts+pathstats", prune=True``; Kendall tau
#: at n = 100 without proxies ~0.79 against ~0.50 for one-hot). Tuning seeds 1000-1019, mean val
#: regret at 30/50/100 (hit rate <= 0.1): one-hot cifar10 0.38/0.19/0.07 (85%), cifar100
#: 1.28/0.35/0.03 (90%), ImageNet16-120 1.09/0.70/0.30 (25%); path statistics 0.27/0.06/0.00
#: (100%), 1.09/0.29/0.11 (95%; one seed at 2.28), 0.88/0.52/0.20 (50%), same CPU.
GUIDED_KWARGS: dict = {
    "predictor": "xgb",
    "predictor_kwargs": {"n_estimators": 150, "encoding": "counts+pathstats", "prune": True},
    "acquisition": "ei",
    "n_warmup": 10,
    "n_candidates": 200,
    "local_search": True,
    "restart": "random",
    "target": "rank",
}

#: Settings of the ``guided`` strategy on every space but NB201 (declared spaces, NAS-Bench-Macro,
#: NAS-Bench-Graph, NB301...): BANANAS without the climb. Each proposal refits a Bayesian ridge
#: model (rank targets; its encoding - one-hot, + op counts or + path statistics - chosen at each
#: fit by the model's evidence, ``encoding="auto"``) and takes the best expected improvement
#: among 500 rows: the one-edit neighbours of the 10 best, mutations of them, the rest random.
#: Tuned on seeds 100-111 (never the reported 0-49), mean val regret at 30/50/100 queries (hit
#: rate): NAS-Bench-Macro GUIDED_KWARGS 0.238/0.181/0.080 (50%), the same climb with ridge
#: 0.194/0.107/0.010 (92%), these settings 0.216/0.043/0.000 (100%) at a quarter of the CPU
#: (Kendall tau at n = 100: ridge 0.80, the xgb ensemble 0.68); NAS-Bench-Graph cora
#: 1.294/1.183/0.878, 1.378/0.994/0.828, 1.456/1.200/0.833 (intervals +-0.2 at 100: a tie);
#: NB301 (YAHPO surrogate, seeds 100-107) GUIDED_KWARGS 0.816/0.585/0.345 at 130 s a run, these
#: settings 0.758/0.544/0.310 at 47 s. The encoding chosen by evidence (2026-12-05; one-hot
#: before), seeds 100-119 (NB301 and Macro 100-111), one-hot -> auto, ``ls`` on the same seeds:
#: NB301 0.751/0.576/0.307 -> 0.655/0.554/0.328 (ls 0.866/0.583/0.356); cora 1.453/1.233/0.887
#: -> 1.403/1.067/0.813 (ls 1.247/1.110/0.960); citeseer 1.527/1.067/0.700 -> 1.807/1.163/0.563
#: (ls 1.820/1.517/1.250); NAS-Bench-Macro 0.216/0.043/0.000 -> 0.141/0.020/0.000. Fixed
#: encodings were each better on one space and worse on another (README, NB301 section).
GUIDED_DECLARED_KWARGS: dict = {
    "predictor": "ridge",
    "predictor_kwargs": {"encoding": "auto"},
    "acquisition": "ei",
    "n_warmup": 10,
    "n_candidates": 500,
    "n_local_parents": 10,
    "local_search": False,
    "target": "rank",
}


def guided_kwargs(space: SearchSpace | str) -> dict[str, Any]:
    """A fresh copy of the ``guided`` strategy's settings for ``space`` (a ``SearchSpace``, a
    name or a YAML declaration): ``GUIDED_KWARGS`` for NB201, ``GUIDED_DECLARED_KWARGS`` for
    any other."""
    nb201 = get_space(space).name == "nb201"
    return copy.deepcopy(GUIDED_KWARGS if nb201 else GUIDED_DECLARED_KWARGS)
