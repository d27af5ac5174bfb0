"""A worker: pulls proposed architectures from the study's queue, evaluates them, reports."""

from __future__ import annotations

import inspect
import logging
import math
import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_float, check_int
from predictor_nas.distributed._common import (
    CONFIG_ATTR,
    ERROR_ATTR,
    MODE,
    STATE_ATTR,
    WORKER_ATTR,
    Heartbeat,
    HeartbeatSettings,
    describe_storage,
    open_storage,
    pop_waiting,
    process_id,
    reap_stale_trials,
    requeue,
    trial_id,
)
from predictor_nas.evaluators import make_evaluator, study_space
from predictor_nas.exceptions import PredictorNASError, SearchError
from predictor_nas.search import storage_kind

log = logging.getLogger(__name__)

_OWNER = "worker"


@dataclass
class WorkerResult:
    """What one worker did; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        worker_id: ``host:pid:random`` (also trial system attr ``predictor_nas:worker``).
        study_name, storage: The study (storage spec without password).
        n_evaluated: Trials this worker completed.
        n_pruned: Trials the evaluator stopped early.
        n_failed: Trials whose evaluation raised (marked failed, with user attr ``error``).
        n_discarded: Results thrown away because the trial had been declared dead meanwhile
            (no heartbeat within the grace period) and retried elsewhere.
        n_reaped: Trials of dead workers this worker failed and queued again.
        stopped_because: ``"done"`` (budget reached, queue empty), ``"max_trials"``,
            ``"idle_timeout"`` or ``"stop"``.
        idle_seconds: Time spent waiting on an empty queue (high = the coordinator cannot
            keep up; raise its ``queue_size`` or check its proposals' cost).
        wall_seconds: Duration of the run.
    """

    worker_id: str
    study_name: str
    storage: str
    n_evaluated: int
    n_pruned: int
    n_failed: int
    n_discarded: int
    n_reaped: int
    stopped_because: str
    idle_seconds: float
    wall_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)


def _distributed_studies(store: optuna.storages.BaseStorage) -> list[str]:
    return [
        s.study_name
        for s in store.get_all_studies()
        if (s.user_attrs.get(CONFIG_ATTR) or {}).get("mode") == MODE
    ]


def _wait_for_journal_file(spec: str, deadline: float, wait: float) -> None:
    """For a journal spec, wait until its file exists; raise ``SearchError`` at ``deadline``."""
    if storage_kind(spec) != "journal":
        return
    text = spec.strip()
    path = text[len("journal:") :] if text.startswith("journal:") else text
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            raise SearchError(
                f"No journal file {path!r} after {wait:.0f} s (a worker never creates it): "
                f"start `predictor-nas coordinate` first (with --storage {text}), or check the "
                "path."
            )
        time.sleep(min(0.25, max(deadline - time.monotonic(), 0.01)))


def _load_study(
    spec: str, study_name: str | None, settings: HeartbeatSettings, wait: float
) -> optuna.Study:
    """Open the study, waiting up to ``wait`` seconds for a coordinator to create it.

    A journal file is never created here: opening a missing one would leave an empty file (a
    typo in the path looks like a storage without the study, forever). The worker waits for the
    coordinator to create the file, then for the study.
    """
    deadline = time.monotonic() + wait
    _wait_for_journal_file(spec, deadline, wait)
    store = open_storage(spec, settings)
    while True:
        name = study_name
        if name is None:
            names = _distributed_studies(store)
            if len(names) > 1:
                raise SearchError(
                    f"{describe_storage(spec)} holds several distributed studies "
                    f"({', '.join(sorted(names))}); choose one with --study-name."
                )
            name = names[0] if names else None
        if name is not None:
            try:
                # The worker's sampler only fills params a queued trial lacks (none, normally).
                sampler = optuna.samplers.RandomSampler()
                study = optuna.load_study(study_name=name, storage=store, sampler=sampler)
                if CONFIG_ATTR in study.user_attrs and STATE_ATTR in study.user_attrs:
                    return study
            except KeyError:
                pass
        if time.monotonic() >= deadline:
            what = f"study {name!r}" if name else "distributed study"
            raise SearchError(
                f"No {what} in {describe_storage(spec)} after {wait:.0f} s; start "
                "`predictor-nas coordinate` first (or give the right --study-name)."
            )
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))


def _keywords(evaluator: Any) -> set[str]:
    """Which of ``rng`` and ``trial`` the evaluator's ``evaluate`` accepts."""
    try:
        params = inspect.signature(evaluator.evaluate).parameters
    except (TypeError, ValueError):
        return {"rng"}
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return {"rng", "trial"}
    return {"rng", "trial"} & set(params)


def run_worker(
    storage: str,
    study_name: str | None = None,
    *,
    evaluator: Any = None,
    evaluator_options: dict[str, Any] | None = None,
    max_trials: int | None = None,
    idle_timeout: float | None = None,
    wait_for_study: float = 60.0,
    poll_interval: float = 0.1,
    time_scale: float = 0.0,
    worker_id: str | None = None,
    stop: threading.Event | None = None,
) -> WorkerResult:
    """Evaluate queued trials of a distributed study until it is done.

    Loop: take the oldest WAITING trial (atomically: two workers never take the same one),
    beat for it while evaluating (``HeartbeatSettings`` stored in the study by the
    coordinator), set user attrs ``metrics``, ``cost_s`` (and
    ``seed_position``), and tell the value. When the queue is empty, fail and requeue the trials
    of dead workers, and stop once the coordinator has marked the budget reached.

    A worker needs only the storage: the space, table, dataset, metric and evaluator come from
    the study. An evaluation that raises marks its trial failed (user attr ``error``) and the
    worker goes on; Ctrl-C puts the current trial back in the queue.

    Args:
        storage: The coordinator's storage (journal file or ``postgresql://...``).
        study_name: Default: the only distributed study in the storage.
        evaluator: An evaluator object (``predictor_nas.evaluators.Evaluator``);
            default: the one named in the study's configuration.
        evaluator_options: This worker's own evaluator settings, merged over the study's
            (for ``train``: device, amp, num_threads, checkpoint_dir, data_root, download).
        max_trials: Stop after taking this many trials.
        idle_timeout: Stop after this many seconds with an empty queue (default: wait for
            the coordinator as long as the study is not done).
        wait_for_study: Seconds to wait for the coordinator to create the study.
        poll_interval: Seconds between looks at an empty queue (doubling while it stays
            empty, up to 16x).
        time_scale: Sleep ``time_scale x`` the evaluation's simulated cost (a table's training
            seconds) before reporting, to replay a table in scaled real time (benchmarks of
            the distributed machinery; 0 = no sleep).
        worker_id: Id recorded on the trials (default ``host:pid:random``).
        stop: Set it to stop after the current trial.

    Returns:
        The ``WorkerResult``.
    """
    if max_trials is not None:
        max_trials = check_int(max_trials, "max_trials", _OWNER, minimum=1)
    if idle_timeout is not None:
        idle_timeout = check_float(idle_timeout, "idle_timeout", _OWNER, minimum=0.0)
    wait_for_study = check_float(wait_for_study, "wait_for_study", _OWNER, minimum=0.0)
    poll_interval = check_float(poll_interval, "poll_interval", _OWNER, minimum=0.0, exclusive=True)
    time_scale = check_float(time_scale, "time_scale", _OWNER, minimum=0.0)
    wid = worker_id or process_id("worker@")

    study, hb, config = _open_distributed_study(storage, study_name, wait_for_study)
    space = study_space(config)
    ev = evaluator if evaluator is not None else make_evaluator(config, evaluator_options)
    keywords = _keywords(ev)
    seed = int(config.get("seed", 0))
    distributions = space.distributions()

    counts = {"evaluated": 0, "pruned": 0, "failed": 0, "discarded": 0, "reaped": 0}
    taken = 0
    reason = "stop"
    idle = _IdleQueue(study, storage, hb, poll_interval, idle_timeout)
    heartbeat = Heartbeat(study, storage, hb.interval)
    t0 = time.perf_counter()
    log.info("worker %s on study %s", wid, study.study_name)
    try:
        while not (stop is not None and stop.is_set()):
            if max_trials is not None and taken >= max_trials:
                reason = "max_trials"
                break
            frozen = pop_waiting(study)
            if frozen is None:
                if (ended := idle.wait(counts)) is not None:
                    reason = ended
                    break
                continue
            idle.reset()
            taken += 1
            try:
                heartbeat.begin(trial_id(frozen))
            except optuna.exceptions.UpdateFinishedTrialError:
                # Reaped between our take and our first beat (a very slow or overloaded machine):
                # the reaper already failed it and queued an identical copy, so skip it.
                heartbeat.end()
                log.warning("trial %d was retried before its first beat; skipped", frozen.number)
                continue
            try:
                outcome = _evaluate_one(
                    study, frozen, wid, ev, keywords, space, distributions, seed, time_scale
                )
            except KeyboardInterrupt:
                _give_back(study, frozen)
                raise
            finally:
                heartbeat.end()
            counts[outcome] += 1
    finally:
        heartbeat.close()
    return WorkerResult(
        worker_id=wid,
        study_name=study.study_name,
        storage=describe_storage(storage),
        n_evaluated=counts["evaluated"],
        n_pruned=counts["pruned"],
        n_failed=counts["failed"],
        n_discarded=counts["discarded"],
        n_reaped=counts["reaped"],
        stopped_because=reason,
        idle_seconds=idle.total,
        wall_seconds=time.perf_counter() - t0,
    )


def _open_distributed_study(
    storage: str, study_name: str | None, wait_for_study: float
) -> tuple[optuna.Study, HeartbeatSettings, dict[str, Any]]:
    """``(study, heartbeat settings, configuration)`` of the distributed study to work on.

    Raises:
        SearchError: the study is not a distributed study.
    """
    study = _load_study(storage, study_name, HeartbeatSettings(), wait_for_study)
    state = study.user_attrs[STATE_ATTR]
    hb = HeartbeatSettings.from_state(state)
    if hb != HeartbeatSettings():
        # The storage object keeps the grace period (PostgreSQL) or the journal's lock timeout:
        # reopen with the study's.
        study = _load_study(storage, study.study_name, hb, wait_for_study)
    config = study.user_attrs[CONFIG_ATTR]
    if config.get("mode") != MODE:
        raise SearchError(f"Study {study.study_name!r} is not a distributed study.")
    return study, hb, config


class _IdleQueue:
    """A worker's waits on an empty queue: reaping dead workers' trials, the end of the study,
    the idle timeout and the polling back-off."""

    def __init__(
        self,
        study: optuna.Study,
        storage: str,
        hb: HeartbeatSettings,
        poll_interval: float,
        idle_timeout: float | None,
    ) -> None:
        self.study, self.storage, self.hb = study, storage, hb
        self.poll_interval, self.idle_timeout = poll_interval, idle_timeout
        self.since: float | None = None
        self.last_reap = self.last_done_check = 0.0
        self.total = 0.0  # seconds spent waiting
        self.polls = 0

    def reset(self) -> None:
        """A trial was taken: the queue is no longer idle."""
        self.since = None
        self.polls = 0

    def wait(self, counts: dict[str, int]) -> str | None:
        """One wait on the empty queue; the reason to stop (``done``, ``idle_timeout``) or None.

        Reaps stale trials (every heartbeat interval, counted in ``counts["reaped"]``), checks
        whether the coordinator marked the study done (every 0.5 s), then sleeps.
        """
        study = self.study
        now = time.monotonic()
        if now - self.last_reap >= self.hb.interval:
            counts["reaped"] += reap_stale_trials(study, self.storage, self.hb)
            self.last_reap = now
        if now - self.last_done_check >= 0.5:
            self.last_done_check = now
            if study.user_attrs.get(STATE_ATTR, {}).get("done") and not study.get_trials(
                deepcopy=False, states=(TrialState.WAITING,)
            ):
                return "done"
        self.since = self.since if self.since is not None else now
        if self.idle_timeout is not None and now - self.since >= self.idle_timeout:
            return "idle_timeout"
        # Back off while the queue stays empty (up to 16x): idle workers polling
        # the storage would slow down the coordinator they are waiting for.
        time.sleep(self.poll_interval * min(2**self.polls, 16))
        self.polls += 1
        self.total += time.monotonic() - now
        return None


def _evaluate_one(
    study: optuna.Study,
    frozen: FrozenTrial,
    wid: str,
    evaluator: Any,
    keywords: set[str],
    space: Any,
    distributions: dict,
    seed: int,
    time_scale: float,
) -> str:
    """Evaluate and report the trial just taken; returns the counter to bump.

    Results go straight to the storage (the writes ``Study.tell`` ends with) so that a table
    lookup costs few database round trips; an evaluator that wants the ``optuna.Trial`` (to
    report a curve) gets one, and a pruned trial is told through ``Study.tell`` (which records
    the last reported value).
    """
    store = study._storage
    tid = trial_id(frozen)
    number = frozen.number
    try:
        store.set_trial_system_attr(tid, WORKER_ATTR, wid)
        trial = optuna.Trial(study, tid) if "trial" in keywords else None
        params = dict(frozen.params)
        # A conditional space's (nb301) trial holds its active decisions only.
        missing = [n for n in distributions if n not in params] if space.plain else []
        if missing:  # a trial enqueued with fixed params only (study.enqueue_trial)
            trial = trial or optuna.Trial(study, tid)
            for n in missing:
                params[n] = trial.suggest_categorical(n, distributions[n].choices)
        proposal = int(frozen.user_attrs.get("proposal", number))
        # Seeded by the proposal, not the trial: a retried proposal draws the same seed.
        rng = np.random.default_rng([seed, proposal, 1])
        arch = None
        try:
            arch = space.from_params(params)
            kwargs = {"rng": rng, "trial": trial}
            ev = evaluator.evaluate(arch, **{k: kwargs[k] for k in keywords})
            value = float(ev.value)
            if not math.isfinite(value):
                raise ArithmeticError(f"the objective is {value}")
            if getattr(ev, "pruned", False):  # e.g. TrainEvaluator: stopped, curve recorded
                store.set_trial_user_attr(tid, "metrics", ev.metrics)
                store.set_trial_user_attr(tid, "cost_s", ev.cost)
                raise optuna.TrialPruned()
        except optuna.TrialPruned:
            study.tell(number, state=TrialState.PRUNED)
            return "pruned"
        except (PredictorNASError, ValueError, RuntimeError, ArithmeticError, OSError) as exc:
            what = space.format(arch) if arch is not None else params
            log.warning("trial %d (%s) failed: %s", number, what, exc)
            store.set_trial_user_attr(tid, ERROR_ATTR, f"{type(exc).__name__}: {exc}"[:2000])
            store.set_trial_state_values(tid, state=TrialState.FAIL)
            return "failed"
        if time_scale > 0 and ev.cost > 0:
            time.sleep(ev.cost * time_scale)
        if "arch" not in frozen.user_attrs:
            store.set_trial_user_attr(tid, "arch", space.format(arch))
            store.set_trial_user_attr(tid, "canonical_key", space.canonical_key(arch))
        store.set_trial_user_attr(tid, "metrics", ev.metrics)
        store.set_trial_user_attr(tid, "cost_s", ev.cost)
        if ev.seed_position is not None:
            store.set_trial_user_attr(tid, "seed_position", ev.seed_position)
        store.set_trial_state_values(tid, state=TrialState.COMPLETE, values=[value])
        return "evaluated"
    except (optuna.exceptions.UpdateFinishedTrialError, ValueError) as exc:
        if store.get_trial(tid).state != TrialState.FAIL:
            raise
        log.warning(
            "trial %d was declared dead (no heartbeat within the grace period) and retried; "
            "this result is discarded (%s)",
            number,
            exc,
        )
        return "discarded"


def _give_back(study: optuna.Study, frozen: FrozenTrial) -> None:
    """On Ctrl-C: fail the current trial and queue a copy, so no proposal is lost."""
    try:
        current = study._storage.get_trial(trial_id(frozen))
        if current.state == TrialState.RUNNING:
            study._storage.set_trial_state_values(trial_id(frozen), state=TrialState.FAIL)
            requeue(study, current, None)
            log.warning("interrupted: trial %d is back in the queue", frozen.number)
    except Exception as exc:  # best effort: the heartbeat reaper covers the rest
        log.warning("could not put trial %d back in the queue: %r", frozen.number, exc)


__all__ = ["WorkerResult", "run_worker"]
