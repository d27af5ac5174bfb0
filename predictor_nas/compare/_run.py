"""Running a comparison's searches: the task plan, the run cache (JSON lines), worker processes.

``compare`` (``_table``), ``compare_surrogate`` and ``compare_mo`` plan their tasks with
``plan_tasks`` and run them with ``run_cached``: one in-memory ``run_search`` per task.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import optuna

from predictor_nas import __version__
from predictor_nas._progress import STATUS_INTERVAL, progress_bar
from predictor_nas._threads import limit_threads_from_env
from predictor_nas.compare._records import RunRecord
from predictor_nas.search import run_search
from predictor_nas.spaces import is_space_file

log = logging.getLogger(__name__)

#: Strategies compared when none are named (the fast ones; ``guided`` costs ~0.2 s a query).
DEFAULT_STRATEGIES = ("random", "rea", "tpe")


# --------------------------------------------------------------------------- running
def _run_one(task: dict[str, Any]) -> RunRecord:
    """One ``run_search`` in memory; ``task`` holds its keyword arguments."""
    extra = {}
    if task.get("evaluator", "table") != "table":  # NB201 tasks call run_search as before
        extra = {"evaluator": task["evaluator"], "surrogate": task["surrogate"]}
    r = run_search(
        **extra,
        test_metric=task.get("test_metric"),
        space=task.get("space_file") or task["space"],
        table=task["table"],
        dataset=task["dataset"],
        strategy=task["strategy"],
        budget=task["budget"],
        seed=task["seed"],
        storage=None,
        draw_seed=task["draw_seed"],
        metric=task["metric"],
    )
    return RunRecord(
        strategy=r.strategy,
        dataset=r.dataset,
        seed=r.seed,
        budget=task["budget"],
        n_queries=r.n_queries,
        best_arch=r.best_arch,
        best_val=r.best_val,
        best_test=r.best_test,
        regret_val=r.regret_val,
        wall_seconds=r.wall_seconds,
        trajectory_regret_val=list(r.trajectory_regret_val),
        trajectory_val=list(r.trajectory_val),
        trajectory_test=None if r.trajectory_test is None else list(r.trajectory_test),
        best_val_observed=r.best_val_observed,
    )


def _init_worker(log_level: int, optuna_level: int) -> None:
    """Give a spawned worker the parent's logging, Optuna verbosity and thread limit (the
    ``--threads`` of ``compare``, passed in ``PREDICTOR_NAS_THREADS``)."""

    limit_threads_from_env()

    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    optuna.logging.set_verbosity(optuna_level)


def _as_completed_ticking(futures: Iterable[Any], bar: Any) -> Iterable[Any]:
    """``as_completed``, refreshing ``bar`` every ``STATUS_INTERVAL`` s while nothing finishes
    (a log gets its status line even when every run takes minutes)."""

    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=STATUS_INTERVAL, return_when=FIRST_COMPLETED)
        if not done and bar is not None:
            bar.refresh()
        yield from done


def _cache_key(task: dict[str, Any], table_hash: str) -> str:
    key = {k: task[k] for k in ("space", "dataset", "strategy", "seed", "budget", "draw_seed")}
    key.update(metric=task["metric"], table_content_hash=table_hash, version=__version__)
    if task.get("test_metric"):
        key["test_metric"] = task["test_metric"]
    if task.get("evaluator", "table") != "table":
        key["evaluator"] = task["evaluator"]
    return json.dumps(key, sort_keys=True)


def _read_jsonl(path: Path) -> dict[str, dict[str, Any]]:
    """``{key: run dict}`` of a JSON-lines run cache; unreadable lines (an interrupted write)
    are skipped."""
    done: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return done
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            try:
                d = json.loads(line)
                if not isinstance(d["run"], dict):
                    raise TypeError
                done[str(d["key"])] = d["run"]
            except (ValueError, KeyError, TypeError):
                log.warning("skipping unreadable line %d of %s", i, path)
    return done


def _read_cache(path: Path) -> dict[str, RunRecord]:
    """Runs stored in a JSON-lines cache; unreadable lines (an interrupted write) are skipped."""
    done: dict[str, RunRecord] = {}
    for k, d in _read_jsonl(path).items():
        try:
            done[k] = RunRecord.from_dict(d)
        except TypeError:
            log.warning("skipping an unreadable run of %s", path)
    return done


def run_tasks(
    todo: Sequence[tuple[str, dict[str, Any]]],
    fn: Callable[[dict[str, Any]], Any],
    results: dict[str, Any],
    *,
    jobs: int = 1,
    cache_path: Path | None = None,
    progress: bool = False,
    total: int | None = None,
) -> None:
    """Run ``fn(task)`` for every ``(key, task)`` of ``todo``, in ``jobs`` spawned processes.

    Each finished record goes into ``results[key]`` and, with ``cache_path``, is appended to
    that JSON-lines file at once (``{"key": key, "run": record.to_dict()}``), so an interrupted
    sweep keeps what finished. ``fn`` must be importable (workers start fresh).

    Args:
        todo: ``(cache key, task dict)`` pairs.
        fn: Module-level function running one task and returning a record with ``to_dict``.
        results: Filled in place.
        jobs: Worker processes (1: in this process).
        cache_path: JSON-lines file appended to; None = no cache.
        progress: Progress bar over ``total`` runs (those already in ``results`` count as done).
        total: Runs of the whole sweep (default ``len(todo)``).
    """
    n_all = len(todo) if total is None else total
    n_cached = n_all - len(todo)
    n_left = len(todo)
    n_running = min(jobs, n_left)

    def running() -> str:
        """Runs in flight, for the display: the first minutes are not silent."""
        return f"{n_running} running" + (f", {n_cached} cached" if n_cached else "")

    bar = None
    if progress:
        bar = progress_bar(
            n_all, initial=n_cached, desc="compare", unit="search", postfix=running()
        )
    fh = None
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        fh = cache_path.open("a", encoding="utf-8")

    def finish(key: str, rec: Any) -> None:
        nonlocal n_left, n_running
        results[key] = rec
        if fh is not None:
            fh.write(json.dumps({"key": key, "run": rec.to_dict()}) + "\n")
            fh.flush()
        n_left -= 1
        n_running = min(jobs, n_left)
        if bar is not None:
            bar.set_postfix_str(running(), refresh=False)
            bar.update(1)

    try:
        if jobs == 1 or len(todo) <= 1:
            for k, t in todo:
                finish(k, fn(t))
        else:
            levels = (logging.getLogger().getEffectiveLevel(), optuna.logging.get_verbosity())
            with ProcessPoolExecutor(
                max_workers=min(jobs, len(todo)),
                mp_context=mp.get_context("spawn"),
                initializer=_init_worker,
                initargs=levels,
            ) as pool:
                futures = {pool.submit(fn, t): k for k, t in todo}
                try:
                    for fut in _as_completed_ticking(futures, bar):
                        finish(futures[fut], fut.result())
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
    finally:
        if bar is not None:
            bar.close()
        if fh is not None:
            fh.close()


def plan_tasks(
    sp: Any,
    tbl: Any,
    space: Any,
    *,
    budget: int,
    seed_list: list[int],
    ds_list: list[str],
    names: list[str],
    ths: list[float],
    config_fields: dict[str, Any],
    task_fields: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A comparison's stored configuration and its tasks, one per seed x dataset x strategy
    (``compare`` and ``compare_mo``).

    Args:
        sp, tbl, space: The space object, the open table and the ``space`` argument as given
            (a file path is kept so that worker processes load the space again from it).
        budget, seed_list, ds_list, names, ths: The checked options.
        config_fields: The mode's own options, stored after the table's identity.
        task_fields: The mode's own keyword arguments of each run.

    Returns:
        ``(config, tasks)``.
    """
    config = {
        "space": sp.name,
        "table": tbl.name,
        "table_content_hash": tbl.content_hash,
        **config_fields,
        "budget": budget,
        "seeds": seed_list,
        "dataset_names": ds_list,
        "strategy_names": names,
        "thresholds": ths,
    }
    base = {
        "space": sp.name,
        # Worker processes load a space declared in a file again from that file.
        "space_file": str(space) if is_space_file(space) else None,
        "table": str(tbl.path),
        "budget": budget,
        **task_fields,
    }
    # Seed-major with strategies interleaved: every strategy runs under the same load.
    tasks = [
        {**base, "dataset": d, "strategy": s, "seed": sd}
        for sd in seed_list
        for d in ds_list
        for s in names
    ]
    return config, tasks


def _execute(
    tasks: list[dict[str, Any]],
    content_hash: str,
    cache: str | os.PathLike | None,
    jobs: int,
    progress: bool,
) -> tuple[dict[str, RunRecord], int, float]:
    """Run the ``tasks`` not found in the ``cache`` (appending each as it finishes).

    Returns:
        ``(runs by cache key, runs taken from the cache, wall seconds)``.
    """
    cache_path = None if cache is None else Path(cache)
    done = _read_cache(cache_path) if cache_path is not None else {}
    keys = [_cache_key(t, content_hash) for t in tasks]
    return run_cached(tasks, keys, done, _run_one, cache_path, jobs, progress, "compare")


def run_cached(
    tasks: list[dict[str, Any]],
    keys: list[str],
    done: dict[str, Any],
    run_one: Callable[[dict[str, Any]], Any],
    cache_path: Path | None,
    jobs: int,
    progress: bool,
    label: str,
) -> tuple[dict[str, Any], int, float]:
    """Run every task whose cache key is not in ``done`` (``run_tasks``); the cached ones are
    taken as they are.

    Returns:
        ``(records by cache key, records taken from the cache, wall seconds)``.
    """
    results = {k: done[k] for k in keys if k in done}
    todo = [(k, t) for k, t in zip(keys, tasks) if k not in results]
    n_cached = len(results)
    log.info("%s: %d runs (%d cached), %d job(s)", label, len(tasks), n_cached, jobs)
    t0 = time.perf_counter()
    run_tasks(
        todo, run_one, results, jobs=jobs, cache_path=cache_path, progress=progress,
        total=len(tasks),
    )  # fmt: skip
    return results, n_cached, time.perf_counter() - t0
