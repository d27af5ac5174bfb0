"""Shared plumbing of our multi-objective samplers: the study's history as minimised vectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.study import Study
from optuna.trial import TrialState

from predictor_nas.multiobjective import crowding_distance, direction_signs, non_dominated_sort
from predictor_nas.samplers._space_sampler import SpaceSampler
from predictor_nas.spaces import Arch


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
    """

    _owner = "MOSpaceSampler"

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
