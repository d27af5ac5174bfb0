"""Distributed searches: one coordinator proposes, many workers evaluate, on one Optuna study.

The study is the queue and the ledger (no other state): the coordinator keeps WAITING trials
proposed by the strategy's sampler in it, scored by a predictor refitted as results arrive;
workers take them atomically, beat while evaluating, and report. A trial whose worker stops
beating is failed and queued again. Storages: PostgreSQL for several machines, a journal file
for several processes on one machine; SQLite and in-memory storages are refused.

CLI: ``predictor-nas coordinate --storage ...`` and ``predictor-nas worker --storage ...``.
"""

from predictor_nas.distributed._common import (
    CONFIG_ATTR,
    DEFAULT_GRACE_PERIOD,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_MAX_RETRY,
    HEARTBEAT_ATTR,
    LEASE_ATTR,
    ORPHAN_GRACE_FACTOR,
    STATE_ATTR,
    WORKER_ATTR,
    HeartbeatSettings,
    open_storage,
    reap_stale_trials,
)
from predictor_nas.distributed._coordinator import (
    CoordinatorResult,
    default_distributed_study_name,
    run_coordinator,
    sample_params,
)
from predictor_nas.distributed._pgserver import TemporaryPostgres, find_postgres_bin
from predictor_nas.distributed._worker import WorkerResult, run_worker
from predictor_nas.evaluators import (
    Evaluator,
    available_evaluators,
    make_evaluator,
    register_evaluator,
)

__all__ = [
    "CONFIG_ATTR",
    "DEFAULT_GRACE_PERIOD",
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_MAX_RETRY",
    "HEARTBEAT_ATTR",
    "LEASE_ATTR",
    "ORPHAN_GRACE_FACTOR",
    "STATE_ATTR",
    "WORKER_ATTR",
    "CoordinatorResult",
    "Evaluator",
    "HeartbeatSettings",
    "TemporaryPostgres",
    "WorkerResult",
    "available_evaluators",
    "default_distributed_study_name",
    "find_postgres_bin",
    "make_evaluator",
    "open_storage",
    "reap_stale_trials",
    "register_evaluator",
    "run_coordinator",
    "run_worker",
    "sample_params",
]
