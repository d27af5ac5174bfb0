"""Local search as an Optuna sampler (White, Nolen, Ansari & Nolen-Zimmer, 2021; NASLib)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from optuna.study import Study

from predictor_nas._validation import check_choice, check_int
from predictor_nas.samplers._space_sampler import Past, SpaceSampler
from predictor_nas.spaces import Arch, SearchSpace

_OWNER = "LocalSearchSampler"
MOVES = ("first", "best")


@dataclass(frozen=True, slots=True)
class LocalSearchStep:
    """What local search did with one trial (see ``LocalSearchSampler.steps``).

    Attributes:
        number: Optuna trial number.
        role: ``"init"`` (one of the first ``n_init`` random archs), ``"neighbour"`` (one edit
            from the incumbent) or ``"restart"`` (random arch after a local optimum).
        incumbent: Trial number of the incumbent when the trial was proposed (``None`` during
            ``init`` and ``restart``).
        incumbent_after: Trial number of the incumbent once the trial's result is known
            (``None`` while a (re)start is still collecting results).
    """

    number: int
    role: str
    incumbent: int | None
    incumbent_after: int | None


class LocalSearchSampler(SpaceSampler):
    """Hill climbing over one-edit neighbourhoods with random restarts.

    1. **Start**: the first ``n_init`` completed trials are uniform random architectures; the best
       of them becomes the incumbent.
    2. **Climb**: propose the incumbent's neighbours (``space.neighbours``: one decision changed)
       that the study does not hold yet, one per trial, in random order. With ``move="first"``
       the first neighbour that beats the incumbent becomes the incumbent (its neighbourhood is
       searched next); with ``move="best"`` the whole neighbourhood is evaluated and the search
       moves to its best member if that beats the incumbent (NASLib's variant).
    3. **Restart**: when every neighbour of the incumbent is in the study and none is better (a
       local optimum), propose one uniform random unused architecture; it is the new incumbent.

    No architecture is proposed twice: "in the study" means any trial that did not fail,
    compared by ``canonical_key`` (isomorphic cells are one architecture) unless
    ``canonical=False``. A failed trial gave no result and may be proposed again.

    **State** is replayed from the study on every proposal: the trials in number order drive the
    rules above (which only compare values), and the randomness of a proposal (neighbour order,
    restart arch) comes from a generator seeded by ``(seed, number of non-failed trials before
    it)``. So a resumed study, or a fresh sampler with the same seed, proposes exactly what an
    uninterrupted run would have. Trials that did not come from this sampler (enqueued, another
    sampler) simply take part in the replay.

    Args:
        space: The search space (or its name).
        n_init: Random architectures before the first climb (>= 1).
        move: ``"first"`` (first improvement) or ``"best"`` (best improvement).
        canonical: Dedup by ``canonical_key`` rather than by the exact operations.
        seed: Seed of the proposals.
    """

    _owner = _OWNER

    def __init__(
        self,
        space: SearchSpace | str = "nb201",
        *,
        n_init: int = 10,
        move: str = "first",
        canonical: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__(space, canonical=canonical, seed=seed)
        self.n_init = check_int(n_init, "n_init", _OWNER, minimum=1)
        self.move = check_choice(move, "move", _OWNER, MOVES)
        self._nb_cache: dict[tuple[str, ...], list[tuple[object, Arch]]] = {}

    # ----------------------------------------------------------------- public helpers
    def steps(self, study: Study) -> list[LocalSearchStep]:
        """Replay ``study`` and say, for each non-failed trial, how local search saw it."""
        out = []
        for past, role, inc, inc_after in self._replay(self.history(study)):
            out.append(LocalSearchStep(past.number, role, inc, inc_after))
        return out

    # ----------------------------------------------------------------- the proposal
    def _propose(self, study: Study, history: list[Past], rng: np.random.Generator) -> Arch:
        state = _State(start_size=self.n_init)
        for _ in self._replay(history, state):
            pass
        self._advance(state)
        if state.current is None:
            return self.random_unused(state.used, rng)
        nbs = self._unused_neighbours(state.current.arch, state.used)
        return nbs[int(rng.integers(len(nbs)))]

    def _replay(
        self, history: list[Past], state: _State | None = None
    ) -> Iterator[tuple[Past, str, int | None, int | None]]:
        """Run the rules over ``history``; yield each trial's role and incumbents."""
        state = state or _State(start_size=self.n_init)
        for past in history:
            self._advance(state)
            role = "neighbour" if state.current is not None else state.start_role
            inc = state.current.number if state.current is not None else None
            self._observe(state, past)
            after = state.current.number if state.current is not None else None
            yield past, role, inc, after

    def _advance(self, state: _State) -> None:
        """Before a proposal: leave a finished neighbourhood (move or restart)."""
        while state.current is not None and all(
            k in state.used for k, _ in self._neighbours(state.current.arch)
        ):
            best = state.best_neighbour
            state.best_neighbour = None
            if self.move == "best" and best is not None and best.value > state.current.value:
                state.current = best  # a neighbourhood-best move; its neighbourhood comes next
                continue
            state.current = None  # a local optimum: restart from one random arch
            state.start_role, state.start_size, state.start = "restart", 1, []

    def _observe(self, state: _State, past: Past) -> None:
        """After a trial: count it as used and update the incumbent with its result."""
        state.used.add(past.key)
        if past.value is None:
            return
        if state.current is None:
            state.start.append(past)
            if len(state.start) >= state.start_size:
                state.current = max(state.start, key=lambda p: p.value)  # first of ties
                state.start, state.best_neighbour = [], None
        elif self.move == "first":
            if past.value > state.current.value:
                state.current = past
        elif state.best_neighbour is None or past.value > state.best_neighbour.value:
            state.best_neighbour = past

    def _unused_neighbours(self, arch: Arch, used: set) -> list[Arch]:
        """Neighbours of ``arch`` whose key is unused (one per key, in neighbour order)."""
        return [nb for k, nb in self._neighbours(arch) if k not in used]

    def _neighbours(self, arch: Arch) -> list[tuple[object, Arch]]:
        """``(key, arch)`` of the neighbours of ``arch``, one per key (memoised)."""
        out = self._nb_cache.get(arch.ops)
        if out is None:
            out, seen = [], set()
            for nb in self.space.neighbours(arch):
                k = self.key(nb)
                if k not in seen:
                    seen.add(k)
                    out.append((k, nb))
            self._nb_cache[arch.ops] = out
        return out


@dataclass
class _State:
    """Replay state: incumbent, the current (re)start's results, keys in the study."""

    start_size: int
    current: Past | None = None
    start: list[Past] = field(default_factory=list)
    start_role: str = "init"
    best_neighbour: Past | None = None
    used: set = field(default_factory=set)
