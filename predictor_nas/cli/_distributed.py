"""``predictor-nas coordinate`` and ``predictor-nas worker``: distributed search."""

from __future__ import annotations

import argparse
import json
import signal
from collections.abc import Sequence
from typing import Any

from predictor_nas.cli._options import (
    _add_draw_seed,
    _add_json,
    _add_progress,
    _add_seed,
    _add_space,
    _add_storage,
    _add_study_name,
    _add_table,
    _command,
    _positive_int_or_raw,
)
from predictor_nas.cli._render import _out, _out_json, _out_rows
from predictor_nas.distributed import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_MAX_RETRY,
    HeartbeatSettings,
    available_evaluators,
    run_coordinator,
    run_worker,
)
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import available_strategies
from predictor_nas.spaces import DEFAULT_SPACE
from predictor_nas.training import DATASETS


def _on_sigterm_interrupt() -> None:
    """Treat SIGTERM (e.g. a preempted machine) like Ctrl-C: clean up, then exit 130."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _key_values(pairs: Sequence[str] | None, option: str) -> dict[str, Any]:
    """``["epochs=2", "device=cuda"]`` -> ``{"epochs": 2, "device": "cuda"}`` (JSON values)."""

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError(f"{option} takes KEY=VALUE; got {pair!r}.")
        try:
            out[key.strip()] = json.loads(text)
        except ValueError:
            out[key.strip()] = text
    return out


def _cmd_coordinate(args: argparse.Namespace) -> int:
    _on_sigterm_interrupt()
    score = None if args.score_predictor in ("none", "") else args.score_predictor
    result = run_coordinator(
        args.storage,
        args.study_name,
        space=DEFAULT_SPACE if args.space is None else args.space,
        table=args.table,
        dataset=args.dataset,
        metric=args.metric,
        strategy=args.strategy,
        budget=args.budget,
        seed=args.seed,
        draw_seed=args.draw_seed,
        evaluator=args.evaluator,
        evaluator_options=_key_values(args.evaluator_option, "--evaluator-option"),
        queue_size=args.queue_size,
        score_predictor=score,
        heartbeat=HeartbeatSettings(
            args.heartbeat_interval, args.grace_period, args.max_retry, args.lock_timeout
        ),
        poll_interval=args.poll_interval,
        max_seconds=args.max_seconds,
        progress=not args.no_progress and not args.json,
    )
    if args.json:
        _out_json(result.to_dict())
        return 0
    best = "none yet" if result.best_arch is None else result.best_arch
    value = "" if result.best_value is None else f"{result.best_value:.2f}"
    if result.regret_val is not None:
        value += f" (regret {result.regret_val:.2f} pp to the table's best)"
    state = result.stop_reason or ("budget reached" if result.done else "stopped before the budget")
    rows = [
        ("study", f"{result.study_name} in {result.storage}"),
        ("evaluations", f"{result.n_complete + result.n_pruned} of {result.budget} ({state})"),
        (
            "trials",
            f"{result.n_complete} complete, {result.n_pruned} pruned, {result.n_failed} failed, "
            f"{result.n_retried} retries, {result.n_running} running, {result.n_waiting} queued",
        ),
        ("proposed now", f"{result.n_proposed} (resumed after {result.resumed_from})"),
        ("best architecture", best),
        ("best value", value or "n/a"),
    ]
    _out_rows(rows)
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    _on_sigterm_interrupt()
    result = run_worker(
        args.storage,
        args.study_name,
        evaluator_options=_key_values(args.evaluator_option, "--evaluator-option"),
        max_trials=args.max_trials,
        idle_timeout=args.idle_timeout,
        wait_for_study=args.wait,
        poll_interval=args.poll_interval,
        time_scale=args.time_scale,
        worker_id=args.worker_id,
    )
    if args.json:
        _out_json(result.to_dict())
        return 0
    _out(
        f"worker {result.worker_id}: {result.n_evaluated} evaluated, {result.n_pruned} pruned, "
        f"{result.n_failed} failed, {result.n_discarded} discarded, {result.n_reaped} retried "
        f"for dead workers in {result.wall_seconds:.1f} s; stopped: {result.stopped_because}"
    )
    return 0


def register(sub: Any) -> None:
    """Add the ``coordinate`` and ``worker`` subcommands."""
    _add_distributed_commands(sub)


def _add_distributed_commands(sub: Any) -> None:
    """The ``coordinate`` and ``worker`` subcommands."""
    storage_help = (
        "postgresql://user@host/db (several machines) or a journal file (several processes on "
        "one machine); SQLite and memory are refused"
    )
    _add_coordinate_parser(sub, storage_help)
    _add_worker_parser(sub, storage_help)


def _add_coordinate_parser(sub: Any, storage_help: str) -> None:
    """The ``coordinate`` subcommand."""

    c = sub.add_parser(
        "coordinate",
        help="propose architectures into a shared study for workers (distributed search)",
        description="Keep the study's queue of proposed architectures filled, refitting the "
        "predictor as results arrive, until the budget is evaluated. Rerun the same command to "
        "continue after a crash.",
    )
    _add_storage(c, storage_help, required=True)
    _add_study_name(c)
    _add_space(c)
    _add_table(c)
    c.add_argument("--dataset", default="cifar10", help="dataset in the table (default cifar10)")
    c.add_argument("--metric", default="val_acc", help="validation metric (default val_acc)")
    c.add_argument(
        "--strategy", default="guided", help=f"one of {', '.join(available_strategies())}"
    )
    c.add_argument(
        "--budget", type=_positive_int_or_raw, default=100, help="evaluations (default 100)"
    )
    _add_seed(c)
    _add_draw_seed(c, "objective = one drawn trial")
    c.add_argument(
        "--evaluator",
        default="table",
        help=f"how workers evaluate: {', '.join(available_evaluators())} (default table; "
        f"train = real training, --dataset {' or '.join(DATASETS)})",
    )
    c.add_argument(
        "--evaluator-option",
        action="append",
        metavar="KEY=VALUE",
        help="evaluator setting stored in the study, repeatable (train: width, depth, epochs, "
        "batch_size, lr, weight_decay; defaults for device, data_root, ...; nb301-surrogate: "
        "path=FOLDER of YAHPO's nb301 files, with --space nb301)",
    )
    c.add_argument(
        "--queue-size",
        type=_positive_int_or_raw,
        default=8,
        help="proposals kept waiting (default 8; about 2x the workers)",
    )
    c.add_argument(
        "--score-predictor",
        default="auto",
        metavar="NAME|auto|none",
        help="predictor whose score each proposal carries (default auto: xgb for guided)",
    )
    c.add_argument(
        "--heartbeat-interval",
        type=_positive_int_or_raw,
        default=DEFAULT_HEARTBEAT_INTERVAL,
        metavar="S",
        help=f"seconds between worker heartbeats (default {DEFAULT_HEARTBEAT_INTERVAL})",
    )
    c.add_argument(
        "--grace-period",
        type=_positive_int_or_raw,
        default=DEFAULT_GRACE_PERIOD,
        metavar="S",
        help="seconds without heartbeat before a trial is retried (default "
        f"{DEFAULT_GRACE_PERIOD})",
    )
    c.add_argument(
        "--lock-timeout",
        type=_positive_int_or_raw,
        default=30,
        metavar="S",
        help="journal files: seconds after which the write lock of a process that died while "
        "writing is broken (default 30); --grace-period must be >= --heartbeat-interval + this "
        "+ 2",
    )
    c.add_argument(
        "--max-retry",
        type=_positive_int_or_raw,
        default=DEFAULT_MAX_RETRY,
        metavar="N",
        help=f"retries of one proposal whose workers died (default {DEFAULT_MAX_RETRY})",
    )
    c.add_argument("--poll-interval", type=float, default=0.2, metavar="S", help=argparse.SUPPRESS)
    c.add_argument(
        "--max-seconds", type=float, default=None, metavar="S", help="stop after S seconds"
    )
    _add_json(c)
    _add_progress(c)
    _command(c, _cmd_coordinate)


def _add_worker_parser(sub: Any, storage_help: str) -> None:
    """The ``worker`` subcommand."""
    w = sub.add_parser(
        "worker",
        help="evaluate architectures a coordinator proposed (distributed search)",
        description="Take proposed architectures from the study's queue, evaluate them (table "
        "lookup or the study's evaluator), report, until the coordinator's budget is reached.",
    )
    _add_storage(w, storage_help, required=True)
    _add_study_name(w, "default: the only distributed study in the storage")
    w.add_argument(
        "--max-trials", type=_positive_int_or_raw, default=None, help="stop after N trials"
    )
    w.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="S",
        help="stop after S seconds with nothing queued (default: wait for the coordinator)",
    )
    w.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds to wait for the coordinator to create the study (default 60)",
    )
    w.add_argument("--poll-interval", type=float, default=0.1, metavar="S", help=argparse.SUPPRESS)
    w.add_argument(
        "--time-scale",
        type=float,
        default=0.0,
        metavar="F",
        help="sleep F x the table's training seconds per trial (replay in scaled real time)",
    )
    w.add_argument("--worker-id", default=None, help="id recorded on trials (default host:pid)")
    w.add_argument(
        "--evaluator-option",
        action="append",
        metavar="KEY=VALUE",
        help="this machine's evaluator setting, repeatable (train: device, amp, num_threads, "
        "checkpoint_dir, data_root, download; nb301-surrogate: path=FOLDER)",
    )
    _add_json(w)
    _command(w, _cmd_worker)
