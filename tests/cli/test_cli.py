"""The predictor-nas command line: smoke runs, JSON output, and clear errors for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from predictor_nas.cli import main


def run_cli(*args, cwd=None):
    """Run the installed console script in a subprocess; return (code, stdout, stderr)."""
    exe = shutil.which("predictor-nas") or sys.executable
    cmd = [exe, *args] if exe != sys.executable else [exe, "-m", "predictor_nas.cli", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120)
    return p.returncode, p.stdout, p.stderr


def test_search_json_smoke(tmp_path):
    """`search --json` prints one JSON object with the documented keys and sane numbers."""
    code, out, err = run_cli("search", "--json", "--budget", "30", cwd=tmp_path)
    assert code == 0, err
    result = json.loads(out)
    for key in ("best_arch", "best_val", "regret_val", "n_queries", "strategy", "dataset", "seed"):
        assert key in result
    assert (
        result["n_queries"] == 30 and result["strategy"] == "rea" and result["dataset"] == "cifar10"
    )
    assert 0 <= result["regret_val"] < 20 and 80 < result["best_val"] <= 91.61
    assert (tmp_path / "predictor-nas.journal").is_file()  # the default storage


def test_search_human_output_and_resume(tmp_path, capsys):
    """The human-readable output names the best arch, accuracies, regret; a rerun resumes."""
    storage = str(tmp_path / "h.journal")
    assert main(["search", "--budget", "20", "--storage", storage, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "best architecture" in out and "|" in out and "regret (validation)" in out
    assert "n/a (table 'nb201' has no test metric for cifar10; nb201-rich has one" in out
    assert main(["search", "--budget", "25", "--storage", storage, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["resumed_from"] == 20 and result["n_queries"] == 25


def test_search_output_names_the_dataset_without_a_test_metric(rich_in_cache, tmp_path, capsys):
    """On nb201-rich, ImageNet16-120 (no test metric anywhere) is n/a without a table hint; cifar10
    shows its test accuracy."""
    storage = str(tmp_path / "r.journal")
    args = ["search", "--table", "nb201-rich", "--budget", "5", "--storage", storage]
    assert main([*args, "--dataset", "ImageNet16-120", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "n/a (table 'nb201-rich' has no test metric for ImageNet16-120)" in out
    assert main([*args, "--dataset", "cifar10", "--no-progress"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "test accuracy" in ln)
    assert line.rstrip().endswith("%") and "n/a" not in line


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
def test_bad_input_exits_nonzero_with_clear_message(tmp_path, args, message):
    """User mistakes exit with status 2 and a one-line message, never a traceback."""
    code, out, err = run_cli(*args, "--json", cwd=tmp_path)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize(
    "args", [["search", "--budget", "ten"], ["search", "--space", "nb999"], ["frobnicate"]]
)
def test_argument_syntax_errors_exit_2(tmp_path, args):
    """Malformed arguments are rejected by the parser with usage help and status 2."""
    code, _, err = run_cli(*args, cwd=tmp_path)
    assert code == 2 and "usage:" in err and "Traceback" not in err


def test_tables_list_info_verify(capsys):
    """`tables list`, `info` and `verify` describe and check the embedded table."""
    assert main(["tables", "list", "--json"]) == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    nb = next(t for t in tables if t["name"] == "nb201")
    assert nb["ok"] and nb["n_archs"] == 15625
    assert sorted(nb["datasets"]) == ["ImageNet16-120", "cifar10", "cifar100"]
    assert main(["tables", "info", "nb201", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["datasets"]["cifar10"]["val_acc"]["fidelities"] == [200]
    assert info["content_hash"].startswith("sha256:")
    assert main(["tables", "verify", "nb201"]) == 0
    assert capsys.readouterr().out.startswith("OK")


def test_verify_reports_a_flipped_byte(tmp_path, nb201_table, capsys):
    """`tables verify` on a copy with one flipped byte fails and names the file."""
    bad = tmp_path / "flipped.h5"
    data = bytearray(open(nb201_table.path, "rb").read())
    data[len(data) // 2] ^= 0x40
    bad.write_bytes(bytes(data))
    assert main(["tables", "verify", str(bad)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAILED") and str(bad) in out and "corrupted" in out
    code, _, err = run_cli("search", "--table", str(bad), "--json", cwd=tmp_path)
    assert code == 2 and str(bad) in err and "Traceback" not in err


def test_import_is_light():
    """`import predictor_nas` (and its spaces/tables/search) does not import torch, PyG or xgboost."""
    code = (
        "import sys, predictor_nas, predictor_nas.spaces, predictor_nas.tables, predictor_nas.search;"
        "heavy = [m for m in ('torch', 'torch_geometric', 'xgboost') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _subparsers(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {n}", s) for n, s in _subparsers(sub))


def test_every_help_text_renders_without_format_escapes():
    """Every command's --help renders, with no leftover '%%' or '%(' from argparse formatting."""
    from predictor_nas.cli import build_parser

    parser = build_parser()
    pages = [("predictor-nas", parser), *_subparsers(parser)]
    assert len(pages) > 10
    for name, p in pages:
        text = p.format_help()
        assert "%%" not in text and "%(" not in text, name
