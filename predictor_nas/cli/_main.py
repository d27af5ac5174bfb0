"""``predictor-nas``: the parser built from the command modules, and ``main``."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence

import optuna

from predictor_nas import __version__
from predictor_nas.cli import (
    _compare,
    _distributed,
    _evaluators,
    _multifidelity,
    _predictors,
    _search,
    _storage,
    _tables,
    _train,
)
from predictor_nas.cli._options import _config_fields
from predictor_nas.cli._render import EXIT_INTERRUPTED, EXIT_USAGE, _err
from predictor_nas.config import load_config
from predictor_nas.exceptions import PredictorNASError

log = logging.getLogger("predictor_nas.cli")

#: The command modules, in the order of ``predictor-nas --help``; each has ``register(sub)``.
COMMANDS = (
    _search,
    _tables,
    _predictors,
    _compare,
    _multifidelity,
    _distributed,
    _storage,
    _train,
    _evaluators,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``predictor-nas``."""
    p = argparse.ArgumentParser(
        prog="predictor-nas",
        description="Neural architecture search guided by accuracy predictors.",
    )
    p.add_argument("--version", action="version", version=f"predictor-nas {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return p


# --------------------------------------------------------------------------- --config
def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser under ``parser`` that runs a command (has no subcommands of its own)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for a in subs for p in a.choices.values() for leaf in _leaf_parsers(p)]


def _has_config(argv: Sequence[str]) -> bool:
    return any(a == "--config" or a.startswith("--config=") for a in argv)


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; with ``--config`` the required options may come from the file instead."""
    if not _has_config(argv):
        return parser.parse_args(argv)
    leaves = _leaf_parsers(parser)
    required = [a for leaf in leaves for a in leaf._actions if a.required and a.option_strings]
    for a in required:
        a.required = False
    try:
        args = parser.parse_args(argv)
    finally:
        for a in required:
            a.required = True
    if not args.config:  # "--config" was the value of another option
        return parser.parse_args(argv)
    return _apply_config(parser, args, argv)


def _apply_config(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Re-parse ``argv`` with the options of ``args.config`` as defaults (flags still win)."""

    sub = args._parser
    values = load_config(args.config, _config_fields(sub))
    sub.set_defaults(**values)
    given = [a for a in sub._actions if a.required and a.dest in values]
    for a in given:  # a required option the file gives is no longer required on the line
        a.required = False
    try:
        new = parser.parse_args(argv)
    finally:
        for a in given:
            a.required = True
    log.info("options from %s: %s", args.config, values)
    return new


# --------------------------------------------------------------------------- errors
#: "'NAME' parameter of OWNER" in the library's messages (``predictor_nas._validation``).
_PARAMETER = re.compile(r"'(\w+)' parameter of [^.,;:]+?(?= must\b|[.,;:]|$)")
#: A bare snake_case parameter name in a message, e.g. "when max_evaluations is not given".
_IDENTIFIER = re.compile(r"(?<![\w'.-])[a-z]+(?:_[a-z]+)+(?![\w'.(-])")


def _flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """``dest -> long flag`` of each option of ``parser`` (``time_budget -> --time-budget``)."""
    flags: dict[str, str] = {}
    for action in parser._actions:
        if action.option_strings and action.dest not in ("help", "config"):
            longs = [o for o in action.option_strings if o.startswith("--")]
            named = f"--{action.dest.replace('_', '-')}"  # --predictors of --predictor/--predictors
            flags[action.dest] = named if named in longs else (longs or action.option_strings)[0]
    return flags


def _cli_message(message: str, args: argparse.Namespace) -> str:
    """``message`` with each library parameter that is an option of the command named as its flag.

    "The 'time_budget' parameter of run_multifidelity must be ..." becomes "The --time-budget
    option of multifidelity must be ..."; a bare snake_case name that is an option's dest
    ("when max_evaluations is not given") becomes its flag too. A parameter with no option of the
    same name (singular or plural) is left as it is.
    """
    parser = getattr(args, "_parser", None)
    if parser is None:
        return message
    flags = _flag_names(parser)
    command = parser.prog.split(" ", 1)[-1]

    def flag(match: re.Match[str]) -> str:
        name = match.group(1)
        for dest in (name, name.removesuffix("s"), f"{name}s"):
            if dest in flags:
                return f"{flags[dest]} option of {command}"
        return match.group(0)

    def bare(match: re.Match[str]) -> str:
        return flags.get(match.group(0), match.group(0))

    return _IDENTIFIER.sub(bare, _PARAMETER.sub(flag, message))


# --------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = _parse(parser, argv)
    except PredictorNASError as exc:  # a bad --config file
        command = next((a for a in argv if not a.startswith("-")), "")
        _err(f"predictor-nas {command}: error: {exc}")
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )

    optuna.logging.set_verbosity(optuna.logging.INFO if args.verbose else optuna.logging.WARNING)
    try:
        return int(args.func(args))
    except PredictorNASError as exc:
        _err(f"predictor-nas {args.command}: error: {_cli_message(str(exc), args)}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; completed queries are stored - rerun the same command to resume.")
        return EXIT_INTERRUPTED
