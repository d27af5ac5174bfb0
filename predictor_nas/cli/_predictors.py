"""``predictor-nas predictors``: evaluate accuracy predictors on a benchmark table."""

from __future__ import annotations

import argparse
from typing import Any

from predictor_nas._paths import check_output_file
from predictor_nas._validation import check_int
from predictor_nas.cli._options import (
    _add_json,
    _add_progress,
    _add_space,
    _add_table,
    _command,
    _int_list,
    _positive_int_or_raw,
)
from predictor_nas.cli._render import _out, _out_json, _out_table
from predictor_nas.predictors import PREDICTORS, evaluate_predictors, plot_kendall


def _cmd_predictors_evaluate(args: argparse.Namespace) -> int:
    n_seeds = check_int(args.seeds, "seeds", "predictors evaluate", minimum=1)
    if args.plot:
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
        _out_json(result, allow_nan=False)
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


def register(sub: Any) -> None:
    """Add the ``predictors`` subcommand and its actions."""

    pr = sub.add_parser("predictors", help="evaluate accuracy predictors on a benchmark table")
    prsub = pr.add_subparsers(dest="predictors_command", required=True, metavar="ACTION")
    pe = prsub.add_parser(
        "evaluate",
        help="Kendall tau / Spearman / precision@k / calibration vs. train size",
        description="Train predictors on random samples of a table (mean validation metric) and "
        "score how they rank all other architectures.",
    )
    _add_space(pe)
    _add_table(pe)
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
        help=f"comma-separated predictor names, of {', '.join(PREDICTORS)} (default ridge)",
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
    _add_json(pe)
    _add_progress(pe)
    _command(pe, _cmd_predictors_evaluate)
