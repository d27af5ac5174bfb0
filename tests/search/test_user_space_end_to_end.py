"""A space declared in a temporary YAML file goes through the whole engine from the CLI:
table import from the user's CSV, search, compare and predictors evaluate.

The results are real: the space is NB201's cell with 3 of its ops (none, skip_connect,
nor_conv_3x3), so its 729 cells are NB201 cells and their validation accuracies come from the
embedded NB201 table (per training trial, with the training time as cost)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from predictor_nas.cli import main
from predictor_nas.spaces import get_space
from predictor_nas.tables import open_table

YAML = """\
name: three_op_cell
kind: cell_edges
description: NB201's cell with none / skip_connect / nor_conv_3x3
nodes: 4
ops: [none, skip_connect, nor_conv_3x3]
"""


@pytest.fixture
def user_space(tmp_path, monkeypatch):
    """The YAML file and a CSV of per-trial results for all 729 cells (from NB201)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(tmp_path / "cache"))
    (tmp_path / "three.yaml").write_text(YAML)
    space = get_space(str(tmp_path / "three.yaml"))
    nb201 = open_table("nb201")
    rows = nb201.rows([str(a) for a in space])
    means = []
    with open(tmp_path / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "seed", "val_acc", "seconds"])
        for arch, row in zip(space, rows):
            vals = []
            for s in range(2):
                v = nb201.query_many(np.array([row]), "val_acc", dataset="cifar10", seed=s)[0]
                t = nb201.query_many(np.array([row]), "train_time", dataset="cifar10", seed=s)[0]
                w.writerow([str(arch), s, repr(float(v)), repr(float(t))])
                vals.append(float(v))
            means.append(np.mean(vals))
    return tmp_path, space, float(np.max(means))


@pytest.mark.slow  # several seconds: in the slow run (.ci/run runs both)
def test_declared_space_through_import_search_compare_and_predictors(user_space, capsys):
    """Import, search (guided), compare (3 strategies) and predictors evaluate all run on it."""
    tmp, space, best = user_space
    rc = main(
        [
            "tables",
            "import",
            "file",
            "--source",
            "results.csv",
            "--space",
            "three.yaml",
            "--name",
            "three",
            "--metric",
            "val_acc:max:%",
            "--dataset",
            "cifar10",
            "--fidelity",
            "200",
            "--seed-column",
            "seed",
            "--cost-column",
            "seconds",
        ]
    )
    assert rc == 0
    capsys.readouterr()
    tbl = open_table("three")
    assert tbl.space == "three_op_cell" and len(tbl) == 729

    rc = main(
        [
            "search",
            "--space",
            "three.yaml",
            "--table",
            "three",
            "--strategy",
            "guided",
            "--budget",
            "30",
            "--storage",
            "memory",
            "--json",
            "--no-progress",
        ]
    )
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_queries"] == 30 and result["table"] == "three"
    assert result["table_best_val"] == pytest.approx(best)  # the mean over the 2 trials
    assert 0.0 <= result["regret_val"] < 1.0  # guided gets within 1 pp in 30 of 729 cells
    assert space.parse(result["best_arch"]) is not None

    rc = main(
        [
            "compare",
            "--space",
            str(tmp / "three.yaml"),
            "--table",
            "three",
            "--strategies",
            "random,ls,guided",
            "--budget",
            "20",
            "--seeds",
            "2",
            "--jobs",
            "2",
            "--json",
            "--no-progress",
        ]
    )
    assert rc == 0
    comp = json.loads(capsys.readouterr().out)
    regrets = {
        s: e["mean_regret_val"] for s, e in comp["datasets"]["cifar10"]["strategies"].items()
    }
    assert set(regrets) == {"random", "ls", "guided"}
    assert all(0.0 <= r < 5.0 for r in regrets.values())

    rc = main(
        [
            "predictors",
            "evaluate",
            "--table",
            "three",
            "--predictor",
            "ridge,et",
            "--train-sizes",
            "100",
            "--seeds",
            "2",
            "--json",
            "--no-progress",
        ]
    )
    assert rc == 0
    ev = json.loads(capsys.readouterr().out)
    taus = {e["predictor"]: e["kendall_tau"] for e in ev["results"]}
    assert ev["space"] == "three_op_cell" and taus["et"] > 0.4
