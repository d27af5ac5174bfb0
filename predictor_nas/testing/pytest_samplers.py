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

Multi-objective mode: set ``directions`` (default ``("maximize",)``) to two directions, e.g.
``("maximize", "minimize")``; every study of the contract then has those directions and each
trial gets ``objective_values(params, space, directions)``: the score above and a deterministic
cost of the params (``objective_cost``), a real trade-off. "Improves" then means a larger
hypervolume than the first 5 proposals.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np
import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from predictor_nas.multiobjective import hypervolume, reference_point, to_minimization
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


_COSTS = {
    "none": 0.0,
    "skip_connect": 0.0,
    "nor_conv_1x1": 1.0,
    "nor_conv_3x3": 9.0,
    "avg_pool_3x3": 0.2,
}


def objective_cost(params: dict, space: str | None = None) -> float:
    """A deterministic cost of a space's params (lower is better), at odds with the score.

    On NB201 it is a parameter-count-like sum (3x3 convolutions cost 9, 1x1 cost 1, pooling
    0.2, skip and none 0); on any other space a fixed pseudo-random cost per (decision, value)
    pair plus 0.25 per active decision (bigger architectures cost more).
    """
    if space is None or space == "nb201":
        return sum(_COSTS[params[p]] for p in _SPACE.param_names)
    return sum(_weight(f"cost:{k}={v}") + 0.25 for k, v in sorted(params.items()))


def objective_values(params: dict, space: str | None = None, directions=("maximize",)) -> list:
    """The contract's objective values for ``directions`` (one or two).

    The first is ``objective_value`` (negated when minimised), the second ``objective_cost``
    (negated when maximised): flipping a direction flips the sign, so the best trade-offs stay
    the same architectures.
    """
    if len(directions) not in (1, 2):
        raise ValueError(f"The contract supports 1 or 2 directions; got {list(directions)}.")
    out = [objective_value(params, space)]
    if directions[0] == "minimize":
        out[0] = -out[0]
    if len(directions) == 2:
        cost = objective_cost(params, space)
        out.append(cost if directions[1] == "minimize" else -cost)
    return out


def flipped(directions) -> list[str]:
    """``directions`` with every entry flipped (maximize <-> minimize)."""
    return ["minimize" if d == "maximize" else "maximize" for d in directions]


def hypervolume_of(study: optuna.Study, first: int | None = None, ref=None) -> float:
    """Hypervolume of the study's completed values (the first ``first`` trials), minimised."""

    trials = sorted(study.trials, key=lambda t: t.number)
    pts = to_minimization([t.values for t in trials], study.directions)
    if ref is None:
        ref = reference_point(pts)
    return hypervolume(pts[:first] if first is not None else pts, ref)


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
    directions=None,
):
    directions = list(directions or [direction])
    study = study or optuna.create_study(sampler=sampler, directions=directions)
    study.sampler = sampler
    for _ in range(n):
        trial = ask(study, space)
        if fail_every and trial.number % fail_every == fail_every - 1:
            study.tell(trial, state=TrialState.FAIL)
            continue
        values = objective_values(trial.params, space, directions)
        study.tell(trial, values if len(values) > 1 else values[0])
    return study


def step_seed(seed: int, step: int) -> int:
    """Seed of the sampler for the ``step``-th query, as ``run_search`` derives it."""
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


def run_stepwise(
    make_sampler, seed: int, n_complete: int, study, space: str = "nb201", directions=None
) -> None:
    """Ask-and-tell until ``study`` holds ``n_complete`` complete trials, with a fresh sampler per
    query seeded by ``step_seed(seed, complete so far)`` (``run_search``'s protocol)."""
    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    while done < n_complete:
        study.sampler = make_sampler(step_seed(seed, done))
        trial = ask(study, space)
        values = objective_values(trial.params, space, list(directions or ["maximize"]))
        study.tell(trial, values if len(values) > 1 else values[0])
        done += 1


def _journal(path):
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
    Set ``directions`` to two directions to run the contract on a multi-objective study.
    """

    make_sampler: Callable[[int], optuna.samplers.BaseSampler]
    n_trials: int = 40
    #: The registered space the contract searches.
    space_name: str = "nb201"
    stateless: bool = False
    learns: bool = True
    #: Directions of the contract's studies: one (the default) or two (multi-objective mode).
    directions: tuple[str, ...] = ("maximize",)

    def test_proposals_are_valid_architectures(self):
        """Every proposed param set is a valid architecture of the space."""
        study = _run(
            self.make_sampler(0), self.n_trials, space=self.space_name, directions=self.directions
        )
        for t in study.trials:
            get_space(self.space_name).from_params(t.params)

    def test_same_seed_same_sequence(self):
        """Two studies with the same seed propose the same architectures in the same order."""
        d = self.directions
        a = _run(self.make_sampler(7), self.n_trials, space=self.space_name, directions=d)
        b = _run(self.make_sampler(7), self.n_trials, space=self.space_name, directions=d)
        assert [t.params for t in a.trials] == [t.params for t in b.trials]

    def test_different_seeds_differ(self):
        """Different seeds give different proposal sequences."""
        d = self.directions
        a = _run(self.make_sampler(1), self.n_trials, space=self.space_name, directions=d)
        b = _run(self.make_sampler(2), self.n_trials, space=self.space_name, directions=d)
        assert [t.params for t in a.trials] != [t.params for t in b.trials]

    def test_survives_failed_trials(self):
        """Failed trials in the study neither crash the sampler nor count as results."""
        study = _run(
            self.make_sampler(3),
            self.n_trials,
            fail_every=4,
            space=self.space_name,
            directions=self.directions,
        )
        states = [t.state for t in study.trials]
        assert states.count(TrialState.FAIL) == self.n_trials // 4
        assert states.count(TrialState.COMPLETE) == self.n_trials - self.n_trials // 4

    def test_improves_over_first_proposals(self):
        """On a smooth objective the best of the run beats the best of the first 5 proposals."""
        if not self.learns:
            pytest.skip("the sampler ignores results (learns = False)")
        study = _run(
            self.make_sampler(4), self.n_trials, space=self.space_name, directions=self.directions
        )
        if len(self.directions) > 1:
            assert hypervolume_of(study) > hypervolume_of(study, first=5)
            return
        values = [t.value for t in study.trials]
        assert max(values) > max(values[:5])

    def test_minimize_direction(self):
        """The sampler also works for a minimized objective and finds low values."""
        if len(self.directions) > 1:
            study = _run(
                self.make_sampler(5),
                self.n_trials,
                space=self.space_name,
                directions=flipped(self.directions),
            )
            assert all(math.isfinite(v) for t in study.trials for v in t.values)
            if self.learns:
                assert hypervolume_of(study) > hypervolume_of(study, first=5)
            return
        study = _run(
            self.make_sampler(5), self.n_trials, direction="minimize", space=self.space_name
        )
        values = [t.value for t in study.trials]
        assert all(math.isfinite(v) for v in values)
        if self.learns:
            assert min(values) < min(values[:5])

    def test_resume_from_stored_study(self, tmp_path):
        """A study stored in a journal file and reloaded keeps its trials and keeps going."""

        path = str(tmp_path / "s.journal")
        storage = JournalStorage(JournalFileBackend(path))
        d = list(self.directions)
        study = optuna.create_study(storage=storage, study_name="c", directions=d)
        _run(
            self.make_sampler(6),
            self.n_trials // 2,
            study=study,
            space=self.space_name,
            directions=d,
        )
        del study, storage
        storage = JournalStorage(JournalFileBackend(path))
        study = optuna.load_study(storage=storage, study_name="c", sampler=self.make_sampler(6))
        before = [t.params for t in study.trials]
        _run(
            self.make_sampler(6),
            self.n_trials - len(before),
            study=study,
            space=self.space_name,
            directions=d,
        )
        after = [t.params for t in study.trials]
        assert after[: len(before)] == before
        assert len(after) == self.n_trials
        for p in after:
            get_space(self.space_name).from_params(p)

    def test_failed_trials_without_params(self):
        """Trials that failed before any param was set (and a first trial that failed) are
        skipped: the sampler keeps proposing valid architectures."""
        d = list(self.directions)
        study = optuna.create_study(sampler=self.make_sampler(8), directions=d)
        study.tell(study.ask(), state=TrialState.FAIL)  # failed before suggesting anything
        study.tell(ask(study, self.space_name), state=TrialState.FAIL)
        _run(
            self.make_sampler(8), 12, study=study, fail_every=5, space=self.space_name, directions=d
        )
        study.tell(study.ask(), state=TrialState.FAIL)
        _run(self.make_sampler(8), 3, study=study, space=self.space_name, directions=d)
        assert [len(t.params) for t in study.trials[:1]] == [0]
        for t in study.trials[1:]:
            if t.state == TrialState.COMPLETE or t.params:
                get_space(self.space_name).from_params(t.params)
        # 12 asked as trials 2..13, of which 4 and 9 fail; then 3 more after trial 14 failed
        assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 10 + 3

    def test_resume_equals_uninterrupted(self, tmp_path):
        """A search that crashes mid-query and resumes from its journal file proposes exactly
        the architectures of an uninterrupted one (fresh sampler per query, as run_search)."""
        n, seed, d = self.n_trials, 11, list(self.directions)
        reference = optuna.create_study(directions=d)
        run_stepwise(self.make_sampler, seed, n, reference, self.space_name, d)

        path = tmp_path / "r.journal"
        study = optuna.create_study(storage=_journal(path), study_name="c", directions=d)
        run_stepwise(self.make_sampler, seed, n // 2, study, self.space_name, d)
        del study
        half = n // 2
        study = _crash_and_resume(
            path,
            self.make_sampler(step_seed(seed, half)),
            lambda: self.make_sampler(0),
            self.space_name,
        )
        run_stepwise(self.make_sampler, seed, n, study, self.space_name, d)
        states = [t.state for t in study.trials]
        assert states.count(TrialState.FAIL) == 1
        assert _complete_params(study) == _complete_params(reference)

    def test_fresh_instance_resumes_a_single_instance_run(self, tmp_path):
        """Stateless samplers: one instance all along and a fresh instance with the same seed
        after a crash propose the same architectures."""
        if not self.stateless:
            pytest.skip("the sampler keeps state inside an instance (stateless = False)")
        n, d = self.n_trials, list(self.directions)
        reference = _run(self.make_sampler(12), n, space=self.space_name, directions=d)
        path = tmp_path / "f.journal"
        study = optuna.create_study(storage=_journal(path), study_name="c", directions=d)
        _run(self.make_sampler(12), n // 2, study=study, space=self.space_name, directions=d)
        del study
        study = _crash_and_resume(
            path, self.make_sampler(12), lambda: self.make_sampler(12), self.space_name
        )
        _run(study.sampler, n - n // 2, study=study, space=self.space_name, directions=d)
        assert _complete_params(study) == _complete_params(reference)


@pytest.fixture
def contract_space():
    """The NB201 space the contract searches over."""
    return _SPACE
