"""``compare``: every strategy x dataset x seed on a table (or the NB301 surrogate), summarized."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from predictor_nas._validation import check_choice, param_error
from predictor_nas.compare._args import OWNER, _check_common, _names
from predictor_nas.compare._records import (
    ComparisonResult,
    RunRecord,
)
from predictor_nas.compare._run import DEFAULT_STRATEGIES, _cache_key, _execute, plan_tasks
from predictor_nas.compare._summary import (
    DEFAULT_THRESHOLDS,
    _test_of_row,
    summarize,
)
from predictor_nas.compare._surrogate import compare_surrogate
from predictor_nas.evaluators import TableEvaluator
from predictor_nas.spaces import get_space
from predictor_nas.tables import DEFAULT_TABLE, open_table


def compare(
    *,
    space: str | None = None,
    table: str | os.PathLike | None = None,
    datasets: str | Sequence[str] = "cifar10",
    strategies: str | Sequence[str] = DEFAULT_STRATEGIES,
    budget: int = 100,
    seeds: int | str | Iterable[int] = 20,
    jobs: int = 1,
    draw_seed: bool = False,
    metric: str = "val_acc",
    test_metric: str | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    cache: str | os.PathLike | None = None,
    progress: bool = False,
    evaluator: str = "table",
    surrogate: str | os.PathLike | None = None,
) -> ComparisonResult:
    """Run every strategy on every dataset with every seed and summarize the anytime incumbents.

    Each run is ``predictor_nas.search.run_search(..., storage=None)``: the sampler proposes, the
    table answers, the incumbent is chosen by the (validation) objective only. Per query the
    comparison keeps the incumbent's validation regret, its mean validation value and, where the
    table has a test metric at the searched fidelity (e.g. ``nb201-rich``), its test value.

    Args:
        space: Search-space name or YAML declaration (a path, so that worker processes load
            it too); None = the table's space.
        table: Table name or path; None = the embedded default (``nb201``, no test metric).
        datasets: Dataset name(s) of the table; a comma text or a sequence.
        strategies: Names from ``predictor_nas.search.available_strategies()`` (read when
            called); a comma text or a sequence.
        budget: Queries per search.
        seeds: See ``parse_seeds``: ``20`` = seeds 0..19, ``"1000-1019"``, ``[3, 7]``...
        jobs: Worker processes (spawned); each run is seeded on its own, so the results do
            not depend on ``jobs`` (only the wall times do). Strategies must be registered by
            importable code, since workers start fresh.
        draw_seed: Objective = one drawn training trial per query (regret stays on the mean).
        metric: Validation metric searched.
        test_metric: Metric reported for the chosen architectures; ``None``: ``test_acc``.
        thresholds: Regrets for "queries to reach regret <= t" statistics.
        cache: JSON-lines file of finished runs: runs found there (same configuration) are not
            rerun, new ones are appended as they finish, so an interrupted sweep resumes.
        progress: Progress bar over runs on stderr.
        evaluator: ``"table"`` or ``"nb301-surrogate"`` (the YAHPO NB301 surrogate; ``table``
            unused, dataset ``cifar10``). A surrogate has no table best: regret is measured
            against its documented reference best (``predictor_nas.search.REFERENCE_BEST``,
            the best of a large random sample and of the committed comparison's runs), or,
            for a surrogate model with none recorded, against the best value any run of this
            comparison found; the report says which. Regrets are recomputed from the runs'
            values when the comparison is summarized, so a cached run follows the reference.
        surrogate: Folder of YAHPO's nb301 files (default ``$PREDICTOR_NAS_NB301_SURROGATE``).

    Returns:
        The ``ComparisonResult``.

    Raises:
        InvalidParameterError: a bad option (unknown strategy or dataset, budget < 1, ...).
        TableError: the table cannot be found or read.
    """

    budget, jobs, seed_list, names, ths = _check_common(budget, jobs, seeds, strategies, thresholds)
    if evaluator != "table":
        return compare_surrogate(
            evaluator=evaluator,
            surrogate=surrogate,
            space=space,
            datasets=datasets,
            strategies=names,
            budget=budget,
            seeds=seed_list,
            jobs=jobs,
            draw_seed=draw_seed,
            metric=metric,
            test_metric=test_metric,
            thresholds=ths,
            cache=cache,
            progress=progress,
        )
    tbl = open_table(DEFAULT_TABLE if table is None else table)
    sp = get_space(tbl.space if space is None else space)
    if tbl.space != sp.name:
        raise param_error(
            "table", OWNER, f"a table of space {sp.name!r}", f"{tbl.name} ({tbl.space})"
        )
    ds_list = _names(datasets, "datasets")
    for d in ds_list:
        check_choice(d, "dataset", OWNER, tbl.datasets)
        TableEvaluator(tbl, d, metric=metric, draw_seed=draw_seed)  # validates metric/draw_seed
    config, tasks = _plan(
        sp, tbl, space, ds_list, names, seed_list, budget, draw_seed, metric, test_metric, ths
    )
    results, n_cached, wall = _execute(tasks, tbl.content_hash, cache, jobs, progress)
    runs = [results[_cache_key(t, tbl.content_hash)] for t in tasks]
    order = {(d, s): i for i, (d, s) in enumerate((d, s) for d in ds_list for s in names)}
    runs.sort(key=lambda r: (order[(r.dataset, r.strategy)], seed_list.index(r.seed)))
    return ComparisonResult(
        config=config,
        runs=runs,
        datasets=_per_dataset(tbl, runs, ds_list, names, metric, test_metric, ths),
        strategies=summarize(runs, names, thresholds=ths, curves=False),
        wall_seconds=wall,
        n_cached=n_cached,
        jobs=jobs,
    )


def _plan(
    sp: Any,
    tbl: Any,
    space: Any,
    ds_list: list[str],
    names: list[str],
    seed_list: list[int],
    budget: int,
    draw_seed: bool,
    metric: str,
    test_metric: str | None,
    ths: list[float],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The comparison's stored configuration and its tasks (one ``run_search`` each)."""
    return plan_tasks(
        sp,
        tbl,
        space,
        budget=budget,
        seed_list=seed_list,
        ds_list=ds_list,
        names=names,
        ths=ths,
        config_fields={"metric": metric, "draw_seed": bool(draw_seed)},
        task_fields={"draw_seed": bool(draw_seed), "metric": metric, "test_metric": test_metric},
    )


def _per_dataset(
    tbl: Any,
    runs: list[RunRecord],
    ds_list: list[str],
    names: list[str],
    metric: str,
    test_metric: str | None,
    ths: list[float],
) -> dict[str, dict[str, Any]]:
    """Per dataset: the table's best-validation arch (and its test value) and the summaries."""

    per_ds = {}
    for d in ds_list:
        row, top = tbl.best(metric, dataset=d)
        ev = TableEvaluator(tbl, d, metric=metric)
        ref: dict[str, Any] = {"table_best_val": top, "best_val_arch": tbl.archs[row]}
        ref["test_of_best_val_arch"] = _test_of_row(tbl, d, row, ev.fidelity, test_metric)
        ref["strategies"] = summarize(
            [r for r in runs if r.dataset == d], names, thresholds=ths, curves=True
        )
        per_ds[d] = ref
    return per_ds
