"""The ``predictor-nas`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from predictor_nas import __version__
from predictor_nas.exceptions import PredictorNASError

log = logging.getLogger("predictor_nas.cli")

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _out_rows(rows: Sequence[tuple[str, str]]) -> None:
    """Print ``(label, value)`` rows with the values aligned in one column."""
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        _out(f"{k:<{width}}  {v}")


def _out_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table: the header, then the rows; first column left-aligned, the rest right."""
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        cells = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        _out("  ".join(cells))


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _fmt_seconds(s: float) -> str:
    if s >= 86400:
        return f"{s / 86400:.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s:.0f} s"


# --------------------------------------------------------------------------- search
def _cmd_search(args: argparse.Namespace) -> int:
    from predictor_nas.search import DEFAULT_STORAGE, run_search

    if args.objectives is not None or args.constraint or args.plot is not None:
        return _cmd_search_mo(args)
    if args.evaluator == "train":
        if args.threads is not None:  # training keeps torch's default unless told
            _apply_threads(args.threads, "search")
        return _cmd_search_train(args)
    _apply_threads(args.threads, "search")
    given = [f"--{k.replace('_', '-')}" for k in _TRAIN_ONLY if getattr(args, k) is not None]
    given += ["--no-prune"] * bool(args.no_prune) + ["--download"] * bool(args.download)
    if given:
        from predictor_nas.exceptions import InvalidParameterError

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
        _out(json.dumps(result.to_dict(trajectory=args.trajectory), sort_keys=True))
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
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    _out_rows(rows)
    return 0


def _cmd_search_mo(args: argparse.Namespace) -> int:
    """``search --objectives ...``: the multi-objective / constrained table search."""
    from predictor_nas.exceptions import InvalidParameterError
    from predictor_nas.search import DEFAULT_STORAGE, plot_mo_front, run_mo_search

    if args.evaluator != "table":
        raise InvalidParameterError(
            "--objectives, --constraint and --plot search a table only; drop --evaluator train."
        )
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
    if args.plot is not None:
        from predictor_nas._paths import check_output_file

        check_output_file(args.plot, "--plot", "search")
        n_obj = len([o for o in str(args.objectives).split(",") if o.strip()])
        if n_obj < 2:
            raise InvalidParameterError(
                "The --plot option of search draws a Pareto front and needs at least 2 "
                f"objectives; got {n_obj} ({args.objectives})."
            )
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
    plot = None if args.plot is None else plot_mo_front(result, args.plot)
    if args.json:
        d = result.to_dict()
        if plot is not None:
            d["plot"] = str(plot)
        _out(json.dumps(d, sort_keys=True))
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
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    if plot is not None:
        more = len(result.objectives) > 2
        info.append(("plot", f"{plot}" + (" (first 2 objectives shown)" if more else "")))
    _out_rows(info)
    return 0


#: Single-objective options a search with ``--objectives`` refuses.
_SINGLE_ONLY = ("time_budget", "draw_seed", "test_metric", "trajectory")


def _apply_threads(threads: int | None, command: str) -> None:
    """Limit this process's BLAS/OpenMP/torch threads once, from ``--threads`` or the default
    (``predictor_nas._threads.default_threads``: $OMP_NUM_THREADS, else 1)."""
    from predictor_nas._threads import default_threads, set_thread_limits

    set_thread_limits(default_threads() if threads is None else threads, command)


#: Options of ``search`` that only real training (``--evaluator train``) reads.
_TRAIN_ONLY = (
    "budget_seconds", "top_k", "epochs", "width", "depth", "batch_size", "lr", "pool_size",
    "warm_start", "device", "data_root", "checkpoint_dir",
)


def _cmd_search_train(args: argparse.Namespace) -> int:
    from predictor_nas.search import DEFAULT_STORAGE, run_real_search

    if args.checkpoint_dir is not None:
        from predictor_nas._paths import check_output_dir

        check_output_dir(args.checkpoint_dir, "--checkpoint-dir", "search")
    storage = DEFAULT_STORAGE if args.storage is None else args.storage

    def opt(name: str, default: Any) -> Any:
        v = getattr(args, name)
        return default if v is None else v

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
        epochs=opt("epochs", 4),
        width=opt("width", 8),
        depth=opt("depth", 1),
        batch_size=opt("batch_size", 64),
        lr=opt("lr", 0.1),
        seed=args.seed,
        device=args.device,
        num_threads=args.threads,
        checkpoint_dir=args.checkpoint_dir,
        storage=storage,
        study_name=args.study_name,
        progress=not args.no_progress and not args.json,
        space=args.space,
    )
    if args.json:
        _out(json.dumps(result.to_dict(trajectory=args.trajectory), sort_keys=True))
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
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    _out_rows(rows)
    return 0


# --------------------------------------------------------------------------- train
def _cmd_train(args: argparse.Namespace) -> int:
    from predictor_nas.training import train_final

    _apply_threads(args.threads, "train")
    r = train_final(
        args.space,
        args.arch,
        out=args.out,
        dataset=args.dataset,
        data_root=args.data_root,
        download=args.download,
        epochs=args.epochs,
        seed=args.seed,
        width=args.width,
        depth=args.depth,
        batch_size=args.batch_size,
        lr=args.lr,
        device=args.device,
        num_threads=args.threads,
    )
    if args.json:
        _out(json.dumps(r.to_dict(), sort_keys=True))
        return 0
    ts = r.torchscript
    rows = [
        ("architecture", r.arch),
        ("validation accuracy", f"{r.val_acc:.2f} % (after epoch {len(r.val_curve)})"),
        ("test accuracy", "n/a (no test split)" if r.test_acc is None else f"{r.test_acc:.2f} %"),
        ("parameters", f"{r.n_params:,}"),
        ("time", f"{_fmt_seconds(r.seconds)} training on {r.device}"),
        ("saved", f"{', '.join(r.files)} in {r.out}"),
        ("torchscript", ts.get("method", f"not exported ({ts.get('error')})")),
    ]
    _out_rows(rows)
    return 0


def _add_train_parser(sub: Any) -> None:
    tr = sub.add_parser(
        "train",
        help="fully train one architecture and save it (state dict, arch.json, TorchScript)",
        description="Build the network of one architecture (nb201: the NB201 network; declared "
        "chain/cell/macro spaces: predictor_nas.models.build_model), train it on the train "
        "split, report validation and test accuracy, and write OUT/model.pt, OUT/arch.json and "
        "OUT/model.ts.",
    )
    tr.add_argument("--space", required=True, type=_space_option, metavar="NAME|FILE.yaml")
    tr.add_argument("--arch", required=True, help="architecture string of the space")
    tr.add_argument("--dataset", default="digits", help="digits (default) or cifar10")
    tr.add_argument("--data-root", default=None, help="folder of CIFAR-10 (torchvision layout)")
    tr.add_argument(
        "--download", action="store_true", help="download CIFAR-10 into --data-root if missing"
    )
    tr.add_argument("--epochs", type=_positive_int_or_raw, default=10, help="epochs (10)")
    tr.add_argument("--seed", type=_positive_int_or_raw, default=0)
    tr.add_argument("--out", required=True, metavar="DIR", help="folder for the saved model")
    tr.add_argument(
        "--width",
        type=float,
        default=None,
        help="chain/macro: channel multiplier (1.0); cell spaces and nb201: channels of the "
        "first stage (16)",
    )
    tr.add_argument(
        "--depth", type=int, default=None, help="cell spaces: cells per stage (edges 5, nodes 3)"
    )
    tr.add_argument("--batch-size", type=int, default=64, help="training batch size (64)")
    tr.add_argument("--lr", type=float, default=0.1, help="initial learning rate (0.1)")
    tr.add_argument("--device", default=None, help="auto (default: CUDA if present), cpu, cuda")
    tr.add_argument(
        "--threads", type=_positive_int_or_raw, default=None, help="CPU threads (BLAS, torch)"
    )
    tr.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    tr.set_defaults(func=_cmd_train)


# --------------------------------------------------------------------------- tables
def _cmd_tables_list(args: argparse.Namespace) -> int:
    from predictor_nas.tables import cache_dir, embedded_dir, open_table, table_paths

    items: list[dict[str, Any]] = []
    for name, path in table_paths().items():
        entry: dict[str, Any] = {"name": name, "path": str(path)}
        try:
            t = open_table(path)
            entry.update(space=t.space, n_archs=len(t), datasets=t.datasets, ok=True)
        except PredictorNASError as exc:
            entry.update(ok=False, error=str(exc))
        items.append(entry)
    if args.json:
        _out(json.dumps({"tables": items}, sort_keys=True))
        return 0
    if not items:
        _out(f"No tables found in {embedded_dir()} or {cache_dir()}.")
    for e in items:
        if e["ok"]:
            _out(
                f"{e['name']:<12} {e['space']:<7} {e['n_archs']:>6} archs  "
                f"{', '.join(e['datasets'])}  ({e['path']})"
            )
        else:
            _out(f"{e['name']:<12} DAMAGED: {e['error']}")
    return 0


def _cmd_tables_info(args: argparse.Namespace) -> int:
    from predictor_nas.tables import open_table

    info = open_table(args.table).info()
    if args.json:
        _out(json.dumps(info, sort_keys=True))
        return 0
    for key in ("name", "path", "space", "n_archs", "content_hash", "license", "source"):
        _out(f"{key:<13} {info[key]}")
    _out(f"{'description':<13} {info['description']}")
    for ds, metrics in info["datasets"].items():
        _out(f"dataset {ds}:")
        for m, mi in metrics.items():
            seeds = ", ".join(
                f"{f} ep: {n}" + ("" if mi["per_seed"][f] else " (mean)")
                for f, n in mi["n_seeds"].items()
            )
            curve = ", curves" if mi["has_curve"] else ""
            _out(
                f"  {m:<12} [{mi['unit']}] {'max' if mi['higher_is_better'] else 'min'}  "
                f"fidelities/seeds: {seeds}{curve}"
            )
    return 0


def _cmd_tables_verify(args: argparse.Namespace) -> int:
    from predictor_nas.tables import table_paths
    from predictor_nas.tables._integrity import verify_table

    targets = args.tables or list(table_paths())
    if not targets:
        _err("No tables to verify.")
        return 1
    bad = 0
    for t in targets:
        path = table_paths().get(t, t)
        try:
            table = verify_table(path)
            _out(f"OK       {t}  {table.content_hash}")
        except PredictorNASError as exc:
            bad += 1
            _out(f"FAILED   {t}  {exc}")
    return 1 if bad else 0


def _cmd_tables_import(args: argparse.Namespace) -> int:
    from predictor_nas.exceptions import InvalidParameterError
    from predictor_nas.tables.importers import IMPORTERS, import_file

    file_only = ("space", "name", "metric", "dataset", "dataset_column", "fidelity")
    if args.kind == "file":
        missing = [f"--{k}" for k in ("space", "name", "metric") if not getattr(args, k)]
        if missing:
            raise InvalidParameterError(
                f"`tables import file` needs {', '.join(missing)} (see --help)."
            )
        path, chash = import_file(
            args.source,
            fmt=args.format,
            space=args.space,
            name=args.name,
            metrics=args.metric,
            arch_column=args.arch_column,
            dataset=args.dataset if args.dataset_column is None else None,
            dataset_column=args.dataset_column,
            fidelity=args.fidelity,
            fidelity_column=args.fidelity_column,
            seed_column=args.seed_column,
            cost_column=args.cost_column,
            curves=args.curve or (),
            out=args.out,
            overwrite=args.overwrite,
        )
        _out(f"wrote {path}\ncontent hash {chash}")
        return 0
    extra = [f"--{k.replace('_', '-')}" for k in file_only if getattr(args, k, None)]
    if extra:
        raise InvalidParameterError(
            f"{', '.join(extra)} only apply to `tables import file`, not to {args.kind!r}."
        )
    importer = IMPORTERS[args.kind]
    if args.out is not None:
        from predictor_nas._paths import check_output_file

        check_output_file(args.out, "--out", "tables import")
    path, chash = importer(args.source, out=args.out, overwrite=args.overwrite)
    _out(f"wrote {path}\ncontent hash {chash}")
    return 0


# --------------------------------------------------------------------------- storage
def _cmd_storage_repair(args: argparse.Namespace) -> int:
    from predictor_nas.search._journal import repair_journal

    r = repair_journal(args.file)
    if not r.moved_bytes:
        _out(f"{r.path} is intact: {r.kept_records} records, {r.kept_bytes} bytes; nothing to do")
        return 0
    _out(f"{r.path}: {r.problem}")
    _out(f"kept {r.kept_records} intact records (bytes 0-{r.kept_bytes})")
    _out(f"moved {r.moved_bytes} bytes (from byte offset {r.kept_bytes} on) to {r.backup}")
    _out("rerun the same command to resume the study")
    return 0


def _add_storage_parser(sub: Any) -> None:
    st = sub.add_parser("storage", help="check and repair study storages (journal files)")
    stsub = st.add_subparsers(dest="storage_command", required=True, metavar="ACTION")
    sr = stsub.add_parser(
        "repair",
        help="keep the intact records of a damaged journal, move the rest to a backup file",
        description="Keep the longest prefix of complete journal records and move everything "
        "from the first torn or garbled byte on to FILE.damaged-<time> next to it (nothing is "
        "deleted). An intact journal is left as it is.",
    )
    sr.add_argument("file", metavar="FILE", help="the journal file")
    sr.set_defaults(func=_cmd_storage_repair)


# --------------------------------------------------------------------------- predictors
def _cmd_predictors_evaluate(args: argparse.Namespace) -> int:
    from predictor_nas._validation import check_int
    from predictor_nas.predictors import evaluate_predictors
    from predictor_nas.predictors._evaluate import plot_kendall

    n_seeds = check_int(args.seeds, "seeds", "predictors evaluate", minimum=1)
    if args.plot:
        from predictor_nas._paths import check_output_file

        check_output_file(args.plot, "--plot", "predictors evaluate")
    names = args.predictors.split(",") if args.predictors else ["ridge"]
    zc = None
    if args.zc:
        zc = args.zc if args.zc in ("default", "all") else args.zc.split(",")
    result = evaluate_predictors(
        space=args.space,
        table=args.table,
        dataset=args.dataset,
        metric=args.metric,
        predictors=[n.strip() for n in names],
        train_sizes=args.train_sizes,
        seeds=range(n_seeds),
        zc=zc,
        zc_table=args.zc_table,
        proxy_dataset=(
            None
            if args.proxy_dataset is None
            else [d.strip() for d in args.proxy_dataset.split(",")]
        ),
        progress=not args.no_progress and not args.json,
    )
    if args.plot:
        result["plot"] = plot_kendall(result, args.plot)
    if args.json:
        _out(json.dumps(result, sort_keys=True, allow_nan=False))
        return 0

    def f(v: float | None, spec: str = ".3f") -> str:
        return "n/a" if v is None else format(v, spec)

    zc_text = ""
    if result["zc"]:
        zc_text = (
            f", features {','.join(result['zc'])} from {result['zc_table']}"
            f"/{pds if isinstance(pds := result['proxy_dataset'], str) else ','.join(pds)}"
        )
    _out(
        f"{result['table']} / {result['dataset']} / {result['metric']}: "
        f"{len(result['seeds'])} seeds, held-out = all other of {result['n_archs']} archs"
        f"{zc_text}"
    )
    head = [
        "predictor",
        "n",
        "kendall tau (95% CI)",
        "spearman",
        *(f"p@{k}" for k in result["top_k"]),
        "cov 1s",
        "cov 2s",
        "fit s",
        "predict s",
    ]
    rows = []
    for r in result["results"]:
        ci = r["kendall_tau_ci95"]
        tau = f(r["kendall_tau"]) + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
        rows.append(
            [
                r["predictor"],
                str(r["train_size"]),
                tau,
                f(r["spearman"]),
                *(f(r[f"precision_at_{k}"], ".2f") for k in result["top_k"]),
                f(r["coverage_1sigma"], ".2f"),
                f(r["coverage_2sigma"], ".2f"),
                f(r["fit_seconds"], ".3f"),
                f(r["predict_seconds"], ".3f"),
            ]
        )
    _out_table(head, rows)
    _out("(coverage: fraction of true values within mean ± 1σ / 2σ; ideal 0.68 / 0.95)")
    if args.plot:
        _out(f"plot written to {result['plot']}")
    return 0


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated integers, got {text!r}"
        ) from None


# --------------------------------------------------------------------------- compare
def _compare_command_text(args: argparse.Namespace) -> str:
    """The ``compare`` command line that reproduces ``args`` (quoted in the report)."""
    import shlex

    parts = ["predictor-nas", "compare"]
    parts += ["--space", args.space] if args.space is not None else []
    parts += ["--table", args.table]
    parts += ["--dataset", args.dataset, "--strategies", args.strategies or "random,rea,tpe"]
    parts += ["--objectives", args.objectives] if args.objectives else []
    parts += [x for c in args.constraint or [] for x in ("--constraint", c)]
    parts += ["--metric", args.metric] if args.metric != "val_acc" else []
    parts += ["--test-metric", args.test_metric] if args.test_metric else []
    parts += ["--budget", str(args.budget), "--seeds", args.seeds, "--jobs", str(args.jobs)]
    if args.thresholds:
        parts += ["--thresholds", ",".join(f"{t:g}" for t in args.thresholds)]
    if args.draw_seed:
        parts.append("--draw-seed")
    if args.out:
        parts += ["--out", args.out]
    return shlex.join(parts)


def _cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from predictor_nas._paths import check_output_dir
    from predictor_nas.compare import compare, markdown_report, plot_regret

    if args.objectives is not None or args.constraint:
        return _cmd_compare_mo(args)
    out = Path(check_output_dir(args.out, "--out", "compare")) if args.out else None
    _apply_threads(args.threads, "compare")  # inherited by the --jobs workers
    try:
        result = compare(
            space=args.space,
            table=args.table,
            datasets=args.dataset,
            strategies=args.strategies or "random,rea,tpe",
            budget=args.budget,
            seeds=args.seeds,
            jobs=args.jobs,
            draw_seed=args.draw_seed,
            metric=args.metric,
            test_metric=args.test_metric,
            thresholds=args.thresholds or [0.1],
            cache=None if out is None else out / "runs.jsonl",
            progress=not args.no_progress and not args.json,
        )
    except KeyboardInterrupt:
        kept = (
            f"finished runs are kept in {out / 'runs.jsonl'}" if out else "nothing kept (no --out)"
        )
        _err(f"interrupted; {kept} - rerun the same command to resume.")
        return EXIT_INTERRUPTED
    data = result.to_dict()
    written = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        plot_regret(result, out / "regret.png")
        (out / "compare.json").write_text(json.dumps(data, sort_keys=True, allow_nan=False))
        (out / "compare.md").write_text(
            markdown_report(result, command=_compare_command_text(args), plot="regret.png")
        )
        written = [str(out / n) for n in ("compare.json", "compare.md", "regret.png", "runs.jsonl")]
        from predictor_nas.compare._html import write_html_report  # index.html, plots embedded

        written.append(write_html_report(out / "compare.md"))
    if args.json:
        _out(json.dumps(data, sort_keys=True, allow_nan=False))
        return 0

    def ci(m: float | None, c: list[float] | None, nd: int = 3) -> str:
        if m is None:
            return "n/a"
        return f"{m:.{nd}f}" + (f" [{c[0]:.{nd}f}, {c[1]:.{nd}f}]" if c else "")

    ths = [f"{t:g}" for t in result.config["thresholds"]]
    for ds, entry in data["datasets"].items():
        _out(
            f"{data['table']} / {ds}: {len(data['seeds'])} seeds x {data['budget']} queries; "
            f"table best validation {entry['table_best_val']:.3f}"
        )
        head = ["strategy", "regret (95% CI)", "hit rate", *(f"q(≤{t})" for t in ths)]
        head += ["test acc", "ms/query"]
        rows = []
        for name, e in entry["strategies"].items():
            reach = [e["queries_to_reach"][t]["median"] for t in ths]
            rows.append(
                [
                    name,
                    ci(e["mean_regret_val"], e["ci95_regret_val"]),
                    f"{100 * e['hit_rate']:.0f}%",
                    *(f">{e['budget']}" if q is None else f"{q:g}" for q in reach),
                    ci(e["mean_test_acc"], None, 2),
                    f"{1e3 * e['seconds_per_query']:.2f}",
                ]
            )
        _out_table(head, rows)
        _out()
    _out(
        f"{data['n_runs']} runs ({data['n_cached']} cached) in {data['wall_seconds']:.1f} s "
        f"with {data['jobs']} job(s); q(≤t) = median queries to regret ≤ t"
    )
    for w in written:
        _out(f"wrote {w}")
    return 0


def _cmd_compare_mo(args: argparse.Namespace) -> int:
    """``compare --objectives ... [--constraint ...]``: the multi-objective comparison."""
    from pathlib import Path

    from predictor_nas._paths import check_output_dir
    from predictor_nas.compare import (
        DEFAULT_MO_STRATEGIES,
        DEFAULT_MO_THRESHOLDS,
        compare_mo,
        write_mo_report,
    )
    from predictor_nas.exceptions import InvalidParameterError

    if args.objectives is None:
        raise InvalidParameterError(
            "The --constraint option of compare needs --objectives (e.g. --objectives "
            "val_acc:max for a constrained single-objective comparison)."
        )
    single = [
        opt
        for opt, used in (
            ("--metric", args.metric != "val_acc"),
            ("--test-metric", args.test_metric is not None),
            ("--draw-seed", args.draw_seed),
        )
        if used
    ]
    if single:
        raise InvalidParameterError(
            f"The option(s) {', '.join(single)} of compare are single-objective only; with "
            "--objectives the objectives and constraints name the metrics."
        )
    out = Path(check_output_dir(args.out, "--out", "compare")) if args.out else None
    _apply_threads(args.threads, "compare")
    try:
        result = compare_mo(
            objectives=args.objectives,
            constraints=args.constraint,
            space=args.space,
            table=args.table,
            datasets=args.dataset,
            strategies=args.strategies or DEFAULT_MO_STRATEGIES,
            budget=args.budget,
            seeds=args.seeds,
            jobs=args.jobs,
            thresholds=args.thresholds or DEFAULT_MO_THRESHOLDS,
            cache=None if out is None else out / "runs.jsonl",
            progress=not args.no_progress and not args.json,
        )
    except KeyboardInterrupt:
        kept = (
            f"finished runs are kept in {out / 'runs.jsonl'}" if out else "nothing kept (no --out)"
        )
        _err(f"interrupted; {kept} - rerun the same command to resume.")
        return EXIT_INTERRUPTED
    written = []
    if out is not None:
        written = write_mo_report(result, out, command=_compare_command_text(args))
        written.insert(3, str(out / "runs.jsonl"))
    data = result.to_dict()
    if args.json:
        _out(json.dumps(data, sort_keys=True, allow_nan=False))
        return 0
    ths = [f"{t:g}" for t in data["thresholds"]]
    for ds, entry in data["datasets"].items():
        _out(
            f"{data['table']} / {ds}: {', '.join(data['objectives'])}"
            + (f" | {', '.join(data['constraints'])}" if data["constraints"] else "")
            + f"; {len(data['seeds'])} seeds x {data['budget']} queries; true front "
            f"{entry['true_front_size']} points"
        )
        head = ["strategy", "HV regret % (95% CI)", "coverage %", "hit rate"]
        head += [*(f"q(≤{100 * float(t):g}%)" for t in ths), "ms/query"]
        rows = []
        for name, e in entry["strategies"].items():
            ci = e["ci95_regret"]
            reach = [e["queries_to_reach"][t]["median"] for t in ths]
            rows.append(
                [
                    name,
                    f"{100 * e['mean_regret']:.2f}"
                    + (f" [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]" if ci else ""),
                    f"{100 * e['mean_coverage']:.1f}",
                    f"{100 * e['hit_rate']:.0f}%",
                    *(f">{e['budget']}" if q is None else f"{q:g}" for q in reach),
                    f"{1e3 * e['seconds_per_query']:.2f}",
                ]
            )
        _out_table(head, rows)
        _out()
    _out(
        f"{data['n_runs']} runs ({data['n_cached']} cached) in {data['wall_seconds']:.1f} s "
        f"with {data['jobs']} job(s); HV regret = share of the true front's hypervolume not "
        "found; q(≤t) = median queries to regret ≤ t"
    )
    for w in written:
        _out(f"wrote {w}")
    return 0


def _float_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated numbers, got {text!r}") from None


# --------------------------------------------------------------------------- multifidelity
def _cmd_multifidelity(args: argparse.Namespace) -> int:
    from predictor_nas.multifidelity import (
        SurrogateFidelityEvaluator,
        TableFidelityEvaluator,
        run_multifidelity,
    )
    from predictor_nas.search import DEFAULT_STORAGE

    if args.benchmark == "nb301":
        if not args.surrogate:
            from predictor_nas.exceptions import InvalidParameterError

            raise InvalidParameterError(
                "--benchmark nb301 needs --surrogate FOLDER (YAHPO's nb301 files: "
                "model_v2.onnx, encoding_v2.json, config_space_v2.json)."
            )
        evaluator = SurrogateFidelityEvaluator(args.surrogate)
    else:
        evaluator = TableFidelityEvaluator(args.table, args.dataset)
    storage = DEFAULT_STORAGE if args.storage is None else args.storage
    result = run_multifidelity(
        evaluator,
        method=args.method,
        time_budget=args.time_budget,
        max_evaluations=args.max_evaluations,
        eta=args.eta,
        min_fidelity=args.min_fidelity,
        seed=args.seed,
        storage=storage,
        study_name=args.study_name,
        progress=not args.no_progress and not args.json,
    )
    if args.json:
        _out(json.dumps(result.to_dict(trajectory=args.trajectory), sort_keys=True))
        return 0
    test = "n/a" if result.best_test is None else f"{result.best_test:.2f} %"
    regret = (
        "n/a (no known optimum)"
        if result.regret_val is None
        else f"{result.regret_val:.2f} pp below the best {result.optimum_val:.2f} %"
    )
    resumed = f" (resumed after {result.resumed_from})" if result.resumed_from else ""
    rows = [
        ("best architecture", result.best_arch),
        (
            "validation accuracy",
            f"{result.best_val:.2f} % at {evaluator.max_fidelity} epochs "
            f"(chosen at {result.best_fidelity} epochs)",
        ),
        ("test accuracy", test),
        ("regret (validation)", regret),
        (
            "evaluations",
            f"{result.n_evaluations}{resumed}, {result.n_full_evaluations} at full fidelity, "
            f"{result.n_archs} archs; simulated training {_fmt_seconds(result.simulated_seconds)}",
        ),
        (
            "method",
            f"{result.method} ({result.schedule}, {result.proposer} proposals, "
            f"{result.promotion} promotions, eta {result.eta}, rungs {result.ladder}), "
            f"seed {result.seed}",
        ),
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    _out_rows(rows)
    return 0


def _add_multifidelity_parser(sub: Any) -> None:
    from predictor_nas.multifidelity import METHOD_HELP, METHODS
    from predictor_nas.search import STORAGE_FORMS

    m = sub.add_parser(
        "multifidelity",
        help="successive halving / Hyperband on NB201 (12/200 epochs) or the NB301 surrogate",
        description="Multi-fidelity search with a simulated-seconds budget; the Optuna study is "
        "the ledger (rerun the same command to resume). Methods: "
        + "; ".join(f"{k}: {v}" for k, v in METHOD_HELP.items()),
    )
    m.add_argument("--benchmark", choices=["nb201", "nb301"], default="nb201")
    m.add_argument(
        "--table", default="nb201-rich", help="nb201: table with 12/200 epochs (nb201-rich)"
    )
    m.add_argument("--dataset", default="cifar10", help="nb201: dataset (default cifar10)")
    m.add_argument("--surrogate", default=None, metavar="FOLDER", help="nb301: YAHPO nb301 folder")
    m.add_argument("--method", default="mf", choices=list(METHODS))
    m.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="simulated training seconds",
    )
    m.add_argument("--max-evaluations", type=_positive_int_or_raw, default=None, metavar="N")
    m.add_argument("--eta", type=_positive_int_or_raw, default=3, help="keep ratio (default 3)")
    m.add_argument(
        "--min-fidelity",
        type=_positive_int_or_raw,
        default=None,
        metavar="EPOCHS",
        help="lowest rung (default: the benchmark's lowest fidelity)",
    )
    m.add_argument("--seed", type=_positive_int_or_raw, default=0)
    m.add_argument(
        "--storage", default=None, help=f"{STORAGE_FORMS}; default predictor-nas.journal"
    )
    m.add_argument("--study-name", default=None, help="default: derived from the options")
    m.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    m.add_argument(
        "--trajectory", action="store_true", help="with --json: include the anytime trajectory"
    )
    m.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    m.set_defaults(func=_cmd_multifidelity)


# --------------------------------------------------------------------------- distributed
def _on_sigterm_interrupt() -> None:
    """Treat SIGTERM (e.g. a preempted machine) like Ctrl-C: clean up, then exit 130."""
    import signal

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _key_values(pairs: Sequence[str] | None, option: str) -> dict[str, Any]:
    """``["epochs=2", "device=cuda"]`` -> ``{"epochs": 2, "device": "cuda"}`` (JSON values)."""
    from predictor_nas.exceptions import InvalidParameterError

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
    from predictor_nas.distributed import HeartbeatSettings, run_coordinator

    _on_sigterm_interrupt()
    score = None if args.score_predictor in ("none", "") else args.score_predictor
    result = run_coordinator(
        args.storage,
        args.study_name,
        space="nb201" if args.space is None else args.space,
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
        heartbeat=HeartbeatSettings(args.heartbeat_interval, args.grace_period, args.max_retry),
        poll_interval=args.poll_interval,
        max_seconds=args.max_seconds,
        progress=not args.no_progress and not args.json,
    )
    if args.json:
        _out(json.dumps(result.to_dict(), sort_keys=True))
        return 0
    best = "none yet" if result.best_arch is None else result.best_arch
    value = "" if result.best_value is None else f"{result.best_value:.2f}"
    if result.regret_val is not None:
        value += f" (regret {result.regret_val:.2f} pp to the table's best)"
    state = "budget reached" if result.done else "stopped before the budget"
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
    from predictor_nas.distributed import run_worker

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
        _out(json.dumps(result.to_dict(), sort_keys=True))
        return 0
    _out(
        f"worker {result.worker_id}: {result.n_evaluated} evaluated, {result.n_pruned} pruned, "
        f"{result.n_failed} failed, {result.n_discarded} discarded, {result.n_reaped} retried "
        f"for dead workers in {result.wall_seconds:.1f} s; stopped: {result.stopped_because}"
    )
    return 0


def _add_distributed_commands(sub: Any) -> None:
    """The ``coordinate`` and ``worker`` subcommands."""
    from predictor_nas.distributed import available_evaluators
    from predictor_nas.distributed._common import (
        DEFAULT_GRACE_PERIOD,
        DEFAULT_HEARTBEAT_INTERVAL,
        DEFAULT_MAX_RETRY,
    )
    from predictor_nas.search import available_strategies
    from predictor_nas.tables import DEFAULT_TABLE

    storage_help = (
        "postgresql://user@host/db (several machines) or a journal file (several processes on "
        "one machine); SQLite and memory are refused"
    )
    c = sub.add_parser(
        "coordinate",
        help="propose architectures into a shared study for workers (distributed search)",
        description="Keep the study's queue of proposed architectures filled, refitting the "
        "predictor as results arrive, until the budget is evaluated. Rerun the same command to "
        "continue after a crash.",
    )
    c.add_argument("--storage", required=True, help=storage_help)
    c.add_argument("--study-name", default=None, help="default: derived from the options")
    c.add_argument(
        "--space", default=None, type=_space_option, metavar="NAME|FILE.yaml", help=_SPACE_HELP
    )
    c.add_argument(
        "--table", default=DEFAULT_TABLE, help=f"table name or file (default {DEFAULT_TABLE})"
    )
    c.add_argument("--dataset", default="cifar10", help="dataset in the table (default cifar10)")
    c.add_argument("--metric", default="val_acc", help="validation metric (default val_acc)")
    c.add_argument(
        "--strategy", default="guided", help=f"one of {', '.join(available_strategies())}"
    )
    c.add_argument(
        "--budget", type=_positive_int_or_raw, default=100, help="evaluations (default 100)"
    )
    c.add_argument("--seed", type=_positive_int_or_raw, default=0)
    c.add_argument("--draw-seed", action="store_true", help="objective = one drawn trial")
    c.add_argument(
        "--evaluator",
        default="table",
        help=f"how workers evaluate: {', '.join(available_evaluators())} (default table; "
        "train = real training, --dataset digits or cifar10)",
    )
    c.add_argument(
        "--evaluator-option",
        action="append",
        metavar="KEY=VALUE",
        help="evaluator setting stored in the study, repeatable (train: width, depth, epochs, "
        "batch_size, lr, weight_decay; defaults for device, data_root, ...)",
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
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    c.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    c.set_defaults(func=_cmd_coordinate)

    w = sub.add_parser(
        "worker",
        help="evaluate architectures a coordinator proposed (distributed search)",
        description="Take proposed architectures from the study's queue, evaluate them (table "
        "lookup or the study's evaluator), report, until the coordinator's budget is reached.",
    )
    w.add_argument("--storage", required=True, help=storage_help)
    w.add_argument(
        "--study-name", default=None, help="default: the only distributed study in the storage"
    )
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
        "checkpoint_dir, data_root, download)",
    )
    w.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    w.set_defaults(func=_cmd_worker)


# --------------------------------------------------------------------------- parser
def _positive_int_or_raw(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _config_fields(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The YAML schema of a subcommand: one field per option, typed like the option."""
    from predictor_nas.config import ConfigField

    fields: dict[str, Any] = {}
    for action in parser._actions:
        if action.dest in ("help", "config", "func") or not action.option_strings:
            continue
        if action.nargs == 0 and action.const is True:
            kind = "bool"
        elif action.type in (int, _positive_int_or_raw):
            kind = "int"
        elif action.type is float:
            kind = "float"
        elif action.type in (_int_list, _float_list) or "LIST" in str(action.metavar or ""):
            kind = "csv"  # comma-separated: YAML may give a list, e.g. strategies: [rea, tpe]
        elif "[," in str(action.metavar or ""):
            kind = "csv"
        else:
            kind = "str"
        choices = tuple(action.choices) if action.choices is not None else None
        fields[action.dest] = ConfigField(
            kind, choices=choices, nullable=action.default is None, help=action.help or ""
        )
    return fields


def _apply_config(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Re-parse ``argv`` with the options of ``args.config`` as defaults (flags still win)."""
    from predictor_nas.config import load_config

    sub = args._config_parsers[args.command]
    values = load_config(args.config, _config_fields(sub))
    sub.set_defaults(**values)
    new = parser.parse_args(argv)
    log.info("options from %s: %s", args.config, values)
    return new


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config FILE.yaml`` for a subcommand (register it in ``_config_parsers`` too)."""
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE.yaml",
        help="read options from a YAML mapping (keys = option names, e.g. 'budget: 200'; "
        "comma-list options may be YAML lists; unknown keys are refused); options given on the "
        "command line win",
    )


_SPACE_HELP = (
    "search space: a registered name or a YAML declaration (see predictor_nas.spaces); "
    "default: the table's space"
)


def _space_option(text: str) -> str:
    """``--space``: a registered space name or a path to a YAML declaration."""
    from predictor_nas.spaces import available_spaces, is_space_file

    if is_space_file(text) or text in available_spaces():
        return text
    raise argparse.ArgumentTypeError(
        f"unknown space {text!r}; use one of {', '.join(available_spaces())} or a path to a "
        ".yaml declaration"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``predictor-nas``."""
    from predictor_nas.search import (
        STORAGE_FORMS,
        available_strategies,
        mo_strategies,
        real_strategies,
    )
    from predictor_nas.tables import DEFAULT_TABLE

    p = argparse.ArgumentParser(
        prog="predictor-nas",
        description="Neural architecture search guided by accuracy predictors.",
    )
    p.add_argument("--version", action="version", version=f"predictor-nas {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser(
        "search",
        help="search a benchmark table (zero-cost: training is a lookup) or train for real",
    )
    s.add_argument(
        "--evaluator",
        default="table",
        choices=["table", "train"],
        help="table: look results up (default); train: build and train each network",
    )
    s.add_argument(
        "--space", default=None, type=_space_option, metavar="NAME|FILE.yaml", help=_SPACE_HELP
    )
    s.add_argument(
        "--table", default=DEFAULT_TABLE, help=f"table name or file (default {DEFAULT_TABLE})"
    )
    s.add_argument(
        "--dataset",
        default="cifar10",
        help="dataset in the table, or with --evaluator train: digits or cifar10 (default cifar10)",
    )
    s.add_argument(
        "--metric",
        default="val_acc",
        help="validation metric searched (default val_acc; a test metric is refused)",
    )
    s.add_argument(
        "--test-metric",
        default=None,
        help="metric reported for the chosen architecture, never searched (default test_acc "
        "where the table has it)",
    )
    s.add_argument(
        "--strategy",
        default=None,
        help=f"one of {', '.join(available_strategies())} (default rea); with --evaluator "
        f"train one of {', '.join(real_strategies())} (default topk)",
    )
    s.add_argument(
        "--objectives",
        default=None,
        metavar="METRIC:max|min,...",
        help="multi-objective table search, e.g. val_acc:max,params:min (strategies "
        f"{', '.join(mo_strategies())}; default mo-guided); one objective + --constraint: a "
        "constrained search",
    )
    s.add_argument(
        "--constraint",
        action="append",
        default=None,
        metavar="METRIC<=X",
        help="with --objectives: bound a table metric (<=, >=, <, >), e.g. 'latency<=0.02'; "
        "repeat for more; infeasible proposals cost no budget",
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
    s.add_argument("--seed", type=_positive_int_or_raw, default=0)
    s.add_argument(
        "--storage",
        default=None,
        help=f"{STORAGE_FORMS}; default predictor-nas.journal (rerun to resume)",
    )
    s.add_argument("--study-name", default=None, help="default: derived from the options")
    s.add_argument(
        "--draw-seed",
        action="store_true",
        help="objective = one drawn training trial per query (NB201 protocol)",
    )
    s.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    s.add_argument(
        "--trajectory", action="store_true", help="with --json: include per-query regret"
    )
    s.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    s.add_argument(
        "--threads",
        type=_positive_int_or_raw,
        default=None,
        help="CPU threads per pool (BLAS, OpenMP, torch); default $OMP_NUM_THREADS or 1 (a "
        "table search's fits are too small to gain from more); with --evaluator train also "
        "torch's training threads (default: torch's own)",
    )
    s.add_argument(
        "--config",
        default=None,
        metavar="FILE.yaml",
        help="read options from a YAML mapping (keys = option names, e.g. 'budget: 200'; unknown "
        "keys are refused); options given on the command line win",
    )
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
    tr.add_argument("--epochs", type=int, default=None, help="epochs per arch (4)")
    tr.add_argument("--width", type=int, default=None, help="channels of stage 1 (8; NB201: 16)")
    tr.add_argument("--depth", type=int, default=None, help="cells per stage (1; NB201: 5)")
    tr.add_argument("--batch-size", type=int, default=None, help="training batch size (64)")
    tr.add_argument("--lr", type=float, default=None, help="initial learning rate (0.1)")
    tr.add_argument("--pool-size", type=int, default=None, help="candidates per round (500)")
    tr.add_argument(
        "--warm-start",
        default=None,
        metavar="TABLE|proxies",
        help="rank round 0 and feed the predictor with TABLE's CIFAR-10 accuracy (e.g. nb201), "
        "or rank round 0 by zero-cost proxies computed on the candidates ('proxies')",
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
    s.set_defaults(func=_cmd_search)
    p.set_defaults(_config_parsers={"search": s})

    t = sub.add_parser("tables", help="list, describe, verify and import benchmark tables")
    tsub = t.add_subparsers(dest="tables_command", required=True, metavar="ACTION")
    tl = tsub.add_parser("list", help="tables found (embedded and imported)")
    tl.add_argument("--json", action="store_true")
    tl.set_defaults(func=_cmd_tables_list)
    ti = tsub.add_parser("info", help="datasets, metrics, fidelities and seeds of a table")
    ti.add_argument("table", nargs="?", default=DEFAULT_TABLE)
    ti.add_argument("--json", action="store_true")
    ti.set_defaults(func=_cmd_tables_info)
    tv = tsub.add_parser(
        "verify", help="check file checksums, content hashes, the schema and every arch string"
    )
    tv.add_argument("tables", nargs="*", help="names or paths (default: all known tables)")
    tv.set_defaults(func=_cmd_tables_verify)
    tim = tsub.add_parser("import", help="import richer benchmark data into the table cache")
    tim.add_argument(
        "kind",
        choices=["file", "nb201-rich", "nas-bench-macro", "nb101-zc"],
        help="what to import: 'file' = your own CSV / JSON / JSON-lines / Parquet file",
    )
    tim.add_argument("--source", required=True, help="folder holding the source files")
    tfile = tim.add_argument_group("file", "options of `tables import file`")
    tfile.add_argument("--space", default=None, help="space name or .yaml declaration")
    tfile.add_argument("--name", default=None, help="table name (file <name>.h5 in the cache)")
    tfile.add_argument(
        "--metric",
        action="append",
        metavar="NAME[=COLUMN]:max|min[:UNIT][@EPOCHS]",
        help="a metric column (repeat), e.g. val_acc:max:%% or params:min:M@0",
    )
    tfile.add_argument("--arch-column", default="arch", help="column of arch strings (arch)")
    tfile.add_argument("--dataset", default=None, help="fixed dataset name of every row")
    tfile.add_argument("--dataset-column", default=None, help="column naming each row's dataset")
    tfile.add_argument(
        "--fidelity", type=int, default=None, help="training epochs of the values"
    )
    tfile.add_argument("--fidelity-column", default=None, help="column of the epochs per row")
    tfile.add_argument("--seed-column", default=None, help="column of the training seed")
    tfile.add_argument(
        "--cost-column", default=None, help="column of training seconds (-> train_time)"
    )
    tfile.add_argument(
        "--curve", action="append", metavar="NAME[=COLUMN]", help="a column of per-epoch lists"
    )
    tfile.add_argument(
        "--format", default=None, choices=["csv", "json", "jsonl", "parquet"],
        help="file format (default: from the suffix)",
    )
    tim.add_argument("--out", default=None, help="output file (default: the table cache)")
    tim.add_argument("--overwrite", action="store_true", help="replace an existing table")
    tim.set_defaults(func=_cmd_tables_import)

    pr = sub.add_parser("predictors", help="evaluate accuracy predictors on a benchmark table")
    prsub = pr.add_subparsers(dest="predictors_command", required=True, metavar="ACTION")
    pe = prsub.add_parser(
        "evaluate",
        help="Kendall tau / Spearman / precision@k / calibration vs. train size",
        description="Train predictors on random samples of a table (mean validation metric) and "
        "score how they rank all other architectures.",
    )
    pe.add_argument(
        "--space", default=None, type=_space_option, metavar="NAME|FILE.yaml", help=_SPACE_HELP
    )
    pe.add_argument(
        "--table", default=DEFAULT_TABLE, help=f"table name or file (default {DEFAULT_TABLE})"
    )
    pe.add_argument("--dataset", default="cifar10", help="dataset in the table (default cifar10)")
    pe.add_argument(
        "--metric", default="val_acc", help="target metric (default val_acc; never test_*)"
    )
    pe.add_argument(
        "--predictor",
        "--predictors",
        dest="predictors",
        default="ridge",
        metavar="NAME[,NAME...]",
        help="comma-separated predictor names (default ridge)",
    )
    pe.add_argument(
        "--train-sizes",
        type=_int_list,
        default=[20, 50, 100, 200, 500, 1000],
        metavar="N[,N...]",
        help="train-set sizes (default 20,50,100,200,500,1000)",
    )
    pe.add_argument(
        "--seeds",
        type=_positive_int_or_raw,
        default=10,
        metavar="N",
        help="number of seeds, 0..N-1 (default 10)",
    )
    pe.add_argument(
        "--zc",
        default=None,
        metavar="METRIC[,METRIC...]|default|all",
        help="table metrics (zero-cost proxies) as extra features; 'default' = DEFAULT_ZC, "
        "'all' = every zero-cost metric (fidelity 0: proxies, hardware cost)",
    )
    pe.add_argument(
        "--zc-table",
        default=None,
        help="table holding the --zc metrics (default: --table), e.g. nb201-rich",
    )
    pe.add_argument(
        "--proxy-dataset",
        default=None,
        metavar="DATASET[,DATASET...]",
        help="dataset(s) of --zc-table the --zc metrics are read from (default: --dataset); "
        "e.g. cifar10 for a cifar100 target, whose nb201-rich data has no zc_* proxies",
    )
    pe.add_argument(
        "--plot",
        default=None,
        metavar="PATH.png",
        help="write Kendall tau vs. n with 95%% CI bands as a PNG",
    )
    pe.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    pe.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    pe.set_defaults(func=_cmd_predictors_evaluate)

    c = sub.add_parser(
        "compare",
        help="compare search strategies over seeds and datasets on a table",
        description="Run every strategy on every dataset with every seed (in memory) and report "
        "the anytime validation regret, hit rate, test accuracy of the validation-chosen "
        "architecture (where the table has it) and seconds per query, with 95% CIs.",
    )
    c.add_argument(
        "--space", default=None, type=_space_option, metavar="NAME|FILE.yaml", help=_SPACE_HELP
    )
    c.add_argument(
        "--table",
        default=DEFAULT_TABLE,
        help=f"table name or file (default {DEFAULT_TABLE}; nb201-rich, if imported, has test acc)",
    )
    c.add_argument(
        "--dataset",
        "--datasets",
        dest="dataset",
        default="cifar10",
        metavar="NAME[,NAME...]",
        help="dataset(s) in the table (default cifar10)",
    )
    c.add_argument(
        "--metric",
        default="val_acc",
        help="validation metric searched (default val_acc; a test metric is refused)",
    )
    c.add_argument(
        "--test-metric",
        default=None,
        help="metric reported for the chosen architecture, never searched (default test_acc "
        "where the table has it)",
    )
    c.add_argument(
        "--strategies",
        default=None,
        metavar="NAME[,NAME...]",
        help=f"of {', '.join(available_strategies())} (default random,rea,tpe); with "
        f"--objectives of {', '.join(mo_strategies())} (default all of them)",
    )
    c.add_argument(
        "--objectives",
        default=None,
        metavar="METRIC:max|min,...",
        help="multi-objective comparison, e.g. val_acc:max,hw_edgegpu_latency:min: anytime "
        "hypervolume regret (share of the true front's hypervolume not found) and front "
        "coverage; one objective + --constraint: a constrained comparison",
    )
    c.add_argument(
        "--constraint",
        action="append",
        default=None,
        metavar="METRIC<=X",
        help="with --objectives: bound a table metric (<=, >=, <, >), e.g. "
        "'hw_raspi4_latency<=20'; repeat for more",
    )
    c.add_argument(
        "--budget", type=_positive_int_or_raw, default=100, help="queries per search (default 100)"
    )
    c.add_argument(
        "--seeds",
        default="20",
        metavar="N|A-B|LIST",
        help="N = seeds 0..N-1, or a range such as 0-99 / 1000-1019, or a comma list (default 20)",
    )
    c.add_argument(
        "--jobs",
        type=_positive_int_or_raw,
        default=1,
        help="worker processes (default 1; results do not depend on it)",
    )
    c.add_argument(
        "--threads",
        type=_positive_int_or_raw,
        default=None,
        help="CPU threads per pool (BLAS, OpenMP, torch) in each process; default "
        "$OMP_NUM_THREADS or 1 (runs go in parallel over --jobs, not threads)",
    )
    c.add_argument(
        "--thresholds",
        type=_float_list,
        default=None,
        metavar="T[,T...]",
        help="report queries needed to reach validation regret <= T (default 0.1); with "
        "--objectives: HV regret as a share, default 0.01 (99%% of the true front's HV)",
    )
    c.add_argument(
        "--draw-seed",
        action="store_true",
        help="objective = one drawn training trial per query (NB201 protocol)",
    )
    c.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="write compare.json, compare.md, regret.png; runs are cached in runs.jsonl there, "
        "so rerunning an interrupted sweep resumes it",
    )
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    c.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_config_option(c)
    c.set_defaults(func=_cmd_compare)
    p.set_defaults(_config_parsers={"search": s, "compare": c})
    _add_multifidelity_parser(sub)
    _add_distributed_commands(sub)
    _add_storage_parser(sub)
    _add_train_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "config", None):
        try:
            args = _apply_config(parser, args, argv)
        except PredictorNASError as exc:
            _err(f"predictor-nas {args.command}: error: {exc}")
            return EXIT_USAGE
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO if args.verbose else optuna.logging.WARNING)
    try:
        return int(args.func(args))
    except PredictorNASError as exc:
        _err(f"predictor-nas {args.command}: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; completed queries are stored - rerun the same command to resume.")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
