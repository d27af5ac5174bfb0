"""Search with real training: a predictor picks what is worth training, a pruner stops the rest.

Strategy ``"topk"`` (predictor in the loop), round by round:

1. build a candidate pool of ``pool_size`` architectures: ``n_mutations_per_parent`` mutations
   (1 or 2 edits) of each of the ``n_parents`` best trained ones, topped up with uniform random
   ones; a cell isomorphic to one already trained or planned (same ``canonical_key``) never
   enters;
2. score the pool: round 0 takes ``n_init`` archs at random, or the ``n_init`` best by the
   warm-start prior when there is one (a benchmark table's accuracy of each cell on a related
   dataset, see :class:`TablePrior`); later rounds fit the predictor (default: the XGBoost
   ensemble, with the prior as an extra feature when given) on every architecture trained so
   far and rank the pool by the acquisition (expected improvement over the best validation
   accuracy by default);
3. train the top ``top_k``, each as one Optuna trial that reports its validation curve epoch by
   epoch to a :class:`~predictor_nas.curves.CurvePruner`, which stops runs whose final accuracy
   is unlikely to beat the incumbent (calibrated on this study's finished curves, see
   ``_pruner``). A pruned run enters the next fit with its last value plus the mean gain the
   finished runs made from that epoch on.

Any table strategy name (``"rea"``, ``"random"``, ``"tpe"``, ``"guided"``) instead proposes one
architecture per trial with that Optuna sampler and trains every proposal (no pruning unless
asked): the baseline the benchmark compares against.

The Optuna study is the ledger: each trained architecture is a trial (params ``edge_0..5``,
intermediate values = the validation curve, user attrs ``arch``, ``canonical_key``, ``round``,
``cost_s``, ``wall_s``, ``clock_s``, ``epochs_run``, ``test_acc``...), each round's plan is a
study user attr (``plan_<r>``), so a killed search resumes where it stopped (rerun the same call
with the same storage): interrupted trials are marked failed and their architecture trained
again, and with a trial budget the result equals an uninterrupted run's (on CPU, bit for bit).

The ``topk`` strategy is the sampler ``predictor_nas.samplers.TopKSampler``: the loop sets it as
the study's sampler and asks like every other strategy; the result is in ``_real_result``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._lazy import models, preload, torch_geometric_nn, xgboost
from predictor_nas._progress import status
from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.curves import CurvePruner, LastValueCurveModel
from predictor_nas.evaluators import TrainEvaluator
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.predictors import PREDICTORS
from predictor_nas.samplers import (
    ACQUISITIONS,
    ProxyPrior,
    TablePrior,
    TopKSampler,
    complete_curves,
)
from predictor_nas.search._ask import ask_arch
from predictor_nas.search._real_prior import (
    make_prior,
)
from predictor_nas.search._real_result import RealSearchResult, _result
from predictor_nas.search._storage_spec import storage_kind
from predictor_nas.search._strategies import StepSamplers, available_strategies
from predictor_nas.search._study import Budget, OpenStudy, Progress, open_study
from predictor_nas.spaces import DEFAULT_SPACE, SearchSpace
from predictor_nas.training import TrainConfig, load_dataset

if TYPE_CHECKING:
    from predictor_nas.evaluators import TrainEvaluator
    from predictor_nas.training import ImageData

log = logging.getLogger(__name__)

_OWNER = "real search"
CONFIG_ATTR = "predictor_nas_real_config"
#: The predictor-in-the-loop strategy; the others are ``available_strategies()``.
TOPK = "topk"
#: The training recipe's defaults (``TrainConfig``: one place for every training entry point).
_TRAIN = TrainConfig()


def default_checkpoint_dir(storage: str | None, study_name: str) -> Path | None:
    """``<journal or SQLite file>.checkpoints/<study>`` for a file storage, else None."""
    kind = storage_kind(storage)
    if kind == "journal":
        path = storage[len("journal:") :] if storage.startswith("journal:") else storage
    elif kind == "sqlite":
        path = storage.split(":///", 1)[-1]
    else:
        return None
    return Path(path).with_name(Path(path).name + ".checkpoints") / study_name


def real_strategies() -> list[str]:
    """Strategy names ``run_real_search`` accepts: ``"topk"`` (the sampler ``TopKSampler``) and
    the table strategies (their samplers, see ``available_strategies``)."""
    return [TOPK, *available_strategies()]


# --------------------------------------------------------------------------- helpers
def _finished(study: optuna.Study) -> list[FrozenTrial]:
    states = (TrialState.COMPLETE, TrialState.PRUNED)
    return sorted(study.get_trials(deepcopy=False, states=states), key=lambda t: t.number)


# --------------------------------------------------------------------------- the search
def run_real_search(
    *,
    dataset: str = "digits",
    data: ImageData | None = None,
    data_root: str | os.PathLike[str] | None = None,
    download: bool = False,
    data_seed: int = 0,
    strategy: str = TOPK,
    budget_seconds: float | None = None,
    max_trials: int | None = None,
    clock: str = "wall",
    top_k: int = 4,
    n_init: int | None = None,
    pool_size: int = 500,
    n_parents: int = 5,
    n_mutations_per_parent: int = 20,
    predictor: str = "xgb",
    predictor_kwargs: Mapping[str, Any] | None = None,
    acquisition: str = "ei",
    warm_start: TablePrior | ProxyPrior | str | None = None,
    prune: bool | None = None,
    prune_threshold: float = 0.05,
    prune_min_epochs: int | None = None,
    epochs: int = _TRAIN.epochs,
    width: int = _TRAIN.width,
    depth: int = _TRAIN.depth,
    batch_size: int = _TRAIN.batch_size,
    lr: float = _TRAIN.lr,
    weight_decay: float = _TRAIN.weight_decay,
    seed: int = 0,
    device: str | None = None,
    amp: bool | str | None = None,
    num_threads: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    progress: bool = False,
    space: str | SearchSpace | None = None,
    inherit_weights: bool | int = False,
) -> RealSearchResult:
    """Search a space by training its networks for real; resumes a stored study of the same
    name. ``space``: ``None``/``"nb201"`` (NB201 cells) or a declared chain, cell or macro space
    (a name or a YAML file; networks from ``predictor_nas.models.build_model``).

    See the module docstring for the ``"topk"`` strategy. The search stops once the summed
    seconds reach ``budget_seconds`` or ``max_trials`` archs were trained (the run under way
    finishes; give at least one of the two).

    Args:
        dataset: ``"digits"`` or ``"cifar10"`` (ignored when ``data`` is given).
        data: An ``ImageData`` to search on instead (e.g. ``from_arrays``).
        data_root: Folder of CIFAR-10.
        download: Allow downloading CIFAR-10.
        data_seed: Seed of the train/validation(/test) split.
        strategy: ``"topk"`` or a table strategy name (trains every proposal).
        budget_seconds: Time budget (s) on ``clock``.
        max_trials: Budget in trained architectures.
        clock: ``"wall"`` (elapsed time, the default) or ``"process"`` (CPU seconds of this
            process, ``time.process_time``): on a machine shared with other jobs, CPU-only
            single-threaded searches get the same compute for the same budget. Never use
            ``"process"`` with a GPU (its time is not counted).
        top_k: Archs trained per round (``"topk"``).
        n_init: Archs of round 0 (>= 2; default ``max(top_k, 2)``).
        pool_size: Candidates scored per round.
        n_parents: Best archs whose mutations enter the pool.
        n_mutations_per_parent: Mutations per parent.
        predictor: Predictor name (``predictor_nas.predictors.PREDICTORS``).
        predictor_kwargs: Its constructor arguments (default for xgb: 150 trees per member).
        acquisition: ``"ei"``, ``"ucb"`` or ``"ts"``.
        warm_start: ``None``, a ``TablePrior``, a table name (``"nb201"``: its accuracy on
            ``PRIOR_DATASET[dataset]``, CIFAR-10 for digits), a ``ProxyPrior``, or
            ``"proxies"`` (``ProxyPrior`` with networks of this search's width, depth, classes
            and image size, seeded by ``seed``), a ``SupernetPrior`` or ``"supernet"`` (an SPOS
            supernet of this search's width and depth, trained once with ``seed`` and
            checkpointed beside the runs' checkpoints, scores round 0's pool by
            inherited-weight validation accuracy).
        prune: Use the curve pruner; default on for ``"topk"``, off for the others.
        prune_threshold: Prune below this probability of beating the incumbent.
        prune_min_epochs: Epochs observed before the first pruning decision (default
            ``max(1, epochs // 3)``).
        epochs: Training epochs per arch (>= 2 with pruning).
        width: Channels of the first NB201 stage.
        depth: Cells per stage.
        batch_size: Training batch size.
        lr: Initial learning rate.
        weight_decay: Weight decay.
        seed: Seed of the search (pool, predictor, samplers, each arch's training seed).
        device: Training device (``None`` = CUDA if available).
        amp: Mixed precision (``None`` = on with CUDA).
        num_threads: Torch CPU threads while training.
        checkpoint_dir: Per-arch training checkpoints (resume mid-training). ``None``: next
            to a journal or SQLite storage (``default_checkpoint_dir``), so a rerun after a
            crash resumes the interrupted architecture mid-training; none for memory and
            PostgreSQL storages (no local folder belongs to the study there).
        storage: See ``make_storage``; ``None`` = in memory.
        study_name: Default ``nb201-train-<dataset>-<strategy>-seed<seed>``.
        progress: Progress bar on stderr.
        inherit_weights: Weight inheritance (``TrainEvaluator(inherit_weights=k)``): a picked
            arch at most ``k`` edges from a finished one starts from the nearest one's final
            weights for its unchanged parts; ``True`` = 2 (the pool's mutations are 1 or 2
            edits), ``False``/0 = off. Trials record ``inherit_parent``,
            ``inherited_tensors``. Parents' weights are read from their checkpoints; without
            a checkpoint folder (memory or PostgreSQL storage, no ``checkpoint_dir``) they are
            kept in memory, so a resumed search trains from scratch where the parent ran in an
            earlier process.

    Returns:
        The ``RealSearchResult`` of the whole study.
    """
    return _real_search(SimpleNamespace(**locals()))


def _check_options(a: SimpleNamespace) -> Budget:
    """Check ``run_real_search``'s options ``a`` (counts and probabilities replaced by their
    checked values, defaults filled in); returns the budget."""
    owner = _OWNER
    check_choice(a.strategy, "strategy", owner, real_strategies())
    limits = Budget.checked(
        owner, queries=a.max_trials, wall_seconds=a.budget_seconds,
        names={"queries": "max_trials", "wall_seconds": "budget_seconds"},
        required=("budget_seconds", "a float > 0 when max_trials is not given"),
        unit="trained archs", clock=a.clock,
    )
    check_choice(a.clock, "clock", owner, ["wall", "process"])
    a.top_k = check_int(a.top_k, "top_k", owner, minimum=1)
    a.n_init = check_int(max(a.top_k, 2) if a.n_init is None else a.n_init, "n_init", owner,
                         minimum=2)
    a.pool_size = check_int(a.pool_size, "pool_size", owner, minimum=1)
    a.n_parents = check_int(a.n_parents, "n_parents", owner, minimum=0)
    a.n_mutations_per_parent = check_int(
        a.n_mutations_per_parent, "n_mutations_per_parent", owner, minimum=0
    )

    check_choice(a.predictor, "predictor", owner, sorted(PREDICTORS))
    check_choice(a.acquisition, "acquisition", owner, ACQUISITIONS)
    a.seed = check_int(a.seed, "seed", owner, minimum=0)
    a.epochs = check_int(a.epochs, "epochs", owner, minimum=1)
    a.prune = (a.strategy == TOPK) if a.prune is None else bool(a.prune)
    if a.prune and a.epochs < 2:
        raise InvalidParameterError(
            "Pruning needs epochs >= 2 (a run is stopped before its last epoch); pass "
            "prune=False (CLI: --no-prune) or more epochs."
        )
    a.prune_min_epochs = check_int(
        max(1, a.epochs // 3) if a.prune_min_epochs is None else a.prune_min_epochs,
        "prune_min_epochs", owner, minimum=1,
    )
    a.prune_threshold = check_float(a.prune_threshold, "prune_threshold", owner, minimum=0.0,
                                    exclusive=True)
    if a.prune_threshold >= 1:
        raise param_error("prune_threshold", owner, "a float in (0, 1)", a.prune_threshold)
    return limits


def _inherit_edges(value: Any) -> Any:
    """``run_real_search``'s ``inherit_weights`` as ``TrainEvaluator``'s: True -> 2 edges,
    False -> 0 (off); ints pass through (the evaluator checks them)."""
    return 2 if value is True else 0 if value is False or value is None else value




def _train_evaluator(a: SimpleNamespace, data: ImageData, **extra: Any) -> TrainEvaluator:
    """The ``TrainEvaluator`` of a real-training search's options ``a`` (``space``, training
    recipe, ``seed``, ``device``, ``amp``, ``num_threads``, ``checkpoint_dir``) on ``data``;
    ``extra``: more of its arguments."""

    return TrainEvaluator(
        data, space=DEFAULT_SPACE if a.space is None else a.space, width=a.width, depth=a.depth,
        epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay,
        seed=a.seed, device=a.device, amp=a.amp, num_threads=a.num_threads,
        checkpoint_dir=a.checkpoint_dir, **extra,
    )


def _real_search(a: SimpleNamespace) -> RealSearchResult:
    """``run_real_search`` with its options ``a``."""
    limits = _check_options(a)

    data = a.data
    if data is None:
        data = load_dataset(a.dataset, root=a.data_root, seed=a.data_seed, download=a.download)
    evaluator = _train_evaluator(a, data, inherit_weights=_inherit_edges(a.inherit_weights))
    space = evaluator.space
    prior = make_prior(a, data, space)
    pkw = dict({"n_estimators": 150} if a.predictor == "xgb" else {}, **(a.predictor_kwargs or {}))
    config = {
        "space": space.name,
        "strategy": a.strategy,
        "evaluator": evaluator.config(),
        "prune": a.prune,
        "prune_threshold": a.prune_threshold,
        "prune_min_epochs": a.prune_min_epochs,
    }
    if a.strategy == TOPK:
        config.update(
            top_k=a.top_k, n_init=a.n_init, pool_size=a.pool_size, n_parents=a.n_parents,
            n_mutations_per_parent=a.n_mutations_per_parent, predictor=a.predictor,
            predictor_kwargs=pkw, acquisition=a.acquisition,
            warm_start=None if prior is None else prior.describe(),
        )
    name = a.study_name or f"{space.name}-train-{data.name}-{a.strategy}-seed{a.seed}"
    if a.checkpoint_dir is None:
        evaluator.checkpoint_dir = default_checkpoint_dir(a.storage, name)
        if evaluator.checkpoint_dir is not None:
            log.info("training checkpoints in %s", evaluator.checkpoint_dir)
    if hasattr(prior, "place_checkpoint"):  # a SupernetPrior: its supernet beside the runs'
        prior.place_checkpoint(evaluator.checkpoint_dir)
    opened = open_study(
        storage=a.storage, name=name, config=config, attr=CONFIG_ATTR,
        creator="a real-training search", name_option="study name",
        direction="maximize", pruner=optuna.pruners.NopPruner(),
        sampler=optuna.samplers.RandomSampler(seed=a.seed),
        distributions=space.distributions() if space.plain else None, lock=True,
    )
    try:
        return _search_opened(
            a, opened, evaluator, limits, data=data, prior=prior, pkw=pkw, name=name
        )
    finally:
        opened.close()


def _search_opened(
    a: SimpleNamespace,
    opened: OpenStudy,
    evaluator: Any,
    limits: Budget,
    *,
    data: ImageData,
    prior: Any,
    pkw: dict[str, Any],
    name: str,
) -> RealSearchResult:
    """The loop of ``_real_search`` on its opened (and locked) study; ``pkw`` are the
    predictor's keyword arguments, ``name`` the study name."""
    space = evaluator.space
    if a.strategy == TOPK:
        opened.study.sampler = TopKSampler(
            space, seed=a.seed, top_k=a.top_k, n_init=a.n_init, pool_size=a.pool_size,
            n_parents=a.n_parents, n_mutations_per_parent=a.n_mutations_per_parent,
            predictor=a.predictor, predictor_kwargs=pkw, acquisition=a.acquisition,
            prior=prior, epochs=a.epochs, max_target=100.0,
        )
    finished, resumed_from, reason = _train_loop(
        a, opened.study, evaluator, limits, f"{a.strategy} {data.name}"
    )
    return _result(
        opened.study, finished, strategy=a.strategy, dataset=data.name, seed=a.seed,
        study_name=name, storage=a.storage or "memory", resumed_from=resumed_from,
        rounds=TopKSampler.n_rounds(opened.study), clock=a.clock, stop_reason=reason,
        device=finished[-1].user_attrs.get("device", "?") if finished else "-",
    )


def _train_loop(
    a: SimpleNamespace,
    study: optuna.Study,
    evaluator: Any,
    limits: Budget,
    desc: str,
) -> tuple[list[FrozenTrial], int, str]:
    """Train archs until ``limits`` are reached; returns (finished trials, how many there were
    before, the stop reason). ``topk`` asks the study's sampler (a ``TopKSampler``), the other
    strategies set a fresh sampler per query (``StepSamplers``)."""
    space = evaluator.space
    now_clock = time.perf_counter if a.clock == "wall" else time.process_time
    finished = _finished(study)
    resumed_from = n = len(finished)
    spent = float(sum(t.user_attrs.get("clock_s", 0.0) for t in finished))
    distributions = space.distributions()
    samplers = StepSamplers(a.strategy, space, a.seed) if a.strategy != TOPK else None
    bar = Progress(a.progress, total=a.max_trials, initial=n, desc=desc, unit="arch")
    if a.progress and n == 0:
        status(
            f"building and training the first architecture on {evaluator.data.name} (the first "
            "update comes when it finishes, minutes on a CPU) ..."
        )
    _warm_imports(a.predictor if a.strategy == TOPK else None)
    t_last = time.perf_counter()
    c_last = now_clock()
    try:
        while (reason := limits.stop_reason(queries=n, wall_seconds=spent)) is None:
            if a.prune:
                study.pruner = _pruner(finished, a.epochs, a.prune_threshold, a.prune_min_epochs)
            if samplers is None:  # topk: the study's TopKSampler
                trial, arch = ask_arch(study, space, distributions=distributions)
            else:
                study.sampler = samplers.at(study, n)
                trial, arch = ask_arch(
                    study, space, distributions=distributions,
                    rng=np.random.default_rng([a.seed, n, 3]),
                )
            trial.set_user_attr("arch", space.format(arch))
            trial.set_user_attr("canonical_key", space.canonical_key(arch))
            ev = evaluator.evaluate(arch, trial=trial)
            _record(trial, ev)
            now, c_now = time.perf_counter(), now_clock()
            trial.set_user_attr("wall_s", now - t_last)
            trial.set_user_attr("clock_s", c_now - c_last)
            spent += c_now - c_last
            t_last, c_last = now, c_now
            if samplers is not None:
                samplers.record(trial)
            if ev.pruned:
                study.tell(trial, state=TrialState.PRUNED)
            else:
                study.tell(trial, ev.value)
            finished = _finished(study)
            n = len(finished)
            bar.advance(1, best=f"{_best_value(finished)}", spent=f"{spent:.0f}s")
    finally:
        bar.close()
    return finished, resumed_from, reason


def _record(trial: optuna.trial.Trial, ev: Any) -> None:
    """Store a training run's cost, epochs, size, device and test accuracy on its trial."""
    trial.set_user_attr("cost_s", ev.cost)
    trial.set_user_attr("epochs_run", ev.epochs_run)
    trial.set_user_attr("n_params", int(ev.metrics["n_params"]))
    trial.set_user_attr("device", ev.device)
    if "test_acc" in ev.metrics:
        trial.set_user_attr("test_acc", ev.metrics["test_acc"])


def _warm_imports(predictor: str | None) -> None:
    """Import torch, the model builder and the predictor's library before the clock starts, so
    that the first run's ``wall_s`` is not charged seconds of imports."""
    preload(models)  # imports torch
    if predictor == "xgb":
        preload(xgboost)
    elif predictor == "gin":
        preload(torch_geometric_nn)


def _pruner(
    finished: Sequence[FrozenTrial], epochs: int, threshold: float, min_epochs: int
) -> optuna.pruners.BasePruner:
    """The curve pruner for the next run, calibrated on this study's finished curves.

    ``LastValueCurveModel`` fitted on the full curves of the finished runs: a partial curve's
    final value is its last value, with the std the root mean square of ``final - value at the
    same epoch`` over those runs. With a cosine schedule accuracy still jumps late, so this std
    is wide early on and only runs far below the incumbent are stopped. No pruning before two
    runs finished (there is nothing to calibrate on).
    """
    full = complete_curves(finished, epochs)
    if len(full) < 2:
        return optuna.pruners.NopPruner()

    model = LastValueCurveModel(kind="accuracy", bounds=(0.0, 100.0)).fit(full)
    return CurvePruner(
        model, final_epoch=epochs, threshold=threshold, min_epochs=min_epochs,
        n_startup_trials=2,
    )


def _best_value(finished: Sequence[FrozenTrial]) -> str:
    vals = [t.value for t in finished if t.state == TrialState.COMPLETE]
    return f"{max(vals):.2f}" if vals else "-"
