"""Contract tests every predictor_nas sampler must pass.

Use from a test module::

    from predictor_nas.testing.pytest_samplers import BasicSamplerContract

    class TestMySampler(BasicSamplerContract):
        @staticmethod
        def make_sampler(seed):
            return MySampler(seed=seed)

The contract runs real Optuna studies (in memory and a journal file) over the decisions of
``space_name`` (NB201 by default; set it to any registered space, e.g. ``"layer_chain"``, to run
the contract there: conditional spaces are asked define-by-run) with a cheap deterministic
objective, so it needs no table. It checks valid proposals, seeded
determinism, failed trials (with and without params), and that a search resumed from a journal
file after a crash proposes exactly what an uninterrupted one did, run the way ``run_search``
runs every strategy: a fresh sampler per query, seeded by ``(seed, completed queries)``. A sampler
whose proposals depend only on ``(seed, study)`` sets ``stateless = True`` and is also held to a
fresh instance resuming a single-instance run exactly.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np
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


def objective_value(params: dict, space: str | None = None) -> float:
    """A deterministic score of a space's params with a unique best.

    On NB201 (the default) it is the sum of op weights (best: all nor_conv_3x3). On any other
    space every (decision, value) pair gets a fixed pseudo-random weight (from a hash of its
    name) and the score is the sum over the params given (the active decisions).
    """
    if space is None or space == "nb201":
        return sum(_WEIGHTS[params[p]] * (1 + 0.1 * i) for i, p in enumerate(_SPACE.param_names))
    return sum(_weight(f"{k}={v}") for k, v in sorted(params.items()))


def _weight(text: str) -> float:
    return zlib.crc32(text.encode()) / 2**32


def ask(study: optuna.Study, space: str = "nb201") -> optuna.trial.Trial:
    """A trial with every active decision of ``space`` suggested (fixed distributions on a
    plain space, define-by-run otherwise)."""
    sp = get_space(space)
    if sp.plain:
        return study.ask(sp.distributions())
    trial = study.ask()
    sp.suggest(trial)
    return trial


def _run(
    sampler: optuna.samplers.BaseSampler,
    n: int,
    *,
    study=None,
    direction="maximize",
    fail_every=0,
    space: str = "nb201",
):
    study = study or optuna.create_study(sampler=sampler, direction=direction)
    study.sampler = sampler
    for _ in range(n):
        trial = ask(study, space)
        if fail_every and trial.number % fail_every == fail_every - 1:
            study.tell(trial, state=TrialState.FAIL)
            continue
        v = objective_value(trial.params, space)
        study.tell(trial, v if direction == "maximize" else -v)
    return study


def step_seed(seed: int, step: int) -> int:
    """Seed of the sampler for the ``step``-th query, as ``run_search`` derives it."""
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


def run_stepwise(make_sampler, seed: int, n_complete: int, study, space: str = "nb201") -> None:
    """Ask-and-tell until ``study`` holds ``n_complete`` complete trials, with a fresh sampler per
    query seeded by ``step_seed(seed, complete so far)`` (``run_search``'s protocol)."""
    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    while done < n_complete:
        study.sampler = make_sampler(step_seed(seed, done))
        trial = ask(study, space)
        study.tell(trial, objective_value(trial.params, space))
        done += 1


def _journal(path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))


def _crash_and_resume(path, sampler, make_study_sampler, space: str = "nb201"):
    """Leave one trial RUNNING in the journal (a crash), reload the study with fresh objects
    and mark that trial failed, as ``run_search`` does on resume."""
    study = optuna.load_study(storage=_journal(path), study_name="c", sampler=sampler)
    ask(study, space)  # proposed, never told: the process "dies" here
    del study
    study = optuna.load_study(storage=_journal(path), study_name="c", sampler=make_study_sampler())
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
    return study


def _complete_params(study) -> list[dict]:
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [t.params for t in sorted(trials, key=lambda t: t.number)]


class BasicSamplerContract:
    """Behaviour shared by all our samplers; subclasses define ``make_sampler(seed)``.

    Set ``stateless = True`` when the sampler's proposals are a function of its seed and the
    study only (no state that advances inside one instance), and ``learns = False`` for one whose
    proposals ignore the results (brute force): it is then not asked to improve in a short run.
    """

    make_sampler: Callable[[int], optuna.samplers.BaseSampler]
    n_trials: int = 40
    #: The registered space the contract searches.
    space_name: str = "nb201"
    stateless: bool = False
    learns: bool = True

    def test_proposals_are_valid_architectures(self):
        """Every proposed param set is a valid architecture of the space."""
        study = _run(self.make_sampler(0), self.n_trials, space=self.space_name)
        for t in study.trials:
            get_space(self.space_name).from_params(t.params)

    def test_same_seed_same_sequence(self):
        """Two studies with the same seed propose the same architectures in the same order."""
        a = _run(self.make_sampler(7), self.n_trials, space=self.space_name)
        b = _run(self.make_sampler(7), self.n_trials, space=self.space_name)
        assert [t.params for t in a.trials] == [t.params for t in b.trials]

    def test_different_seeds_differ(self):
        """Different seeds give different proposal sequences."""
        a = _run(self.make_sampler(1), self.n_trials, space=self.space_name)
        b = _run(self.make_sampler(2), self.n_trials, space=self.space_name)
        assert [t.params for t in a.trials] != [t.params for t in b.trials]

    def test_survives_failed_trials(self):
        """Failed trials in the study neither crash the sampler nor count as results."""
        study = _run(self.make_sampler(3), self.n_trials, fail_every=4, space=self.space_name)
        states = [t.state for t in study.trials]
        assert states.count(TrialState.FAIL) == self.n_trials // 4
        assert states.count(TrialState.COMPLETE) == self.n_trials - self.n_trials // 4

    def test_improves_over_first_proposals(self):
        """On a smooth objective the best of the run beats the best of the first 5 proposals."""
        if not self.learns:
            pytest.skip("the sampler ignores results (learns = False)")
        study = _run(self.make_sampler(4), self.n_trials, space=self.space_name)
        values = [t.value for t in study.trials]
        assert max(values) > max(values[:5])

    def test_minimize_direction(self):
        """The sampler also works for a minimized objective and finds low values."""
        study = _run(
            self.make_sampler(5), self.n_trials, direction="minimize", space=self.space_name
        )
        values = [t.value for t in study.trials]
        assert all(math.isfinite(v) for v in values)
        if self.learns:
            assert min(values) < min(values[:5])

    def test_resume_from_stored_study(self, tmp_path):
        """A study stored in a journal file and reloaded keeps its trials and keeps going."""
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = str(tmp_path / "s.journal")
        storage = JournalStorage(JournalFileBackend(path))
        study = optuna.create_study(storage=storage, study_name="c", direction="maximize")
        _run(self.make_sampler(6), self.n_trials // 2, study=study, space=self.space_name)
        del study, storage
        storage = JournalStorage(JournalFileBackend(path))
        study = optuna.load_study(storage=storage, study_name="c", sampler=self.make_sampler(6))
        before = [t.params for t in study.trials]
        _run(self.make_sampler(6), self.n_trials - len(before), study=study, space=self.space_name)
        after = [t.params for t in study.trials]
        assert after[: len(before)] == before
        assert len(after) == self.n_trials
        for p in after:
            get_space(self.space_name).from_params(p)

    def test_failed_trials_without_params(self):
        """Trials that failed before any param was set (and a first trial that failed) are
        skipped: the sampler keeps proposing valid architectures."""
        study = optuna.create_study(sampler=self.make_sampler(8), direction="maximize")
        study.tell(study.ask(), state=TrialState.FAIL)  # failed before suggesting anything
        study.tell(ask(study, self.space_name), state=TrialState.FAIL)
        _run(self.make_sampler(8), 12, study=study, fail_every=5, space=self.space_name)
        study.tell(study.ask(), state=TrialState.FAIL)
        _run(self.make_sampler(8), 3, study=study, space=self.space_name)
        assert [len(t.params) for t in study.trials[:1]] == [0]
        for t in study.trials[1:]:
            if t.state == TrialState.COMPLETE or t.params:
                get_space(self.space_name).from_params(t.params)
        # 12 asked as trials 2..13, of which 4 and 9 fail; then 3 more after trial 14 failed
        assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 10 + 3

    def test_resume_equals_uninterrupted(self, tmp_path):
        """A search that crashes mid-query and resumes from its journal file proposes exactly
        the architectures of an uninterrupted one (fresh sampler per query, as run_search)."""
        n, seed = self.n_trials, 11
        reference = optuna.create_study(direction="maximize")
        run_stepwise(self.make_sampler, seed, n, reference, self.space_name)

        path = tmp_path / "r.journal"
        study = optuna.create_study(storage=_journal(path), study_name="c", direction="maximize")
        run_stepwise(self.make_sampler, seed, n // 2, study, self.space_name)
        del study
        half = n // 2
        study = _crash_and_resume(
            path,
            self.make_sampler(step_seed(seed, half)),
            lambda: self.make_sampler(0),
            self.space_name,
        )
        run_stepwise(self.make_sampler, seed, n, study, self.space_name)
        states = [t.state for t in study.trials]
        assert states.count(TrialState.FAIL) == 1
        assert _complete_params(study) == _complete_params(reference)

    def test_fresh_instance_resumes_a_single_instance_run(self, tmp_path):
        """Stateless samplers: one instance all along and a fresh instance with the same seed
        after a crash propose the same architectures."""
        if not self.stateless:
            pytest.skip("the sampler keeps state inside an instance (stateless = False)")
        n = self.n_trials
        reference = _run(self.make_sampler(12), n, space=self.space_name)
        path = tmp_path / "f.journal"
        study = optuna.create_study(storage=_journal(path), study_name="c", direction="maximize")
        _run(self.make_sampler(12), n // 2, study=study, space=self.space_name)
        del study
        study = _crash_and_resume(
            path, self.make_sampler(12), lambda: self.make_sampler(12), self.space_name
        )
        _run(study.sampler, n - n // 2, study=study, space=self.space_name)
        assert _complete_params(study) == _complete_params(reference)


@pytest.fixture
def contract_space():
    """The NB201 space the contract searches over."""
    return _SPACE
