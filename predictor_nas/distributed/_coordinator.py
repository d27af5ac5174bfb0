"""The coordinator: keeps the study's queue of proposed architectures filled."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.distributed._common import (
    CONFIG_ATTR,
    ERROR_ATTR,
    LEASE_ATTR,
    MODE,
    STATE_ATTR,
    HeartbeatSettings,
    describe_storage,
    open_storage,
    process_id,
    reap_stale_trials,
)
from predictor_nas.distributed._lease import CoordinatorLease
from predictor_nas.distributed._proposals import (
    _awaiting_retry,
    _counts,
    _random_unused,
    _used_keys,
    sample_params,
)
from predictor_nas.evaluators import (
    available_evaluators,
    check_evaluator_config,
    study_evaluator_options,
)
from predictor_nas.exceptions import SearchError
from predictor_nas.predictors import PREDICTORS
from predictor_nas.samplers import PredictorScorer, guided_kwargs
from predictor_nas.search import (
    Budget,
    Progress,
    available_strategies,
    make_sampler,
    open_study,
    step_seed,
)
from predictor_nas.spaces import SearchSpace, get_space, is_space_file
from predictor_nas.tables import DEFAULT_TABLE, open_table

log = logging.getLogger(__name__)

_OWNER = "coordinate"
#: Sampler draws tried before a proposal that repeats an architecture (up to isomorphism) is
#: replaced by a uniform random unused one.
MAX_DUPLICATE_DRAWS = 20


def default_distributed_study_name(
    space: str, table: str, dataset: str, strategy: str, seed: int, draw_seed: bool
) -> str:
    """Study name ``predictor-nas coordinate`` uses when none is given."""
    name = f"{space}-{table}-{dataset}-{strategy}-seed{seed}"
    return name + ("-drawseed" if draw_seed else "") + "-distributed"


@dataclass
class CoordinatorResult:
    """Summary of a coordinator run; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        study_name, storage: The study (storage spec without password).
        budget: Evaluations (complete + pruned trials) the study is to have.
        n_complete, n_pruned, n_failed, n_waiting, n_running: Trials by state at the end.
        n_retried: Trials that are retries of a trial whose worker died.
        n_proposed: Proposals this run added to the queue.
        resumed_from: Finished evaluations when this run started (0 for a new study).
        best_arch, best_value: Best complete trial (None if none).
        regret_val: Table-evaluator studies: the table's best mean value minus the best
            arch's mean value (>= 0 when maximising).
        done: Whether the budget was reached (False after ``stop`` or ``max_seconds``).
        wall_seconds: Duration of this run.
        stop_reason: Why this run stopped (``"budget of 100 evaluations reached"``,
            ``"wall-clock budget of 60 s reached after 41 evaluations (60.0 s spent)"``,
            ``"stopped on request after 12 evaluations"``...).
    """

    study_name: str
    storage: str
    budget: int
    n_complete: int
    n_pruned: int
    n_failed: int
    n_waiting: int
    n_running: int
    n_retried: int
    n_proposed: int
    resumed_from: int
    best_arch: str | None
    best_value: float | None
    regret_val: float | None
    done: bool
    wall_seconds: float
    stop_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)


#: The coordinator's proposal scorer (the proposal core's, under its old name).
_Scorer = PredictorScorer

















def run_coordinator(
    storage: str,
    study_name: str | None = None,
    *,
    space: str = "nb201",
    table: str = DEFAULT_TABLE,
    dataset: str = "cifar10",
    metric: str = "val_acc",
    strategy: str = "guided",
    budget: int = 100,
    seed: int = 0,
    draw_seed: bool = False,
    evaluator: str = "table",
    evaluator_options: dict[str, Any] | None = None,
    queue_size: int = 8,
    score_predictor: str | None = "auto",
    heartbeat: HeartbeatSettings | None = None,
    poll_interval: float = 0.2,
    max_seconds: float | None = None,
    stop: threading.Event | None = None,
    progress: bool = False,
) -> CoordinatorResult:
    """Run the coordinator of a distributed search until the study has ``budget`` evaluations.

    Creates the study (or continues it: the same options resume it after a crash or Ctrl-C;
    different ones are refused, as for ``run_search``), then loops: retry trials whose worker
    stopped beating, and top the queue of WAITING trials up to ``queue_size`` with proposals of
    the strategy's sampler. Each proposal carries user attrs ``arch``, ``canonical_key``,
    ``proposal`` (its number) and, with a score predictor, ``predictor_score`` (``mean``,
    ``std``, ``expected_improvement`` over the best result so far, ``predictor``, ``n_fit``:
    the predictor is refitted on every result that has arrived; its mean is on the maximised
    scale, i.e. negated for a minimised objective). A proposal that the sampler could not make
    new has ``proposed_by = "random"``. No architecture is proposed twice up to isomorphism. Workers
    (``run_worker``) evaluate the queue.

    Args:
        storage: A journal file (several processes on one machine) or ``postgresql://...``;
            in-memory and SQLite storages are refused.
        study_name: Default ``default_distributed_study_name(...)``.
        space, table, dataset, metric, draw_seed: As for ``run_search``; workers read them from
            the study.
        strategy: One of ``available_strategies()``.
        budget: Number of evaluations (complete or pruned trials) to reach; a rerun with a
            larger budget extends the study.
        seed: Seed of the sampler (and of the drawn training seeds with ``draw_seed``).
        evaluator: ``"table"`` (look up ``table``), ``"train"`` (real training on ``dataset``
            ``"digits"`` or ``"cifar10"``; ``table`` unused) or a name registered with
            ``register_evaluator``.
        evaluator_options: JSON-able options stored in the study for the workers' evaluator
            (``train``: width, depth, epochs, batch_size, lr, weight_decay, and defaults for
            the workers' device, amp, num_threads, checkpoint_dir, data_root, download).
        queue_size: WAITING trials to keep ready (about 2x the number of workers).
        score_predictor: Predictor scoring each proposal (a ``make_predictor`` name),
            ``"auto"`` (the guided strategy's predictor for ``guided``, none otherwise) or
            ``None``.
        heartbeat: Heartbeat settings, stored in the study for the workers.
        poll_interval: Seconds between looks at the queue when it is full.
        max_seconds: Stop after this many seconds even if the budget is not reached.
        stop: Set it to stop the coordinator (e.g. from another thread).
        progress: Show a progress bar on stderr.

    Returns:
        The ``CoordinatorResult``.

    Raises:
        StudyConfigMismatchError: The study exists with other options.
        SearchError: Another coordinator is alive on the study, or as many evaluations as the
            budget (at least 10) failed with an error.
    """
    limits = Budget.checked(_OWNER, queries=budget, wall_seconds=max_seconds, unit="evaluations")
    seed = check_int(seed, "seed", _OWNER, minimum=0)
    queue_size = check_int(queue_size, "queue_size", _OWNER, minimum=1)
    poll_interval = check_float(poll_interval, "poll_interval", _OWNER, minimum=0.0, exclusive=True)
    check_choice(strategy, "strategy", _OWNER, available_strategies())
    check_choice(evaluator, "evaluator", _OWNER, available_evaluators())
    hb = (heartbeat or HeartbeatSettings()).validated(_OWNER, storage)
    sp, tbl, config = _study_config(
        space, table, dataset, metric, strategy, seed, draw_seed, evaluator, evaluator_options
    )
    direction = check_evaluator_config(config, tbl)
    source = evaluator if tbl is None else tbl.name
    name = study_name or default_distributed_study_name(
        sp.name, source, dataset, strategy, seed, draw_seed
    )
    # Several processes share the study: its RUNNING trials are the workers' (reaped by
    # heartbeat), and the single-process lock is the coordinator lease instead.
    study = open_study(
        storage=storage, store=open_storage(storage, hb), name=name, config=config,
        attr=CONFIG_ATTR, creator="predictor-nas coordinate", name_option="--study-name",
        where=describe_storage(storage), direction=direction, interrupted=False,
    ).study
    lease = CoordinatorLease(study, process_id("coordinator@"), hb)
    lease.acquire()
    study.set_user_attr(STATE_ATTR, {"budget": budget, "done": False, **hb.to_dict()})
    scorer = _make_scorer(sp, strategy, score_predictor, seed)
    loop = _Loop(study, sp, storage, hb, limits, strategy, seed, queue_size, scorer, lease)
    t0 = time.perf_counter()
    bar = Progress(progress, total=budget, initial=min(loop.resumed_from, budget), desc=name,
                   unit="trial", leave=True)
    try:
        reason, done = loop.run(stop, poll_interval, bar, t0)
        if done:
            state = dict(study.user_attrs.get(STATE_ATTR, {}))
            state["done"] = True
            study.set_user_attr(STATE_ATTR, state)
    finally:
        bar.close()
        try:
            lease.release()
        except Exception as exc:  # the storage may be what failed
            log.warning("could not release the coordinator lease: %r", exc)
    wall = time.perf_counter() - t0
    return _summary(
        study, storage, budget, loop.n_proposed, loop.resumed_from, done, wall, tbl, config,
        reason,
    )


def _study_config(
    space: str,
    table: str,
    dataset: str,
    metric: str,
    strategy: str,
    seed: int,
    draw_seed: bool,
    evaluator: str,
    evaluator_options: dict[str, Any] | None,
) -> tuple[SearchSpace, Any, dict[str, Any]]:
    """(space, table or None, the study's stored configuration) of ``run_coordinator``'s
    options; the table must be of the space and have the dataset."""
    sp = get_space(space)
    tbl = None
    if evaluator == "table":
        tbl = open_table(table)
        if tbl.space != sp.name:
            allowed = f"a table of space {sp.name!r}"
            raise param_error("table", _OWNER, allowed, f"{table} ({tbl.space})")
        check_choice(dataset, "dataset", _OWNER, tbl.datasets)
    config = {
        "mode": MODE,
        "space": sp.name,
        "table": None if tbl is None else (tbl.name if str(table) == tbl.name else str(table)),
        "table_content_hash": None if tbl is None else tbl.content_hash,
        "dataset": dataset,
        "metric": metric,
        "strategy": strategy,
        "seed": seed,
        "draw_seed": bool(draw_seed),
        "evaluator": evaluator,
        "evaluator_options": study_evaluator_options(evaluator, evaluator_options),
    }
    if is_space_file(space):  # workers read a declared space again from its file
        config["space_file"] = str(Path(space).resolve())
    return sp, tbl, config


def _make_scorer(
    sp: SearchSpace, strategy: str, score_predictor: str | None, seed: int
) -> _Scorer | None:
    """The proposals' score predictor (``run_coordinator``'s ``score_predictor``), or None."""
    settings = guided_kwargs(sp)
    if score_predictor == "auto":
        score_predictor = None
        if strategy == "guided":
            score_predictor = settings["predictor"]
    if score_predictor is None:
        return None

    check_choice(score_predictor, "score_predictor", _OWNER, sorted(PREDICTORS))
    kwargs: dict = {}
    if strategy == "guided" and settings["predictor"] == score_predictor:
        kwargs = dict(settings["predictor_kwargs"])
    return _Scorer(sp, score_predictor, kwargs, seed)


class _Loop:
    """The coordinator's loop: reap dead workers' trials, keep the queue filled, stop at the
    budget."""

    def __init__(
        self,
        study: optuna.Study,
        sp: SearchSpace,
        storage: str,
        hb: HeartbeatSettings,
        limits: Budget,
        strategy: str,
        seed: int,
        queue_size: int,
        scorer: _Scorer | None,
        lease: CoordinatorLease,
    ) -> None:
        self.study, self.sp, self.storage, self.hb, self.lease = study, sp, storage, hb, lease
        self.limits, self.queue_size, self.scorer = limits, queue_size, scorer
        self.budget = int(limits.queries)
        trials = study.get_trials(deepcopy=False)
        counts = _counts(trials)
        self.resumed_from = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED]
        # A restarted coordinator continues with a sampler seeded by where the study stands.
        self.sampler = make_sampler(strategy, sp, step_seed(seed, len(trials)))
        self.rng = np.random.default_rng([seed, len(trials), 2])
        self.next_proposal = 1 + max(
            (t.user_attrs.get("proposal", -1) for t in trials), default=-1
        )
        self.distributions = sp.distributions()
        self.maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        self.n_proposed = 0

    def run(
        self, stop: threading.Event | None, poll_interval: float, bar: Progress, t0: float
    ) -> tuple[str, bool]:
        """Loop until stopped; returns (why, whether the budget was reached)."""
        last_reap = 0.0
        finished = self.resumed_from
        clock = replace(self.limits, queries=None)
        while True:
            if stop is not None and stop.is_set():
                return f"stopped on request after {finished} evaluations", False
            reason = clock.stop_reason(queries=finished, wall_seconds=time.perf_counter() - t0)
            if reason is not None:
                return reason, False
            self.lease.renew()
            now = time.monotonic()
            if now - last_reap >= self.hb.interval:
                reap_stale_trials(self.study, self.storage, self.hb)
                last_reap = now
            trials = self.study.get_trials(deepcopy=False)
            counts = _counts(trials)
            finished = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED]
            bar.set(min(finished, self.budget))
            reason = self.limits.stop_reason(queries=finished)
            if reason is not None:
                return reason, True
            self._check_errors(trials)
            waiting, running = counts[TrialState.WAITING], counts[TrialState.RUNNING]
            in_retry = _awaiting_retry(trials, self.hb)
            waiting += len(in_retry)
            need = min(self.queue_size - waiting, self.budget - finished - running - waiting)
            if need <= 0:
                time.sleep(poll_interval)
                continue
            if not self._propose(trials, in_retry, need):
                return f"every architecture of {self.sp.name} is in the study", True

    def _check_errors(self, trials: list[FrozenTrial]) -> None:
        errors = [t for t in trials if ERROR_ATTR in t.user_attrs]
        if len(errors) >= max(self.budget, 10):
            raise SearchError(
                f"{len(errors)} evaluations of study {self.study.study_name!r} failed (last: "
                f"{errors[-1].user_attrs[ERROR_ATTR]!r}); the coordinator stops proposing. "
                "Fix the evaluator, then rerun the same command."
            )

    def _propose(self, trials: list[FrozenTrial], in_retry: set[int], need: int) -> bool:
        """Queue ``need`` new proposals; False when the space has no unused architecture."""
        sp, study = self.sp, self.study
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if self.scorer is not None:
            self.scorer.refit(complete, self.maximize)
        used = _used_keys(sp, trials, in_retry)
        number = len(trials)
        for _ in range(need):
            arch, how, s_user, s_system = None, "sampler", {}, {}
            for _draw in range(MAX_DUPLICATE_DRAWS):
                params, s_user, s_system = sample_params(
                    study, self.sampler, self.distributions, number, search_space=sp
                )
                cand = sp.from_params(params)
                if sp.canonical_key(cand) not in used:
                    arch = cand
                    break
            if arch is None:
                arch, how, s_user, s_system = _random_unused(sp, used, self.rng), "random", {}, {}
                if arch is None:
                    log.warning("every architecture of %s is already in the study", sp.name)
                    return False
            key = sp.canonical_key(arch)
            attrs = {**s_user, "arch": sp.format(arch), "canonical_key": key,
                     "proposal": self.next_proposal}
            if how != "sampler":
                attrs["proposed_by"] = how
            if self.scorer is not None:
                attrs.update(self.scorer.score(arch))
            study.add_trial(
                optuna.trial.create_trial(
                    state=TrialState.WAITING, params=sp.to_params(arch),
                    distributions=self.distributions if sp.plain else {
                        k: self.distributions[k] for k in sp.to_params(arch)
                    }, user_attrs=attrs, system_attrs=s_system,
                )
            )
            used.add(key)
            self.next_proposal += 1
            self.n_proposed += 1
            number += 1
        return True


def _summary(
    study: optuna.Study,
    storage: str,
    budget: int,
    n_proposed: int,
    resumed_from: int,
    done: bool,
    wall: float,
    tbl: Any,
    config: dict[str, Any],
    stop_reason: str | None = None,
) -> CoordinatorResult:
    trials = study.get_trials(deepcopy=False)
    counts = _counts(trials)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best_arch = best_value = regret = None
    if complete:
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        best = (max if maximize else min)(complete, key=lambda t: (t.value, -t.number))
        best_arch, best_value = best.user_attrs.get("arch"), float(best.value)
        if tbl is not None and best_arch is not None:
            metric, dataset = config["metric"], config["dataset"]
            mean = tbl.query(best_arch, metric, dataset=dataset)
            top = tbl.best(metric, dataset=dataset)[1]
            regret = float(top - mean) if maximize else float(mean - top)
    return CoordinatorResult(
        study_name=study.study_name,
        storage=describe_storage(storage),
        budget=budget,
        n_complete=counts[TrialState.COMPLETE],
        n_pruned=counts[TrialState.PRUNED],
        n_failed=counts[TrialState.FAIL],
        n_waiting=counts[TrialState.WAITING],
        n_running=counts[TrialState.RUNNING],
        n_retried=sum(1 for t in trials if t.system_attrs.get("retry_history")),
        n_proposed=n_proposed,
        resumed_from=resumed_from,
        best_arch=best_arch,
        best_value=best_value,
        regret_val=regret,
        done=done,
        wall_seconds=wall,
        stop_reason=stop_reason,
    )


__all__ = [
    "LEASE_ATTR",
    "CoordinatorResult",
    "default_distributed_study_name",
    "run_coordinator",
    "sample_params",
]
