"""Contract tests every predictor_nas sampler must pass.

Use from a test module::

    from predictor_nas.testing.pytest_samplers import BasicSamplerContract

    class TestMySampler(BasicSamplerContract):
        @staticmethod
        def make_sampler(seed):
            return MySampler(seed=seed)

The contract runs real Optuna studies (in memory and a journal file) over the NB201 decisions with
a cheap deterministic objective, so it needs no table.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.spaces import get_space

_SPACE = get_space("nb201")
_WEIGHTS = {
    "none": 0.0,
    "skip_connect": 1.0,
    "nor_conv_1x1": 2.0,
    "nor_conv_3x3": 3.0,
    "avg_pool_3x3": 0.5,
}


def objective_value(params: dict) -> float:
    """A deterministic score of NB201 params with a unique best (all nor_conv_3x3)."""
    return sum(_WEIGHTS[params[p]] * (1 + 0.1 * i) for i, p in enumerate(_SPACE.param_names))


def _run(
    sampler: optuna.samplers.BaseSampler, n: int, *, study=None, direction="maximize", fail_every=0
):
    study = study or optuna.create_study(sampler=sampler, direction=direction)
    study.sampler = sampler
    for _ in range(n):
        trial = study.ask(_SPACE.distributions())
        if fail_every and trial.number % fail_every == fail_every - 1:
            study.tell(trial, state=TrialState.FAIL)
            continue
        v = objective_value(trial.params)
        study.tell(trial, v if direction == "maximize" else -v)
    return study


class BasicSamplerContract:
    """Behaviour shared by all our samplers; subclasses define ``make_sampler(seed)``."""

    make_sampler: Callable[[int], optuna.samplers.BaseSampler]
    n_trials: int = 40

    def test_proposals_are_valid_architectures(self):
        """Every proposed param set is a valid NB201 architecture."""
        study = _run(self.make_sampler(0), self.n_trials)
        for t in study.trials:
            _SPACE.from_params(t.params)

    def test_same_seed_same_sequence(self):
        """Two studies with the same seed propose the same architectures in the same order."""
        a = _run(self.make_sampler(7), self.n_trials)
        b = _run(self.make_sampler(7), self.n_trials)
        assert [t.params for t in a.trials] == [t.params for t in b.trials]

    def test_different_seeds_differ(self):
        """Different seeds give different proposal sequences."""
        a = _run(self.make_sampler(1), self.n_trials)
        b = _run(self.make_sampler(2), self.n_trials)
        assert [t.params for t in a.trials] != [t.params for t in b.trials]

    def test_survives_failed_trials(self):
        """Failed trials in the study neither crash the sampler nor count as results."""
        study = _run(self.make_sampler(3), self.n_trials, fail_every=4)
        states = [t.state for t in study.trials]
        assert states.count(TrialState.FAIL) == self.n_trials // 4
        assert states.count(TrialState.COMPLETE) == self.n_trials - self.n_trials // 4

    def test_improves_over_first_proposals(self):
        """On a smooth objective the best of the run beats the best of the first 5 proposals."""
        study = _run(self.make_sampler(4), self.n_trials)
        values = [t.value for t in study.trials]
        assert max(values) > max(values[:5])

    def test_minimize_direction(self):
        """The sampler also works for a minimized objective and finds low values."""
        study = _run(self.make_sampler(5), self.n_trials, direction="minimize")
        values = [t.value for t in study.trials]
        assert min(values) < min(values[:5])
        assert all(math.isfinite(v) for v in values)

    def test_resume_from_stored_study(self, tmp_path):
        """A study stored in a journal file and reloaded keeps its trials and keeps going."""
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = str(tmp_path / "s.journal")
        storage = JournalStorage(JournalFileBackend(path))
        study = optuna.create_study(storage=storage, study_name="c", direction="maximize")
        _run(self.make_sampler(6), self.n_trials // 2, study=study)
        del study, storage
        storage = JournalStorage(JournalFileBackend(path))
        study = optuna.load_study(storage=storage, study_name="c", sampler=self.make_sampler(6))
        before = [t.params for t in study.trials]
        _run(self.make_sampler(6), self.n_trials - len(before), study=study)
        after = [t.params for t in study.trials]
        assert after[: len(before)] == before
        assert len(after) == self.n_trials
        for p in after:
            _SPACE.from_params(p)


@pytest.fixture
def contract_space():
    """The NB201 space the contract searches over."""
    return _SPACE
