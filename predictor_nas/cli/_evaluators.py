"""``predictor-nas evaluators``: the evaluator registry."""

from __future__ import annotations

import argparse
from typing import Any

from predictor_nas.cli._options import _add_json, _command
from predictor_nas.cli._render import _out_json, _out_rows
from predictor_nas.evaluators import available_evaluators, evaluator_summaries


def _cmd_evaluators(args: argparse.Namespace) -> int:
    rows = evaluator_summaries()
    study = set(available_evaluators())
    for r in rows:
        r["coordinate"] = r["name"] in study
    if args.json:
        _out_json(rows)
        return 0
    _out_rows(
        [
            (
                r["name"],
                f"{r['kind']:<9}  {r['class']}{' (coordinate)' if r['coordinate'] else ''}",
            )
            for r in rows
        ]
    )
    return 0


def register(sub: Any) -> None:
    """The ``evaluators`` subcommand."""
    ev = sub.add_parser(
        "evaluators",
        help="list the evaluators (table, surrogate, fidelity, train) and their classes",
        description="The evaluator registry (predictor_nas.evaluators.evaluator_classes); "
        "'coordinate' marks those a distributed study can name with --evaluator.",
    )
    _add_json(ev)
    _command(ev, _cmd_evaluators)
