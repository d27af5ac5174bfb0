"""Multi-objective (and constrained) search with real training.

Objectives and constraints name metrics of a trained network (``"val_acc:max"``,
``"latency_ms:min"``, ``"params<=20000"``). Two kinds of metrics:

===========  ====  ==================================================================
metric       way   what
===========  ====  ==================================================================
params       min   parameter elements of the network (``models.count_params``)
flops        min   multiply-adds of one image (``models.count_flops``)
latency_ms   min   median CPU ms of a forward pass of one image, 1 torch thread
                   (``models.measure_latency``, ``latency_repeats`` timed passes after
                   ``latency_warmup``)
val_acc      max   validation accuracy (%) after the last epoch (learned: trained)
train_time   min   seconds of training + validation (learned: trained)
===========  ====  ==================================================================

The first three need no training: they are computed on the built, untrained network (the one
``TrainEvaluator`` would train, same seed) as soon as an architecture is proposed. Constraints
may bound only these, so every constraint is checked **before** training: a proposal that
breaks one is told FAIL with the user attribute ``infeasible`` and is never trained (no budget,
no seconds). Every trial carries its constraint values the Optuna way (``set_constraint``).

Proposals (strategy ``"mo-guided"``, the default): ``MOPredictorGuidedSampler`` with one
predictor per learned objective (``val_acc``, ``train_time``) fitted on the trained
architectures, and the exact values of the cost objectives (computed on the untrained networks
of its candidates); it proposes only feasible candidates, the one adding the most hypervolume.
The first ``n_init`` trained architectures are uniform random feasible ones. The other table MO
strategies (``mo-rea``, ``nsga2``, ``nsga3``, ``motpe``, ``random``) work too; Optuna's may
propose infeasible architectures, which are refused before training. Only proposals are
trained, each for ``epochs`` (no pruning: a multi-objective trial has no single curve to judge).

Reproducibility: training is bit-identical on CPU for a seed, so the same seed gives the same
result when latency is neither an objective nor a constraint. Latency is measured, so it varies
from run to run: each architecture's cost metrics are measured once and stored in its trial's
user attribute ``metrics`` (with ``val_acc``, ``train_time``); a resumed study reads them back
instead of measuring again (also for trials refused or interrupted before), and the result
counts ``latency_measured`` / ``latency_reused``.

Hypervolume: objectives are minimised (``val_acc`` negated) against a reference point that is
``reference`` when given, else ``0`` for ``val_acc`` (no accuracy is lower) and, for each
minimised objective, the worst value among the trained architectures plus 10 % of their range
(``multiobjective.reference_point``). The default depends on what was trained: to compare runs,
pass the same ``reference``.

The metrics' parsing and ``CostMeter`` are in ``_mo_real_costs``; the study is opened, locked and
checked by ``_study.open_study`` like every other search's.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.trial import TrialState

from predictor_nas._validation import check_choice, check_int
from predictor_nas.exceptions import SearchError
from predictor_nas.multiobjective import hypervolume, reference_point
from predictor_nas.samplers import MOPredictorGuidedSampler
from predictor_nas.search._ask import ask_arch
from predictor_nas.search._mo_plot import plot_mo_real_front
from predictor_nas.search._mo_real_costs import (
    COST_METRICS,
    METRICS_ATTR,
    OWNER,
    REAL_METRICS,
    TRAINED_METRICS,
    CostMeter,
    _check_reference,
    parse_real_constraints,
    parse_real_objectives,
)
from predictor_nas.search._mo_spec import (
    _FALLBACK_WHY,
    MAX_INFEASIBLE,
    Constraint,
    Objective,
    _enqueue_fallback,
    _front_points,
    _infeasible_count,
    _refuse,
    _set_constraints,
    _used_keys,
    default_mo_study_name,
)
from predictor_nas.search._mo_strategies import MO_STRATEGIES, _Context, mo_strategies
from predictor_nas.search._real import _train_evaluator, default_checkpoint_dir
from predictor_nas.search._strategies import step_seed as _step_seed
from predictor_nas.search._study import Budget, Progress, open_study
from predictor_nas.spaces import Arch, SearchSpace
from predictor_nas.training import load_dataset

if TYPE_CHECKING:
    from predictor_nas.evaluators import TrainEvaluator
    from predictor_nas.training import ImageData

log = logging.getLogger(__name__)

CONFIG_ATTR = "predictor_nas_mo_real_config"


# --------------------------------------------------------------------------- result
@dataclass
class MORealSearchResult:
    """Outcome of a multi-objective real-training search; ``to_dict`` gives the CLI's JSON.

    Attributes:
        objectives: e.g. ``["val_acc:max", "latency_ms:min"]``.
        constraints: e.g. ``["params<=20000"]`` (empty: none).
        front: Pareto front of the trained architectures, sorted by the first objective (best
            first): ``{"arch", "values": [v_1..v_m], "metrics": {metric: value}}`` per point.
        hypervolume: Of the trained points (minimised) against ``reference_point``.
        reference_point: (m,) in the objectives' own units (module docstring).
        reference_given: Whether ``reference_point`` was given rather than the default rule.
        n_trained: Architectures trained (the budget counts these).
        n_infeasible: Proposals refused before training for breaking a constraint.
        train_seconds: Seconds of training summed over the trained architectures.
        wall_seconds: Wall seconds of this call's loop.
        latency_measured: Latency measurements made by this call (candidates included).
        latency_reused: Stored latencies read back from the study instead of measured.
        evaluated: (n_trained, m) every trained point (JSON only when asked).
        evaluated_archs: (n_trained,) their architectures (same rule).
    """

    objectives: list[str]
    constraints: list[str]
    front: list[dict[str, Any]]
    hypervolume: float
    reference_point: list[float]
    reference_given: bool
    n_trained: int
    n_infeasible: int
    train_seconds: float
    wall_seconds: float
    latency_measured: int
    latency_reused: int
    strategy: str
    dataset: str
    seed: int
    study_name: str
    storage: str
    resumed_from: int
    device: str
    evaluated: list[list[float]] = field(default_factory=list, repr=False)
    evaluated_archs: list[str] = field(default_factory=list, repr=False)

    def to_dict(self, *, points: bool = False) -> dict[str, Any]:
        """JSON-able dict; the trained points are left out unless asked for."""
        d = asdict(self)
        if not points:
            d.pop("evaluated")
            d.pop("evaluated_archs")
        return d


# --------------------------------------------------------------------------- search
def run_mo_real_search(
    *,
    objectives: Sequence[str] | str,
    constraints: Sequence[str] | str | None = None,
    dataset: str = "digits",
    data: ImageData | None = None,
    data_root: str | os.PathLike[str] | None = None,
    download: bool = False,
    data_seed: int = 0,
    space: str | SearchSpace | None = None,
    strategy: str = "mo-guided",
    budget: int = 10,
    n_init: int = 4,
    predictor: str = "ridge",
    epochs: int = 4,
    width: int = 8,
    depth: int = 1,
    batch_size: int = 64,
    lr: float = 0.1,
    weight_decay: float = 5e-4,
    seed: int = 0,
    device: str | None = None,
    amp: bool | str | None = None,
    num_threads: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    latency_repeats: int = 20,
    latency_warmup: int = 5,
    reference: Sequence[float] | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    progress: bool = False,
) -> MORealSearchResult:
    """Search for the Pareto front of trained networks' metrics (module docstring).

    One objective with constraints is a constrained single-objective search.

    Args:
        objectives: ``"val_acc:max,latency_ms:min"`` or a list (``REAL_METRICS``).
        constraints: ``"params<=20000"`` or a list; cost metrics only.
        dataset: ``"digits"`` or ``"cifar10"`` (ignored when ``data`` is given).
        data: An ``ImageData`` to search on instead.
        data_root: Folder of CIFAR-10.
        download: Allow downloading CIFAR-10.
        data_seed: Seed of the train/validation(/test) split.
        space: ``None``/``"nb201"`` or a declared space (name or YAML file).
        strategy: One of ``mo_strategies()``.
        budget: Architectures trained (refused proposals do not count).
        n_init: Random trained architectures before ``mo-guided`` uses its predictors (>= 2).
        predictor: Predictor of each learned objective (``mo-guided``).
        epochs: Training epochs per architecture.
        width: Channels of the first stage (cell spaces).
        depth: Cells per stage (cell spaces).
        batch_size: Training batch size.
        lr: Initial learning rate.
        weight_decay: Weight decay.
        seed: Seed of the search and of each architecture's training.
        device: Training device (``None`` = CUDA if available); latency is always CPU.
        amp: Mixed precision (``None`` = on with CUDA).
        num_threads: Torch CPU threads while training.
        checkpoint_dir: Per-arch checkpoints; ``None``: next to a file storage.
        latency_repeats: Timed forward passes per latency measurement (>= 1).
        latency_warmup: Untimed passes before them (>= 0).
        reference: (m,) reference point in the objectives' units; ``None``: the default rule.
        storage: See ``make_storage``; ``None`` = in memory.
        study_name: Default ``default_mo_study_name(space, "train", dataset, ...)``.
        progress: Progress bar on stderr.

    Returns:
        The ``MORealSearchResult`` of the whole study.

    Raises:
        InvalidParameterError: A bad objective, constraint, strategy or setting.
        SearchError: No feasible architecture could be found for a query.
        StudyConfigMismatchError: The stored study was created with other options.
    """
    return _mo_real_search(SimpleNamespace(**locals()))


def _mo_real_search(a: SimpleNamespace) -> MORealSearchResult:
    """``run_mo_real_search`` with its options ``a``."""
    limits = Budget.checked(OWNER, queries=a.budget)
    a.seed = seed = check_int(a.seed, "seed", OWNER, minimum=0)  # the evaluator reads a.seed
    n_init = check_int(a.n_init, "n_init", OWNER, minimum=2)
    latency_repeats = check_int(a.latency_repeats, "latency_repeats", OWNER, minimum=1)
    latency_warmup = check_int(a.latency_warmup, "latency_warmup", OWNER, minimum=0)
    check_choice(a.strategy, "strategy", OWNER, mo_strategies())
    objs = parse_real_objectives(a.objectives)
    cons = parse_real_constraints(a.constraints)
    signs = np.array([-1.0 if o.direction == "maximize" else 1.0 for o in objs])
    ref_given = _check_reference(a.reference, objs)

    data = a.data
    if data is None:
        data = load_dataset(a.dataset, root=a.data_root, seed=a.data_seed, download=a.download)
    evaluator = _train_evaluator(a, data)
    sp = evaluator.space
    costs = CostMeter(evaluator, latency_repeats=latency_repeats, latency_warmup=latency_warmup)
    ctx = _context(costs, objs, cons)
    factory = _factory(a.strategy, n_init, a.predictor)
    config = {
        "kind": "multi-objective-train",
        "space": sp.name,
        "evaluator": evaluator.config(),
        "objectives": [str(o) for o in objs],
        "constraints": [str(c) for c in cons],
        "strategy": a.strategy,
        "n_init": n_init,
        "predictor": a.predictor,
        "latency": {"repeats": latency_repeats, "warmup": latency_warmup, "threads": 1},
    }
    name = a.study_name or default_mo_study_name(
        sp.name, "train", data.name, a.strategy, seed, objs, cons
    )
    if a.checkpoint_dir is None:
        evaluator.checkpoint_dir = default_checkpoint_dir(a.storage, name)
    opened = open_study(
        storage=a.storage, name=name, config=config, attr=CONFIG_ATTR,
        creator="a real-training multi-objective search", name_option="study name",
        directions=[o.direction for o in objs], sampler=factory(sp, _step_seed(seed, 0), ctx),
        lock=True, distributions=sp.distributions() if sp.plain else None,
    )
    study = opened.study
    bar = None
    try:
        costs.load(study.get_trials(deepcopy=False))  # also refused and interrupted trials
        n = resumed_from = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        t0 = time.perf_counter()
        bar = Progress(
            a.progress, total=limits.queries, initial=min(n, limits.queries), desc=a.strategy,
            unit="arch",
        )
        while limits.stop_reason(queries=n) is None:
            study.sampler = factory(sp, _step_seed(seed, n), ctx)
            trial, arch, cost = _ask_feasible(study, sp, costs, cons, seed, n)
            _train_trial(study, trial, arch, cost, evaluator, objs)
            n += 1
            bar.advance(1)
        wall = time.perf_counter() - t0
    finally:
        if bar is not None:
            bar.close()
        opened.close()
    return _result(
        study, objs, cons, signs, a.reference, ref_given, strategy=a.strategy,
        dataset=data.name, seed=seed, study_name=name, storage=a.storage or "memory",
        resumed_from=resumed_from, wall_seconds=wall, latency_measured=costs.latency_measured,
        latency_reused=costs.latency_reused,
    )


def _context(costs: CostMeter, objs: Sequence[Objective], cons: Sequence[Constraint]) -> _Context:
    """What the samplers may know without training: feasibility and the cost objectives."""

    def feasible(arch: Arch) -> bool:
        vals = costs.get(arch, [c.metric for c in cons])
        return all(c.satisfied(vals[c.metric]) for c in cons)

    def known_of(metric: str) -> Callable[[Sequence[Arch]], list[float]]:
        return lambda archs: [costs.get(a, [metric])[metric] for a in archs]

    return _Context(
        feasible=feasible if cons else None,
        known={i: known_of(o.metric) for i, o in enumerate(objs) if o.metric in COST_METRICS},
    )


def _factory(
    strategy: str, n_init: int, predictor: str
) -> Callable[[SearchSpace, int, _Context], optuna.samplers.BaseSampler]:
    """The sampler factory of ``strategy``; ``mo-guided`` warms up on ``n_init`` archs."""
    if strategy != "mo-guided":
        return MO_STRATEGIES[strategy][0]

    def make(sp: SearchSpace, seed: int, ctx: _Context) -> optuna.samplers.BaseSampler:
        return MOPredictorGuidedSampler(
            sp,
            seed=seed,
            known=ctx.known,
            feasible=ctx.feasible,
            n_warmup=n_init,
            predictor=predictor,
        )

    return make


def _ask_feasible(
    study: optuna.Study,
    sp: SearchSpace,
    costs: CostMeter,
    cons: Sequence[Constraint],
    seed: int,
    n: int,
) -> tuple[optuna.trial.Trial, Arch, dict[str, float]]:
    """A trial whose architecture satisfies the constraints, with its cost metrics; refused
    proposals are told FAIL (never trained). After ``MAX_INFEASIBLE`` refusals in a row a
    random feasible unused architecture is used (``fallback`` attr, logged)."""
    dists = sp.distributions()
    for _ in range(MAX_INFEASIBLE):
        trial, arch = ask_arch(
            study, sp, distributions=dists, rng=np.random.default_rng([seed, n, 2])
        )
        cost = costs.get(arch)
        v = [c.violation(cost[c.metric]) for c in cons]
        trial.set_user_attr("arch", sp.format(arch))
        trial.set_user_attr(METRICS_ATTR, dict(cost))
        _set_constraints(trial, cons, v)
        if all(x <= 0 for x in v):
            return trial, arch, cost
        broken = _refuse(study, trial, cons, v)
        log.info("refused %s before training: violates %s", sp.format(arch), ", ".join(broken))
    used = _used_keys(study)
    rng = np.random.default_rng([seed, n, 3])
    for _ in range(20 * MAX_INFEASIBLE):
        arch = sp.sample(rng)
        if sp.canonical_key(arch) in used:
            continue
        bounded = costs.get(arch, [c.metric for c in cons])
        if all(c.satisfied(bounded[c.metric]) for c in cons):
            cost = costs.get(arch)
            _enqueue_fallback(study, sp, arch)
            trial, arch = ask_arch(study, sp, distributions=dists)
            trial.set_user_attr("arch", sp.format(arch))
            trial.set_user_attr(METRICS_ATTR, dict(cost))
            _set_constraints(trial, cons, [c.violation(cost[c.metric]) for c in cons])
            return trial, arch, cost
    raise SearchError(
        f"{_FALLBACK_WHY}, and {20 * MAX_INFEASIBLE} random architectures of space "
        f"{sp.name!r} did not satisfy {', '.join(map(str, cons))} either; loosen the constraints."
    )


def _train_trial(
    study: optuna.Study,
    trial: optuna.trial.Trial,
    arch: Arch,
    cost: dict[str, float],
    evaluator: TrainEvaluator,
    objs: Sequence[Objective],
) -> None:
    """Train ``arch`` (no pruning), store what was measured on ``trial`` and tell its values."""
    trial.set_user_attr("canonical_key", evaluator.space.canonical_key(arch))
    ev = evaluator.evaluate(arch)  # no trial: a multi-objective trial cannot report a curve
    metrics = {**cost, "val_acc": float(ev.value), "train_time": float(ev.cost)}
    trial.set_user_attr(METRICS_ATTR, metrics)
    trial.set_user_attr("val_curve", list(ev.val_curve))
    trial.set_user_attr("cost_s", float(ev.cost))
    trial.set_user_attr("epochs_run", int(ev.epochs_run))
    trial.set_user_attr("device", ev.device)
    if "test_acc" in ev.metrics:
        trial.set_user_attr("test_acc", float(ev.metrics["test_acc"]))
    study.tell(trial, [metrics[o.metric] for o in objs])


def _result(
    study: optuna.Study,
    objs: Sequence[Objective],
    cons: Sequence[Constraint],
    signs: np.ndarray,
    reference: Sequence[float] | None,
    ref_given: bool,
    **kw: Any,
) -> MORealSearchResult:
    """The ``MORealSearchResult`` of the study's trials (``kw``: the run's own fields)."""
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    m = len(objs)
    pts = np.array([t.values for t in done], dtype=np.float64).reshape(len(done), m)
    if ref_given:
        ref_min = np.asarray(reference, dtype=np.float64) * signs
    elif len(done):
        ref_min = reference_point(pts * signs)
        ref_min[signs < 0] = 0.0  # val_acc: 0 %
    else:
        ref_min = np.zeros(m)
    front = _front_points(
        done,
        pts,
        signs,
        lambda i: {
            "arch": done[i].user_attrs["arch"],
            "values": [float(v) for v in pts[i]],
            "metrics": dict(done[i].user_attrs.get(METRICS_ATTR, {})),
        },
    )
    return MORealSearchResult(
        objectives=[str(o) for o in objs],
        constraints=[str(c) for c in cons],
        front=front,
        hypervolume=float(hypervolume(pts * signs, ref_min)) if len(done) else 0.0,
        reference_point=[float(v) + 0.0 for v in ref_min * signs],
        reference_given=ref_given,
        n_trained=len(done),
        n_infeasible=_infeasible_count(trials),
        train_seconds=float(sum(t.user_attrs.get("cost_s", 0.0) for t in done)),
        device=done[-1].user_attrs.get("device", "?") if done else "-",
        evaluated=[[float(v) for v in p] for p in pts],
        evaluated_archs=[t.user_attrs["arch"] for t in done],
        **kw,
    )


__all__ = [
    "COST_METRICS",
    "REAL_METRICS",
    "TRAINED_METRICS",
    "CostMeter",
    "MORealSearchResult",
    "parse_real_constraints",
    "parse_real_objectives",
    "plot_mo_real_front",
    "run_mo_real_search",
]
