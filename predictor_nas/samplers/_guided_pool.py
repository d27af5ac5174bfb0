"""Candidate pools of ``PredictorGuidedSampler``: random draws, one-edit neighbours, the climb
point of its local search and the BANANAS pool (mutations, crossovers, random top-up).

``_GuidedPool`` is the part of the sampler (``predictor_nas.samplers._guided``) that works on
integer code arrays: on a plain space (independent decisions, all over ``choices``) with numpy
arrays, on any other space (e.g. a conditional one) through its own ``neighbours``, ``mutate``
and ``sample``. Canonical keys are memoised per space (``_cache_of``).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from predictor_nas._validation import scores_of
from predictor_nas.samplers._pool import CandidatePool, draw_unused, mutants
from predictor_nas.samplers._priors import Scorer
from predictor_nas.spaces import Arch, SearchSpace

Codes = tuple[int, ...]


class _SpaceCache:
    """Per-space memo of ``canonical_key`` by integer codes (it is pure)."""

    #: Entries kept per space before the memo is cleared (NB201 has 15,625 archs in all).
    max_entries = 1 << 17

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.keys: dict[Codes, str] = {}
        self.index = {op: i for i, op in enumerate(space.choices)}

    def key(self, codes: Codes) -> str:
        k = self.keys.get(codes)
        if k is None:
            if len(self.keys) >= self.max_entries:
                self.keys.clear()
            k = self.keys[codes] = self.space.canonical_key(self.space.from_codes(codes))
        return k


_CACHES: weakref.WeakKeyDictionary[SearchSpace, _SpaceCache] = weakref.WeakKeyDictionary()


def _cache_of(space: SearchSpace) -> _SpaceCache:
    c = _CACHES.get(space)
    if c is None:
        c = _CACHES[space] = _SpaceCache(space)
    return c


class _GuidedPool:
    """Candidate generation of ``PredictorGuidedSampler`` (a mixin: it reads the sampler's
    settings and state below)."""

    space: SearchSpace
    n_warmup: int
    warmup_pool: int
    warmup_scorer: Scorer | None
    n_candidates: int
    n_mutations_per_parent: int
    n_parents: int
    max_edits: int
    n_local_parents: int
    n_crossovers: int
    patience: int | None
    _rng: np.random.Generator
    _names: list[str]
    _n_choices: int
    _plain: bool
    _cache: _SpaceCache
    _point_neighbours: tuple[Codes, set[Codes]] | None

    @staticmethod
    def _argbest(complete: Sequence[tuple[Codes, float]]) -> int:
        """Position of the first best target among the complete trials (in trial order)."""
        return int(np.argmax([v for _, v in complete]))

    def _draw(self, n: int) -> np.ndarray:
        """(n, n_decisions) codes of uniform random architectures."""
        if self._plain:
            return self._rng.integers(self._n_choices, size=(n, len(self._names)))
        rows = [self.space.to_codes(self.space.sample(self._rng)) for _ in range(n)]
        return np.array(rows, dtype=np.int64).reshape(n, len(self._names))

    def _draw_one(self) -> Codes:
        """Codes of one uniform random architecture."""
        return tuple(int(c) for c in self._draw(1)[0])

    def _random_unused(self, used: set[str], tries: int = 1000) -> Codes:
        """Codes of a uniform random architecture whose key is unused (any one if none is)."""
        found = draw_unused(self._draw_one, self._cache.key, used, tries=tries)
        return found[0] if found else self._draw_one()

    def _proxy_unused(self, used: set[str]) -> Codes:
        """The ``warmup_scorer``'s best of ``warmup_pool`` random unused archs (first on ties)."""
        pool = self._unique(self._draw(self.warmup_pool), used)
        if not pool:
            return self._random_unused(used)
        return self._top_scored(self.warmup_scorer, pool, "warmup")  # type: ignore[arg-type]

    def _top_scored(self, scorer: Scorer, codes: Sequence[Codes], what: str) -> Codes:
        """The one of ``codes`` that ``scorer`` scores highest (first on ties, NaN never)."""
        s = scores_of(scorer, self._inputs(codes), what)
        return codes[int(np.argmax(np.where(np.isnan(s), -np.inf, s)))]

    def _unique(self, rows: np.ndarray, used: set[str]) -> list[Codes]:
        """Rows (k, n_decisions) whose canonical key is not in ``used``, first one per key."""
        return CandidatePool(self._cache.key, used).extend(map(tuple, rows.tolist())).items

    def _neighbours(self, codes: np.ndarray) -> np.ndarray:
        """All one-edit neighbours of (k, n_decisions) codes: (k * n_decisions * (n_choices - 1),
        n_decisions), parent by parent."""
        n_dec, n_ch = len(self._names), self._n_choices
        if not self._plain:
            sp = self.space
            rows = [sp.to_codes(a) for c in codes for a in sp.neighbours(sp.from_codes(c))]
            return np.array(rows, dtype=np.int64).reshape(len(rows), n_dec)
        # Decision d gets code (c + s) % n_ch for s = 1..n_ch-1.
        shift = np.zeros((n_dec * (n_ch - 1), n_dec), dtype=np.int64)
        rows = np.arange(len(shift))
        shift[rows, rows // (n_ch - 1)] = rows % (n_ch - 1) + 1
        return ((np.asarray(codes)[:, None, :] + shift[None]) % n_ch).reshape(-1, n_dec)

    def _climber(self, complete: Sequence[tuple[Codes, float]]) -> tuple[Codes, int]:
        """The current point of the local-search climb, replayed from the complete trials, and
        how many of its neighbours were evaluated since it became the point (all worse).

        The climb starts at the best warm-up trial. Each later trial (in trial order) one edit
        from the current point is a climb step: it becomes the point if it is better. Any other
        trial was a restart (proposed at a local optimum) and becomes the point, better or not,
        as local search's random restart does.
        """
        head = complete[: self.n_warmup]
        point, value = head[self._argbest(head)]
        tried = 0
        for codes, v in complete[self.n_warmup :]:
            step = self._one_edit(codes, point)
            if not step or v > value:
                point, value, tried = codes, v, 0
            else:
                tried += 1
        return point, tried

    def _one_edit(self, codes: Codes, point: Codes) -> bool:
        """Whether ``codes`` is a one-edit neighbour of ``point`` (on a conditional space a
        single move may also switch the decisions it activates)."""
        if self._plain:
            return sum(a != b for a, b in zip(codes, point)) == 1
        # The replay asks this for every trial after the warm-up while the point changes
        # rarely: the point's neighbour set is built once per point, not once per trial.
        if self._point_neighbours is None or self._point_neighbours[0] != point:
            rows = self._neighbours(np.array([point]))
            self._point_neighbours = (point, {tuple(int(c) for c in row) for row in rows})
        return codes in self._point_neighbours[1]

    def _local(self, complete: Sequence[tuple[Codes, float]], used: set[str]) -> list[Codes]:
        """The climb point's unused one-edit neighbours (one per key); none once ``patience``
        of them were evaluated without improvement."""
        point, tried = self._climber(complete)
        if self.patience is not None and tried >= self.patience:
            return []
        return self._unique(self._neighbours(np.array([point])), used)

    def _candidates(self, complete: Sequence[tuple[Codes, float]], used: set[str]) -> list[Codes]:
        """Neighbours and mutations of the best archs, then random archs; unused keys only, no
        duplicates."""
        order = sorted(range(len(complete)), key=lambda i: (-complete[i][1], i))
        if not self._plain:
            return self._candidates_by_moves([complete[i][0] for i in order], used)
        n_dec, n_ch = len(self._names), self._n_choices
        blocks = []
        if self.n_local_parents:
            top = np.array([complete[i][0] for i in order[: self.n_local_parents]])
            blocks.append(self._neighbours(top))
        m = self.n_mutations_per_parent
        if m:
            parents = np.array([complete[i][0] for i in order[: self.n_parents]])
            kids = np.repeat(parents, m, axis=0)
            edits = np.tile(np.arange(m) % self.max_edits + 1, len(parents))
            # Distinct decisions per kid: the first `edits` of a random permutation.
            perm = np.argsort(self._rng.random(kids.shape), axis=1)
            mask = np.zeros(kids.shape, dtype=bool)
            np.put_along_axis(mask, perm, np.arange(n_dec)[None, :] < edits[:, None], axis=1)
            shifts = self._rng.integers(1, n_ch, size=kids.shape)
            blocks.append(np.where(mask, (kids + shifts) % n_ch, kids))
        if self.n_crossovers:
            parents = np.array([complete[i][0] for i in order[: self.n_parents]])
            # Uniform crossover: every decision from an independently chosen parent.
            pick = self._rng.integers(len(parents), size=(self.n_crossovers, n_dec))
            blocks.append(parents[pick, np.arange(n_dec)[None, :]])
        pool = np.concatenate(blocks) if blocks else np.zeros((0, n_dec), dtype=np.int64)
        return self._topped_up(pool, used)

    def _candidates_by_moves(self, ranked: Sequence[Codes], used: set[str]) -> list[Codes]:
        """``_candidates`` with the space's own ``neighbours``/``mutate``/``sample`` (spaces
        whose decisions are not independent, e.g. conditional ones)."""
        sp = self.space
        rows: list[tuple[int, ...]] = []
        if self.n_local_parents:
            rows.extend(map(tuple, self._neighbours(np.array(ranked[: self.n_local_parents]))))
        top = [sp.from_codes(c) for c in ranked[: self.n_parents]]
        m, edits = self.n_mutations_per_parent, self.max_edits
        rows.extend(sp.to_codes(a) for a in mutants(sp, top, m, self._rng, max_edits=edits))
        parents = list(ranked[: self.n_parents])
        for _ in range(self.n_crossovers):
            pick = self._rng.integers(len(parents), size=len(self._names))
            child = tuple(parents[int(p)][d] for d, p in enumerate(pick))
            try:
                rows.append(sp.to_codes(sp.from_codes(child)))
            except ValueError:  # an invalid mix of a conditional space's decisions
                continue
        return self._topped_up(
            np.array(rows, dtype=np.int64).reshape(len(rows), len(self._names)), used
        )

    def _topped_up(self, pool: np.ndarray, used: set[str]) -> list[Codes]:
        """The first ``n_candidates`` rows of ``pool`` (k, n_decisions), topped up with random
        rows to ``n_candidates``; unused keys only, first one per key."""
        pool = pool[: self.n_candidates]
        if len(pool) < self.n_candidates:
            pool = np.concatenate([pool, self._draw(self.n_candidates - len(pool))])
        return self._unique(pool, used)

    def _inputs(self, codes: Sequence[Codes]) -> list[Arch]:
        """The predictor's inputs: the archs of ``codes``."""
        return [self.space.from_codes(c) for c in codes]
