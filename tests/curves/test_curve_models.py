"""Learning-curve models: the shared contract for all three, plus model-specific checks."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from predictor_nas.curves import (
    DEFAULT_FAMILIES,
    FAMILIES,
    CurveModel,
    LastValueCurveModel,
    LearnedCurveModel,
    ParametricEnsembleCurveModel,
    check_partial,
    evaluate_curve_models,
    load_nlp_curves,
)
from predictor_nas.curves._families import ASYMPTOTE_MAX
from predictor_nas.curves._parametric_fit import fit_family
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.testing.pytest_curves import CurveModelContract, pow3_curves

NLP_LOGS = Path("curves") / "nas-bench-nlp-wt2" / "wikitext2_logs.jsonl.gz"


# --------------------------------------------------------------------------- contracts
class TestLastValueContract(CurveModelContract):
    """The last-value baseline passes the contract (it does not extrapolate, so bar = 1)."""

    max_relative_error = 1.0

    @staticmethod
    def make_model(seed):
        return LastValueCurveModel(seed=seed)


class TestLastValueLossContract(CurveModelContract):
    """The baseline on loss curves."""

    kind = "loss"
    max_relative_error = 1.0

    @staticmethod
    def make_model(seed):
        return LastValueCurveModel(kind="loss", seed=seed)


class TestParametricContract(CurveModelContract):
    """The parametric ensemble passes the contract on accuracy curves."""

    max_relative_error = 0.25

    @staticmethod
    def make_model(seed):
        return ParametricEnsembleCurveModel(seed=seed)


class TestParametricLossContract(CurveModelContract):
    """The parametric ensemble on loss curves."""

    kind = "loss"
    max_relative_error = 0.25

    @staticmethod
    def make_model(seed):
        return ParametricEnsembleCurveModel(kind="loss", seed=seed)


class TestLearnedContract(CurveModelContract):
    """The learned model passes the contract on accuracy curves."""

    max_relative_error = 0.5

    @staticmethod
    def make_model(seed):
        return LearnedCurveModel(max_iter=60, seed=seed)


class TestLearnedLossContract(CurveModelContract):
    """The learned model on loss curves."""

    kind = "loss"
    max_relative_error = 0.5

    @staticmethod
    def make_model(seed):
        return LearnedCurveModel(kind="loss", max_iter=60, seed=seed)


# --------------------------------------------------------------------------- validation
def test_check_partial_pads_and_measures():
    """Ragged input becomes a NaN-padded array with the observed lengths."""
    values, lengths = check_partial([[1.0, 2.0, 3.0], [4.0]], "f")
    assert values.shape == (2, 3) and lengths.tolist() == [3, 1]
    assert np.isnan(values[1, 1:]).all()


def test_bounds_clip_the_mean():
    """bounds=(0, 100) keeps a runaway extrapolation inside the range."""
    steep = np.array([[10.0, 40.0, 60.0, 72.0, 80.0, 86.0]])
    free = ParametricEnsembleCurveModel().predict_final(steep, final_epoch=200)
    clipped = ParametricEnsembleCurveModel(bounds=(0, 90)).predict_final(steep, final_epoch=200)
    assert free.mean[0] > 90 and clipped.mean[0] == 90
    with pytest.raises(InvalidParameterError, match="'bounds' parameter"):
        ParametricEnsembleCurveModel(bounds=(5, 1)).fit()


# --------------------------------------------------------------------------- last value
def test_last_value_std_is_corpus_rms():
    """With a corpus, the std is the RMS of final-minus-cut differences at the same cut."""
    corpus = pow3_curves(30, 20, seed=4)
    model = LastValueCurveModel().fit(corpus)
    pred = model.predict_final(corpus[:, :6], final_epoch=20)
    np.testing.assert_array_equal(pred.mean, corpus[:, 5])
    rms = np.sqrt(np.mean((corpus[:, -1] - corpus[:, 5]) ** 2))
    np.testing.assert_allclose(pred.std, rms)
    # beyond the corpus length the same fraction of the corpus is used (6/40 -> 3/20)
    far = model.predict_final(corpus[:, :6], final_epoch=40)
    np.testing.assert_allclose(far.std, np.sqrt(np.mean((corpus[:, -1] - corpus[:, 2]) ** 2)))


def test_last_value_heuristic_std_grows_with_horizon():
    """Without a corpus the std is positive and grows with the distance to the final epoch."""
    part = pow3_curves(5, 8, seed=5)
    model = LastValueCurveModel()
    near = model.predict_final(part, final_epoch=10).std
    far = model.predict_final(part, final_epoch=100).std
    assert np.all(near > 0) and np.all(far > near)


# --------------------------------------------------------------------------- parametric
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_batched_solver_matches_scipy(name):
    """The batched LM reaches scipy least_squares' bounded optimum on >= 90% of the fits."""
    fam = FAMILIES[name]
    curves = pow3_curves(20, 15, noise=0.5, seed=6)
    values, lengths = check_partial(curves[:, :10], "t")
    lo, hi = values.min(1), values.max(1)
    u = (values - lo[:, None]) / (hi - lo)[:, None]
    ours = fit_family(fam, u, lengths, 15)["rss"]
    ref = fit_family(fam, u, lengths, 15, solver="scipy")["rss"]
    assert np.mean(ours <= ref * 1.01 + 1e-10) >= 0.9


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_family_is_monotone_and_bounded(name):
    """Every fitted member extrapolates upwards from its fitted last value, within the bound."""
    fam = FAMILIES[name]
    curves = pow3_curves(20, 12, noise=0.3, seed=7)
    values, lengths = check_partial(curves[:, :8], "t")
    lo, hi = values.min(1), values.max(1)
    u = (values - lo[:, None]) / (hi - lo)[:, None]
    res = fit_family(fam, u, lengths, 60)
    assert np.all(res["final"] >= res["fitted_last"] - 1e-12)
    if fam.offset or fam.b_is_asymptote:
        assert np.all(res["final"] <= ASYMPTOTE_MAX + 1e-9)


def test_parametric_direction_for_loss_and_accuracy():
    """The extrapolation goes up for accuracy and down for loss, never backwards."""
    acc = pow3_curves(20, 30, seed=8)
    loss = pow3_curves(20, 30, kind="loss", seed=8)
    for kind, curves, sign in (("accuracy", acc, 1.0), ("loss", loss, -1.0)):
        model = ParametricEnsembleCurveModel(kind=kind)
        part = curves[:, :10]
        mem = model.member_predictions(*check_partial(part, "t"), 30)
        fitted_last = (mem["weight"] * mem["fitted_last"]).sum(1)
        mean = model.predict_final(part, final_epoch=30).mean
        assert np.all(sign * (mean - fitted_last) >= -1e-9)


def test_parametric_short_curves_fall_back_to_last_value():
    """Curves with fewer than 3 observed epochs get their last value."""
    part = [np.array([50.0]), np.array([50.0, 60.0]), np.array([50.0, 60.0, 65.0, 68.0])]
    pred = ParametricEnsembleCurveModel().predict_final(part, final_epoch=20)
    assert pred.mean[0] == 50.0 and pred.mean[1] == 60.0 and pred.mean[2] > 68.0


def test_parametric_calibration_changes_std_only():
    """fit(curves) calibrates the std on the corpus and leaves the mean alone."""
    corpus = pow3_curves(40, 20, noise=0.3, seed=9)
    part = pow3_curves(10, 20, noise=0.3, seed=10)[:, :6]
    plain = ParametricEnsembleCurveModel().predict_final(part, final_epoch=20)
    model = ParametricEnsembleCurveModel().fit(corpus)
    cal = model.predict_final(part, final_epoch=20)
    np.testing.assert_array_equal(plain.mean, cal.mean)
    assert not np.allclose(plain.std, cal.std)
    assert ParametricEnsembleCurveModel(calibrate=False).fit(corpus).calibration_ is None


@pytest.mark.parametrize("weighting", ["bic", "inverse_variance", "equal"])
def test_parametric_weightings(weighting):
    """Every weighting gives member weights that sum to 1 and a sensible extrapolation."""
    curves = pow3_curves(15, 30, noise=0.05, seed=11)
    model = ParametricEnsembleCurveModel(weighting=weighting, families=("pow3", "mmf", "ilog2"))
    mem = model.member_predictions(*check_partial(curves[:, :12], "t"), 30)
    np.testing.assert_allclose(mem["weight"].sum(1), 1.0)
    pred = model.predict_final(curves[:, :12], final_epoch=30)
    assert np.mean(np.abs(pred.mean - curves[:, -1])) < np.mean(
        np.abs(curves[:, 11] - curves[:, -1])
    )


def test_parametric_bad_settings():
    """Unknown families, weightings and solvers are refused with the standard message."""
    for kwargs, name in (
        ({"families": ["pow3", "nope"]}, "families"),
        ({"families": "pow3"}, "families"),
        ({"weighting": "aic"}, "weighting"),
        ({"solver": "lbfgs"}, "solver"),
        ({"max_iter": 0}, "max_iter"),
    ):
        with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
            ParametricEnsembleCurveModel(**kwargs).fit()
    assert set(DEFAULT_FAMILIES) <= set(FAMILIES)


# --------------------------------------------------------------------------- learned
def test_learned_extra_features_round_trip():
    """Architecture features are used when given at fit and required at predict."""
    corpus = pow3_curves(30, 15, seed=12)
    extra = np.random.default_rng(0).normal(size=(30, 2))
    model = LearnedCurveModel(max_iter=20).fit(corpus, extra=extra)
    assert model.feature_names_[-2:] == ("extra0", "extra1")
    pred = model.predict_final(corpus[:4, :5], final_epoch=15, extra=extra[:4])
    assert pred.mean.shape == (4,)
    with pytest.raises(InvalidParameterError, match="extra"):
        model.predict_final(corpus[:4, :5], final_epoch=15)
    with pytest.raises(InvalidParameterError, match="'extra' parameter"):
        model.predict_final(corpus[:4, :5], final_epoch=15, extra=extra[:4, :1])
    plain = LearnedCurveModel(max_iter=20).fit(corpus)
    with pytest.raises(InvalidParameterError, match="without architecture features"):
        plain.predict_final(corpus[:4, :5], final_epoch=15, extra=extra[:4])
    with pytest.raises(InvalidParameterError, match="does not use architecture features"):
        LastValueCurveModel().fit(corpus, extra=extra)


def test_learned_refuses_final_epoch_past_the_corpus():
    """Boosted trees do not extrapolate in the horizon: final_epoch > L is refused."""
    corpus = pow3_curves(20, 15, seed=13)
    model = LearnedCurveModel(max_iter=10).fit(corpus)
    with pytest.raises(InvalidParameterError, match="corpus curve length"):
        model.predict_final(corpus[:3, :5], final_epoch=16)
    assert model.predict_final(corpus[:3, :5], final_epoch=10).mean.shape == (3,)


# --------------------------------------------------------------------------- evaluation
def _write_logs(path: Path, curves: np.ndarray) -> None:
    with gzip.open(path, "wt") as fh:
        for i, c in enumerate(curves):
            rec = {"status": "OK", "recepie_id": i, "num_params": 100 + i, "val_losses": list(c)}
            fh.write(json.dumps(rec) + "\n")
        fh.write(json.dumps({"status": "loss is nan!", "val_losses": [5.0, None]}) + "\n")


def test_load_nlp_curves_skips_failed_runs(tmp_path, caplog):
    """Failed runs are skipped and counted in the log and the info dict."""
    curves = pow3_curves(4, 6, kind="loss", seed=14)
    path = tmp_path / "logs.jsonl.gz"
    _write_logs(path, curves)
    with caplog.at_level(logging.INFO, logger="predictor_nas.curves._evaluate"):
        out, info = load_nlp_curves(path, with_info=True)
    np.testing.assert_allclose(out, curves)
    assert info["skipped"] == 1 and info["recepie_id"].tolist() == [0, 1, 2, 3]
    assert "skipped 1 failed runs" in caplog.text
    with pytest.raises(InvalidParameterError, match="'metric' parameter"):
        load_nlp_curves(path, metric="ppl")


@pytest.mark.shared_data
def test_load_nlp_curves_real_file(shared_data):
    """The released NAS-Bench-NLP logs give 341 OK runs of 50 epochs (4 failed skipped)."""
    curves, info = load_nlp_curves(shared_data / NLP_LOGS, with_info=True)
    assert curves.shape == (341, 50) and info["skipped"] == 4
    assert curves.min() == pytest.approx(4.567582, abs=1e-6)


class _SpyModel(LastValueCurveModel):
    """Last value that records the corpus it was fitted on."""

    seen: list[np.ndarray] = []  # noqa: RUF012

    def _fit(self, curves, extra):
        _SpyModel.seen.append(curves.copy())
        super()._fit(curves, extra)


def test_evaluate_uses_held_out_folds():
    """Each fold fits on the other folds only; the table has every metric per model and cut."""
    curves = pow3_curves(25, 20, kind="loss", seed=15)
    _SpyModel.seen = []
    ev = evaluate_curve_models(
        curves,
        {
            "spy": lambda s: _SpyModel(kind="loss", seed=s),
            "param": ParametricEnsembleCurveModel(kind="loss", calibrate=False),
        },
        cuts=(0.2, 0.5), seeds=(0, 1), n_folds=5, timing_repeats=1,
    )
    assert len(_SpyModel.seen) == 10 and all(len(s) == 20 for s in _SpyModel.seen)
    assert len(ev.table) == 4 and len(ev.per_seed) == 8
    row = next(r for r in ev.table if r["model"] == "spy" and r["cut"] == 0.2)
    assert row["observed_epochs"] == 4 and row["n_seeds"] == 2
    assert row["mae"] == pytest.approx(np.mean(np.abs(curves[:, 3] - curves[:, -1])))
    for key in ("mae", "rmse", "loglik", "spearman", "coverage_2sd", "curves_per_s"):
        assert np.isfinite(row[key])
    pred = ev.predictions["param"][0.5]
    assert np.all(np.isfinite(pred.mean)) and np.all(pred.std > 0)
    with pytest.raises(InvalidParameterError, match="'cuts' parameter"):
        evaluate_curve_models(curves, {"spy": _SpyModel()}, cuts=(1.0,))


def test_subclass_without_overrides_is_abstract():
    """CurveModel cannot be instantiated without _fit and _predict."""
    with pytest.raises(TypeError):
        CurveModel()  # type: ignore[abstract]


def test_import_is_light():
    """`import predictor_nas.curves` imports neither torch nor xgboost."""
    code = (
        "import sys, predictor_nas.curves;"
        "heavy = [m for m in ('torch', 'torch_geometric', 'xgboost') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
