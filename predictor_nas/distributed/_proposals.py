"""How the coordinator proposes without a trial in the study (a probe storage asks the sampler
for parameters), and what the study already holds (used keys, trials awaiting a retry)."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.trial import FrozenTrial, TrialState

from predictor_nas.distributed._common import (
    ERROR_ATTR,
    HeartbeatSettings,
)
from predictor_nas.samplers import draw_unused
from predictor_nas.spaces import Arch, SearchSpace

_PROBE_ID = -1


class _ProbeStorage(optuna.storages.BaseStorage):
    """The study's storage as a sampler sees it while proposing: reads go to the real storage;
    the trial being proposed (id ``_PROBE_ID``) exists only here, so whatever the sampler
    writes on it (e.g. TPE's constant-liar system attrs) is kept in memory and stored with the
    proposal when it is queued. Everything else is delegated."""

    def __init__(self, backend: optuna.storages.BaseStorage, number: int) -> None:
        self._backend = backend
        self.probe = FrozenTrial(
            number=number,
            state=TrialState.RUNNING,
            value=None,
            datetime_start=datetime.datetime.now(),
            datetime_complete=None,
            params={},
            distributions={},
            user_attrs={},
            system_attrs={},
            intermediate_values={},
            trial_id=_PROBE_ID,
        )

    # studies: delegated
    def create_new_study(self, directions: Any, study_name: str | None = None) -> int:
        return self._backend.create_new_study(directions, study_name)

    def delete_study(self, study_id: int) -> None:
        self._backend.delete_study(study_id)

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._backend.set_study_user_attr(study_id, key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._backend.set_study_system_attr(study_id, key, value)

    def get_study_id_from_name(self, study_name: str) -> int:
        return self._backend.get_study_id_from_name(study_name)

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._backend.get_study_name_from_id(study_id)

    def get_study_directions(self, study_id: int) -> Any:
        return self._backend.get_study_directions(study_id)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._backend.get_study_user_attrs(study_id)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._backend.get_study_system_attrs(study_id)

    def get_all_studies(self) -> Any:
        return self._backend.get_all_studies()

    # trials: the probe lives here, the rest is delegated
    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        raise RuntimeError("A sampler may not create trials while proposing one.")

    def set_trial_param(
        self, trial_id: int, param_name: str, param_value_internal: float, distribution: Any
    ) -> None:
        if trial_id != _PROBE_ID:
            return self._backend.set_trial_param(
                trial_id, param_name, param_value_internal, distribution
            )
        self.probe.params[param_name] = distribution.to_external_repr(param_value_internal)
        self.probe.distributions[param_name] = distribution

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        if trial_number == self.probe.number:
            return _PROBE_ID
        return self._backend.get_trial_id_from_study_id_trial_number(study_id, trial_number)

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        if trial_id == _PROBE_ID:
            raise RuntimeError("A sampler may not finish the trial it is proposing.")
        return self._backend.set_trial_state_values(trial_id, state, values)

    def set_trial_intermediate_value(self, trial_id: int, step: int, value: float) -> None:
        if trial_id == _PROBE_ID:
            raise RuntimeError("A sampler may not report values of the trial it is proposing.")
        self._backend.set_trial_intermediate_value(trial_id, step, value)

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        if trial_id == _PROBE_ID:
            self.probe.user_attrs[key] = value
        else:
            self._backend.set_trial_user_attr(trial_id, key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        if trial_id == _PROBE_ID:
            self.probe.system_attrs[key] = value
        else:
            self._backend.set_trial_system_attr(trial_id, key, value)

    def get_trial(self, trial_id: int) -> FrozenTrial:
        if trial_id == _PROBE_ID:
            return copy.deepcopy(self.probe)
        return self._backend.get_trial(trial_id)

    def get_all_trials(
        self, study_id: int, deepcopy: bool = True, states: Any = None
    ) -> list[FrozenTrial]:
        return self._backend.get_all_trials(study_id, deepcopy=deepcopy, states=states)


def sample_params(
    study: optuna.Study,
    sampler: optuna.samplers.BaseSampler,
    distributions: dict[str, BaseDistribution],
    number: int | None = None,
    search_space: SearchSpace | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Ask ``sampler`` for the params of a new trial of ``study`` without creating the trial.

    The sequence is the one ``optuna.Trial`` follows (``before_trial``, the relative search
    space and params, then ``sample_independent`` for the rest) on a trial that exists only in
    memory (see ``_ProbeStorage``); the study's storage is only read. ``number`` is the new
    trial's number (default: the number of trials in the study).

    Returns:
        ``(params, user_attrs, system_attrs)``: the params, and the attrs the sampler set on the
        trial (to be stored with it).

    A conditional ``search_space`` (not ``plain``, e.g. nb301) is asked define-by-run, as
    ``ask_arch`` does: ``space.suggest`` names the decisions, so only the active ones are
    sampled (``distributions`` is then unused).
    """
    if number is None:
        number = len(study.get_trials(deepcopy=False))
    probe_store = _ProbeStorage(study._storage, number)
    view = optuna.Study(study.study_name, probe_store, sampler=sampler)
    trial = probe_store.probe
    sampler.before_trial(view, probe_store.get_trial(_PROBE_ID))
    frozen = probe_store.get_trial(_PROBE_ID)
    space = sampler.infer_relative_search_space(view, frozen)
    relative = sampler.sample_relative(view, frozen, space)
    params: dict[str, Any] = {}

    def sample(name: str, dist: BaseDistribution) -> Any:
        if name in relative and name in space:
            value = relative[name]
        else:
            value = sampler.sample_independent(view, probe_store.get_trial(_PROBE_ID), name, dist)
        params[name] = value
        trial.params[name] = value
        trial.distributions[name] = dist
        return value

    if search_space is not None and not search_space.plain:
        search_space.suggest(_SuggestProbe(sample))
        return params, dict(trial.user_attrs), dict(trial.system_attrs)
    for name, dist in distributions.items():
        sample(name, dist)
    return params, dict(trial.user_attrs), dict(trial.system_attrs)


class _SuggestProbe:
    """What ``SearchSpace.suggest`` asks of a trial, answered by ``sample_params``' sampler."""

    def __init__(self, sample: Any) -> None:
        self._sample = sample

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self._sample(name, CategoricalDistribution(list(choices)))


def _awaiting_retry(
    trials: list[FrozenTrial], hb: HeartbeatSettings, now: datetime.datetime | None = None
) -> set[int]:
    """Numbers of trials just failed for a dead worker whose retry copy is not queued yet.

    A reaper (any worker or the coordinator) fails a stale trial and then queues its copy: two
    storage calls. Seen in between, the study is one trial short, and counting only the live
    states the coordinator would propose one arch too many (the budget overshoots by one) or
    even the same arch again. Such a trial (FAIL, no evaluation error, not in any trial's
    ``retry_history``, retries left) counts as waiting for ``grace_period`` seconds after it
    failed; if no copy appears by then (the reaper died in between), its slot is refilled.
    """
    now = now or datetime.datetime.now()
    window = datetime.timedelta(seconds=hb.grace_period)
    fresh = set()
    for t in trials:
        if t.state != TrialState.FAIL or ERROR_ATTR in t.user_attrs:
            continue
        if not t.params:
            continue  # failed before it had an arch: nothing to retry
        history = len(t.system_attrs.get("retry_history", ())) + 1
        if hb.max_retry is not None and history > hb.max_retry:
            continue
        done = t.datetime_complete
        if done is not None and now - done <= window:
            fresh.add(t.number)
    if not fresh:  # the usual case: no need to scan every trial's retry history
        return fresh
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", ())}
    return fresh - retried


def _used_keys(
    space: SearchSpace, trials: list[FrozenTrial], keep: set[int] = frozenset()
) -> set[str]:
    """Canonical keys already proposed: every trial but the failed ones that gave no result
    for a reason other than the arch (a dead worker: its retry copy holds the key), unless
    their number is in ``keep`` (their copy is about to be queued)."""
    used = set()
    for t in trials:
        if t.state == TrialState.FAIL and ERROR_ATTR not in t.user_attrs and t.number not in keep:
            continue
        key = t.user_attrs.get("canonical_key")
        if key is None and t.params:
            try:
                key = space.canonical_key(space.from_params(t.params))
            except ValueError:  # params of another space or an invalid arch: not ours
                continue
        if key is not None:
            used.add(key)
    return used


def _random_unused(space: SearchSpace, used: set[str], rng: np.random.Generator) -> Arch | None:
    """A uniform random arch whose canonical key is unused (10,000 draws), else None."""
    found = draw_unused(lambda: space.sample(rng), space.canonical_key, used, tries=10_000)
    return found[0] if found else None


def _counts(trials: list[FrozenTrial]) -> dict[TrialState, int]:
    out = dict.fromkeys(TrialState, 0)
    for t in trials:
        out[t.state] += 1
    return out
