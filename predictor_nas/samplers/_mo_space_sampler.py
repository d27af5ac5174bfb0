"""Shared plumbing of our multi-objective samplers: the study's history as minimised vectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.study import Study
from optuna.trial import TrialState

from predictor_nas._validation import param_error
from predictor_nas.exceptions import SearchError
from predictor_nas.multiobjective import crowding_distance, direction_signs, non_dominated_sort
from predictor_nas.samplers._space_sampler import SpaceSampler
from predictor_nas.spaces import Arch, SearchSpace

#: Tells whether an architecture satisfies the user's constraints (e.g. ``params <= 1.5``).
Feasible = Callable[[Arch], bool]


@dataclass(frozen=True, slots=True)
class MOPast:
    """One earlier trial of a (multi-objective) study as our MO samplers see it.

    Attributes:
        number: Optuna trial number.
        arch: The trial's architecture.
        key: Its dedup key (see ``SpaceSampler.key``).
        values: (m,) float64 objective values turned to minimisation (maximised ones negated);
            ``None`` unless the trial is COMPLETE with m finite values.
    """

    number: int
    arch: Arch
    key: Any
    values: np.ndarray | None


class MOSpaceSampler(SpaceSampler):
    """A ``SpaceSampler`` whose history holds every objective of the study (1 or more).

    ``history`` returns ``MOPast`` entries (minimised value vectors) instead of ``Past``; the rest
    (seeding by ``(seed, non-failed trials before)``, dedup, random unused archs) is the base's.

    ``feasible`` (optional, added for ``run_mo_search``'s constraints): a callable
    ``arch -> bool``; the subclasses then never propose an architecture it refuses (mutations
    and candidates it refuses are dropped, ``random_unused`` draws feasible ones only). Without
    it every proposal, and every random draw, is exactly as before.

    Args:
        space: The search space (or its name).
        canonical: Dedup by ``canonical_key`` rather than by the exact decisions.
        seed: Seed of the proposals.
        feasible: ``arch -> bool``, or ``None`` (every architecture is allowed).
    """

    _owner = "MOSpaceSampler"

    def __init__(
        self,
        space: SearchSpace | str,
        *,
        canonical: bool = True,
        seed: int | None = None,
        feasible: Feasible | None = None,
    ) -> None:
        super().__init__(space, canonical=canonical, seed=seed)
        if feasible is not None and not callable(feasible):
            raise param_error("feasible", self._owner, "None or a callable arch -> bool", feasible)
        self.feasible = feasible

    def allowed(self, arch: Arch) -> bool:
        """Whether ``arch`` satisfies ``feasible`` (always True without it)."""
        return self.feasible is None or bool(self.feasible(arch))

    def _accept(self) -> Callable[[Arch], bool] | None:
        return None if self.feasible is None else self.allowed

    def exhausted(self, n_used: int) -> SearchError:
        """The error raised once no unused architecture is left (that ``feasible`` accepts)."""
        if self.feasible is None:
            return super().exhausted(n_used)
        return SearchError(
            f"{self._owner} has no unused architecture of space {self.space.name!r} left "
            f"that satisfies the constraints ({n_used} already in the study). Stop the "
            "search, loosen the constraints or use a new study."
        )

    def history(self, study: Study, before: int | None = None) -> list[MOPast]:  # type: ignore[override]
        """Trials of ``study`` that did not fail and hold a valid architecture, by number.

        Args:
            study: The study (any number of directions).
            before: Only trials numbered below this (``None``: all).

        Returns:
            One ``MOPast`` per trial (running, waiting and pruned ones with ``values=None``).
        """
        signs = direction_signs(study.directions, self._owner)
        out = []
        for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
            if t.state == TrialState.FAIL or (before is not None and t.number >= before):
                continue
            arch = self._arch(t.params)
            if arch is None:
                continue
            values = None
            if t.state == TrialState.COMPLETE and t.values is not None:
                v = np.asarray(t.values, dtype=np.float64)
                if v.shape == signs.shape and np.all(np.isfinite(v)):
                    values = v * signs
            out.append(MOPast(t.number, arch, self.key(arch), values))
        return out


def rank_and_crowding(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-dominated rank (n,) and crowding distance within each rank's front (n,).

    Args:
        points: (n, m) minimised values.
    """
    rank = non_dominated_sort(points)
    crowd = np.zeros(len(points), dtype=np.float64)
    for r in np.unique(rank):
        idx = np.flatnonzero(rank == r)
        crowd[idx] = crowding_distance(points[idx])
    return rank, crowd
