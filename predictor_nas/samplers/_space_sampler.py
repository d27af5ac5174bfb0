"""Shared plumbing of the samplers that propose whole architectures of a ``SearchSpace``.

A subclass implements ``_propose(study, history, rng)``; this base turns it into an Optuna
sampler whose proposal is a pure function of ``(seed, study)``:

* the random generator of a proposal is ``numpy.random.default_rng([base, k])``, where ``base`` is
  the seed and ``k`` the number of trials before this one that did not fail. A fresh instance with
  the same seed therefore proposes exactly what an uninterrupted one would have, also after a
  crash whose unfinished trial was marked failed;
* the history is read from the study on every proposal (trial-number order), so there is no state
  to store or to lose.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import param_error
from predictor_nas.exceptions import SearchError
from predictor_nas.samplers._pool import draw_unused
from predictor_nas.spaces import Arch, SearchSpace, get_space


@dataclass(frozen=True, slots=True)
class Past:
    """One earlier trial of the study as the samplers see it.

    Attributes:
        number: Optuna trial number.
        arch: The trial's architecture.
        key: Its dedup key (``canonical_key`` or the exact ops, see ``canonical``).
        value: Its objective, negated for a minimised study (so larger is better): a COMPLETE
            trial's finite value, or a PRUNED trial's censored value (see
            ``observed_targets``); ``None`` otherwise (running, waiting, a complete trial with a
            non-finite value, a pruned trial that reported nothing).
        pruned: Whether ``value`` is a pruned trial's censored value rather than a result.
    """

    number: int
    arch: Arch
    key: Any
    value: float | None
    pruned: bool = False


#: User attribute that marks a diverged trial (set by ``CurvePruner``).
DIVERGED_ATTR = "diverged"


def observed_targets(trials: Sequence[FrozenTrial], maximize: bool) -> list[float | None]:
    """The targets (larger is better) that the samplers learn from, one per trial.

    * COMPLETE with a finite value: the value (negated when minimising); non-finite: ``None``.
    * PRUNED, censored data: its last reported intermediate value (negated when minimising), a
      pessimistic estimate of what the run would have reached (a curve that improves ends
      above it). A pruned trial whose user attribute ``diverged`` is true (``CurvePruner``) or
      whose last report is NaN or +-inf is a *diverged* run: it gets the *floor*, strictly below
      every finite target of ``trials``: ``lo - (hi - lo)`` over the finite targets' min ``lo``
      and max ``hi`` (``lo - max(|lo|, 1)`` when they are equal, ``-1`` when there are none).
      A pruned trial that reported nothing (and is not marked diverged): ``None``.
    * Any other state: ``None``.

    Studies without pruned trials get exactly the COMPLETE trials' values, as before.

    Args:
        trials: The trials, in the order the caller wants the targets.
        maximize: Whether the study maximises.

    Returns:
        A list of ``len(trials)`` floats or ``None``.
    """
    sign = 1.0 if maximize else -1.0
    out: list[float | None] = []
    diverged: list[int] = []
    for t in trials:
        value: float | None = None
        if t.state == TrialState.COMPLETE:
            if t.value is not None and np.isfinite(t.value):
                value = sign * float(t.value)
        elif t.state == TrialState.PRUNED:
            steps = t.intermediate_values
            last = steps[max(steps)] if steps else None
            if t.user_attrs.get(DIVERGED_ATTR) is True or (
                last is not None and not np.isfinite(last)
            ):
                diverged.append(len(out))
            elif last is not None:
                value = sign * float(last)
        out.append(value)
    if diverged:
        finite = [v for v in out if v is not None]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
        floor = lo - (hi - lo if hi > lo else max(abs(lo), 1.0))
        for i in diverged:
            out[i] = floor
    return out


def resolve_space(space: SearchSpace | str, owner: str) -> SearchSpace:
    """A ``SearchSpace`` from an instance or a registered name (standard error otherwise)."""
    sp = get_space(space) if isinstance(space, str) else space
    if not isinstance(sp, SearchSpace):
        raise param_error("space", owner, "a SearchSpace or a space name", space)
    return sp


class SpaceSampler(BaseSampler):
    """Base of samplers that propose all decisions of ``space`` at once (see module docstring).

    Args:
        space: The search space (or its name); its params must be in the study as categoricals.
        canonical: Dedup by ``space.canonical_key`` (isomorphic cells count as one
            architecture) instead of by the exact operations.
        seed: Seed of the proposals; ``None`` draws one from OS entropy.
    """

    _owner = "SpaceSampler"

    def __init__(
        self, space: SearchSpace | str, *, canonical: bool = True, seed: int | None = None
    ) -> None:
        self.space = resolve_space(space, self._owner)
        if not isinstance(canonical, bool):
            raise param_error("canonical", self._owner, "a bool", canonical)
        self.canonical = canonical
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise param_error("seed", self._owner, "None or an int >= 0", seed)
        self.seed = seed
        self._base = _fresh_seed() if seed is None else seed
        self._names = list(self.space.param_names)
        self._dists = {
            n: d
            for n, d in self.space.distributions().items()
            if isinstance(d, CategoricalDistribution)
        }
        self._cache: tuple[Any, dict[str, Any]] | None = None
        self._keys: dict[tuple[str, ...], Any] = {}

    def reseed_rng(self) -> None:
        """Reseed from fresh OS entropy (Optuna calls this for parallel workers)."""
        self._base = _fresh_seed()
        self._cache = None

    # ----------------------------------------------------------------- Optuna API
    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The space's decisions, when every completed trial has them with the space's choices.

        Otherwise (before the first completed trial, a space with conditional decisions, a study
        over other params) the relative space is empty, and ``sample_independent`` still returns
        this sampler's proposal for every decision asked with the space's distribution.
        """
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete or len(self._dists) != len(self._names):
            return {}
        inter = optuna.search_space.intersection_search_space(complete)
        if any(inter.get(n) != d for n, d in self._dists.items()):
            return {}
        return {n: inter[n] for n in self._names}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Propose all of the space's decisions at once."""
        if not search_space:
            return {}
        return dict(self._proposal(study, trial))

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """A decision of the space asked with its own distribution gets this sampler's proposal.

        A decision the proposal leaves inactive (a conditional space whose objective asks for
        it anyway) and an extra param next to the space's decisions (``check_param_of_space``)
        are uniform random, seeded by the seed, the trial and the param name.

        Raises:
            SearchError: ``param_name`` is not a decision of the space, or is asked with other
                choices: the objective searches another space than the sampler was given (a
                sampler never falls back to random search silently).
        """
        if check_param_of_space(
            self.space, self._dists, param_name, param_distribution, self._owner, study, trial
        ):
            params = self._proposal(study, trial)
            if param_name in params:
                return params[param_name]
        seed = np.random.SeedSequence(
            [self._base, trial.number, zlib.crc32(param_name.encode())]
        ).generate_state(1)[0]
        return RandomSampler(seed=int(seed)).sample_independent(
            study, trial, param_name, param_distribution
        )

    # ----------------------------------------------------------------- for subclasses
    def _propose(self, study: Study, history: list[Past], rng: np.random.Generator) -> Arch:
        raise NotImplementedError

    def key(self, arch: Arch) -> Any:
        """The dedup key of ``arch`` (memoised): canonical key or the exact operations."""
        k = self._keys.get(arch.ops)
        if k is None:
            k = self.space.canonical_key(arch) if self.canonical else arch.ops
            self._keys[arch.ops] = k
        return k

    def history(self, study: Study, before: int | None = None) -> list[Past]:
        """Trials of ``study`` that did not fail and hold a valid architecture, by number.

        Each ``Past.value`` follows ``observed_targets`` over these trials: PRUNED trials enter
        with their censored value (last report, a pessimistic estimate; a diverged run below
        every finite result), marked ``pruned=True``. Every sampler built on this base learns
        from them, so that a study whose pruner stops most runs still leaves the random start:
        ``LocalSearchSampler`` counts them in its random start and moves to one that beats the
        incumbent, ``SpaceEvolutionSampler`` keeps them in its population (a diverged one never
        wins a tournament against a finite one), ``ReinforceSampler`` takes their value as the
        reward (a diverged run is the worst reward) and ``ExhaustiveSampler`` reads only the
        keys. Without pruned trials nothing differs from reading COMPLETE trials only.

        Args:
            study: The study.
            before: Only trials numbered below this (``None``: all).

        Returns:
            One ``Past`` per trial, in trial-number order.
        """
        if len(study.directions) > 1:
            raise ValueError(f"{self._owner} supports single-objective studies only.")
        maximize = study.direction == StudyDirection.MAXIMIZE
        kept: list[tuple[FrozenTrial, Arch]] = []
        for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
            if t.state == TrialState.FAIL or (before is not None and t.number >= before):
                continue
            arch = self._arch(t.params)
            if arch is not None:
                kept.append((t, arch))
        values = observed_targets([t for t, _ in kept], maximize)
        return [
            Past(t.number, arch, self.key(arch), v, t.state == TrialState.PRUNED)
            for (t, arch), v in zip(kept, values)
        ]

    def random_unused(self, used: set, rng: np.random.Generator, tries: int = 100) -> Arch:
        """A uniform random architecture whose key is not in ``used`` (and that ``allowed``
        accepts).

        Rejection sampling first (``tries`` draws); if that keeps hitting used keys, a uniform
        choice among all unused architectures (the space is enumerated). ``exhausted()`` is
        raised if none is left.
        """
        accept = self._accept()
        found = draw_unused(
            lambda: self.space.sample(rng), self.key, used, tries=tries, accept=accept
        )
        if found:
            return found[0]
        ok = accept or (lambda a: True)
        left = [a for a in self.space if self.key(a) not in used and ok(a)]
        if not left:
            raise self.exhausted(len(used))
        return left[int(rng.integers(len(left)))]

    def _accept(self) -> Callable[[Arch], bool] | None:
        """Filter of ``random_unused`` draws (``None``: every architecture)."""
        return None

    def exhausted(self, n_used: int) -> SearchError:
        """The error raised once every architecture (up to dedup) has been proposed."""
        what = "isomorphism classes" if self.canonical else "architectures"
        return SearchError(
            f"{self._owner} has no unused architecture left in space {self.space.name!r}: the "
            f"study already holds all {n_used} {what}. Stop the search or use a new study."
        )

    # ----------------------------------------------------------------- internals
    def _arch(self, params: Mapping[str, Any]) -> Arch | None:
        try:
            return self.space.from_params({n: v for n, v in params.items() if n in self._dists})
        except (KeyError, ValueError):  # InvalidArchitectureError is a ValueError
            return None

    def _proposal(self, study: Study, trial: FrozenTrial) -> dict[str, Any]:
        """The params proposed for ``trial``, computed once per trial."""
        tag = (study.study_name, trial.number)
        if self._cache is not None and self._cache[0] == tag:
            return self._cache[1]
        history = self.history(study, before=trial.number)
        k = sum(
            1
            for t in study.get_trials(deepcopy=False)
            if t.number < trial.number and t.state != TrialState.FAIL
        )
        rng = np.random.default_rng([self._base, k])
        params = self.space.to_params(self._propose(study, history, rng))
        self._cache = (tag, params)
        return params


def check_param_of_space(
    space: SearchSpace,
    dists: Mapping[str, BaseDistribution],
    name: str,
    dist: BaseDistribution,
    owner: str,
    study: Study,
    trial: FrozenTrial,
) -> bool:
    """Whether ``name`` is one of ``space``'s decisions (True) or an extra param of a study
    that searches the space (False: e.g. a learning rate next to the architecture, sampled at
    random by the caller).

    A param of no decision in a study where neither this trial nor any other holds a decision
    of the space means the objective searches another space: that is refused, at the first
    trial, so a sampler never searches at random without a word. (An objective that tunes
    extra params asks the architecture's decisions first.)

    Raises:
        SearchError: Naming the param, the space and its decisions; or a decision asked with
            other choices than the space's.
    """
    own = dists.get(name)
    if own is None:
        if any(n in trial.params for n in dists) or any(
            any(n in t.params for n in dists)
            for t in study.get_trials(deepcopy=False)
            if t.number != trial.number
        ):
            return False
        shown = ", ".join(space.param_names[:8]) + (", ..." if len(space.param_names) > 8 else "")
        raise SearchError(
            f"{owner} searches space {space.name!r} (decisions {shown}), but the study asked "
            f"for the param {name!r}, which is not one of them. Give the sampler the space your "
            "objective searches (a registered name, a YAML declaration or a SearchSpace)."
        )
    if own != dist:
        raise SearchError(
            f"{owner} searches space {space.name!r}, whose decision {name!r} takes "
            f"{list(own.choices)!r}; the study asked for it with {dist!r}. Give the sampler the "
            "space your objective searches."
        )
    return True


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().generate_state(1)[0])
