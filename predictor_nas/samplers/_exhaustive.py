"""Brute force: every architecture of a (small) space once, in a seeded order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from predictor_nas._validation import check_int, param_error
from predictor_nas.samplers._space_sampler import Past, SpaceSampler
from predictor_nas.spaces import Arch, SearchSpace

_OWNER = "ExhaustiveSampler"


class ExhaustiveSampler(SpaceSampler):
    """Enumerate the space without repeats: grid search over all architectures.

    The order is a random permutation of the space's indices (``space.from_index``) drawn from
    ``seed`` (``shuffle=True``), or the index order itself. Each proposal is the first
    architecture in that order that the study does not hold yet (any trial that did not fail;
    compared by ``canonical_key`` unless ``canonical=False``, so with it NB201's 15,625 cells
    take 6,466 queries). A failed trial gave no result, so its architecture comes again.

    **When the space is exhausted** ``study.optimize`` stops cleanly: after the trial that used
    the last architecture, ``after_trial`` calls ``study.stop()``. Asking for one more trial
    anyway (ask-and-tell) raises ``SearchError``.

    **State** is the study (the order is a function of the seed alone), so a resumed study goes
    on exactly where it stopped. With a new seed per trial (as ``run_search`` does) this is
    uniform random sampling without replacement.

    Args:
        space: The search space (or its name); at most ``max_size`` architectures.
        shuffle: Seeded random order (True) or the space's index order (False).
        canonical: Dedup by ``canonical_key`` rather than by the exact operations.
        seed: Seed of the order.
        max_size: Largest space accepted (the order is materialised: 8 bytes per arch).
    """

    _owner = _OWNER

    def __init__(
        self,
        space: SearchSpace | str = "nb201",
        *,
        shuffle: bool = True,
        canonical: bool = True,
        seed: int | None = None,
        max_size: int = 10_000_000,
    ) -> None:
        super().__init__(space, canonical=canonical, seed=seed)
        if not isinstance(shuffle, bool):
            raise param_error("shuffle", _OWNER, "a bool", shuffle)
        self.shuffle = shuffle
        self.max_size = check_int(max_size, "max_size", _OWNER, minimum=1)
        if self.space.size > self.max_size:
            raise param_error(
                "space",
                _OWNER,
                f"a space of at most max_size={self.max_size} architectures",
                f"{self.space.name} ({self.space.size})",
            )
        self._order_cache: tuple[int, np.ndarray] | None = None
        self._arch_at: dict[int, Arch] = {}

    def reseed_rng(self) -> None:
        """Reseed from fresh OS entropy (a new order; Optuna calls this for parallel workers)."""
        super().reseed_rng()
        self._order_cache = None

    def order(self) -> np.ndarray:
        """Space indices in proposal order, shape (space.size,)."""
        if self._order_cache is None or self._order_cache[0] != self._base:
            n = self.space.size
            idx = np.random.default_rng(self._base).permutation(n) if self.shuffle else np.arange(n)
            self._order_cache = (self._base, idx)
        return self._order_cache[1]

    # ----------------------------------------------------------------- Optuna API
    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Stop ``study.optimize`` once every architecture is in the study."""
        used = {p.key for p in self.history(study) if p.number != trial.number}
        if state != TrialState.FAIL:
            arch = self._arch(trial.params)
            if arch is not None:
                used.add(self.key(arch))
        if self._first_unused(used) is None:
            try:
                study.stop()
            except RuntimeError:  # outside study.optimize: the next ask raises SearchError
                pass

    # ----------------------------------------------------------------- the proposal
    def _propose(self, study: Study, history: list[Past], rng: np.random.Generator) -> Arch:
        used = {p.key for p in history}
        arch = self._first_unused(used)
        if arch is None:
            raise self.exhausted(len(used))
        return arch

    def _first_unused(self, used: set[Any]) -> Arch | None:
        for i in self.order():
            arch = self._arch_at.get(int(i))
            if arch is None:
                arch = self._arch_at[int(i)] = self.space.from_index(int(i))
            if self.key(arch) not in used:
                return arch
        return None
