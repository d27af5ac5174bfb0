"""``predictor-nas multifidelity``: successive halving / Hyperband on a benchmark."""

from __future__ import annotations

import argparse
from typing import Any

from predictor_nas.cli._options import (
    _add_json,
    _add_progress,
    _add_seed,
    _add_storage,
    _add_study_name,
    _add_trajectory,
    _command,
    _positive_int_or_raw,
)
from predictor_nas.cli._render import _fmt_seconds, _out_json, _out_rows, _stop_rows
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.multifidelity import (
    BENCHMARKS,
    METHOD_HELP,
    METHODS,
    SurrogateFidelityEvaluator,
    run_multifidelity,
)
from predictor_nas.search import DEFAULT_STORAGE, STORAGE_FORMS


def _cmd_multifidelity(args: argparse.Namespace) -> int:
    evaluator_class = BENCHMARKS[args.benchmark]
    if evaluator_class is SurrogateFidelityEvaluator:
        if not args.surrogate:
            raise InvalidParameterError(
                f"--benchmark {args.benchmark} needs --surrogate FOLDER (YAHPO's nb301 files: "
                "model_v2.onnx, encoding_v2.json, config_space_v2.json)."
            )
        evaluator = evaluator_class(args.surrogate)
    else:
        evaluator = evaluator_class(args.table, args.dataset)
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
        _out_json(result.to_dict(trajectory=args.trajectory))
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
        *_stop_rows(result),
        ("study", f"{result.study_name} in {result.storage}"),
    ]
    _out_rows(rows)
    return 0


def register(sub: Any) -> None:
    """Add the ``multifidelity`` subcommand."""
    _add_multifidelity_parser(sub)


def _add_multifidelity_parser(sub: Any) -> None:
    m = sub.add_parser(
        "multifidelity",
        help="successive halving / Hyperband on NB201 (12/200 epochs) or the NB301 surrogate",
        description="Multi-fidelity search with a simulated-seconds budget; the Optuna study is "
        "the ledger (rerun the same command to resume). Methods: "
        + "; ".join(f"{k}: {v}" for k, v in METHOD_HELP.items()),
    )
    m.add_argument("--benchmark", choices=list(BENCHMARKS), default="nb201")
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
    _add_seed(m)
    _add_storage(m, f"{STORAGE_FORMS}; default predictor-nas.journal")
    _add_study_name(m)
    _add_json(m)
    _add_trajectory(m, "with --json: include the anytime trajectory")
    _add_progress(m)
    _command(m, _cmd_multifidelity)
