"""``predictor-nas compare``: compare search strategies over seeds and datasets."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from predictor_nas._paths import check_output_dir
from predictor_nas.cli._compare_mo import _cmd_compare_mo
from predictor_nas.cli._options import (
    _add_draw_seed,
    _add_json,
    _add_metrics,
    _add_progress,
    _add_space,
    _add_surrogate,
    _add_table,
    _add_threads,
    _apply_threads,
    _command,
    _float_list,
    _positive_int_or_raw,
)
from predictor_nas.cli._render import EXIT_INTERRUPTED, _err, _out, _out_json, _out_table
from predictor_nas.compare import compare, markdown_report, plot_regret, write_html_report
from predictor_nas.search import available_strategies, mo_strategies


def _compare_command_text(args: argparse.Namespace) -> str:
    """The ``compare`` command line that reproduces ``args`` (quoted in the report)."""

    parts = ["predictor-nas", "compare"]
    parts += ["--space", args.space] if args.space is not None else []
    if args.evaluator != "table":  # the surrogate's folder is a machine path: not quoted
        parts += ["--evaluator", args.evaluator, "--surrogate", "FOLDER"]
    else:
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
    if args.objectives is not None or args.constraint:
        return _cmd_compare_mo(args, _compare_command_text(args))
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
            evaluator=args.evaluator,
            surrogate=args.surrogate,
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

        written.append(write_html_report(out / "compare.md"))
    if args.json:
        _out_json(data, allow_nan=False)
        return 0

    def ci(m: float | None, c: list[float] | None, nd: int = 3) -> str:
        if m is None:
            return "n/a"
        return f"{m:.{nd}f}" + (f" [{c[0]:.{nd}f}, {c[1]:.{nd}f}]" if c else "")

    ths = [f"{t:g}" for t in result.config["thresholds"]]
    for ds, entry in data["datasets"].items():
        _out(
            f"{data['table']} / {ds}: {len(data['seeds'])} seeds x {data['budget']} queries; "
            + (
                f"table best validation {entry['table_best_val']:.3f}"
                if "reference" not in entry
                else f"reference best {entry['table_best_val']:.3f} ({entry['reference']})"
            )
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


def register(sub: Any) -> None:
    """Add the ``compare`` subcommand."""

    c = sub.add_parser(
        "compare",
        help="compare search strategies over seeds and datasets on a table",
        description="Run every strategy on every dataset with every seed (in memory) and report "
        "the anytime validation regret, hit rate, test accuracy of the validation-chosen "
        "architecture (where the table has it) and seconds per query, with 95% CIs.",
    )
    _add_space(c)
    _add_table(c, "; nb201-rich, if imported, has test acc")
    c.add_argument(
        "--evaluator",
        default="table",
        help="table (default) or nb301-surrogate (the YAHPO NB301 surrogate, --surrogate "
        "FOLDER; regret against its documented reference best)",
    )
    _add_surrogate(c)
    c.add_argument(
        "--dataset",
        "--datasets",
        dest="dataset",
        default="cifar10",
        metavar="NAME[,NAME...]",
        help="dataset(s) in the table (default cifar10)",
    )
    _add_metrics(c)
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
    _add_threads(
        c,
        "CPU threads per pool (BLAS, OpenMP, torch) in each process; default "
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
    _add_draw_seed(c, "objective = one drawn training trial per query (NB201 protocol)")
    c.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="write compare.json, compare.md, regret.png; runs are cached in runs.jsonl there, "
        "so rerunning an interrupted sweep resumes it",
    )
    _add_json(c)
    _add_progress(c)
    _command(c, _cmd_compare)
