"""``predictor-nas compare --objectives``: the multi-objective comparison."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from predictor_nas._paths import check_output_dir
from predictor_nas.cli._options import _apply_threads
from predictor_nas.cli._render import EXIT_INTERRUPTED, _err, _out, _out_table
from predictor_nas.compare import (
    DEFAULT_MO_STRATEGIES,
    DEFAULT_MO_THRESHOLDS,
    compare_mo,
    write_mo_report,
)
from predictor_nas.exceptions import InvalidParameterError


def _cmd_compare_mo(args: argparse.Namespace, command: str) -> int:
    """``compare --objectives ... [--constraint ...]``: the multi-objective comparison."""

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
        written = write_mo_report(result, out, command=command)
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
