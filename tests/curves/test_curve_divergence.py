"""Diverged runs (NaN, inf or exploding values) in curve models, the pruner and learned fits."""

from __future__ import annotations

import logging

import numpy as np
import optuna
import pytest

from predictor_nas.curves import (
    CurvePruner,
    LastValueCurveModel,
    LearnedCurveModel,
    ParametricEnsembleCurveModel,
    check_partial,
    load_nlp_curves,
    split_partial,
)
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.testing.pytest_curves import pow3_curves

FINAL = 20


# --------------------------------------------------------------------------- check_partial
def test_check_partial_names_the_nan_and_its_epoch():
    """A NaN inside the prefix is named with its own value and epoch, not the next value's."""
    for batch in ([np.array([1.0, np.nan, 2.0])], np.array([[1.0, np.nan, 2.0, np.nan]])):
        with pytest.raises(InvalidParameterError) as info:
            check_partial(batch, "f")
        msg = str(info.value)
        assert "non-finite value (nan) at epoch 2" in msg
        assert "finite value 2.0 at epoch 3" in msg


def test_split_partial_tells_padding_from_divergence():
    """Lists give lengths explicitly (a trailing NaN diverged); 2-D NaN is padding, inf diverged."""
    values, lengths, div = split_partial([[5.0, 4.0, np.nan], [5.0, 4.5, 4.2, 4.1]], "f")
    assert lengths.tolist() == [2, 4] and div.tolist() == [3, 0]
    assert np.isnan(values[0, 2:]).all()
    padded = np.array([[5.0, 4.0, np.nan, np.nan], [5.0, 4.0, np.inf, np.nan], [np.inf] * 4])
    _, lengths, div = split_partial(padded, "f")
    assert lengths.tolist() == [2, 2, 0] and div.tolist() == [0, 3, 1]
    with pytest.raises(InvalidParameterError, match=r"curve 0 has a non-finite value \(nan\) at "
                       r"epoch 3: a diverged run"):
        check_partial([[1.0, 2.0, np.nan]], "f")


# --------------------------------------------------------------------------- predict_final
@pytest.mark.parametrize(
    "make",
    [
        lambda kind, b: LastValueCurveModel(kind=kind, bounds=b),
        lambda kind, b: ParametricEnsembleCurveModel(kind=kind, bounds=b),
        lambda kind, b: LearnedCurveModel(kind=kind, bounds=b, max_iter=10).fit(
            pow3_curves(30, FINAL, kind=kind, seed=0)
        ),
    ],
    ids=["last-value", "parametric", "learned"],
)
@pytest.mark.parametrize("kind", ["accuracy", "loss"])
def test_diverged_curve_is_predicted_worst(make, kind):
    """A curve diverged at epoch 3 predicts the worst value with std 0, not an extrapolation."""
    clean = pow3_curves(3, FINAL, kind=kind, seed=1)[:, :6]
    batch = [clean[0], np.array([*clean[1, :2], np.nan]), clean[2], np.array([np.inf])]
    pred = make(kind, None).predict_final(batch, final_epoch=FINAL)
    worst = -np.inf if kind == "accuracy" else np.inf
    assert pred.mean[1] == worst and pred.mean[3] == worst
    assert pred.std[1] == 0.0 and pred.std[3] == 0.0
    alone = make(kind, None).predict_final([clean[0], clean[2]], final_epoch=FINAL)
    np.testing.assert_allclose(pred.mean[[0, 2]], alone.mean, rtol=1e-9)
    assert np.all(pred.std[[0, 2]] > 0)
    bounds = (0.0, 100.0)
    clipped = make(kind, bounds).predict_final(batch, final_epoch=FINAL)
    assert clipped.mean[1] == (0.0 if kind == "accuracy" else 100.0)


# --------------------------------------------------------------------------- the pruner
def _feed(study: optuna.Study, curve: list[float]) -> tuple[int, optuna.trial.FrozenTrial]:
    trial = study.ask()
    for epoch, v in enumerate(curve, start=1):
        trial.report(float(v), epoch)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return epoch, study.trials[-1]
    study.tell(trial, float(curve[-1]))
    return len(curve), study.trials[-1]


@pytest.mark.parametrize("bad", [np.nan, np.inf, 3e10])
def test_pruner_stops_a_diverged_run_at_once(tmp_path, bad):
    """NaN, inf or a blow-up past max_abs_value prunes at that epoch and is recorded as diverged."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = str(tmp_path / "s.journal")
    pruner = CurvePruner(LastValueCurveModel(kind="loss"), final_epoch=FINAL, min_epochs=5,
                         n_startup_trials=1)
    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(path)), pruner=pruner)
    curve = list(pow3_curves(1, FINAL, kind="loss", seed=2)[0])
    curve[2] = bad  # epoch 3: before min_epochs, and no trial has completed yet
    used, trial = _feed(study, curve)
    assert used == 3 and trial.state == optuna.trial.TrialState.PRUNED
    reloaded = optuna.load_study(study_name=study.study_name,
                                 storage=JournalStorage(JournalFileBackend(path)))
    attrs = reloaded.trials[0].user_attrs
    assert attrs == {"diverged": True, "diverged_epoch": 3}
    used, trial = _feed(study, list(pow3_curves(1, FINAL, kind="loss", seed=3)[0]))
    assert used == FINAL and "diverged" not in trial.user_attrs


def test_pruner_max_abs_value_setting():
    """max_abs_value=None treats only NaN/inf as divergence; a bad bound is refused."""
    pruner = CurvePruner(LastValueCurveModel(kind="loss"), final_epoch=FINAL, min_epochs=5,
                         n_startup_trials=1, max_abs_value=None)
    study = optuna.create_study(pruner=pruner)
    curve = list(pow3_curves(1, FINAL, kind="loss", seed=2)[0])
    curve[2] = 3e10
    assert _feed(study, curve)[0] == FINAL
    for bad in (0.0, -1.0, float("inf"), "big"):
        with pytest.raises(InvalidParameterError,
                           match="The 'max_abs_value' parameter of CurvePruner must be"):
            CurvePruner(LastValueCurveModel(), final_epoch=FINAL, max_abs_value=bad)


# --------------------------------------------------------------------------- learned fit
@pytest.mark.shared_data
def test_learned_fit_drops_exploded_curves(shared_data, caplog):
    """4% of NAS-Bench-NLP curves blown up to 1e12: predictions match the clean fit, with a warning."""
    curves = load_nlp_curves(shared_data / "curves" / "nas-bench-nlp-wt2"
                             / "wikitext2_logs.jsonl.gz")
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(curves))
    train, test = curves[idx[:280]], curves[idx[280:]]
    n_bad = round(0.04 * len(train))
    bad_rows = np.sort(rng.choice(len(train), n_bad, replace=False))
    dirty = train.copy()
    for r in bad_rows:  # from a random epoch on, the loss grows tenfold per epoch up to 1e12
        start = int(rng.integers(5, 40))
        growth = np.minimum(dirty[r, start - 1] * 10.0 ** np.arange(1, 51 - start), 1e12)
        dirty[r, start:] = growth
    keep = np.setdiff1d(np.arange(len(train)), bad_rows)
    kw = {"kind": "loss", "max_iter": 40}
    clean_fit = LearnedCurveModel(**kw).fit(train[keep])
    with caplog.at_level(logging.WARNING, logger="predictor_nas.curves._learned"):
        robust = LearnedCurveModel(**kw).fit(dirty)
    assert robust.outlier_curves_.tolist() == bad_rows.tolist()
    assert f"dropped {n_bad} of 280 corpus curves" in caplog.text
    part = test[:, :10]
    ref = clean_fit.predict_final(part, final_epoch=50)
    got = robust.predict_final(part, final_epoch=50)
    np.testing.assert_allclose(got.mean, ref.mean, rtol=1e-12)
    np.testing.assert_allclose(got.std, ref.std, rtol=1e-12)
    naive = LearnedCurveModel(**kw, outlier_factor=None).fit(dirty)
    assert naive.outlier_curves_.size == 0
    shift = np.abs(naive.predict_final(part, final_epoch=50).mean - ref.mean).max()
    assert shift > 1e9  # what the robust fit prevents
    done = {}
    for name, model in (("robust", robust), ("naive", naive)):
        pruner = CurvePruner(model, final_epoch=50, min_epochs=5, n_startup_trials=3, interval=5)
        study = optuna.create_study(pruner=pruner)
        used = [_feed(study, list(c))[0] for c in test[:15]]
        done[name] = (sum(u == 50 for u in used), study.best_value)
    assert done["robust"][0] > 3 and done["robust"][1] == test[:15, -1].min()  # keeps the best
    assert done["naive"][0] == 3  # the naive fit prunes every run after the 3 startup ones


def test_learned_outlier_settings():
    """A bad outlier_factor is refused; a factor dropping all but one curve is refused clearly."""
    corpus = pow3_curves(10, 12, seed=4)
    with pytest.raises(InvalidParameterError, match="'outlier_factor' parameter"):
        LearnedCurveModel(outlier_factor=0).fit(corpus)
    with pytest.raises(InvalidParameterError, match="leaving fewer than 2 curves"):
        LearnedCurveModel(max_iter=5, outlier_factor=1e-6).fit(corpus[:3])
