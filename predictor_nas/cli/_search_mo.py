"""``predictor-nas search --objectives``: multi-objective and constrained search, on a table or
with real training."""

from __future__ import annotations

import argparse
from typing import Any

from predictor_nas._paths import check_output_dir, check_output_file
from predictor_nas.cli._options import _apply_threads
from predictor_nas.cli._render import (
    _fmt_seconds,
    _out,
    _out_json,
    _out_rows,
    _out_table,
    _stop_rows,
)
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import (
    DEFAULT_STORAGE,
    plot_mo_front,
    plot_mo_real_front,
    run_mo_real_search,
    run_mo_search,
)
from predictor_nas.training import TrainConfig

#: Single-objective options a search with ``--objectives`` refuses.
_SINGLE_ONLY = ("time_budget", "draw_seed", "test_metric", "trajectory")

#: Options of ``search`` that only real training (``--evaluator train``) reads.
_TRAIN_ONLY = (
    "budget_seconds",
    "top_k",
    "epochs",
    "width",
    "depth",
    "batch_size",
    "lr",
    "pool_size",
    "warm_start",
    "device",
    "data_root",
    "checkpoint_dir",
)


def _cmd_search_mo(args: argparse.Namespace) -> int:
    """``search --objectives ...``: the multi-objective / constrained table search."""

    if args.objectives is None:
        raise InvalidParameterError(
            "--constraint and --plot need --objectives, e.g. --objectives val_acc:max "
            "(one objective: a constrained search) or --objectives val_acc:max,params:min."
        )
    given = [f"--{k.replace('_', '-')}" for k in _TRAIN_ONLY if getattr(args, k) is not None]
    given += ["--no-prune"] * bool(args.no_prune) + ["--download"] * bool(args.download)
    given += [f"--{k.replace('_', '-')}" for k in _SINGLE_ONLY if getattr(args, k)]
    given += ["--metric"] * (args.metric != "val_acc")
    if given:
        raise InvalidParameterError(
            f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} not used by a search with "
            "--objectives (the objectives name the metrics); drop "
            f"{'it' if len(given) == 1 else 'them'}."
        )
    _apply_threads(args.threads, "search")
    _check_plot_option(args)
    result = run_mo_search(
        objectives=args.objectives,
        constraints=args.constraint,
        space=args.space,
        table=args.table,
        dataset=args.dataset,
        strategy=args.strategy or "mo-guided",
        budget=100 if args.budget is None else args.budget,
        seed=args.seed,
        storage=DEFAULT_STORAGE if args.storage is None else args.storage,
        study_name=args.study_name,
        progress=not args.no_progress and not args.json,
    )
    plot = _plot_and_json(result, args, plot_mo_front)
    if args.json:
        return 0
    head = ["arch", *result.objectives]
    rows = [[p["arch"], *(f"{v:.6g}" for v in p["values"])] for p in result.front]
    _out(f"Pareto front of the {result.n_queries} evaluated architectures ({len(rows)} points):")
    _out_table(head, rows)
    _out()
    resumed = f" (resumed after {result.resumed_from})" if result.resumed_from else ""
    refused = f", {result.n_infeasible} infeasible proposals refused" if result.constraints else ""
    ref = ", ".join(f"{o}={v:.6g}" for o, v in zip(result.objectives, result.reference_point))
    info = [
        ("hypervolume", f"{result.hypervolume:.6g}"),
        ("reference point", f"{ref} (table's worst + 10% of its range)"),
        (
            "true front",
            f"hypervolume {result.true_hypervolume:.6g}, {result.true_front_size} points",
        ),
        (
            "hypervolume regret",
            f"{result.hypervolume_regret:.6g} "
            f"({result.front_coverage:.1%} of the true front's points found)",
        ),
        ("constraints", ", ".join(result.constraints) or "none"),
        ("queries", f"{result.n_queries}{resumed}{refused}"),
        ("strategy / dataset", f"{result.strategy} / {result.dataset} (seed {result.seed})"),
        *_stop_rows(result),
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    if plot is not None:
        more = len(result.objectives) > 2
        info.append(("plot", f"{plot}" + (" (first 2 objectives shown)" if more else "")))
    _out_rows(info)
    return 0


def _check_plot_option(args: argparse.Namespace) -> None:
    """``--plot`` of a search with ``--objectives``: a writable PNG path and >= 2 objectives."""
    if args.plot is None:
        return

    check_output_file(args.plot, "--plot", "search")
    n_obj = len([o for o in str(args.objectives).split(",") if o.strip()])
    if n_obj < 2:
        raise InvalidParameterError(
            "The --plot option of search draws a Pareto front and needs at least 2 "
            f"objectives; got {n_obj} ({args.objectives})."
        )


def _cmd_search_mo_train(args: argparse.Namespace) -> int:
    """``search --evaluator train --objectives ...``: multi-objective real training."""
    if args.objectives is None:
        raise InvalidParameterError(
            "--constraint and --plot need --objectives, e.g. --objectives val_acc:max "
            "(one objective: a constrained search) or --objectives val_acc:max,latency_ms:min."
        )
    unused = ("budget_seconds", "top_k", "pool_size", "warm_start", *_SINGLE_ONLY)
    given = [f"--{k.replace('_', '-')}" for k in unused if getattr(args, k)]
    given += ["--no-prune"] * bool(args.no_prune) + ["--metric"] * (args.metric != "val_acc")
    if given:
        raise InvalidParameterError(
            f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} not used by a real-training "
            "search with --objectives (it trains --budget archs fully); drop "
            f"{'it' if len(given) == 1 else 'them'}."
        )
    if args.checkpoint_dir is not None:
        check_output_dir(args.checkpoint_dir, "--checkpoint-dir", "search")
    _check_plot_option(args)
    if args.threads is not None:
        _apply_threads(args.threads, "search")

    def opt(name: str, default: Any) -> Any:
        v = getattr(args, name)
        return default if v is None else v

    recipe = TrainConfig()
    result = run_mo_real_search(
        objectives=args.objectives,
        constraints=args.constraint,
        dataset=args.dataset,
        data_root=args.data_root,
        download=args.download,
        space=args.space,
        strategy=args.strategy or "mo-guided",
        budget=opt("budget", 10),
        epochs=opt("epochs", recipe.epochs),
        width=opt("width", recipe.width),
        depth=opt("depth", recipe.depth),
        batch_size=opt("batch_size", recipe.batch_size),
        lr=opt("lr", recipe.lr),
        seed=args.seed,
        device=args.device,
        num_threads=args.threads,
        checkpoint_dir=args.checkpoint_dir,
        storage=DEFAULT_STORAGE if args.storage is None else args.storage,
        study_name=args.study_name,
        progress=not args.no_progress and not args.json,
    )
    plot = _plot_and_json(result, args, plot_mo_real_front)
    if args.json:
        return 0
    extra = [
        m
        for m in ("params", "flops", "latency_ms", "val_acc")
        if all(not o.startswith(m + ":") for o in result.objectives)
    ]
    head = ["arch", *result.objectives, *extra]
    rows = [
        [
            p["arch"],
            *(f"{v:.6g}" for v in p["values"]),
            *(f"{p['metrics'].get(m, float('nan')):.6g}" for m in extra),
        ]
        for p in result.front
    ]
    _out(f"Pareto front of the {result.n_trained} trained architectures ({len(rows)} points):")
    _out_table(head, rows)
    _out()
    resumed = f" (resumed after {result.resumed_from})" if result.resumed_from else ""
    ref = ", ".join(f"{o}={v:.6g}" for o, v in zip(result.objectives, result.reference_point))
    info = [
        ("hypervolume", f"{result.hypervolume:.6g}"),
        ("reference point", f"{ref} (val_acc 0; others the worst trained + 10% of the range)"),
        ("constraints", ", ".join(result.constraints) or "none"),
        (
            "trained",
            f"{result.n_trained} archs{resumed}, {result.n_infeasible} infeasible proposals "
            f"refused before training; {_fmt_seconds(result.train_seconds)} training on "
            f"{result.device}",
        ),
        (
            "latency",
            f"measured {result.latency_measured}, reused {result.latency_reused} stored "
            "(CPU, batch 1, 1 thread, median)",
        ),
        ("strategy / dataset", f"{result.strategy} / {result.dataset} (seed {result.seed})"),
        *_stop_rows(result),
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    if plot is not None:
        info.append(("plot", str(plot)))
    _out_rows(info)
    return 0


def _plot_and_json(result: Any, args: argparse.Namespace, plotter: Any) -> Any:
    """Draw ``--plot`` with ``plotter``; with ``--json`` print the result (and the plot's path).

    Returns:
        The plot's path, or None.
    """
    plot = None if args.plot is None else plotter(result, args.plot)
    if args.json:
        d = result.to_dict()
        if plot is not None:
            d["plot"] = str(plot)
        _out_json(d)
    return plot
