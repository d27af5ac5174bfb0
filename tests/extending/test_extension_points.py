"""Adding a strategy, a predictor, a curve model or a table importer is one registry entry:
the search loop, `predictors evaluate`, the curve-model factory and `tables import` pick each
new entry up with no other edit (the worked example of the structure issue)."""

from __future__ import annotations

import json

import numpy as np
import optuna

from predictor_nas import curves, predictors, search
from predictor_nas.cli import main
from predictor_nas.tables import importers, open_table


def _first_random(space, seed: int) -> optuna.samplers.BaseSampler:
    """A new strategy: Optuna's random sampler under another name."""
    return optuna.samplers.RandomSampler(seed=seed)


def test_new_strategy_runs_from_the_cli(monkeypatch, capsys):
    """A STRATEGIES entry is searchable with `predictor-nas search --strategy NAME`."""
    monkeypatch.setitem(search.STRATEGIES, "my-random", (_first_random, "random, renamed"))
    assert main(["search", "--strategy", "my-random", "--budget", "4", "--storage", "memory",
                 "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["strategy"] == "my-random" and out["n_queries"] == 4


def test_new_predictor_is_evaluated_from_the_cli(monkeypatch, capsys):
    """A PREDICTORS entry is scored by `predictor-nas predictors evaluate --predictors NAME`."""
    class MyRidge(predictors.PREDICTORS["ridge"]):
        """A new predictor: the ridge model under another name."""

    monkeypatch.setitem(predictors.PREDICTORS, "my-ridge", MyRidge)
    assert main(["predictors", "evaluate", "--predictors", "my-ridge", "--train-sizes", "20",
                 "--seeds", "1", "--json", "--no-progress"]) == 0  # fmt: skip
    res = json.loads(capsys.readouterr().out)["results"][0]
    assert res["predictor"] == "my-ridge" and -1.0 <= res["kendall_tau"] <= 1.0


def test_new_curve_model_is_made_by_name(monkeypatch):
    """A CURVE_MODELS entry is built by make_curve_model (the multi-fidelity search's factory)."""
    made = []

    def half_last(corpus, *, min_corpus: int, seed: int):
        made.append(seed)
        return curves.CURVE_MODELS["last-value"](corpus, min_corpus=min_corpus, seed=seed)

    monkeypatch.setitem(curves.CURVE_MODELS, "my-last", half_last)
    model = curves.make_curve_model("my-last", None, seed=3)
    pred = model.predict_final(np.array([[50.0, 60.0, 70.0]]), final_epoch=6)
    assert made == [3] and np.isfinite(pred.mean).all()


A1 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
A2 = "|none~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|none~1|none~2|"


def test_new_importer_runs_from_the_cli(monkeypatch, tmp_path):
    """An IMPORTERS entry is run by `predictor-nas tables import NAME --source ... --out ...`."""
    src = tmp_path / "mine.csv"
    src.write_text(f"arch,acc\n{A1},90.5\n{A2},41.0\n")

    def import_mine(source, *, out=None, overwrite=False, progress=False):
        return importers.import_file(
            source, space="nb201", name="mine", metrics=["val_acc=acc:max:%"],
            dataset="toy", fidelity=1, out=out, overwrite=overwrite, progress=progress,
        )  # fmt: skip

    monkeypatch.setitem(importers.IMPORTERS, "mine", import_mine)
    out = tmp_path / "mine.h5"
    assert main(["tables", "import", "mine", "--source", str(src), "--out", str(out)]) == 0
    t = open_table(out)
    assert t.query(A1, "val_acc", dataset="toy") == 90.5
    assert t.query(A2, "val_acc", dataset="toy") == 41.0
