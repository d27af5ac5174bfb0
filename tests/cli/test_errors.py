"""Errors of the command line: one line on stderr, exit status 2, never a traceback."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["search", "--dataset", "imagenet"],
            "The --dataset option of search must be one of 'ImageNet16-120', 'cifar10', 'cifar100'. Got 'imagenet' instead.",
        ),
        (
            ["search", "--budget", "0"],
            "The --budget option of search must be an int >= 1. Got 0 instead.",
        ),
        (
            ["search", "--strategy", "nope"],
            "The --strategy option of search must be one of 'gp', 'grid', 'guided', 'guided-zc', 'ls', 'random', 'rea', 'reinforce', 'tpe', 'zc-ls'. Got 'nope' instead.",
        ),
        (["search", "--table", "nb999"], "No table named or at 'nb999'. Known tables: 'nb201'"),
        (["search", "--storage", "x.db"], "The 'storage' must be"),
        (["tables", "info", "missing-table"], "No table named or at 'missing-table'"),
    ],
)
def test_bad_input_exits_nonzero_with_clear_message(run_cli, tmp_path, args, message):
    """User mistakes exit with status 2 and a one-line message, never a traceback."""
    code, out, err = run_cli(*args, "--json", cwd=tmp_path)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize(
    "args", [["search", "--budget", "ten"], ["search", "--space", "nb999"], ["frobnicate"]]
)
def test_argument_syntax_errors_exit_2(run_cli, tmp_path, args):
    """Malformed arguments are rejected by the parser with usage help and status 2."""
    code, _, err = run_cli(*args, cwd=tmp_path)
    assert code == 2 and "usage:" in err and "Traceback" not in err


def test_library_parameter_errors_name_the_flag(capsys):
    """A library error about a Python parameter is reported with the command's flag instead."""
    from predictor_nas.cli import main

    assert main(["multifidelity", "--table", "nb201", "--storage", "memory"]) == 2
    assert capsys.readouterr().err == (
        "predictor-nas multifidelity: error: The --time-budget option of multifidelity must be a "
        "finite float > 0 when --max-evaluations is not given. Got None instead.\n"
    )
    assert main(["predictors", "evaluate", "--seeds", "0"]) == 2
    assert capsys.readouterr().err == (
        "predictor-nas predictors: error: The --seeds option of predictors evaluate must be an "
        "int >= 1. Got 0 instead.\n"
    )
    # run_mo_search's parameter is 'constraints'; the flag is the singular --constraint
    argv = ["search", "--objectives", "val_acc:max", "--constraint", "latency<<3"]
    assert main([*argv, "--storage", "memory"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("predictor-nas search: error: The --constraint option of search must be")
    assert "parameter" not in err and err.count("\n") == 1


def test_parameters_without_a_flag_keep_their_name():
    """A parameter that is no option of the command (an --evaluator-option key) is left as is."""
    from predictor_nas.cli._main import _cli_message, build_parser

    args = build_parser().parse_args(["coordinate", "--storage", "c.journal"])
    msg = "The 'epochs' parameter of the train evaluator must be an int >= 1. Got -1 instead."
    assert _cli_message(msg, args) == msg
    assert _cli_message("The 'budget' parameter of run_coordinator must be an int >= 1.", args) == (
        "The --budget option of coordinate must be an int >= 1."
    )
    assert _cli_message("val_acc stays; max_seconds and study_name become flags", args) == (
        "val_acc stays; --max-seconds and --study-name become flags"
    )
