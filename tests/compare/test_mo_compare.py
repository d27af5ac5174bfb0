"""The multi-objective comparison (``compare_mo`` and ``compare --objectives``) on the real
``nb201-rich`` table with tiny budgets: anytime hypervolume regret, coverage, caching, reports and
the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from predictor_nas.cli import main
from predictor_nas.compare import (
    HIT_TOL,
    anytime_regret,
    compare_mo,
    leads_from,
    markdown_report_mo,
    write_mo_report,
)
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import run_mo_search

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OBJ = "val_acc:max,hw_edgegpu_latency:min"
BUDGET = 12


@pytest.fixture(scope="module")
def small(rich_table_path):
    """Two strategies x 2 seeds x 2 datasets, 12 queries each."""
    return compare_mo(
        objectives=OBJ,
        table=str(rich_table_path),
        datasets="cifar10,cifar100",
        strategies="mo-guided,random",
        budget=BUDGET,
        seeds=2,
    )


def test_anytime_regret_and_coverage_by_hand():
    """Regret and coverage after each query match hand-computed hypervolumes (2-D, minimised)."""
    true_front = [[0, 2], [1, 1], [2, 0]]  # HV vs (3, 3): 3 + 2 + 1 = 6
    evaluated = [[2, 2], [1, 1], [5, 5], [0, 2], [np.nan, 0]]
    regret, coverage = anytime_regret(evaluated, true_front, [3, 3], [1, 1])
    np.testing.assert_allclose(regret, [5 / 6, 2 / 6, 2 / 6, 1 / 6, 1 / 6])
    np.testing.assert_allclose(coverage, [0, 1 / 3, 1 / 3, 2 / 3, 2 / 3])


def test_anytime_regret_handles_maximised_objectives():
    """A maximised objective is negated with its sign: finding the whole front gives regret 0."""
    true_front = [[0.9, 2.0], [0.5, 1.0]]  # (acc max, latency min)
    regret, coverage = anytime_regret([[0.5, 1.0], [0.9, 2.0]], true_front, [0.0, 3.0], [-1, 1])
    assert regret[0] > 0 and regret[1] == 0.0
    np.testing.assert_allclose(coverage, [0.5, 1.0])


def test_leads_from_counts_ties_as_lowest():
    """A strategy leads from the first query after its last miss; not lowest at the end: None."""
    out = leads_from({"a": [3, 1, 1, 0], "b": [2, 2, 1, 0], "c": [1, 0, 2, 1]})
    assert out == {"a": 3, "b": 3, "c": None}


def test_regret_shape_monotone_and_consistent_with_search(small, rich_table_path):
    """Every run has BUDGET steps of regret in [0,1], never increasing; coverage in [0,1]."""
    assert len(small.runs) == 2 * 2 * 2
    for r in small.runs:
        traj, cov = np.array(r.trajectory_regret), np.array(r.trajectory_coverage)
        assert traj.shape == (BUDGET,) and cov.shape == (BUDGET,)
        assert np.all((traj >= 0) & (traj <= 1)) and np.all(np.diff(traj) <= 0)
        assert np.all((cov >= 0) & (cov <= 1)) and np.all(np.diff(cov) >= 0)
        assert r.regret == traj[-1] and 0 <= r.front_coverage <= 1
        assert r.regret == pytest.approx(1 - r.hypervolume / r.true_hypervolume, abs=1e-12)
    # The final regret is what run_mo_search reports for the same seed.
    one = next(r for r in small.runs if r.strategy == "random" and r.dataset == "cifar100")
    direct = run_mo_search(
        objectives=OBJ, table=str(rich_table_path), dataset="cifar100", strategy="random",
        budget=BUDGET, seed=one.seed,
    )  # fmt: skip
    assert one.regret == pytest.approx(direct.hypervolume_regret / direct.true_hypervolume)
    assert one.front_coverage == direct.front_coverage


def test_summary_intervals_stay_in_range(small):
    """Curves have BUDGET steps; bootstrap bands contain the mean and never go below 0."""
    for entry in [*small.datasets.values(), {"strategies": small.strategies}]:
        for e in entry["strategies"].values():
            c = e["curves"]["regret"]
            m, lo, hi = (np.array(c[k]) for k in ("mean", "ci95_low", "ci95_high"))
            assert m.shape == (BUDGET,)
            assert np.all(lo >= 0) and np.all(lo <= m + 1e-12) and np.all(m <= hi + 1e-12)
            assert 0 <= e["mean_coverage"] <= 1 and 0 <= e["hit_rate"] <= 1
            assert e["mean_hv_share"] == pytest.approx(1 - e["mean_regret"])
    e = small.datasets["cifar10"]
    assert e["true_front_size"] >= 2 and e["true_hypervolume"] > 0
    leads = [v["leads_from"] for v in e["strategies"].values()]
    assert any(q is not None for q in leads)


def test_constrained_single_objective_hit_means_optimum_found(rich_table_path):
    """One objective + a latency bound: regret 0 exactly when the constrained optimum is found."""
    res = compare_mo(
        objectives="val_acc:max",
        constraints="hw_edgegpu_latency<=5.3",
        table=str(rich_table_path),
        strategies="mo-rea,random",
        budget=15,
        seeds=3,
    )
    e = res.datasets["cifar10"]["strategies"]
    for r in res.runs:
        assert (r.regret <= HIT_TOL) == (r.front_coverage == 1.0)
    for s in ("mo-rea", "random"):
        hits = [r.regret <= HIT_TOL for r in res.runs if r.strategy == s]
        assert e[s]["hit_rate"] == pytest.approx(np.mean(hits))
    assert res.config["constraints"] == ["hw_edgegpu_latency<=5.3"]


@pytest.mark.slow
def test_cache_resumes_and_jobs_do_not_change_results(tmp_path, rich_table_path):
    """A second call takes every run from the cache; 2 worker processes give the same runs."""
    kw = dict(
        objectives=OBJ, table=str(rich_table_path), strategies="mo-rea,random", budget=6, seeds=2
    )
    first = compare_mo(**kw, jobs=2, cache=tmp_path / "runs.jsonl")
    again = compare_mo(**kw, cache=tmp_path / "runs.jsonl")
    assert first.n_cached == 0 and again.n_cached == 4
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 4
    single = compare_mo(**kw)
    for a, b in zip(first.runs, single.runs):
        assert a.trajectory_regret == b.trajectory_regret and a.seed == b.seed


def test_report_files_written(small, tmp_path):
    """write_mo_report writes JSON, Markdown with a row per strategy, a PNG and HTML."""
    paths = write_mo_report(small, tmp_path / "rep", command="predictor-nas compare ...")
    names = sorted(p.rsplit("/", 1)[-1] for p in paths)
    assert names == ["compare.json", "compare.md", "index.html", "regret.png"]
    assert (tmp_path / "rep" / "regret.png").read_bytes().startswith(PNG_MAGIC)
    d = json.loads((tmp_path / "rep" / "compare.json").read_text())
    assert d["mode"] == "multi-objective" and d["objectives"] == OBJ.split(",")
    md = (tmp_path / "rep" / "compare.md").read_text()
    assert md.count("| `mo-guided` |") == 3  # two datasets + all datasets
    assert "## cifar100" in md and "![hypervolume regret vs queries](regret.png)" in md
    assert "data:image/png;base64," in (tmp_path / "rep" / "index.html").read_text()
    assert markdown_report_mo(d) == markdown_report_mo(small)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"objectives": "val_acc:up"}, "DIRECTION max or min. Got 'val_acc:up' instead."),
        ({"objectives": OBJ, "strategies": "rea"}, "The 'strategies' parameter of compare"),
        ({"objectives": OBJ, "thresholds": [2.0]}, "normalised hypervolume regrets in [0, 1]"),
        ({"objectives": OBJ, "datasets": "mnist"}, "The 'dataset' parameter of compare"),
        ({"objectives": OBJ, "constraints": "hw_edgegpu_latency<=0"}, "satisfies the constraints"),
    ],
)
def test_bad_options_raise_before_running(kwargs, message, rich_table_path):
    """Bad objectives, strategies, thresholds, datasets or constraints raise the standard error."""
    with pytest.raises(InvalidParameterError) as e:
        compare_mo(table=str(rich_table_path), budget=5, seeds=1, **kwargs)
    assert message in str(e.value)


def test_cli_objectives_writes_report_and_json(tmp_path, rich_table_path, capsys):
    """compare --objectives prints the table, writes the report files and exits 0."""
    out = tmp_path / "out"
    args = ["compare", "--table", str(rich_table_path), "--objectives", OBJ, "--seeds", "2"]
    args += ["--budget", "6", "--strategies", "mo-rea,random", "--no-progress"]
    assert main([*args, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "HV regret % (95% CI)" in text and "mo-rea" in text
    for name in ("compare.json", "compare.md", "regret.png", "runs.jsonl", "index.html"):
        assert (out / name).is_file()
    assert "--objectives val_acc:max,hw_edgegpu_latency:min" in (out / "compare.md").read_text()
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["mode"] == "multi-objective" and d["strategy_names"] == ["mo-rea", "random"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--objectives", "val_acc:up"], "DIRECTION max or min. Got 'val_acc:up' instead."),
        (["--constraint", "params<=1"], "The --constraint option of compare needs --objectives"),
        (["--objectives", OBJ, "--draw-seed"], "--draw-seed of compare are single-objective"),
        (["--objectives", OBJ, "--strategies", "rea"], "Got 'rea' instead."),
        (["--objectives", OBJ, "--constraint", "latncy<=1"], "The --constraint option of compare"),
    ],
)
def test_cli_bad_objective_exits_2(extra, message, rich_table_path, capsys):
    """A bad multi-objective option prints one error line and exits 2 (no traceback)."""
    args = ["compare", "--table", str(rich_table_path), "--seeds", "1", "--budget", "3"]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
