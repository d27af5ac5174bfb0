"""Run a zero-cost search as an Optuna study: ask, evaluate, tell, until the budget is spent.

The evaluator is a benchmark table (``TableEvaluator``: regret against the table's best) or a
surrogate (``NB301SurrogateEvaluator``: regret against a documented reference best, see
``predictor_nas.search._evaluator.REFERENCE_BEST``).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.evaluators import Evaluator, TableEvaluator
from predictor_nas.search._ask import ask_arch
from predictor_nas.search._evaluator import (
    reference_best,
    resolve_evaluator,
    surrogate_identity,
)
from predictor_nas.search._incumbents import (
    _surrogate_incumbents,
    incumbent_trajectory,
)
from predictor_nas.search._storage import make_storage
from predictor_nas.search._strategies import (
    StepSamplers,
    available_strategies,
    make_sampler,
    step_seed,
)
from predictor_nas.search._study import Budget, Progress, open_study
from predictor_nas.spaces import DeclaredSpace, SearchSpace, get_space
from predictor_nas.tables import DEFAULT_TABLE, Table, open_table

CONFIG_ATTR = "predictor_nas_config"
TEST_METRIC = "test_acc"
#: Write each trial of a search on a journal file as one record at its end (one write; see
#: ``BufferedJournalStorage``) instead of one fsync'd record per operation. False gives
#: Optuna's record-per-operation journal (``benchmarks/journal_overhead.py`` compares).
JOURNAL_BUFFERED = True
#: Seconds between fsyncs of a buffered journal (0: every finished trial is fsync'd before its
#: ``tell`` returns; the end of a search always fsyncs). A SIGKILL loses no finished trial
#: either way (each is written before its ``tell`` returns, and the kernel keeps the write); a
#: power loss may lose the trials finished within this many seconds. 1 s costs about half the
#: wall time of fsyncing every trial of a table search (``benchmarks/journal_overhead.py``).
JOURNAL_FSYNC_INTERVAL = 1.0


@dataclass
class SearchResult:
    """Outcome of a search; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        best_arch: Architecture with the best observed objective (chosen by validation only).
        best_val: Mean validation value of ``best_arch`` over the table's trials.
        best_val_observed: The objective value the search saw for it (a drawn trial if seeds drawn).
        best_test: Mean test value of ``best_arch`` if the table has a test metric, else None.
        regret_val: Table's best mean validation value minus ``best_val`` (>= 0); with a
            surrogate, the reference best minus ``best_val`` (NaN when the surrogate has no
            recorded reference; negative if the search beat it).
        table_best_val: The table's best mean validation value; with a surrogate, its
            documented reference best (``reference`` says how it was found).
        n_queries: Completed queries (trials) in the study.
        simulated_seconds: Sum of the simulated training cost of all queries.
        trajectory_regret_val: (n_queries,) validation regret of the incumbent after each query.
        trajectory_val: (n_queries,) mean validation value of the incumbent after each query
            (the anytime best validation accuracy when the objective is the mean).
        trajectory_test: (n_queries,) test value of the incumbent after each query, where the
            table has the test metric at the searched fidelity (same rule as ``best_test``);
            else None. The incumbent is always chosen by validation.
        stop_reason: Why the search stopped, e.g. ``"time budget of 60 s reached after 41
            queries (61.5 s spent)"``.
        evaluator: ``"table"`` or the surrogate's evaluator name (``table`` then holds it too).
        reference: What ``table_best_val`` is: ``"table best"`` or how the surrogate's
            reference best was found.
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
    stop_reason: str | None = None
    evaluator: str = "table"
    reference: str = "table best"
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


#: Kept under its old name for the modules that import it from here.
_step_seed = step_seed




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
    evaluator: str | Evaluator = "table",
    surrogate: str | os.PathLike | None = None,
) -> SearchResult:
    """Search a table-backed (or surrogate-backed) space; resumes the study if it already
    exists in ``storage``.

    Args:
        space: Search-space name, YAML declaration or ``SearchSpace``; must be the table's
            (the surrogate's). ``None``: the table's (the surrogate's) space.
        table: Table name or path (see ``predictor_nas.tables.open_table``); unused with a
            surrogate.
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
        evaluator: ``"table"`` (look ``table`` up), ``"nb301-surrogate"`` (the YAHPO NB301
            surrogate at 98 epochs; ``dataset`` must be ``cifar10``, no ``draw_seed`` or
            ``test_metric``) or an ``Evaluator`` of kind ``"table"`` / ``"surrogate"``.
        surrogate: Folder of YAHPO's nb301 files for ``"nb301-surrogate"`` (default
            ``$PREDICTOR_NAS_NB301_SURROGATE``).

    Returns:
        The ``SearchResult`` of the whole study (including queries made before a resume).

    Raises:
        StudyInUseError: Another process is running the same study in the same journal or
            SQLite file (see ``StudyRunLock``).
        StorageCorruptedError: The journal file is damaged (nothing is written).
        SearchError: The study needs writing and its journal is read-only.
    """
    owner = "search"
    limits = Budget.checked(
        owner, queries=budget, simulated_seconds=time_budget,
        required=("budget", "an int >= 1 when no time budget is given"),
    )
    seed = check_int(seed, "seed", owner, minimum=0)
    check_choice(strategy, "strategy", owner, available_strategies())
    ev_given = resolve_evaluator(evaluator, owner=owner, surrogate=surrogate)
    if isinstance(ev_given, TableEvaluator):
        table, dataset, metric = ev_given.table, ev_given.dataset, ev_given.metric
        draw_seed = ev_given.draw_seed
    elif ev_given is not None:
        return _run_surrogate_search(
            ev_given, space=space, dataset=dataset, strategy=strategy, limits=limits,
            budget=budget, seed=seed, storage=storage, study_name=study_name,
            draw_seed=draw_seed, metric=metric, test_metric=test_metric, progress=progress,
        )
    tbl = table if isinstance(table, Table) else open_table(table)
    sp = get_space(tbl.space if space is None else space)
    if tbl.space != sp.name:
        raise param_error("table", owner, f"a table of space {sp.name!r}", f"{table} ({tbl.space})")
    check_choice(dataset, "dataset", owner, tbl.datasets)
    evaluator = (
        ev_given
        if ev_given is not None
        else TableEvaluator(tbl, dataset, metric=metric, draw_seed=draw_seed)
    )
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
    if isinstance(sp, DeclaredSpace):  # a user's declaration: the study records all of it
        config["space_spec"] = sp.spec()
    # One process per study (the lock is released by ``close`` or when an error drops it).
    opened = _open(storage, name, config, evaluator, sp, strategy, seed)
    resumed_from, reason, wall = _loop(
        opened, sp, evaluator, strategy=strategy, seed=seed, limits=limits, budget=budget,
        desc=f"{strategy} {dataset}", progress=progress,
    )
    study = opened.study
    return _search_result(
        study, tbl, evaluator, test_metric=test_metric, stop_reason=reason, strategy=strategy,
        dataset=dataset, seed=seed, metric=metric, study_name=name,
        storage=storage or "memory", resumed_from=resumed_from, wall_seconds=wall,
    )


def _open(
    storage: str | None,
    name: str,
    config: dict[str, Any],
    evaluator: Any,
    sp: SearchSpace,
    strategy: str,
    seed: int,
) -> Any:
    """Open (or resume) a single-process search's study, holding its run lock."""
    return open_study(
        storage=storage, name=name, config=config, attr=CONFIG_ATTR,
        creator="predictor-nas search", name_option="--study-name",
        store=make_storage(
            storage, journal_buffered=JOURNAL_BUFFERED,
            journal_fsync_interval=JOURNAL_FSYNC_INTERVAL,
        ),
        direction=evaluator.direction, sampler=make_sampler(strategy, sp, _step_seed(seed, 0)),
        lock=True, distributions=sp.distributions() if sp.plain else None,
    )  # fmt: skip


def _loop(
    opened: Any,
    sp: SearchSpace,
    evaluator: Evaluator,
    *,
    strategy: str,
    seed: int,
    limits: Budget,
    budget: int | None,
    desc: str,
    progress: bool,
) -> tuple[int, str, float]:
    """Query until ``limits`` stop the search, then close the study.

    Returns:
        ``(resumed_from, stop_reason, wall_seconds)``.
    """
    study = opened.study
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    resumed_from = len(complete)
    n = len(complete)
    spent = float(sum(t.user_attrs.get("cost_s", 0.0) for t in complete))
    distributions = sp.distributions()
    samplers = StepSamplers(strategy, sp, seed)
    t0 = time.perf_counter()
    bar = Progress(
        progress, total=budget, initial=min(n, budget) if budget else n, desc=desc, unit="query"
    )
    try:
        while (reason := limits.stop_reason(queries=n, simulated_seconds=spent)) is None:
            study.sampler = samplers.at(study, n)
            spent += _query(study, sp, evaluator, distributions, seed, n, samplers)
            n += 1
            bar.advance(1, best=f"{study.best_value:.2f}")
    finally:
        opened.close()
        bar.close()
    return resumed_from, reason, time.perf_counter() - t0


def _query(
    study: optuna.Study,
    sp: SearchSpace,
    evaluator: Evaluator,
    distributions: dict[str, Any],
    seed: int,
    n: int,
    samplers: StepSamplers,
) -> float:
    """Ask the ``n``-th query, look it up and tell it; returns its simulated cost (s)."""
    trial, arch = ask_arch(
        study, sp, distributions=distributions, rng=np.random.default_rng([seed, n, 2])
    )
    if evaluator.kind == "table":
        ev = evaluator.evaluate(arch, rng=np.random.default_rng([seed, n, 1]))
    else:  # a deterministic surrogate, at its own (full) fidelity
        ev = evaluator.evaluate(arch)
    trial.set_user_attr("arch", sp.format(arch))
    trial.set_user_attr("canonical_key", sp.canonical_key(arch))
    trial.set_user_attr("metrics", ev.metrics)
    trial.set_user_attr("cost_s", ev.cost)
    if ev.seed_position is not None:
        trial.set_user_attr("seed_position", ev.seed_position)
    samplers.record(trial)
    study.tell(trial, ev.value)
    return float(ev.cost)


def _search_result(
    study: optuna.Study,
    tbl: Table,
    evaluator: Evaluator,
    *,
    test_metric: str | None,
    **kw: Any,
) -> SearchResult:
    """The ``SearchResult`` of the study's complete trials (``kw``: the run's own fields)."""
    dataset, metric = kw["dataset"], kw["metric"]
    report_metric = TEST_METRIC if test_metric is None else test_metric
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
        table=tbl.name,
        **kw,
        trajectory_regret_val=[float(r) for r in regret],
        trajectory_val=[float(v) for v in val],
        trajectory_test=test_traj,
    )


# --------------------------------------------------------------------------- surrogate
def _run_surrogate_search(
    evaluator: Evaluator,
    *,
    space: str | SearchSpace | None,
    dataset: str,
    strategy: str,
    limits: Budget,
    budget: int | None,
    seed: int,
    storage: str | None,
    study_name: str | None,
    draw_seed: bool,
    metric: str,
    test_metric: str | None,
    progress: bool,
) -> SearchResult:
    """``run_search`` with a surrogate evaluator (deterministic, no table, no test metric)."""
    owner = "search"
    sp = get_space(evaluator.space_name if space is None else space)
    if sp.name != evaluator.space_name:
        raise param_error(
            "space", owner, f"{evaluator.space_name!r} (the surrogate's space)", sp.name
        )
    check_choice(dataset, "dataset", owner, ["cifar10"])
    check_choice(metric, "metric", owner, [evaluator.metric])
    if draw_seed:
        raise param_error("draw_seed", owner, "False (the surrogate is deterministic)", draw_seed)
    if test_metric is not None:
        raise param_error("test_metric", owner, "None (the surrogate has no test metric)",
                          test_metric)  # fmt: skip
    ident = surrogate_identity(evaluator)
    name = study_name or default_study_name(
        sp.name, ident["evaluator"], dataset, strategy, seed, False
    )
    config = {
        "space": sp.name, **ident, "dataset": dataset, "metric": metric,
        "strategy": strategy, "seed": seed, "draw_seed": False,
    }
    if isinstance(sp, DeclaredSpace):
        config["space_spec"] = sp.spec()
    opened = _open(storage, name, config, evaluator, sp, strategy, seed)
    resumed_from, reason, wall = _loop(
        opened, sp, evaluator, strategy=strategy, seed=seed, limits=limits, budget=budget,
        desc=f"{strategy} {ident['evaluator']}", progress=progress,
    )
    trials = sorted(
        opened.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
        key=lambda t: t.number,
    )
    val, best_trial = _surrogate_incumbents(trials, evaluator.higher_is_better)
    ref = reference_best(evaluator)
    top = math.nan if ref is None else ref.value
    regret = (top - val) if evaluator.higher_is_better else (val - top)
    return SearchResult(
        best_arch=best_trial.user_attrs["arch"],
        best_val=float(val[-1]),
        best_val_observed=float(best_trial.value),
        best_test=None,
        regret_val=float(regret[-1]),
        table_best_val=float(top),
        n_queries=len(trials),
        simulated_seconds=float(sum(t.user_attrs.get("cost_s", 0.0) for t in trials)),
        strategy=strategy, dataset=dataset, seed=seed, table=ident["evaluator"], metric=metric,
        study_name=name, storage=storage or "memory", resumed_from=resumed_from,
        wall_seconds=wall, stop_reason=reason, evaluator=ident["evaluator"],
        reference="none recorded for this surrogate model" if ref is None else ref.how,
        trajectory_regret_val=[float(r) for r in regret],
        trajectory_val=[float(v) for v in val],
        trajectory_test=None,
    )


