"""The curve-extrapolation pruner stops hopeless runs and keeps promising ones."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from predictor_nas.curves import (
    CurvePruner,
    LastValueCurveModel,
    ParametricEnsembleCurveModel,
    probability_to_beat,
)
from predictor_nas.exceptions import InvalidParameterError

FINAL = 30


def acc_curve(top: float, rate: float, rng: np.random.Generator) -> np.ndarray:
    """A saturating accuracy curve (percent) with small noise, epochs 1..FINAL."""
    e = np.arange(1, FINAL + 1)
    return top - (top - 10.0) * np.exp(-rate * e) + rng.normal(0, 0.2, FINAL)


def run(study: optuna.Study, curves: list[np.ndarray]) -> list[int]:
    """Feed each curve to a trial epoch by epoch; return the epochs each trial used."""
    used = []
    for c in curves:
        trial = study.ask()
        for epoch, v in enumerate(c, start=1):
            trial.report(float(v), epoch)
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, float(c[-1]))
        used.append(epoch)
    return used


def test_probability_to_beat():
    """P(beat) is 0.5 at the incumbent, near 1 far above, near 0 far below; minimize mirrors."""
    assert probability_to_beat(90.0, 1.0, 90.0, maximize=True) == pytest.approx(0.5)
    assert probability_to_beat(95.0, 1.0, 90.0, maximize=True) > 0.999
    assert probability_to_beat(80.0, 1.0, 90.0, maximize=True) < 1e-6
    assert probability_to_beat(4.0, 0.1, 5.0, maximize=False) > 0.999


def test_prunes_hopeless_keeps_promising():
    """Runs heading to 50 % are pruned early; a run heading above the incumbent is completed."""
    rng = np.random.default_rng(0)
    pruner = CurvePruner(
        ParametricEnsembleCurveModel(kind="accuracy", bounds=(0, 100)),
        final_epoch=FINAL, threshold=0.05, min_epochs=5, n_startup_trials=3,
    )
    study = optuna.create_study(direction="maximize", pruner=pruner)
    good = [acc_curve(88.0 + i, 0.25, rng) for i in range(3)]
    bad = [acc_curve(50.0, 0.25, rng) for _ in range(4)]
    better = [acc_curve(93.0, 0.25, rng)]
    used = run(study, good + bad + better)
    assert used[:3] == [FINAL] * 3  # startup trials are never pruned
    assert all(u < FINAL // 2 for u in used[3:7])  # hopeless runs stop early
    assert used[7] == FINAL  # the run that beats the incumbent is kept
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.PRUNED) == 4
    assert study.best_value == pytest.approx(better[0][-1])


def test_no_pruning_before_min_epochs_and_startup():
    """Nothing is pruned before min_epochs reports or before n_startup_trials completed."""
    rng = np.random.default_rng(1)
    pruner = CurvePruner(LastValueCurveModel(kind="accuracy"), final_epoch=FINAL, min_epochs=10,
                         n_startup_trials=2)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    used = run(study, [acc_curve(90, 0.3, rng), acc_curve(40, 0.3, rng), acc_curve(91, 0.3, rng),
                       acc_curve(40, 0.3, rng)])
    assert used[:3] == [FINAL, FINAL, FINAL]  # only one trial had completed when #2 ran
    assert used[3] == 10  # first decision exactly at min_epochs


def test_direction_must_match_the_curve_kind():
    """An accuracy model in a minimized study is refused with a clear message."""
    pruner = CurvePruner(LastValueCurveModel(kind="accuracy"), final_epoch=FINAL, min_epochs=2,
                         n_startup_trials=1)
    study = optuna.create_study(direction="minimize", pruner=pruner)
    rng = np.random.default_rng(2)
    run(study, [acc_curve(90, 0.3, rng)])
    trial = study.ask()
    trial.report(1.0, 1)
    trial.report(1.0, 2)
    with pytest.raises(InvalidParameterError, match="kind 'loss'"):
        trial.should_prune()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"threshold": 0.0}, "The 'threshold' parameter of CurvePruner"),
        ({"threshold": 1.0}, "a float in (0, 1)"),
        ({"final_epoch": 1}, "The 'final_epoch' parameter of CurvePruner must be an int >= 2"),
        ({"min_epochs": 0}, "The 'min_epochs' parameter of CurvePruner must be an int >= 1"),
    ],
)
def test_bad_arguments(kwargs, message):
    """Invalid pruner settings raise the standard parameter error."""
    args = {"final_epoch": FINAL, **kwargs}
    with pytest.raises(InvalidParameterError) as info:
        CurvePruner(LastValueCurveModel(), **args)
    assert message in str(info.value)


@pytest.mark.slow
def test_saves_epochs_on_real_curves(shared_data):
    """On NAS-Bench-NLP curves the pruner saves most epochs and still finds a near-best run."""
    from predictor_nas.curves import load_nlp_curves

    path = shared_data / "curves" / "nas-bench-nlp-wt2" / "wikitext2_logs.jsonl.gz"
    curves = load_nlp_curves(path)
    order = np.random.default_rng(0).permutation(len(curves))[:120]
    runs = [curves[i] for i in order]
    final = runs[0].shape[0]
    study = optuna.create_study(
        direction="minimize",
        pruner=CurvePruner(ParametricEnsembleCurveModel(kind="loss"), final_epoch=final,
                           threshold=0.05, min_epochs=5, n_startup_trials=5, interval=5),
    )
    used = run(study, runs)
    best_possible = min(float(c[-1]) for c in runs)
    saved = 1 - sum(used) / (final * len(runs))
    assert saved > 0.3
    assert study.best_value - best_possible < 0.05  # log-perplexity, i.e. < 5 % perplexity
