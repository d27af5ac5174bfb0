"""Option types and the option groups shared by the commands.

Every command ends its ``register`` with :func:`_command`, which adds ``--config`` and records the
parser on the parsed arguments (``args._parser``): ``main`` reads the config schema and the flag
names of library errors from it.
"""

from __future__ import annotations

import argparse
from typing import Any

from predictor_nas._threads import default_threads, set_thread_limits
from predictor_nas.config import ConfigField
from predictor_nas.search import STORAGE_FORMS
from predictor_nas.spaces import available_spaces, is_space_file
from predictor_nas.tables import DEFAULT_TABLE


# --------------------------------------------------------------------------- option types
def _positive_int_or_raw(text: str) -> int:
    """An int option (range checks are the library's, so its message names the limit)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _int_list(text: str) -> list[int]:
    """``"20,50,100"`` -> ``[20, 50, 100]``."""
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated integers, got {text!r}"
        ) from None


def _float_list(text: str) -> list[float]:
    """``"0.1,0.5"`` -> ``[0.1, 0.5]``."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated numbers, got {text!r}") from None


_SPACE_HELP = (
    "search space: a registered name or a YAML declaration (see predictor_nas.spaces); "
    "default: the table's space"
)


def _space_option(text: str) -> str:
    """``--space``: a registered space name or a path to a YAML declaration."""

    if is_space_file(text) or text in available_spaces():
        return text
    raise argparse.ArgumentTypeError(
        f"unknown space {text!r}; use one of {', '.join(available_spaces())} or a path to a "
        ".yaml declaration"
    )


def _apply_threads(threads: int | None, command: str) -> None:
    """Limit this process's BLAS/OpenMP/torch threads once, from ``--threads`` or the default
    (``predictor_nas._threads.default_threads``: $OMP_NUM_THREADS, else 1)."""

    set_thread_limits(default_threads() if threads is None else threads, command)


# --------------------------------------------------------------------------- shared options
def _add_json(parser: Any, help: str = "print one JSON object on stdout") -> None:
    """``--json``: machine-readable output (one JSON object on stdout)."""
    parser.add_argument("--json", action="store_true", help=help)


def _add_progress(parser: Any) -> None:
    """``--no-progress``."""
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_trajectory(parser: Any, help: str) -> None:
    """``--trajectory`` (with ``--json``)."""
    parser.add_argument("--trajectory", action="store_true", help=help)


def _add_seed(parser: Any) -> None:
    """``--seed`` (default 0)."""
    parser.add_argument("--seed", type=_positive_int_or_raw, default=0)


def _add_threads(parser: Any, help: str) -> None:
    """``--threads``: CPU threads of BLAS, OpenMP and torch."""
    parser.add_argument("--threads", type=_positive_int_or_raw, default=None, help=help)


def _add_storage(parser: Any, help: str | None = None, *, required: bool = False) -> None:
    """``--storage``: where the Optuna study lives."""
    if help is None:
        help = f"{STORAGE_FORMS}; default predictor-nas.journal (rerun to resume)"
    parser.add_argument("--storage", required=required, default=None, help=help)


def _add_study_name(parser: Any, help: str = "default: derived from the options") -> None:
    """``--study-name``."""
    parser.add_argument("--study-name", default=None, help=help)


def _add_space(parser: Any) -> None:
    """``--space``: a registered space or a YAML declaration (default: the table's space)."""
    parser.add_argument(
        "--space", default=None, type=_space_option, metavar="NAME|FILE.yaml", help=_SPACE_HELP
    )


def _add_table(parser: Any, help: str | None = None) -> None:
    """``--table``: a table name or file (default ``predictor_nas.tables.DEFAULT_TABLE``)."""

    help = f"table name or file (default {DEFAULT_TABLE}{help or ''})"
    parser.add_argument("--table", default=DEFAULT_TABLE, help=help)


def _add_surrogate(parser: Any) -> None:
    """``--surrogate``: folder of YAHPO's nb301 files (``--evaluator nb301-surrogate``)."""
    parser.add_argument(
        "--surrogate",
        default=None,
        metavar="FOLDER",
        help="with --evaluator nb301-surrogate: folder of YAHPO's nb301 files (model_v2.onnx, "
        "...; default $PREDICTOR_NAS_NB301_SURROGATE)",
    )


def _add_metrics(parser: Any) -> None:
    """``--metric`` (searched) and ``--test-metric`` (reported only)."""
    parser.add_argument(
        "--metric",
        default="val_acc",
        help="validation metric searched (default val_acc; a test metric is refused)",
    )
    parser.add_argument(
        "--test-metric",
        default=None,
        help="metric reported for the chosen architecture, never searched (default test_acc "
        "where the table has it)",
    )


def _add_draw_seed(parser: Any, help: str) -> None:
    """``--draw-seed``: the objective is one drawn training trial per query."""
    parser.add_argument("--draw-seed", action="store_true", help=help)


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config FILE.yaml`` for a subcommand."""
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE.yaml",
        help="read options from a YAML mapping (keys = option names, e.g. 'budget: 200'; "
        "comma-list options may be YAML lists; unknown keys are refused); options given on the "
        "command line win",
    )


def _command(parser: argparse.ArgumentParser, func: Any) -> None:
    """Finish a (sub)command's parser: add ``--config`` and run ``func(args)`` for it."""
    _add_config_option(parser)
    parser.set_defaults(func=func, _parser=parser)


# --------------------------------------------------------------------------- config schema
def _config_fields(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The YAML schema of a subcommand: one field per option, typed like the option."""

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
