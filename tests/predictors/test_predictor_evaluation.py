"""Predictor evaluation: ranking metrics with known answers, the NB201 protocol, the CLI command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import kendalltau

from predictor_nas.cli import main
from predictor_nas.exceptions import InvalidParameterError, PredictorNASError
from predictor_nas.predictors import evaluate_predictors, ranking_metrics
from predictor_nas.predictors._evaluate import plot_kendall
from predictor_nas.spaces import get_space

N_NB201 = 15625
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EP = "evaluate_predictors must be"
SMALL = dict(predictors=("ridge",), train_sizes=(20, 50), seeds=range(2))
RESULT_KEYS = {
    "predictor",
    "train_size",
    "kendall_tau",
    "kendall_tau_ci95",
    "spearman",
    "precision_at_10",
    "precision_at_50",
    "precision_at_100",
    "coverage_1sigma",
    "coverage_2sigma",
    "log_likelihood",
    "fit_seconds",
    "predict_seconds",
    "n_seeds",
    "n_test",
    "per_seed",
}


def _without_timings(result: dict) -> dict:
    out = json.loads(json.dumps(result))
    for r in out["results"]:
        for key in ("fit_seconds", "predict_seconds"):
            r.pop(key)
            r["per_seed"].pop(key)
    return out


@pytest.fixture(scope="module")
def small_eval():
    """Ridge on NB201 cifar10 at n = 20 and 50 with 2 seeds."""
    return evaluate_predictors(**SMALL)


# --------------------------------------------------------------------------- ranking_metrics
def test_perfect_ranking_gives_tau_one_and_full_precision():
    """A monotone transform of the truth ranks perfectly: tau = spearman = 1, precision@k = 1."""
    y = np.arange(200, dtype=float)
    m = ranking_metrics(y, 3 * y - 7)
    assert m["kendall_tau"] == pytest.approx(1.0) and m["spearman"] == pytest.approx(1.0)
    assert m["precision_at_10"] == m["precision_at_50"] == m["precision_at_100"] == 1.0
    assert "coverage_1sigma" not in m and "log_likelihood" not in m


def test_reversed_ranking_gives_tau_minus_one():
    """A reversed prediction has tau = spearman = -1 and no top-10 hit."""
    y = np.arange(200, dtype=float)
    m = ranking_metrics(y, -y)
    assert m["kendall_tau"] == pytest.approx(-1.0) and m["spearman"] == pytest.approx(-1.0)
    assert m["precision_at_10"] == 0.0 and m["precision_at_100"] == 0.0


def test_precision_counts_the_overlap_of_top_sets():
    """Swapping the best arch with a middling one leaves 9 of the true top-10 predicted."""
    y = np.arange(100, dtype=float)
    pred = y.copy()
    pred[[99, 50]] = pred[[50, 99]]
    m = ranking_metrics(y, pred, top_k=(10, 60))
    assert m["precision_at_10"] == pytest.approx(0.9)
    assert m["precision_at_60"] == pytest.approx(1.0)


def test_precision_respects_lower_is_better_and_caps_k():
    """With higher_is_better=False the top is the low end; k larger than n is capped at n."""
    y = np.arange(50, dtype=float)
    m = ranking_metrics(y, y, top_k=(5, 500), higher_is_better=False)
    assert m["precision_at_5"] == 1.0 and m["precision_at_500"] == 1.0
    assert ranking_metrics(y, -y, top_k=(5,), higher_is_better=False)["precision_at_5"] == 0.0


def test_coverage_of_a_known_gaussian_sample():
    """True values drawn from N(mean, std) fall within ±1σ/±2σ about 68.3 % / 95.4 % of the time."""
    rng = np.random.default_rng(0)
    n = 40_000
    mean = rng.uniform(60, 90, size=n)
    std = rng.uniform(0.5, 3.0, size=n)
    y = mean + std * rng.standard_normal(n)
    m = ranking_metrics(y, mean, std)
    assert m["coverage_1sigma"] == pytest.approx(0.6827, abs=0.01)
    assert m["coverage_2sigma"] == pytest.approx(0.9545, abs=0.006)
    expected_ll = float(np.mean(-0.5 * np.log(2 * np.pi * std**2))) - 0.5
    assert m["log_likelihood"] == pytest.approx(expected_ll, abs=0.02)


def test_overconfident_std_has_low_coverage():
    """A std ten times too small covers far fewer true values than the ideal."""
    rng = np.random.default_rng(1)
    y = rng.standard_normal(5000)
    m = ranking_metrics(y, np.zeros(5000), np.full(5000, 0.1))
    assert m["coverage_1sigma"] < 0.1 and m["coverage_2sigma"] < 0.2


def test_constant_prediction_has_undefined_tau():
    """A constant prediction has no ranking: tau and spearman are NaN, not an error."""
    m = ranking_metrics(np.arange(10.0), np.ones(10))
    assert math.isnan(m["kendall_tau"]) and math.isnan(m["spearman"])


@pytest.mark.parametrize(
    "y, mean, std, message",
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], None, "one common length"),
        ([1.0], [1.0], None, "one common length"),
        ([1.0, np.nan], [1.0, 2.0], None, "non-finite"),
        ([1.0, 2.0], [1.0, 2.0], [1.0, -1.0], "std as finite values >= 0"),
    ],
)
def test_ranking_metrics_rejects_bad_arrays(y, mean, std, message):
    """Mismatched, too short or non-finite inputs raise InvalidParameterError saying why."""
    with pytest.raises(InvalidParameterError, match=message):
        ranking_metrics(y, mean, std)


# --------------------------------------------------------------------------- evaluate_predictors
def test_evaluate_structure(small_eval):
    """The result holds the config and one entry per (predictor, size) with all metric keys."""
    r = small_eval
    assert r["space"] == "nb201" and r["table"] == "nb201" and r["dataset"] == "cifar10"
    assert r["metric"] == "val_acc" and r["n_archs"] == N_NB201
    assert r["predictors"] == ["ridge"] and r["train_sizes"] == [20, 50] and r["seeds"] == [0, 1]
    pairs = [(e["predictor"], e["train_size"]) for e in r["results"]]
    assert pairs == [("ridge", 20), ("ridge", 50)]
    for e in r["results"]:
        assert set(e) == RESULT_KEYS
        assert e["n_seeds"] == 2 and e["per_seed"]["seed"] == [0, 1]
        assert all(len(v) == 2 for v in e["per_seed"].values())
        assert e["kendall_tau"] == pytest.approx(np.mean(e["per_seed"]["kendall_tau"]))
        lo, hi = e["kendall_tau_ci95"]
        assert lo <= e["kendall_tau"] <= hi
        assert 0 <= e["coverage_1sigma"] <= e["coverage_2sigma"] <= 1
        assert e["fit_seconds"] > 0 and e["predict_seconds"] > 0
    json.dumps(r, allow_nan=False)


def test_evaluate_is_deterministic(small_eval):
    """The same call gives the same numbers (wall times aside)."""
    again = evaluate_predictors(**SMALL)
    assert _without_timings(again) == _without_timings(small_eval)


def test_test_set_is_every_other_arch(small_eval):
    """Each fit is scored on all archs outside its train set: 15625 - n of them."""
    for e in small_eval["results"]:
        assert e["n_test"] == N_NB201 - e["train_size"]


def test_protocol_reproduced_by_hand(small_eval, nb201_table):
    """Refitting ridge on the documented sample and scoring the complement gives the same tau."""
    from predictor_nas.predictors import BayesianRidgePredictor

    seed, n = 1, 50
    space = get_space("nb201")
    rows = np.arange(N_NB201)
    train = np.sort(np.random.default_rng([seed, n]).choice(rows, size=n, replace=False))
    test = np.setdiff1d(rows, train)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == N_NB201
    y = nb201_table.query_many(rows, "val_acc", dataset="cifar10")
    archs = [space.parse(a) for a in nb201_table.archs]
    model = BayesianRidgePredictor(seed=seed).fit([archs[i] for i in train], y[train])
    tau = kendalltau(model.predict([archs[i] for i in test]).mean, y[test]).statistic
    entry = next(e for e in small_eval["results"] if e["train_size"] == n)
    per_seed = entry["per_seed"]
    assert per_seed["kendall_tau"][per_seed["seed"].index(seed)] == pytest.approx(tau)


def test_tau_in_a_sane_range(small_eval):
    """Ridge on one-hot ranks better than chance but far from perfectly at n <= 50."""
    for e in small_eval["results"]:
        assert 0.1 < e["kendall_tau"] < 0.8
        assert e["spearman"] > e["kendall_tau"]


def test_every_predictor_sees_the_same_sample():
    """Adding a predictor to the run leaves another predictor's numbers unchanged."""
    alone = evaluate_predictors(predictors=["ridge"], train_sizes=[20], seeds=[0])
    both = evaluate_predictors(predictors=["ridge", "xgb"], train_sizes=[20], seeds=[0])
    assert [e["predictor"] for e in both["results"]] == ["ridge", "xgb"]
    ridge_alone = _without_timings(alone)["results"][0]
    assert _without_timings(both)["results"][0] == ridge_alone
    assert both["results"][1]["n_test"] == N_NB201 - 20


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"predictors": ["nope"]}, "Got 'nope' instead."),
        ({"predictors": ["nope"]}, f"The 'predictors' parameter of {EP} one of"),
        ({"predictors": []}, f"The 'predictors' parameter of {EP} a name"),
        (
            {"train_sizes": [1]},
            f"The 'train_sizes' parameter of {EP} a non-empty sequence of ints in [2, 15624]",
        ),
        ({"train_sizes": [15625]}, "Got 15625 instead."),
        ({"train_sizes": []}, "The 'train_sizes' parameter"),
        (
            {"seeds": []},
            f"The 'seeds' parameter of {EP} a non-empty sequence of ints >= 0. Got [] instead.",
        ),
        ({"seeds": [-1]}, "The 'seeds' parameter"),
        ({"metric": "test_acc"}, f"The 'metric' parameter of {EP} a validation metric"),
        ({"metric": "nope"}, f"The 'metric' parameter of {EP} one of"),
        ({"dataset": "imagenet"}, f"The 'dataset' parameter of {EP} one of"),
        ({"zc": ["zc_synflow"]}, f"The 'zc' parameter of {EP} metrics of nb201/cifar10"),
        ({"proxy_dataset": "cifar10"}, f"The 'proxy_dataset' parameter of {EP} None when zc"),
        (
            {"zc": "default", "proxy_dataset": ["cifar10", "imagenet"]},
            "The 'proxy_dataset' parameter of evaluate_predictors (zc_table 'nb201') must be one "
            "of",
        ),
        ({"zc": ["naslib_val"]}, f"The 'zc' parameter of {EP} feature metrics"),
        ({"table": "nb999"}, "No table named or at 'nb999'"),
    ],
)
def test_evaluate_rejects_bad_arguments(kwargs, message):
    """Bad arguments raise a PredictorNASError with the standard message, before any fit."""
    with pytest.raises(PredictorNASError) as info:
        evaluate_predictors(**{**SMALL, **kwargs})
    assert message in str(info.value)


@pytest.mark.shared_data
def test_zero_cost_features_from_another_table(rich_table_path):
    """zc proxies read from the rich table feed the predictors; 'default' expands to DEFAULT_ZC."""
    from predictor_nas.encodings import DEFAULT_ZC

    r = evaluate_predictors(
        predictors="ridge",
        train_sizes=[50],
        seeds=[0],
        zc=["zc_synflow", "zc_nwot"],
        zc_table=rich_table_path,
    )
    assert r["table"] == "nb201" and r["zc_table"] == "nb201-rich"
    assert r["zc"] == ["zc_synflow", "zc_nwot"]
    assert -1 <= r["results"][0]["kendall_tau"] <= 1
    assert r["results"][0]["kendall_tau_ci95"] is None  # one seed: no interval
    d = evaluate_predictors(
        table=rich_table_path, predictors="ridge", train_sizes=[20], seeds=[0], zc="default"
    )
    assert d["zc"] == list(DEFAULT_ZC) and d["zc_table"] == "nb201-rich"


@pytest.mark.shared_data
def test_proxy_dataset_reads_features_from_another_dataset(rich_table_path):
    """proxy_dataset='cifar10' feeds cifar10 proxies to a cifar100 target (which has none): the
    result equals a hand-run of the protocol with TableFeatures(rich, 'cifar10', ...)."""
    from predictor_nas.encodings import TableFeatures
    from predictor_nas.predictors import BayesianRidgePredictor
    from predictor_nas.tables import open_table

    kw = dict(dataset="cifar100", predictors="ridge", train_sizes=[50], seeds=[0])
    zc = ["zc_synflow", "zc_jacov"]
    with pytest.raises(PredictorNASError, match="metrics of nb201-rich/cifar100"):
        evaluate_predictors(**kw, zc=zc, zc_table=rich_table_path)
    r = evaluate_predictors(**kw, zc=zc, zc_table=rich_table_path, proxy_dataset="cifar10")
    assert r["proxy_dataset"] == "cifar10" and r["zc"] == zc
    base = open_table("nb201")
    space = get_space("nb201")
    y = base.query_many(np.arange(N_NB201), "val_acc", dataset="cifar100")
    train = np.sort(np.random.default_rng([0, 50]).choice(N_NB201, size=50, replace=False))
    test = np.setdiff1d(np.arange(N_NB201), train)
    archs = [space.parse(a) for a in base.archs]
    extra = TableFeatures(open_table(rich_table_path), "cifar10", zc)
    model = BayesianRidgePredictor(extra=extra).fit([archs[i] for i in train], y[train])
    tau = kendalltau(y[test], model.predict([archs[i] for i in test]).mean).statistic
    assert r["results"][0]["kendall_tau"] == pytest.approx(tau, abs=1e-12)


@pytest.mark.shared_data
def test_all_zero_cost_metrics_of_two_proxy_datasets(rich_table_path):
    """zc='all' with two proxy datasets uses every zero-cost metric of both (24 each)."""
    from predictor_nas.encodings import zero_cost_metrics
    from predictor_nas.tables import open_table

    both = ["cifar10", "ImageNet16-120"]
    r = evaluate_predictors(
        dataset="cifar100",
        predictors="ridge",
        train_sizes=[20],
        seeds=[0],
        zc="all",
        zc_table=rich_table_path,
        proxy_dataset=both,
    )
    assert r["zc"] == zero_cost_metrics(open_table(rich_table_path), both)
    assert len(r["zc"]) == 24 and r["proxy_dataset"] == both


@pytest.mark.shared_data
def test_cli_proxy_dataset(capsys, rich_table_path):
    """`--zc all --proxy-dataset cifar10,ImageNet16-120` reaches evaluate_predictors."""
    code = main(
        [
            "predictors",
            "evaluate",
            "--dataset",
            "cifar100",
            "--predictor",
            "ridge",
            "--train-sizes",
            "20",
            "--seeds",
            "1",
            "--zc",
            "all",
            "--zc-table",
            str(rich_table_path),
            "--proxy-dataset",
            "cifar10,ImageNet16-120",
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["proxy_dataset"] == ["cifar10", "ImageNet16-120"]
    assert len(result["zc"]) == 24 and result["zc_table"] == "nb201-rich"


def test_plot_kendall_writes_png(small_eval, tmp_path):
    """plot_kendall writes a non-empty PNG."""
    path = tmp_path / "tau.png"
    assert plot_kendall(small_eval, path) == str(path)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000


# --------------------------------------------------------------------------- CLI
def _cli_json(capsys, predictor: str) -> dict:
    code = main(
        [
            "predictors",
            "evaluate",
            "--space",
            "nb201",
            "--dataset",
            "cifar10",
            "--predictor",
            predictor,
            "--train-sizes",
            "100",
            "--seeds",
            "3",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert len(out.strip().splitlines()) == 1
    return json.loads(out)


def test_cli_evaluate_json(capsys):
    """`predictors evaluate --json` prints one JSON object with per-(predictor, n) tau/spearman."""
    result = _cli_json(capsys, "ridge")
    assert result["seeds"] == [0, 1, 2] and result["train_sizes"] == [100]
    (entry,) = result["results"]
    assert entry["predictor"] == "ridge" and entry["train_size"] == 100
    assert -1 <= entry["kendall_tau"] <= 1 and -1 <= entry["spearman"] <= 1
    assert len(entry["per_seed"]["kendall_tau"]) == 3


def test_cli_evaluate_json_xgb(capsys):
    """The documented command with --predictor xgb works and ranks well above chance."""
    result = _cli_json(capsys, "xgb")
    (entry,) = result["results"]
    assert entry["predictor"] == "xgb" and entry["train_size"] == 100
    assert 0.2 < entry["kendall_tau"] <= 1 and entry["spearman"] > entry["kendall_tau"]


def test_cli_evaluate_table_and_plot(capsys, tmp_path):
    """Without --json a readable table is printed; --plot writes a PNG; --predictors is accepted."""
    png = tmp_path / "k.png"
    code = main(
        [
            "predictors",
            "evaluate",
            "--predictors",
            "ridge",
            "--train-sizes",
            "20,50",
            "--seeds",
            "2",
            "--plot",
            str(png),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "kendall tau" in out and "spearman" in out and "ridge" in out and str(png) in out
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--predictor", "nope"],
            "predictor-nas predictors: error: The --predictors option of predictors evaluate "
            "must be one of "
            "'ensemble', 'et', 'gin', 'ridge', 'xgb'. Got 'nope' instead.",
        ),
        (["--predictor", "ridge,nope"], "Got 'nope' instead."),
        (
            ["--seeds", "0"],
            "The --seeds option of predictors evaluate must be an int >= 1. Got 0 instead.",
        ),
        (["--train-sizes", "1"], "The --train-sizes option of predictors evaluate must be"),
        (["--metric", "test_acc"], "The --metric option of predictors evaluate must be a validation metric"),
    ],
)
def test_cli_bad_input_exits_2(capsys, args, message):
    """Unknown predictors and bad values exit 2 with the standard one-line message, no output."""
    # Later options win in argparse: the fast defaults come first, the bad value after them.
    code = main(["predictors", "evaluate", "--train-sizes", "20", "--seeds", "1", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""
