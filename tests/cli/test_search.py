"""``predictor-nas search``: JSON and human output, resume."""

from __future__ import annotations

import json

from predictor_nas.cli import main


def test_search_json_smoke(run_cli, tmp_path):
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
