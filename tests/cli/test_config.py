"""``--config FILE.yaml`` on every command: options from the file, flags win, required options."""

from __future__ import annotations

import json

import pytest

from predictor_nas.cli import build_parser, main


def _leaves(parser, name="predictor-nas"):
    import argparse

    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield name, parser
    for a in subs:
        for n, p in a.choices.items():
            yield from _leaves(p, f"{name} {n}")


def test_every_command_takes_config():
    """Each runnable (sub)command has a --config option."""
    leaves = dict(_leaves(build_parser()))
    assert len(leaves) == 13  # search, tables x4, predictors evaluate, compare, mf, coord,
    # worker, storage repair, train, evaluators
    for name, p in leaves.items():
        assert any("--config" in a.option_strings for a in p._actions), name


def test_tables_info_reads_config(tmp_path, capsys):
    """`tables info --config` takes --json from the file."""
    cfg = tmp_path / "t.yaml"
    cfg.write_text("json: true\n")
    assert main(["tables", "info", "nb201", "--config", str(cfg)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["name"] == "nb201" and info["n_archs"] == 15625


def test_predictors_evaluate_reads_config_and_flags_win(tmp_path, capsys):
    """`predictors evaluate --config` reads list options from YAML; a flag overrides the file."""
    cfg = tmp_path / "p.yaml"
    cfg.write_text("predictors: [ridge]\ntrain_sizes: [20, 40]\nseeds: 2\njson: true\n")
    assert main(["predictors", "evaluate", "--config", str(cfg), "--no-progress"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert [r["train_size"] for r in res["results"]] == [20, 40] and res["seeds"] == [0, 1]
    assert main(["predictors", "evaluate", "--config", str(cfg), "--seeds", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["seeds"] == [0]


def test_required_option_may_come_from_config(tmp_path, capsys):
    """`coordinate`'s required --storage can be given by the file; without it, usage error 2."""
    journal = tmp_path / "c.journal"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"storage: {journal}\nstrategy: random\nbudget: 2\nmax_seconds: 0.3\njson: true\n"
    )
    assert main(["coordinate", "--config", str(cfg)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["budget"] == 2 and res["n_proposed"] == 2 and journal.is_file()
    with pytest.raises(SystemExit) as exc:
        main(["coordinate", "--budget", "2"])
    assert exc.value.code == 2
    assert "the following arguments are required: --storage" in capsys.readouterr().err
    empty = tmp_path / "e.yaml"
    empty.write_text("budget: 2\n")
    with pytest.raises(SystemExit) as exc:  # the file does not give it either
        main(["coordinate", "--config", str(empty)])
    assert exc.value.code == 2


def test_config_errors_name_the_command(tmp_path, capsys):
    """An unknown key in a `tables list` config exits 2 with one line naming the command."""
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("jsn: true\n")
    assert main(["tables", "list", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("predictor-nas tables: error: ") and "'jsn'" in err
    assert err.count("\n") == 1
