"""The comparison harness: statistics, determinism across jobs, caching, report, plot and CLI."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from predictor_nas.cli import main
from predictor_nas.compare import (
    RunRecord,
    bootstrap_ci,
    compare,
    markdown_report,
    mean_ci,
    mean_ci_columns,
    parse_seeds,
    plot_regret,
    queries_to_reach,
    reach_summary,
    summarize,
    wilson_ci,
)
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.search import available_strategies, run_search

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_cli(*args, cwd=None):
    """Run the installed console script in a subprocess; return (code, stdout, stderr)."""
    exe = shutil.which("predictor-nas") or sys.executable
    cmd = [exe, *args] if exe != sys.executable else [exe, "-m", "predictor_nas.cli", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300)
    return p.returncode, p.stdout, p.stderr


def _without_timing(d):
    """A result dict with the fields that depend on wall-clock time removed."""
    if isinstance(d, dict):
        return {
            k: _without_timing(v)
            for k, v in d.items()
            if k not in ("wall_seconds", "seconds_per_query", "jobs")
        }
    if isinstance(d, list):
        return [_without_timing(v) for v in d]
    return d


def _record(strategy, dataset, seed, traj, best_test=None, wall=1.0):
    """A RunRecord whose final numbers follow from a given regret trajectory."""
    traj = [float(v) for v in traj]
    return RunRecord(
        strategy=strategy,
        dataset=dataset,
        seed=seed,
        budget=len(traj),
        n_queries=len(traj),
        best_arch="a",
        best_val=90.0 - traj[-1],
        best_test=best_test,
        regret_val=traj[-1],
        wall_seconds=wall,
        trajectory_regret_val=traj,
        trajectory_val=[90.0 - v for v in traj],
        trajectory_test=None,
    )


# --------------------------------------------------------------------------- statistics
def test_mean_ci_matches_scipy_t_interval():
    """mean_ci(method="t") gives scipy's Student-t interval; missing values are dropped."""
    x = np.array([0.3, 1.2, 0.0, 0.7, 2.5, 0.9])
    m, (lo, hi) = mean_ci(x, method="t")
    ref = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert m == pytest.approx(x.mean())
    assert (lo, hi) == pytest.approx(ref)
    m2, ci2 = mean_ci([*x.tolist(), None, float("nan")], method="t")
    assert m2 == pytest.approx(m) and ci2 == pytest.approx((lo, hi))
    _, (lo9, hi9) = mean_ci(x, level=0.9, method="t")
    assert lo < lo9 < hi9 < hi
    assert mean_ci([4.0]) == (4.0, None)
    assert mean_ci([None, None]) == (None, None)
    with pytest.raises(InvalidParameterError, match="'level' parameter of mean_ci"):
        mean_ci(x, level=1.0)
    with pytest.raises(InvalidParameterError, match="'method' parameter of mean_ci"):
        mean_ci(x, method="normal")


def test_mean_ci_default_is_seeded_bootstrap():
    """The default interval is scipy's percentile bootstrap of the mean, seeded and repeatable."""
    x = np.array([0.3, 1.2, 0.0, 0.7, 2.5, 0.9, 0.0, 0.1, 4.0, 0.2])
    m, ci = mean_ci(x)
    assert m == pytest.approx(x.mean()) and mean_ci(x) == (m, ci)
    ref = stats.bootstrap(
        (x,), np.mean, confidence_level=0.95, n_resamples=10_000, method="percentile",
        random_state=np.random.default_rng(1),
    ).confidence_interval
    assert ci == pytest.approx((ref.low, ref.high), abs=0.05)  # another resampling
    assert bootstrap_ci(x, n_resamples=2000, seed=3) == bootstrap_ci(x, n_resamples=2000, seed=3)
    assert mean_ci([2.0, 2.0, 2.0])[1] == (2.0, 2.0)
    with pytest.raises(InvalidParameterError, match="'n_resamples' parameter of bootstrap_ci"):
        bootstrap_ci(x, n_resamples=10)


def test_interval_never_leaves_the_range_of_nonnegative_data():
    """Regret-like data (mostly 0, a few large) keep bootstrap bounds in [0, max]; t crosses 0."""
    rng = np.random.default_rng(0)
    crossed = 0
    for trial in range(200):
        n = int(rng.integers(2, 40))
        x = np.where(rng.random(n) < 0.8, 0.0, rng.exponential(0.5, n))
        _, (lo, hi) = mean_ci(x)
        assert 0.0 <= lo <= x.mean() <= hi <= x.max()
        _, (tlo, _) = mean_ci(x, method="t")
        crossed += tlo < 0
        _, clo, chi = mean_ci_columns(np.column_stack([x, 2 * x]))
        assert np.all(clo >= 0) and np.all(chi <= [x.max(), 2 * x.max()])
    assert crossed > 50  # the old t-interval went below 0 on such data


def test_mean_ci_columns_per_step():
    """Column-wise mean/interval equal mean_ci on each column, NaNs ignored per column."""
    rng = np.random.default_rng(0)
    a = rng.exponential(size=(7, 5))
    a[2, 3] = np.nan
    m, lo, hi = mean_ci_columns(a)
    for j in range(5):
        mj, (lj, hj) = mean_ci(a[:, j])
        assert m[j] == pytest.approx(mj) and lo[j] == pytest.approx(lj)
        assert hi[j] == pytest.approx(hj)
    m1, lo1, hi1 = mean_ci_columns(a[:1])
    assert np.allclose(m1, a[0]) and np.isnan(lo1).all() and np.isnan(hi1).all()


@pytest.mark.parametrize("k, n", [(0, 20), (5, 20), (20, 20), (1, 3), (37, 100)])
def test_wilson_matches_scipy(k, n):
    """wilson_ci equals scipy's Wilson score interval of a binomial proportion."""
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_ci(k, n) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_wilson_rejects_bad_counts():
    """k above n or n = 0 raise the standard parameter error."""
    with pytest.raises(InvalidParameterError, match="'k' parameter of wilson_ci"):
        wilson_ci(4, 3)
    with pytest.raises(InvalidParameterError, match=r"'n' parameter of wilson_ci must be an int >= 1"):
        wilson_ci(0, 0)


def test_queries_to_reach_and_its_median():
    """First 1-based query with regret <= t, inf if never; the median treats inf as censored."""
    traj = np.array(
        [
            [3.0, 1.0, 0.1, 0.0],  # reaches 0.1 at query 3
            [0.05, 0.05, 0.05, 0.05],  # at query 1
            [2.0, 2.0, 0.5, 0.5],  # never
        ]
    )
    q = queries_to_reach(traj, 0.1)
    assert q.tolist() == [3.0, 1.0, math.inf]
    assert float(queries_to_reach(traj[0], 0.0)) == 4.0
    s = reach_summary(q)
    assert s["median"] == 3.0 and s["reached"] == pytest.approx(2 / 3)
    assert s["ci95_reached"] == pytest.approx(list(wilson_ci(2, 3)))
    assert reach_summary(queries_to_reach(traj, 0.01))["median"] is None  # 2 of 3 never did


def test_summarize_known_inputs():
    """Final regret stats, hit rate, ranks and per-seed averaging over datasets from known runs."""
    a = [[1.0, 0.5], [2.0, 0.0], [0.4, 0.3]]  # strategy "a", seeds 0..2, dataset d1
    b = [[1.0, 0.6], [0.5, 0.2], [0.3, 0.3]]
    runs = [_record("a", "d1", i, t, wall=0.2) for i, t in enumerate(a)]
    runs += [_record("b", "d1", i, t) for i, t in enumerate(b)]
    s = summarize(runs, ["a", "b"], thresholds=[0.3])
    fa, fb = np.array([0.5, 0.0, 0.3]), np.array([0.6, 0.2, 0.3])
    assert s["b"]["mean_regret_val"] == pytest.approx(fb.mean())
    assert s["a"]["mean_regret_val"] == pytest.approx(fa.mean())
    assert s["a"]["ci95_regret_val"] == pytest.approx(list(mean_ci(fa)[1]))
    assert s["a"]["median_regret_val"] == pytest.approx(0.3)
    assert s["a"]["hit_rate"] == pytest.approx(1 / 3) and s["b"]["hit_rate"] == 0
    assert s["a"]["ci95_hit_rate"] == pytest.approx(list(wilson_ci(1, 3)))
    assert s["a"]["mean_best_val"] == pytest.approx(90 - fa.mean())
    # ranks per seed: a better, a better, tie -> a: (1 + 1 + 1.5) / 3, b: (2 + 2 + 1.5) / 3
    assert s["a"]["mean_rank"] == pytest.approx(3.5 / 3) and s["b"]["mean_rank"] == pytest.approx(5.5 / 3)
    assert s["a"]["queries_to_reach"]["0.3"]["median"] == 2.0
    assert s["b"]["queries_to_reach"]["0.3"]["reached"] == pytest.approx(2 / 3)
    assert s["a"]["seconds_per_query"] == pytest.approx(0.6 / 6)
    assert s["a"]["mean_test_acc"] is None and s["a"]["ci95_test_acc"] is None
    assert s["a"]["curves"]["regret_val"]["mean"] == pytest.approx([3.4 / 3, 0.8 / 3])
    assert s["a"]["curves"]["test_acc"] is None
    # A second dataset: each seed's value is its mean over the two datasets.
    runs2 = runs + [_record("a", "d2", i, [4.0, 2.0 * i]) for i in range(3)]
    s2 = summarize(runs2, ["a"], curves=False)
    per_seed = (fa + np.array([0.0, 2.0, 4.0])) / 2
    assert s2["a"]["mean_regret_val"] == pytest.approx(per_seed.mean())
    assert s2["a"]["ci95_regret_val"] == pytest.approx(list(mean_ci(per_seed)[1]))
    assert s2["a"]["n_seeds"] == 3 and s2["a"]["n_runs"] == 6
    assert s2["a"]["hit_rate"] == pytest.approx(2 / 6) and "curves" not in s2["a"]


@pytest.mark.parametrize(
    "value, seeds",
    [
        (3, [0, 1, 2]),
        ("20", list(range(20))),
        ("1000-1003", [1000, 1001, 1002, 1003]),
        ("0,5,7-8", [0, 5, 7, 8]),
        (range(2, 4), [2, 3]),
    ],
)
def test_parse_seeds_forms(value, seeds):
    """An int N is 0..N-1; ranges are inclusive; comma lists and iterables are taken as given."""
    assert parse_seeds(value) == seeds


@pytest.mark.parametrize("value", [0, "0", "x", "5-2", "1,1", "-3", [-1], True, ""])
def test_parse_seeds_rejects(value):
    """Empty, negative, reversed, duplicate or non-numeric seeds raise the standard error."""
    with pytest.raises(InvalidParameterError, match="The 'seeds' parameter of compare must be"):
        parse_seeds(value)


# --------------------------------------------------------------------------- running
def test_search_result_trajectories_agree(nb201_table):
    """run_search's per-step best val equals the table best minus the regret; no test on nb201."""
    r = run_search(strategy="random", budget=25, seed=4)
    top = nb201_table.best("val_acc", dataset="cifar10")[1]
    assert len(r.trajectory_val) == 25 and r.trajectory_test is None
    assert np.allclose(top - np.array(r.trajectory_val), r.trajectory_regret_val)
    assert np.all(np.diff(r.trajectory_val) >= 0) and r.trajectory_val[-1] == r.best_val
    assert "trajectory_val" not in r.to_dict() and "trajectory_val" in r.to_dict(trajectory=True)


def test_compare_numbers_come_from_run_search():
    """Each run equals its run_search; the summary's mean regret is the mean over seeds."""
    res = compare(strategies="random,rea", budget=15, seeds=3)
    assert [(r.strategy, r.seed) for r in res.runs] == [
        ("random", 0), ("random", 1), ("random", 2), ("rea", 0), ("rea", 1), ("rea", 2),
    ]
    for r in res.runs:
        ref = run_search(strategy=r.strategy, budget=15, seed=r.seed)
        assert r.trajectory_regret_val == ref.trajectory_regret_val and r.best_arch == ref.best_arch
    d = res.to_dict()
    for s in ("random", "rea"):
        final = [r.regret_val for r in res.runs if r.strategy == s]
        e = d["strategies"][s]
        assert e["mean_regret_val"] == pytest.approx(np.mean(final))
        assert e == {k: v for k, v in d["datasets"]["cifar10"]["strategies"][s].items() if k != "curves"}
        assert e["seconds_per_query"] > 0 and e["mean_test_acc"] is None
        assert len(d["datasets"]["cifar10"]["strategies"][s]["curves"]["regret_val"]["mean"]) == 15
    assert d["datasets"]["cifar10"]["table_best_val"] == pytest.approx(91.60666665039064)
    assert d["datasets"]["cifar10"]["test_of_best_val_arch"] is None


@pytest.mark.slow
def test_jobs_2_equals_jobs_1():
    """A process pool of 2 gives exactly the sequential results (only wall times differ)."""
    kw = {"strategies": "random,tpe", "datasets": "cifar10,cifar100", "budget": 12, "seeds": "5-6"}
    one = compare(jobs=1, **kw)
    two = compare(jobs=2, **kw)
    assert two.jobs == 2
    assert _without_timing(one.to_dict(runs=True)) == _without_timing(two.to_dict(runs=True))


def test_cache_resumes_and_skips_broken_lines(tmp_path):
    """Runs in the cache are reused (not rerun), a torn last line is ignored, results unchanged."""
    cache = tmp_path / "runs.jsonl"
    first = compare(strategies="random", budget=10, seeds=2, cache=cache)
    assert first.n_cached == 0 and len(cache.read_text().splitlines()) == 2
    with cache.open("a") as fh:
        fh.write('{"key": "torn')  # an interrupted write
    second = compare(strategies="random", budget=10, seeds=3, cache=cache)
    assert second.n_cached == 2 and len(second.runs) == 3
    fresh = compare(strategies="random", budget=10, seeds=3)
    assert _without_timing(second.to_dict(runs=True)) == _without_timing(
        {**fresh.to_dict(runs=True), "n_cached": 2}
    )
    other_budget = compare(strategies="random", budget=11, seeds=2, cache=cache)
    assert other_budget.n_cached == 0  # another configuration is not taken from the cache


def test_report_and_plot(tmp_path):
    """The Markdown report has a row per strategy and dataset; the plot is a real PNG."""
    res = compare(strategies="random,rea", datasets="cifar10,cifar100", budget=10, seeds=2)
    md = markdown_report(res, command="predictor-nas compare ...", plot="regret.png")
    for ds in ("## cifar10", "## cifar100", "## All datasets"):
        assert ds in md
    for s in ("random", "rea"):
        assert md.count(f"| `{s}` |") == 3  # two datasets + the combined table
    assert "![validation regret vs queries](regret.png)" in md
    path = plot_regret(res, tmp_path / "r.png")
    data = open(path, "rb").read()
    assert data[:8] == PNG_MAGIC
    import matplotlib.image

    img = matplotlib.image.imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 1000  # two panels side by side
    with pytest.raises(InvalidParameterError, match="plot_regret"):
        plot_regret(res.to_dict(curves=False), tmp_path / "x.png")


def test_plot_legends_outside_and_zero_drawn_at_zero():
    """Legends lie outside every panel; regret 0 is drawn at 0 on a symlog axis that says so."""
    from predictor_nas.compare._plot import regret_figure

    res = compare(strategies="random,rea,ls", datasets="cifar10,cifar100", budget=10, seeds=2)
    fig = regret_figure(res)
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2
    for ax in axes:
        box = ax.get_window_extent(renderer)
        leg = ax.get_legend().get_window_extent(renderer)
        assert leg.y1 <= box.y0  # entirely below the plotting area
        assert ax.get_yscale() == "symlog" and ax.get_ylim()[0] == 0.0
        assert "linear below 0.001, 0 = best" in ax.get_ylabel()
        assert fig.bbox.contains(*leg.p0) and fig.bbox.contains(*leg.p1)  # not cut off


@pytest.mark.shared_data
def test_rich_table_gives_test_accuracy(rich_table_path):
    """On nb201-rich the chosen arch's test accuracy is reported per step; none where missing."""
    from predictor_nas.tables import open_table

    rich = open_table(rich_table_path)
    res = compare(
        table=rich_table_path, datasets="cifar10,ImageNet16-120", strategies="rea", budget=12,
        seeds=3,
    )
    d = res.to_dict()
    c10 = d["datasets"]["cifar10"]
    e = c10["strategies"]["rea"]
    runs = [r for r in res.runs if r.dataset == "cifar10"]
    tests = rich.query_many([r.best_arch for r in runs], "test_acc", dataset="cifar10", fidelity=200)
    assert [r.best_test for r in runs] == pytest.approx(tests.tolist())
    assert e["mean_test_acc"] == pytest.approx(tests.mean()) and 80 < e["mean_test_acc"] < 95
    assert e["ci95_test_acc"][0] <= e["mean_test_acc"] <= e["ci95_test_acc"][1]
    assert e["curves"]["test_acc"]["mean"][-1] == pytest.approx(tests.mean())
    assert c10["test_of_best_val_arch"] == pytest.approx(
        rich.query(c10["best_val_arch"], "test_acc", dataset="cifar10", fidelity=200)
    )
    im = d["datasets"]["ImageNet16-120"]  # rich has ImageNet test acc at 12 epochs only
    assert im["strategies"]["rea"]["mean_test_acc"] is None
    assert im["strategies"]["rea"]["curves"]["test_acc"] is None
    assert d["strategies"]["rea"]["mean_test_acc"] is None  # not every dataset has test values


# --------------------------------------------------------------------------- CLI
@pytest.mark.slow
def test_cli_issue_command_json(tmp_path):
    """The issue's command (smaller) prints one JSON object with the required per-strategy keys."""
    code, out, err = run_cli(
        "compare", "--space", "nb201", "--dataset", "cifar10", "--strategies", "random,rea,guided",
        "--budget", "20", "--seeds", "3", "--json", cwd=tmp_path,
    )
    assert code == 0, err
    d = json.loads(out)
    assert set(d["strategies"]) == {"random", "rea", "guided"}
    for name, e in d["strategies"].items():
        assert e["mean_regret_val"] >= 0 and e["n_seeds"] == 3 and e["budget"] == 20
        lo, hi = e["ci95_regret_val"]
        assert lo <= e["mean_regret_val"] <= hi
        assert 0 <= e["hit_rate"] <= 1 and 0 < e["seconds_per_query"] < 10
    rand = [run_search(strategy="random", budget=20, seed=s).regret_val for s in range(3)]
    assert d["strategies"]["random"]["mean_regret_val"] == pytest.approx(np.mean(rand))
    assert d["seeds"] == [0, 1, 2] and d["n_runs"] == 9


def test_cli_out_dir_writes_report_plot_and_json(tmp_path, capsys):
    """--out writes compare.json (same as --json), compare.md and a PNG; a rerun uses the cache."""
    out = tmp_path / "cmp"
    args = ["compare", "--strategies", "random,rea", "--budget", "10", "--seeds", "0-1"]
    assert main([*args, "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((out / "compare.json").read_text())
    assert (out / "regret.png").read_bytes()[:8] == PNG_MAGIC
    md = (out / "compare.md").read_text()
    assert "| `random` |" in md and "| `rea` |" in md and "--seeds 0-1" in md
    assert main([*args, "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "4 runs (4 cached)" in text and "random" in text and "wrote" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--strategies", "random,nope"],
            "The --strategies option of compare must be one of "
            + ", ".join(repr(n) for n in available_strategies())  # read when the test runs
            + ". Got 'nope' instead.",
        ),
        (
            ["--dataset", "cifar10,imagenet"],
            "The --dataset option of compare must be one of 'ImageNet16-120', 'cifar10', 'cifar100'. Got 'imagenet' instead.",
        ),
        (["--seeds", "5-2"], "The --seeds option of compare must be an int N >= 1"),
        (["--seeds", "0"], "Got '0' instead."),
        (["--budget", "0"], "The --budget option of compare must be an int >= 1. Got 0 instead."),
        (["--jobs", "0"], "The --jobs option of compare must be an int >= 1. Got 0 instead."),
        (["--thresholds", "-1"], "The --thresholds option of compare must be a finite float >= 0.0"),
        (["--strategies", "rea,rea"], "The --strategies option of compare must be a non-empty list"),
    ],
)
def test_cli_bad_input_exits_2(args, message, capsys):
    """Bad strategies, datasets, seeds, budgets or jobs exit 2 with one clear line, no output."""
    assert main(["compare", "--json", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("predictor-nas compare: error: ") and message in captured.err
    assert captured.err.count("\n") == 1


def test_cli_bad_strategy_no_traceback(tmp_path):
    """Through the console script a bad strategy is one message, status 2, no traceback."""
    code, out, err = run_cli("compare", "--strategies", "nope", "--json", cwd=tmp_path)
    assert code == 2 and out == "" and "Traceback" not in err and "'nope'" in err


def test_import_compare_is_light():
    """Importing predictor_nas.compare pulls in neither matplotlib, scipy, torch nor xgboost."""
    code = (
        "import sys, predictor_nas.compare;"
        "print(','.join(m for m in ('matplotlib', 'scipy', 'torch', 'xgboost') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_committed_reports_carry_no_machine_paths():
    """No committed benchmark report or result names a machine path (/work/, /tmp/, /root/)."""
    import gzip
    import re
    from pathlib import Path

    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
    assert results.is_dir(), results  # a wrong path must not pass vacuously
    pattern = re.compile(rb"(?<![\w.])/(work|tmp|root|home)/")
    hits = []
    for path in sorted(results.rglob("*")):
        if path.suffix not in (".md", ".json", ".gz", ".csv", ".txt"):
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        hits += [f"{path.relative_to(results)}: {m.group(0)!r}" for m in pattern.finditer(data)]
    assert not hits, hits[:10]
    assert not (results / "guided_quick.md").exists()  # described the old guided; superseded
