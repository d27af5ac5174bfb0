"""Exact hypervolume, the reference-point rule and hypervolume regret (minimisation).

The hypervolume of a set of points with respect to a reference point ``r`` is the volume of the
region dominated by the set and bounded by ``r``: the union over points ``p`` of the boxes
``[p_1, r_1] x ... x [p_m, r_m]``. Points not strictly better than ``r`` in every objective add
nothing.

Reference-point rule (``reference_point``): unless the user gives one, ``r`` is the worst value
of each objective over a reference set (for a benchmark: every architecture of the table; for a
search without a table: every evaluated point) plus ``margin`` (10 %) of that objective's range
over the set; an objective of zero range gets ``margin * max(|worst|, 1)``. The same ``r`` must be
used for every hypervolume that is compared (strategies, seeds, the true front).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from predictor_nas._validation import check_float, param_error
from predictor_nas.multiobjective._pareto import as_points, is_non_dominated


def _as_ref(ref: Any, m: int, owner: str) -> np.ndarray:
    r = np.asarray(ref, dtype=np.float64).reshape(-1)
    if r.shape != (m,) or not np.all(np.isfinite(r)):
        raise param_error("ref", owner, f"a finite point of {m} values", ref)
    return r


def _hv2(p: np.ndarray, r: np.ndarray) -> float:
    """2-D: sort by the first objective and sweep, O(n log n)."""
    p = p[np.lexsort((p[:, 1], p[:, 0]))]
    total, best_y = 0.0, r[1]
    for x, y in p:
        if y < best_y:
            total += (r[0] - x) * (best_y - y)
            best_y = y
    return total


def _hv(p: np.ndarray, r: np.ndarray) -> float:
    """Exact hypervolume of points ``p`` (n, m) all strictly below ``r`` (m,)."""
    n, m = p.shape
    if n == 0:
        return 0.0
    if m == 1:
        return float(r[0] - p[:, 0].min())
    if m == 2:
        return _hv2(p, r)
    # Slicing along the last objective: between two consecutive distinct values of it, the
    # dominated region's cross-section is the (m-1)-D hypervolume of the points at or below.
    p = p[is_non_dominated(p)]
    p = p[np.argsort(p[:, -1], kind="stable")]
    levels = np.append(np.unique(p[:, -1]), r[-1])
    total = 0.0
    for lo, hi in itertools.pairwise(levels):
        below = p[p[:, -1] <= lo, :-1]
        total += _hv(below, r[:-1]) * (hi - lo)
    return total


def hypervolume(points: Any, ref: Any) -> float:
    """Exact hypervolume of ``points`` with respect to ``ref``, all objectives minimised.

    2 objectives: sort and sweep, O(n log n). 3 objectives: slicing along the third objective,
    each slice a 2-D sweep over the front, O(k^2 log k) for a front of k points. More objectives
    use the same slicing recursively (exact, but exponential in m).

    Args:
        points: (n, m) objective values (minimised; see ``to_minimization``), finite.
        ref: (m,) reference point.

    Returns:
        The hypervolume, >= 0 (0 for an empty set or one with no point strictly below ``ref``).
    """
    p = as_points(points, "hypervolume")
    r = _as_ref(ref, p.shape[1], "hypervolume")
    p = p[np.all(p < r, axis=1)]
    return float(_hv(p, r))


def reference_point(points: Any, *, margin: float = 0.1) -> np.ndarray:
    """The documented reference point of a reference set (minimisation; module docstring).

    Args:
        points: (n, m) objective values, minimised, n >= 1: the reference set (e.g. every
            architecture of a table, or every evaluated point).
        margin: Share of each objective's range added to its worst value (>= 0).

    Returns:
        float64 array of shape (m,): ``max + margin * (max - min)`` per objective, or
        ``max + margin * max(|max|, 1)`` where ``max == min``.
    """
    p = as_points(points, "reference_point")
    if len(p) == 0:
        raise param_error("points", "reference_point", "a non-empty set of points", "0 points")
    mg = check_float(margin, "margin", "reference_point", minimum=0.0)
    hi, lo = p.max(axis=0), p.min(axis=0)
    span = hi - lo
    span = np.where(span > 0, span, np.maximum(np.abs(hi), 1.0))
    return hi + mg * span


def hypervolume_regret(found: Any, true_front: Any, ref: Any) -> float:
    """Hypervolume of the true front minus that of the found points (both minimised).

    Args:
        found: (n, m) points a search evaluated (all of them; dominated ones add nothing).
        true_front: (k, m) the true Pareto front (or every point of the table).
        ref: (m,) reference point, the same for every search compared (``reference_point``).

    Returns:
        The regret, >= 0 when ``found`` is a subset of the set ``true_front`` was taken from.
    """
    t = as_points(true_front, "hypervolume_regret", "true_front")
    f = as_points(found, "hypervolume_regret", "found")
    if len(f) and f.shape[1] != t.shape[1]:
        raise param_error(
            "found", "hypervolume_regret", f"points with {t.shape[1]} objectives", f.shape
        )
    if len(f) == 0:
        f = f.reshape(0, t.shape[1])
    return hypervolume(t, ref) - hypervolume(f, ref)
