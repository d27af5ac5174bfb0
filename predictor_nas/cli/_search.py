"""``predictor-nas search``: table search, multi-objective table search and real-training search."""

from __future__ import annotations

import argparse
from typing import Any

from predictor_nas._paths import check_output_dir
from predictor_nas._validation import check_choice
from predictor_nas.cli._options import (
    _add_draw_seed,
    _add_json,
    _add_metrics,
    _add_progress,
    _add_seed,
    _add_space,
    _add_storage,
    _add_study_name,
    _add_surrogate,
    _add_table,
    _add_threads,
    _add_trajectory,
    _apply_threads,
    _command,
    _positive_int_or_raw,
)
from predictor_nas.cli._render import _fmt_seconds, _out_json, _out_rows, _stop_rows
from predictor_nas.cli._search_mo import _TRAIN_ONLY, _cmd_search_mo, _cmd_search_mo_train
from predictor_nas.cli._search_oneshot import _ONESHOT, _cmd_search_oneshot
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import (
    DEFAULT_STORAGE,
    SEARCH_EVALUATORS,
    available_strategies,
    mo_strategies,
    real_strategies,
    run_real_search,
    run_search,
)
from predictor_nas.training import DATASETS, TrainConfig


# --------------------------------------------------------------------------- search
def _cmd_search(args: argparse.Namespace) -> int:
    if args.evaluator == "nb301-surrogate" or args.surrogate is not None:
        return _cmd_search_surrogate(args)
    if args.objectives is not None or args.constraint or args.plot is not None:
        _refuse_inherit(args, "a multi-objective search")
        if args.evaluator == "train":
            return _cmd_search_mo_train(args)
        return _cmd_search_mo(args)
    if args.evaluator == "train":
        if args.threads is not None:  # training keeps torch's default unless told
            _apply_threads(args.threads, "search")
        return _cmd_search_train(args)
    _apply_threads(args.threads, "search")
    given = [f"--{k.replace('_', '-')}" for k in _TRAIN_ONLY if getattr(args, k) is not None]
    given += ["--no-prune"] * bool(args.no_prune) + ["--download"] * bool(args.download)
    given += ["--inherit-weights"] * (args.inherit_weights is not None)
    if given:
        raise InvalidParameterError(
            f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} only for real training; "
            "add --evaluator train."
        )
    storage = DEFAULT_STORAGE if args.storage is None else args.storage
    result = run_search(
        space=args.space,
        table=args.table,
        dataset=args.dataset,
        strategy=args.strategy or "rea",
        budget=100 if args.budget is None else args.budget,
        time_budget=args.time_budget,
        seed=args.seed,
        storage=storage,
        study_name=args.study_name,
        draw_seed=args.draw_seed,
        metric=args.metric,
        test_metric=args.test_metric,
        progress=not args.no_progress and not args.json,
    )
    if args.json:
        _out_json(result.to_dict(trajectory=args.trajectory))
        return 0
    hint = "; nb201-rich has one for cifar10 and cifar100" if result.table == "nb201" else ""
    test = (
        f"{result.best_test:.2f} %"
        if result.best_test is not None
        else f"n/a (table {result.table!r} has no test metric for {result.dataset}{hint})"
    )
    resumed = f" (resumed after {result.resumed_from})" if result.resumed_from else ""
    val_label, test_label = "validation accuracy", "test accuracy"
    if args.metric != "val_acc":
        val_label = f"{args.metric} (searched)"
    if args.test_metric:
        test_label = f"{args.test_metric} (reported)"
    rows = [
        ("best architecture", result.best_arch),
        (val_label, f"{result.best_val:.2f} % (mean over trials)"),
        (test_label, test),
        (
            "regret (searched)" if args.metric != "val_acc" else "regret (validation)",
            f"{result.regret_val:.2f} pp below the table's best {result.table_best_val:.2f} %",
        ),
        (
            "queries",
            f"{result.n_queries}{resumed}, simulated training "
            f"{_fmt_seconds(result.simulated_seconds)}",
        ),
        ("strategy / dataset", f"{result.strategy} / {result.dataset} (seed {result.seed})"),
        *_stop_rows(result),
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    _out_rows(rows)
    return 0


def _refuse_inherit(args: argparse.Namespace, what: str) -> None:
    """--inherit-weights belongs to the single-objective real search only."""
    if args.inherit_weights is not None:
        raise InvalidParameterError(
            f"--inherit-weights is not used by {what}; it applies to --evaluator train with "
            "the topk or a table strategy."
        )


def _cmd_search_surrogate(args: argparse.Namespace) -> int:
    """``search --evaluator nb301-surrogate``: the table loop on the YAHPO NB301 surrogate."""
    if args.evaluator != "nb301-surrogate":
        raise InvalidParameterError("--surrogate is only for --evaluator nb301-surrogate.")
    if args.objectives is not None or args.constraint or args.plot is not None:
        raise InvalidParameterError(
            "--objectives, --constraint and --plot need a table (the surrogate predicts "
            "validation accuracy only)."
        )
    _apply_threads(args.threads, "search")
    result = run_search(
        evaluator="nb301-surrogate", surrogate=args.surrogate, space=args.space,
        dataset=args.dataset, strategy=args.strategy or "rea",
        budget=100 if args.budget is None else args.budget, time_budget=args.time_budget,
        seed=args.seed, storage=DEFAULT_STORAGE if args.storage is None else args.storage,
        study_name=args.study_name, draw_seed=args.draw_seed, metric=args.metric,
        test_metric=args.test_metric, progress=not args.no_progress and not args.json,
    )  # fmt: skip
    if args.json:
        _out_json(result.to_dict(trajectory=args.trajectory))
        return 0
    resumed = f" (resumed after {result.resumed_from})" if result.resumed_from else ""
    regret = (
        "n/a (no reference best recorded for this surrogate model)"
        if result.regret_val != result.regret_val
        else f"{result.regret_val:.2f} pp below the reference best {result.table_best_val:.2f} %"
    )
    _out_rows([
        ("best architecture", result.best_arch),
        ("validation accuracy", f"{result.best_val:.2f} % (surrogate, 98 epochs)"),
        ("regret (validation)", regret),
        ("queries", f"{result.n_queries}{resumed}, simulated training "
                    f"{_fmt_seconds(result.simulated_seconds)}"),
        ("strategy / evaluator", f"{result.strategy} / {result.evaluator} (seed {result.seed})"),
        *_stop_rows(result),
        ("study", f"{result.study_name} in {result.storage}"),
    ])  # fmt: skip
    return 0


def _cmd_search_train(args: argparse.Namespace) -> int:
    if args.strategy is not None:  # one message listing the one-shot strategies too
        check_choice(args.strategy, "strategy", "real search", [*real_strategies(), *_ONESHOT])
    if args.strategy in _ONESHOT:
        _refuse_inherit(args, f"--strategy {args.strategy}")
        return _cmd_search_oneshot(args)
    if args.checkpoint_dir is not None:
        check_output_dir(args.checkpoint_dir, "--checkpoint-dir", "search")
    storage = DEFAULT_STORAGE if args.storage is None else args.storage

    def opt(name: str, default: Any) -> Any:
        v = getattr(args, name)
        return default if v is None else v

    recipe = TrainConfig()
    result = run_real_search(
        dataset=args.dataset,
        data_root=args.data_root,
        download=args.download,
        strategy=args.strategy or "topk",
        budget_seconds=args.budget_seconds,
        max_trials=args.budget,
        top_k=opt("top_k", 4),
        pool_size=opt("pool_size", 500),
        warm_start=args.warm_start,
        prune=False if args.no_prune else None,
        epochs=opt("epochs", recipe.epochs),
        width=opt("width", recipe.width),
        depth=opt("depth", recipe.depth),
        batch_size=opt("batch_size", recipe.batch_size),
        lr=opt("lr", recipe.lr),
        seed=args.seed,
        device=args.device,
        num_threads=args.threads,
        checkpoint_dir=args.checkpoint_dir,
        storage=storage,
        study_name=args.study_name,
        progress=not args.no_progress and not args.json,
        space=args.space,
        inherit_weights=args.inherit_weights or 0,
    )
    if args.json:
        _out_json(result.to_dict(trajectory=args.trajectory))
        return 0
    resumed = f" (resumed after {result.resumed_from})" if result.resumed_from else ""
    none = "n/a (no run finished yet; raise the budget)"
    rows = [
        ("best architecture", result.best_arch or none),
        (
            "validation accuracy",
            none if result.best_val is None else f"{result.best_val:.2f} % (after the last epoch)",
        ),
        (
            "test accuracy",
            "n/a" if result.best_test is None else f"{result.best_test:.2f} % (of that arch)",
        ),
        (
            "trained",
            f"{result.n_trained} archs{resumed}: {result.n_complete} finished, "
            f"{result.n_pruned} pruned; {result.total_epochs} epochs",
        ),
        (
            "time",
            f"{_fmt_seconds(result.wall_seconds)} wall, {_fmt_seconds(result.train_seconds)} "
            f"training on {result.device}",
        ),
        ("strategy / dataset", f"{result.strategy} / {result.dataset} (seed {result.seed})"),
        *_stop_rows(result),
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    _out_rows(rows)
    return 0


def register(sub: Any) -> None:
    """Add the ``search`` subcommand."""
    s = sub.add_parser(
        "search",
        help="search a benchmark table (zero-cost: training is a lookup) or train for real",
    )
    _add_search_options(s)
    _add_train_options(s)
    _command(s, _cmd_search)


def _add_search_options(s: argparse.ArgumentParser) -> None:
    """The options of a table search (single- and multi-objective)."""

    s.add_argument(
        "--evaluator",
        default="table",
        choices=list(SEARCH_EVALUATORS),
        help="; ".join(
            f"{k}: {v}" + (" (default)" if k == "table" else "")
            for k, v in SEARCH_EVALUATORS.items()
        ),
    )
    _add_surrogate(s)
    _add_space(s)
    _add_table(s)
    s.add_argument(
        "--dataset",
        default="cifar10",
        help=f"dataset in the table, or with --evaluator train: {' or '.join(DATASETS)} "
        "(default cifar10)",
    )
    _add_metrics(s)
    s.add_argument(
        "--strategy",
        default=None,
        help=f"one of {', '.join(available_strategies())} (default rea); with --evaluator "
        f"train one of {', '.join(real_strategies())} (default topk) or the one-shot "
        f"{', '.join(_ONESHOT)} (a supernet picks the cell; --budget: SPOS proposals)",
    )
    s.add_argument(
        "--objectives",
        default=None,
        metavar="METRIC:max|min,...",
        help="multi-objective table search, e.g. val_acc:max,params:min (strategies "
        f"{', '.join(mo_strategies())}; default mo-guided); one objective + --constraint: a "
        "constrained search; with --evaluator train the metrics are params, flops, latency_ms "
        "(min; known before training), val_acc (max), train_time (min)",
    )
    s.add_argument(
        "--constraint",
        action="append",
        default=None,
        metavar="METRIC<=X",
        help="with --objectives: bound a table metric (<=, >=, <, >), e.g. 'latency<=0.02'; "
        "repeat for more; infeasible proposals cost no budget; with --evaluator train: "
        "params, flops or latency_ms, checked before training",
    )
    s.add_argument(
        "--plot",
        default=None,
        metavar="PATH.png",
        help="with --objectives: draw the found front, all evaluated points and the true front",
    )
    s.add_argument(
        "--budget",
        type=_positive_int_or_raw,
        default=None,
        help="number of queries (default 100); with --evaluator train: archs to train",
    )
    s.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="also stop once the simulated training time reaches SECONDS",
    )
    _add_seed(s)
    _add_storage(s)
    _add_study_name(s)
    _add_draw_seed(s, "objective = one drawn training trial per query (NB201 protocol)")
    _add_json(s)
    _add_trajectory(s, "with --json: include per-query regret")
    _add_progress(s)
    _add_threads(
        s,
        "CPU threads per pool (BLAS, OpenMP, torch); default $OMP_NUM_THREADS or 1 (a "
        "table search's fits are too small to gain from more); with --evaluator train also "
        "torch's training threads (default: torch's own)",
    )


def _add_train_options(s: argparse.ArgumentParser) -> None:
    """The options only real training (``--evaluator train``) reads."""
    tr = s.add_argument_group(
        "real training (--evaluator train)",
        "Predictor-in-the-loop search that trains NB201 networks (strategy topk: per round the "
        "predictor scores a candidate pool, the top-k are trained, a curve pruner stops hopeless "
        "runs). Defaults suit digits on a CPU in minutes.",
    )
    tr.add_argument(
        "--budget-seconds", type=float, default=None, metavar="S", help="wall-clock budget"
    )
    tr.add_argument("--top-k", type=int, default=None, help="archs trained per round (4)")
    recipe = TrainConfig()
    tr.add_argument("--epochs", type=int, default=None, help=f"epochs per arch ({recipe.epochs})")
    tr.add_argument(
        "--width", type=int, default=None, help=f"channels of stage 1 ({recipe.width}; NB201: 16)"
    )
    tr.add_argument(
        "--depth", type=int, default=None, help=f"cells per stage ({recipe.depth}; NB201: 5)"
    )
    tr.add_argument(
        "--batch-size", type=int, default=None, help=f"training batch size ({recipe.batch_size})"
    )
    tr.add_argument("--lr", type=float, default=None, help=f"initial learning rate ({recipe.lr})")
    tr.add_argument("--pool-size", type=int, default=None, help="candidates per round (500)")
    tr.add_argument(
        "--warm-start",
        default=None,
        metavar="TABLE|proxies|supernet",
        help="rank round 0 and feed the predictor with TABLE's CIFAR-10 accuracy (e.g. nb201), "
        "or rank round 0 by zero-cost proxies computed on the candidates ('proxies') or by "
        "their inherited-weight accuracy in an SPOS supernet trained once ('supernet')",
    )
    tr.add_argument(
        "--inherit-weights",
        type=int,
        nargs="?",
        const=2,
        default=None,
        metavar="K",
        help="a picked arch at most K edges (default 2) from a finished one starts from the "
        "nearest one's trained weights for its unchanged parts",
    )
    tr.add_argument("--no-prune", action="store_true", help="train every picked arch fully")
    tr.add_argument("--device", default=None, help="auto (default: CUDA if present), cpu, cuda")
    tr.add_argument("--data-root", default=None, help="folder of CIFAR-10 (torchvision layout)")
    tr.add_argument(
        "--download", action="store_true", help="download CIFAR-10 into --data-root if missing"
    )
    tr.add_argument(
        "--checkpoint-dir", default=None, help="per-arch checkpoints (resume mid-training)"
    )
