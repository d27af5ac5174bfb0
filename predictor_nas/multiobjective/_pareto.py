"""Pareto dominance: direction signs, non-dominated sorting, crowding distance, Pareto fronts.

Convention: every function here **minimises** every objective. Turn a study's values into that
convention with ``to_minimization(values, directions)`` (maximised objectives are negated).
A point ``a`` dominates ``b`` when ``a <= b`` in every objective and ``a < b`` in at least one;
equal points do not dominate each other (both stay on a front).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from predictor_nas._validation import param_error

#: Rows of the dominance matrix computed at once (memory: rows * n * m booleans).
_BLOCK = 512


def direction_signs(directions: Sequence[Any], owner: str = "direction_signs") -> np.ndarray:
    """Signs that turn values of the given directions into minimised ones.

    Args:
        directions: (m,) Optuna ``StudyDirection`` members or the strings ``"minimize"`` /
            ``"maximize"`` (case-insensitive), as ``study.directions`` gives them.
        owner: Name used in the error message.

    Returns:
        float64 array of shape (m,): ``+1.0`` for a minimised objective, ``-1.0`` for a maximised
        one; ``values * signs`` is then to be minimised.

    Raises:
        InvalidParameterError: An entry is neither direction, or ``directions`` is empty.
    """
    out = []
    for d in directions:
        name = getattr(d, "name", d)
        name = name.lower() if isinstance(name, str) else name
        if name == "minimize":
            out.append(1.0)
        elif name == "maximize":
            out.append(-1.0)
        else:
            raise param_error("directions", owner, "a list of 'minimize' / 'maximize'", d)
    if not out:
        raise param_error("directions", owner, "a non-empty list of directions", directions)
    return np.asarray(out, dtype=np.float64)


def to_minimization(values: Any, directions: Sequence[Any]) -> np.ndarray:
    """Values of shape (n, m) in the given directions as minimised ones (maximised negated).

    Args:
        values: (n, m) objective values (or (m,) for one point).
        directions: (m,) directions (see ``direction_signs``).

    Returns:
        float64 array of the shape of ``values``.
    """
    v = np.asarray(values, dtype=np.float64)
    signs = direction_signs(directions, "to_minimization")
    if v.shape[-1:] != signs.shape:
        raise param_error(
            "values",
            "to_minimization",
            f"an array whose last axis has {len(signs)} entries",
            v.shape,
        )
    return v * signs


def as_points(points: Any, owner: str, name: str = "points") -> np.ndarray:
    """``points`` as a finite float64 array of shape (n, m), m >= 1 (standard error otherwise)."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 1 and p.size == 0:
        p = p.reshape(0, 1)
    if p.ndim != 2 or p.shape[1] < 1:
        raise param_error(name, owner, "an array of shape (n, m) with m >= 1", p.shape)
    if not np.all(np.isfinite(p)):
        raise param_error(name, owner, "finite values (no NaN or inf)", "non-finite entries")
    return p


def dominates(a: Any, b: Any) -> bool:
    """Whether point ``a`` (m,) dominates point ``b`` (m,) under minimisation."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bool(np.all(x <= y) and np.any(x < y))


def _dominance(p: np.ndarray, rows: slice) -> np.ndarray:
    """(r, n) bool: ``out[i, j]`` = point ``rows[i]`` dominates point ``j``."""
    a = p[rows, None, :]
    b = p[None, :, :]
    return np.all(a <= b, axis=2) & np.any(a < b, axis=2)


def non_dominated_sort(points: Any) -> np.ndarray:
    """Non-dominated rank of every point (0 = the Pareto front, 1 = the front once 0 is removed...).

    Vectorised over a dominance matrix computed in blocks: O(n^2 m) time, O(n^2) bytes.

    Args:
        points: (n, m) objective values, minimised, finite.

    Returns:
        int64 array of shape (n,).
    """
    p = as_points(points, "non_dominated_sort")
    n = len(p)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    dom = np.concatenate([_dominance(p, slice(i, i + _BLOCK)) for i in range(0, n, _BLOCK)])
    count = dom.sum(axis=0).astype(np.int64)  # how many points dominate each point
    rank = np.full(n, -1, dtype=np.int64)
    current = np.flatnonzero(count == 0)
    r = 0
    while current.size:
        rank[current] = r
        count -= dom[current].sum(axis=0)
        count[rank >= 0] = -1
        current = np.flatnonzero(count == 0)
        r += 1
    return rank


def is_non_dominated(points: Any) -> np.ndarray:
    """Mask (n,) of the points no other point dominates (the Pareto front), minimised.

    2 objectives: sort and sweep, O(n log n). More: each point is compared with the front kept
    so far (O(n * front size * m)), so it is fast for a whole table of 15,625 points.
    """
    p = as_points(points, "is_non_dominated")
    n, m = p.shape
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    if m == 1:
        return p[:, 0] == p[:, 0].min()
    order = np.lexsort(p.T[::-1])  # by first objective, then the next ones
    if m == 2:
        best = np.inf
        prev = None
        for i in order:
            x, y = p[i]
            if y < best:
                mask[i], best, prev = True, y, (x, y)
            elif prev is not None and x == prev[0] and y == prev[1]:
                mask[i] = True  # an exact copy of a front point is not dominated
        return mask
    front: list[int] = []
    for i in order:
        # points sorted lexicographically: a later point never dominates an earlier one
        if front:
            f = p[front]
            if np.any(np.all(f <= p[i], axis=1) & np.any(f < p[i], axis=1)):
                continue
        front.append(int(i))
    mask[front] = True
    return mask


def pareto_front(points: Any) -> np.ndarray:
    """Indices (k,) of the non-dominated points, sorted by the first objective then the next."""
    p = as_points(points, "pareto_front")
    idx = np.flatnonzero(is_non_dominated(p))
    return idx[np.lexsort(p[idx].T[::-1])] if idx.size else idx


def crowding_distance(points: Any) -> np.ndarray:
    """NSGA-II crowding distance of each point within the set given (usually one front).

    Per objective the points are sorted; the two extremes get ``inf``, the others the gap between
    their two neighbours divided by the objective's range; the distance is the sum over
    objectives. An objective with zero range adds nothing. Sets of 1 or 2 points are all ``inf``.

    Args:
        points: (n, m) objective values, minimised.

    Returns:
        float64 array of shape (n,), >= 0 (``inf`` at the extremes).
    """
    p = as_points(points, "crowding_distance")
    n, m = p.shape
    d = np.zeros(n, dtype=np.float64)
    if n <= 2:
        d[:] = np.inf
        return d
    for j in range(m):
        order = np.argsort(p[:, j], kind="stable")
        col = p[order, j]
        span = col[-1] - col[0]
        d[order[0]] = d[order[-1]] = np.inf
        if span > 0:
            d[order[1:-1]] += (col[2:] - col[:-2]) / span
    return d


def front_coverage(found: Any, true_front: Any) -> float:
    """Share of the points of ``true_front`` (k, m) that appear exactly in ``found`` (n, m)."""
    t = as_points(true_front, "front_coverage", "true_front")
    f = as_points(found, "front_coverage", "found")
    if len(t) == 0:
        return 1.0
    if f.shape[1] != t.shape[1]:
        allowed = f"points with {t.shape[1]} objectives"
        raise param_error("found", "front_coverage", allowed, f.shape)
    have = {tuple(r) for r in f}
    return float(np.mean([tuple(r) in have for r in t]))
