"""Run a table-driven search as an Optuna study: ask, look up, tell, until the budget is spent."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.evaluators import TableEvaluator
from predictor_nas.search._ask import ask_arch
from predictor_nas.search._journal import StudyRunLock
from predictor_nas.search._storage import make_storage
from predictor_nas.search._strategies import available_strategies, make_sampler
from predictor_nas.search._study import check_study_config
from predictor_nas.spaces import DeclaredSpace, SearchSpace, get_space
from predictor_nas.tables import DEFAULT_TABLE, Table, open_table

log = logging.getLogger(__name__)

CONFIG_ATTR = "predictor_nas_config"
TEST_METRIC = "test_acc"
#: Write each trial of a search on a journal file as one record at its end (one write, one
#: fsync; see ``BufferedJournalStorage``) instead of one fsync'd record per operation. False
#: gives Optuna's record-per-operation journal (``benchmarks/journal_overhead.py`` compares).
JOURNAL_BUFFERED = True
#: Seconds between fsyncs of a buffered journal (0: every finished trial is fsync'd before its
#: ``tell`` returns). A SIGKILL loses no finished trial either way (the write is in the kernel's
#: cache); a power loss may lose this many seconds of finished trials.
JOURNAL_FSYNC_INTERVAL = 0.0


@dataclass
class SearchResult:
    """Outcome of a search; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        best_arch: Architecture with the best observed objective (chosen by validation only).
        best_val: Mean validation value of ``best_arch`` over the table's trials.
        best_val_observed: The objective value the search saw for it (a drawn trial if seeds drawn).
        best_test: Mean test value of ``best_arch`` if the table has a test metric, else None.
        regret_val: Table's best mean validation value minus ``best_val`` (>= 0).
        table_best_val: The table's best mean validation value.
        n_queries: Completed queries (trials) in the study.
        simulated_seconds: Sum of the simulated training cost of all queries.
        trajectory_regret_val: (n_queries,) validation regret of the incumbent after each query.
        trajectory_val: (n_queries,) mean validation value of the incumbent after each query
            (the anytime best validation accuracy when the objective is the mean).
        trajectory_test: (n_queries,) test value of the incumbent after each query, where the
            table has the test metric at the searched fidelity (same rule as ``best_test``);
            else None. The incumbent is always chosen by validation.
    """

    best_arch: str
    best_val: float
    best_val_observed: float
    best_test: float | None
    regret_val: float
    table_best_val: float
    n_queries: int
    simulated_seconds: float
    strategy: str
    dataset: str
    seed: int
    table: str
    metric: str
    study_name: str
    storage: str
    resumed_from: int
    wall_seconds: float
    trajectory_regret_val: list[float] = field(default_factory=list, repr=False)
    trajectory_val: list[float] = field(default_factory=list, repr=False)
    trajectory_test: list[float | None] | None = field(default=None, repr=False)

    def to_dict(self, *, trajectory: bool = False) -> dict[str, Any]:
        """JSON-able dict; the trajectories are left out unless asked for."""
        d = asdict(self)
        if not trajectory:
            for k in ("trajectory_regret_val", "trajectory_val", "trajectory_test"):
                d.pop(k)
        return d


def default_study_name(
    space: str, table: str, dataset: str, strategy: str, seed: int, draw_seed: bool
) -> str:
    """Study name the CLI uses, so that rerunning the same command resumes the same study."""
    name = f"{space}-{table}-{dataset}-{strategy}-seed{seed}"
    return name + "-drawseed" if draw_seed else name


def _step_seed(seed: int, step: int) -> int:
    """Seed of the sampler for the ``step``-th query; a resumed run reuses the same seeds."""
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


def incumbent_trajectory(
    trials: Sequence[FrozenTrial],
    table: Table,
    dataset: str,
    *,
    metric: str = "val_acc",
    maximize: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Anytime incumbent of a search, chosen by the observed objective.

    Args:
        trials: Completed trials in query order; each has user attr ``"arch"``.
        table, dataset, metric: Where to read the incumbent's mean validation value.
        maximize: Direction of the objective.

    Returns:
        ``(val, regret, rows)``: the incumbent's mean validation value after each query, shape (n,);
        its regret to the table's best, shape (n,); and the incumbent's table row after each query.
    """
    rows = table.rows([t.user_attrs["arch"] for t in trials])
    observed = np.array([t.value for t in trials], dtype=np.float64)
    if not maximize:
        observed = -observed
    inc_rows = []
    best = -math.inf
    cur = -1
    for r, v in zip(rows, observed):
        if v > best:
            best, cur = v, int(r)
        inc_rows.append(cur)
    val = table.query_many(np.array(inc_rows, dtype=np.int64), metric, dataset=dataset)
    _, top = table.best(metric, dataset=dataset)
    regret = (top - val) if maximize else (val - top)
    return val, regret, inc_rows


def run_search(
    *,
    space: str | SearchSpace | None = None,
    table: str = DEFAULT_TABLE,
    dataset: str = "cifar10",
    strategy: str = "rea",
    budget: int | None = 100,
    time_budget: float | None = None,
    seed: int = 0,
    storage: str | None = None,
    study_name: str | None = None,
    draw_seed: bool = False,
    metric: str = "val_acc",
    test_metric: str | None = None,
    progress: bool = False,
) -> SearchResult:
    """Search a table-backed space; resumes the study if it already exists in ``storage``.

    Args:
        space: Search-space name, YAML declaration or ``SearchSpace``; must be the table's.
            ``None``: the table's space.
        table: Table name or path (see ``predictor_nas.tables.open_table``).
        dataset: Dataset of the table.
        strategy: One of ``available_strategies()``.
        budget: Number of queries (trials); ``None`` = only ``time_budget`` limits.
        time_budget: Simulated training seconds; the search stops once the sum of the queries'
            costs reaches it (the last query may overshoot).
        seed: Seed of the whole search (sampler and drawn trials); same seed, same result.
        storage: See ``make_storage``; ``None`` = in memory.
        study_name: Defaults to ``default_study_name(...)``.
        draw_seed: Objective is one drawn training trial per query instead of the mean.
        metric: Validation metric to maximize/minimize.
        test_metric: Metric reported for the chosen architecture (never searched on);
            ``None``: ``test_acc`` where the table has it.
        progress: Show a progress bar on stderr.

    Returns:
        The ``SearchResult`` of the whole study (including queries made before a resume).

    Raises:
        StudyInUseError: Another process is running the same study in the same journal or
            SQLite file (see ``StudyRunLock``).
        StorageCorruptedError: The journal file is damaged (nothing is written).
        SearchError: The study needs writing and its journal is read-only.
    """
    owner = "search"
    if budget is None and time_budget is None:
        raise param_error("budget", owner, "an int >= 1 when no time budget is given", None)
    if budget is not None:
        budget = check_int(budget, "budget", owner, minimum=1)
    if time_budget is not None:
        time_budget = check_float(time_budget, "time_budget", owner, minimum=0.0, exclusive=True)
    seed = check_int(seed, "seed", owner, minimum=0)
    check_choice(strategy, "strategy", owner, available_strategies())
    tbl = open_table(table)
    sp = get_space(tbl.space if space is None else space)
    if tbl.space != sp.name:
        raise param_error("table", owner, f"a table of space {sp.name!r}", f"{table} ({tbl.space})")
    check_choice(dataset, "dataset", owner, tbl.datasets)
    evaluator = TableEvaluator(tbl, dataset, metric=metric, draw_seed=draw_seed)
    name = study_name or default_study_name(sp.name, tbl.name, dataset, strategy, seed, draw_seed)
    config = {
        "space": sp.name,
        "table": tbl.name,
        "table_content_hash": tbl.content_hash,
        "dataset": dataset,
        "metric": metric,
        "strategy": strategy,
        "seed": seed,
        "draw_seed": bool(draw_seed),
    }
    if test_metric is not None:
        check_choice(test_metric, "test_metric", owner, tbl.metrics(dataset))
        config["test_metric"] = test_metric
    report_metric = TEST_METRIC if test_metric is None else test_metric
    if isinstance(sp, DeclaredSpace):  # a user's declaration: the study records all of it
        config["space_spec"] = sp.spec()
    store = make_storage(
        storage, journal_buffered=JOURNAL_BUFFERED, journal_fsync_interval=JOURNAL_FSYNC_INTERVAL
    )
    # One process per study (released in the loop's ``finally`` or when an error drops it).
    run_lock = StudyRunLock.acquire(storage, name)
    study = optuna.create_study(
        storage=store,
        study_name=name,
        direction=evaluator.direction,
        load_if_exists=True,
        sampler=make_sampler(strategy, sp, _step_seed(seed, 0)),
    )
    check_study_config(
        study, config, attr=CONFIG_ATTR, name=name, storage=storage,
        creator="predictor-nas search", name_option="--study-name",
    )
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        # Left behind by an interrupted run of this single-process search: the query never
        # finished, so it is marked failed and the same step is proposed again.
        study.tell(t.number, state=TrialState.FAIL)
        log.info("marked interrupted trial %d of %s as failed", t.number, name)

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    resumed_from = len(complete)
    n = len(complete)
    spent = float(sum(t.user_attrs.get("cost_s", 0.0) for t in complete))

    def more() -> bool:
        if budget is not None and n >= budget:
            return False
        return not (time_budget is not None and spent >= time_budget)

    bar = None
    if progress:
        from predictor_nas._progress import progress_bar

        bar = progress_bar(
            budget,
            initial=min(n, budget) if budget else n,
            desc=f"{strategy} {dataset}",
            unit="query",
        )
    distributions = sp.distributions()
    t0 = time.perf_counter()
    try:
        while more():
            study.sampler = make_sampler(strategy, sp, _step_seed(seed, n))
            trial, arch = ask_arch(
                study, sp, distributions=distributions, rng=np.random.default_rng([seed, n, 2])
            )
            ev = evaluator.evaluate(arch, rng=np.random.default_rng([seed, n, 1]))
            trial.set_user_attr("arch", sp.format(arch))
            trial.set_user_attr("canonical_key", sp.canonical_key(arch))
            trial.set_user_attr("metrics", ev.metrics)
            trial.set_user_attr("cost_s", ev.cost)
            if ev.seed_position is not None:
                trial.set_user_attr("seed_position", ev.seed_position)
            study.tell(trial, ev.value)
            n += 1
            spent += ev.cost
            if bar is not None:
                bar.update(1)
                bar.set_postfix(best=f"{study.best_value:.2f}")
    finally:
        if hasattr(store, "sync"):  # a buffered journal: its finished trials made durable
            store.sync()
        run_lock.release()
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0

    trials = sorted(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.number
    )
    val, regret, inc_rows = incumbent_trajectory(
        trials, tbl, dataset, metric=metric, maximize=evaluator.higher_is_better
    )
    best_row = inc_rows[-1]
    best_trial = next(t for t in trials if tbl.row(t.user_attrs["arch"]) == best_row)
    test = None
    test_traj: list[float | None] | None = None
    # Test accuracy at the searched fidelity only: a 12-epoch test value is no stand-in for 200.
    if report_metric in tbl.metrics(dataset) and evaluator.fidelity in tbl.fidelities(
        report_metric, dataset=dataset
    ):
        tv = tbl.query_many(
            np.array(inc_rows, dtype=np.int64),
            report_metric,
            dataset=dataset,
            fidelity=evaluator.fidelity,
        )
        test_traj = [None if v != v else float(v) for v in tv]
        test = test_traj[-1]
    return SearchResult(
        best_arch=tbl.archs[best_row],
        best_val=float(val[-1]),
        best_val_observed=float(best_trial.value),
        best_test=test,
        regret_val=float(regret[-1]),
        table_best_val=tbl.best(metric, dataset=dataset)[1],
        n_queries=len(trials),
        simulated_seconds=float(sum(t.user_attrs.get("cost_s", 0.0) for t in trials)),
        strategy=strategy,
        dataset=dataset,
        seed=seed,
        table=tbl.name,
        metric=metric,
        study_name=name,
        storage=storage or "memory",
        resumed_from=resumed_from,
        wall_seconds=wall,
        trajectory_regret_val=[float(r) for r in regret],
        trajectory_val=[float(v) for v in val],
        trajectory_test=test_traj,
    )
