"""benchmarks/oneshot_strategies_digits.py: its core run at tiny size and the committed report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from predictor_nas.spaces import get_space
from predictor_nas.training import from_arrays, load_digits_data

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
REPORT = BENCHMARKS / "results" / "oneshot_strategies_digits.json"
SPACE = get_space("nb201")


@pytest.fixture(scope="module")
def bench(load_benchmark):
    """The benchmark script as a module."""
    return load_benchmark("oneshot_strategies_digits")


@pytest.fixture(scope="module")
def tiny():
    """A 240 / 120 / 120 image subset of digits."""
    d = load_digits_data(0)
    return from_arrays(
        d.x_train[:240],
        d.y_train[:240],
        d.x_val[:120],
        d.y_val[:120],
        d.x_test[:120],
        d.y_test[:120],
        num_classes=10,
        name="digits-tiny",
    )


def test_run_seed_gives_every_strategy_a_valid_cell_and_its_stand_alone_scores(bench, tiny):
    """One tiny seed: every strategy returns a valid NB201 cell, its budget was spent, its
    stand-alone val/test are in [0, 100], its cell stats match the cell, and the summary, the
    collapse sentence and the Markdown report are built from the records."""
    final = {"width": 4, "depth": 1, "epochs": 1, "seeds": [0]}
    sec = {s: 0.5 for s in bench.ONESHOT_MODE}
    recs = bench.run_seed(
        0,
        tiny,
        strategies=list(bench.STRATEGIES),
        budget=0.4,
        sec_per_epoch=sec,
        width=4,
        depth=1,
        search_epochs=2,
        spos_share=0.5,
        final=final,
    )
    assert [r["strategy"] for r in recs] == list(bench.STRATEGIES)
    for r in recs:
        arch = SPACE.parse(r["arch"])  # raises on an invalid cell
        assert SPACE.format(arch) == r["arch"] and r["seed"] == 0
        assert 0 <= r["final_val"] <= 100 and 0 <= r["final_test"] <= 100
        assert r["final_val_per_seed"] == [r["final_val"]] and r["n_params"] > 0
        assert 0 <= r["search_score"] <= 100 and r["process_seconds"] > 0
        free = sum(op in {"none", "skip_connect", "avg_pool_3x3"} for op in arch.ops)
        assert r["param_free_ops"] == free and r["collapsed"] == (r["live_convs"] == 0)
        assert r["live_convs"] <= 6 - free
    by = {r["strategy"]: r for r in recs}
    assert by["spos"]["candidates"] >= 1 and by["spos"]["process_seconds"] >= 0.4
    assert by["darts"]["supernet_epochs"] == 1 and len(by["darts"]["alpha_softmax"]) == 6
    assert by["topk"]["score_kind"] == "trained val acc" and by["topk"]["trained"] >= 1
    summ = bench.summarize(recs, list(bench.STRATEGIES))
    assert summ["gdas"]["final_test"][0] == by["gdas"]["final_test"]
    assert summ["darts"]["vs_topk"]["final_test"]["diff"] == pytest.approx(
        by["darts"]["final_test"] - by["topk"]["final_test"]
    )
    sentence = bench.collapse_sentence(summ)
    assert "first-order DARTS" in sentence and "second-order DARTS" in sentence


def test_committed_report_covers_five_seeds_at_equal_budget():
    """The committed report has >= 5 seeds of every strategy, one stand-alone recipe, searches
    that used their budget (within 25 %), valid cells, a collapse sentence and no machine paths."""
    res = json.loads(REPORT.read_text())
    budget = res["settings"]["budget_s"]
    assert res["command"].startswith("python benchmarks/oneshot_strategies_digits.py")
    assert "DARTS" in res["collapse_sentence"]
    for s in ("darts", "gdas", "spos", "topk"):
        rs = [r for r in res["records"] if r["strategy"] == s]
        assert len({r["seed"] for r in rs}) >= 5
        for r in rs:
            SPACE.parse(r["arch"])
            assert 0.75 * budget <= r["process_seconds"] <= 1.25 * budget
            assert len(r["final_test_per_seed"]) == len(res["settings"]["final"]["seeds"])
    text = REPORT.read_text() + REPORT.with_suffix(".md").read_text()
    assert "/tmp/" not in text and "/work/" not in text
