"""The benchmarked guided sampler by name, and pruned trials as censored data for the samplers.

Objectives read the embedded NB201 table (real val accuracies); studies are real Optuna studies
with real pruners (``ThresholdPruner``, ``CurvePruner``).
"""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.curves import CurvePruner, LastValueCurveModel
from predictor_nas.samplers import LocalSearchSampler, PredictorGuidedSampler, observed_targets
from predictor_nas.search import make_sampler
from predictor_nas.spaces import get_space

SPACE = get_space("nb201")
#: ~90% of NB201 cifar10 archs have val_acc below this: the pruner stops most random ones.
HIGH_BAR = 89.65


def _arch(trial: optuna.Trial):
    params = {n: trial.suggest_categorical(n, d.choices) for n, d in SPACE.distributions().items()}
    return SPACE.from_params(params)


def _table_objective(table, *, epochs: int = 3):
    """An objective that reports a curve rising to the arch's NB201 cifar10 val_acc."""

    def objective(trial: optuna.Trial) -> float:
        acc = table.query(_arch(trial), "val_acc", dataset="cifar10")
        for epoch in range(1, epochs + 1):
            trial.report(acc * (0.9 + 0.1 * epoch / epochs), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return acc

    return objective


def test_benchmarked_is_the_guided_strategy(nb201_table):
    """benchmarked() has the guided strategy's settings and makes the same proposals."""
    a = PredictorGuidedSampler.benchmarked("nb201", seed=7)
    b = make_sampler("guided", "nb201", 7)
    for attr in ("predictor", "predictor_kwargs", "acquisition", "n_warmup", "n_candidates",
                 "local_search", "restart", "target", "warmup", "seed"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert a.local_search and not PredictorGuidedSampler("nb201").local_search
    studies = []
    for sampler in (a, b):
        study = optuna.create_study(
            direction="maximize", sampler=sampler, pruner=optuna.pruners.NopPruner()
        )
        study.optimize(_table_objective(nb201_table), n_trials=14)
        studies.append([t.params for t in study.trials])
    assert studies[0] == studies[1]
    assert a.proposal_kinds == b.proposal_kinds and a.proposal_kinds[-1] != "warmup"


def test_guided_leaves_warmup_when_most_trials_are_pruned(nb201_table):
    """With a pruner stopping ~90% of runs, guided proposes predictor picks after 10 targets."""
    sampler = PredictorGuidedSampler.benchmarked("nb201", seed=0)
    study = optuna.create_study(
        direction="maximize", sampler=sampler,
        pruner=optuna.pruners.ThresholdPruner(lower=HIGH_BAR),
    )
    objective = _table_objective(nb201_table)
    complete_before: list[int] = []

    def counted(trial: optuna.Trial) -> float:
        complete_before.append(len(study.get_trials(states=(TrialState.COMPLETE,))))
        return objective(trial)

    study.optimize(counted, n_trials=24)
    kinds = sampler.proposal_kinds
    steered = [i for i, k in enumerate(kinds) if k in ("local", "restart")]
    assert steered and kinds[:9] == ["warmup"] * 9  # trials 1-9; trial 0 is drawn per param
    # proposal_kinds starts at trial 1 (trial 0 is drawn param by param): index i is trial i+1.
    first = steered[0] + 1
    assert complete_before[first] < sampler.n_warmup
    assert len(study.get_trials(states=(TrialState.PRUNED,))) >= 12


def test_diverged_trial_ranks_worst_for_guided_and_history(nb201_table):
    """A run CurvePruner stops as diverged gets a target below every complete and pruned one."""
    accs = {}

    def objective(trial: optuna.Trial) -> float:
        acc = nb201_table.query(_arch(trial), "val_acc", dataset="cifar10")
        accs[trial.number] = acc
        for epoch in range(1, 6):
            value = math.nan if trial.number == 3 and epoch == 2 else acc * (0.5 + 0.1 * epoch)
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return acc

    pruner = CurvePruner(LastValueCurveModel(kind="accuracy"), final_epoch=5, min_epochs=2,
                         n_startup_trials=2, threshold=0.5)
    study = optuna.create_study(direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(objective, n_trials=12)
    trials = study.trials
    assert trials[3].state == TrialState.PRUNED and trials[3].user_attrs["diverged"] is True
    targets = observed_targets(trials, maximize=True)
    finite = [v for i, v in enumerate(targets) if i != 3]
    assert all(v is not None for v in targets)
    assert targets[3] < min(finite)
    pruned = [t for t in trials if t.state == TrialState.PRUNED and t.number != 3]
    assert pruned, "the curve pruner stopped no ordinary run"
    for t in pruned:  # censored at the last report, a pessimistic estimate of the final value
        assert targets[t.number] == t.intermediate_values[max(t.intermediate_values)]
        assert targets[t.number] < accs[t.number]

    history = LocalSearchSampler("nb201", seed=0).history(study)
    assert [p.value for p in history] == targets
    assert [p.pruned for p in history] == [t.state == TrialState.PRUNED for t in trials]

    class Recording(PredictorGuidedSampler):
        """A guided sampler that keeps the targets of its last fit."""

        def _fit(self, codes, y, pending):
            self.fitted = (list(codes), y.copy())
            return super()._fit(codes, y, pending)

    sampler = Recording("nb201", seed=0, n_warmup=10, target="raw")
    guided = optuna.create_study(direction="maximize", sampler=sampler)
    guided.add_trials(trials)
    _arch(guided.ask())
    codes, y = sampler.fitted
    assert len(y) == 12
    diverged = codes.index(tuple(SPACE.to_codes(SPACE.from_params(trials[3].params))))
    assert y[diverged] == targets[3] and y[diverged] < np.delete(y, diverged).min()


def test_minimised_study_censors_pruned_losses():
    """In a loss study a pruned run's last loss (negated) is its target; inf loss is the floor."""
    study = optuna.create_study(direction="minimize")
    for value, state, reports in [
        (2.0, TrialState.COMPLETE, {}),
        (1.0, TrialState.COMPLETE, {}),
        (None, TrialState.PRUNED, {1: 4.0, 2: 3.0}),
        (None, TrialState.PRUNED, {1: 4.0, 2: math.inf}),
        (None, TrialState.PRUNED, {}),
    ]:
        study.add_trial(optuna.trial.create_trial(
            state=state, value=value, intermediate_values=reports,
            params={"x": 0.0}, distributions={"x": optuna.distributions.FloatDistribution(0, 1)},
        ))
    targets = observed_targets(study.trials, maximize=False)
    # finite targets -2, -1, -3: lo=-3, hi=-1, floor = -3 - 2 = -5.
    assert targets == [-2.0, -1.0, -3.0, -5.0, None]


def test_without_pruned_trials_targets_are_the_complete_values():
    """A study with no pruned trial gets exactly its complete values (nothing moves)."""
    values = [0.3, 0.1, math.inf, 0.7]
    trials = [
        optuna.trial.create_trial(state=TrialState.COMPLETE, value=v) for v in values
    ] + [optuna.trial.create_trial(state=TrialState.FAIL)]
    assert observed_targets(trials, maximize=True) == [0.3, 0.1, None, 0.7, None]
    assert observed_targets(trials, maximize=False) == [-0.3, -0.1, None, -0.7, None]


@pytest.mark.parametrize("all_equal", [True, False])
def test_diverged_floor_when_targets_are_equal_or_absent(all_equal):
    """The floor is lo - max(|lo|, 1) for equal targets and -1 when no target is finite."""
    diverged = optuna.trial.create_trial(
        state=TrialState.PRUNED, intermediate_values={1: 0.2}, user_attrs={"diverged": True}
    )
    others = [optuna.trial.create_trial(state=TrialState.COMPLETE, value=0.5)] * 2
    trials = [*others, diverged] if all_equal else [diverged]
    expected = [0.5, 0.5, -0.5] if all_equal else [-1.0]
    assert observed_targets(trials, maximize=True) == expected


def test_local_search_leaves_its_random_start_under_an_aggressive_pruner(nb201_table):
    """LocalSearchSampler counts pruned trials in its start and climbs, as guided does."""
    sampler = LocalSearchSampler("nb201", n_init=5, seed=0)
    study = optuna.create_study(
        direction="maximize", sampler=sampler,
        pruner=optuna.pruners.ThresholdPruner(lower=HIGH_BAR),
    )
    study.optimize(_table_objective(nb201_table), n_trials=15)
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) < 5
    roles = [s.role for s in sampler.steps(study)]
    assert "neighbour" in roles
