"""Non-dominated sorting, crowding, Pareto fronts and exact hypervolume, checked against
brute-force definitions (pairwise dominance, inclusion-exclusion, Monte-Carlo) with Hypothesis."""

from __future__ import annotations

import itertools

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.multiobjective import (
    crowding_distance,
    direction_signs,
    dominates,
    front_coverage,
    hypervolume,
    hypervolume_regret,
    is_non_dominated,
    non_dominated_sort,
    pareto_front,
    reference_point,
    to_minimization,
)


def _points(m, max_n=8):
    """Small integer grids: many ties and duplicates, the hard cases."""
    row = st.lists(st.integers(0, 6), min_size=m, max_size=m)
    return st.lists(row, min_size=1, max_size=max_n).map(lambda r: np.asarray(r, float))


def _brute_hv(p, ref):
    """Inclusion-exclusion over all subsets: the volume of the union of boxes [p, ref]."""
    total = 0.0
    for k in range(1, len(p) + 1):
        for sub in itertools.combinations(range(len(p)), k):
            corner = p[list(sub)].max(axis=0)
            total += (-1) ** (k + 1) * float(np.prod(np.clip(ref - corner, 0, None)))
    return total


def _brute_ranks(p):
    rank, left, r = np.full(len(p), -1), set(range(len(p))), 0
    while left:
        front = {i for i in left if not any(dominates(p[j], p[i]) for j in left)}
        for i in front:
            rank[i] = r
        left -= front
        r += 1
    return rank


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4).flatmap(_points))
def test_non_dominated_sort_matches_pairwise_definition(p):
    """Fast ranks equal peeling by pairwise dominance; rank 0 is the is_non_dominated mask."""
    ranks = non_dominated_sort(p)
    assert ranks.tolist() == _brute_ranks(p).tolist()
    assert np.array_equal(ranks == 0, is_non_dominated(p))
    assert sorted(pareto_front(p).tolist()) == np.flatnonzero(ranks == 0).tolist()


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 3).flatmap(_points))
def test_hypervolume_is_exact_against_inclusion_exclusion(p):
    """2-D sweep and 3-D slicing equal the inclusion-exclusion volume (ties, duplicates, points
    beyond the reference point)."""
    ref = np.full(p.shape[1], 5.0)
    assert hypervolume(p, ref) == pytest.approx(_brute_hv(p, ref), abs=1e-9)


def test_hypervolume_3d_agrees_with_monte_carlo():
    """On 40 random 3-D points the exact volume is within 3 standard errors of a 200k-sample
    Monte-Carlo estimate."""
    rng = np.random.default_rng(0)
    p = rng.random((40, 3))
    ref = np.ones(3)
    u = rng.random((200_000, 3))
    dominated = np.zeros(len(u), bool)
    for q in p:
        dominated |= np.all(u >= q, axis=1)
    est, se = dominated.mean(), dominated.std() / np.sqrt(len(u))
    assert abs(hypervolume(p, ref) - est) < 3 * se


def test_hypervolume_known_values():
    """Hand-computed volumes: one box, an L-shape, and nothing beyond the reference point."""
    assert hypervolume([[1.0, 1.0]], [3.0, 3.0]) == 4.0
    assert hypervolume([[1.0, 2.0], [2.0, 1.0]], [3.0, 3.0]) == 3.0
    assert hypervolume([[1.0, 2.0, 1.0], [2.0, 1.0, 1.0]], [3.0, 3.0, 2.0]) == 3.0
    assert hypervolume([[4.0, 0.0]], [3.0, 3.0]) == 0.0
    assert hypervolume(np.zeros((0, 2)), [1.0, 1.0]) == 0.0


def test_crowding_distance_values():
    """Extremes are infinite; inner points get the normalised gap between their neighbours."""
    p = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])
    d = crowding_distance(p)
    assert np.isinf(d[0]) and np.isinf(d[3])
    assert d[1] == pytest.approx(3 / 4 + 3 / 4)
    assert d[2] == pytest.approx(3 / 4 + 2 / 4)
    assert np.all(np.isinf(crowding_distance(p[:2])))


def test_directions_and_reference_point():
    """Optuna directions give signs; the reference point is the worst plus 10% of the range."""
    dirs = [optuna.study.StudyDirection.MAXIMIZE, "minimize"]
    assert direction_signs(dirs).tolist() == [-1.0, 1.0]
    assert to_minimization([[90.0, 2.0]], dirs).tolist() == [[-90.0, 2.0]]
    ref = reference_point([[0.0, 10.0], [10.0, 10.0]])
    assert ref.tolist() == [11.0, 11.0]  # zero range: 10% of max(|worst|, 1)
    with pytest.raises(InvalidParameterError, match="'directions' parameter"):
        direction_signs(["up"])
    with pytest.raises(InvalidParameterError, match="finite values"):
        hypervolume([[np.nan, 1.0]], [2.0, 2.0])
    with pytest.raises(InvalidParameterError, match="'ref' parameter of hypervolume"):
        hypervolume([[1.0, 1.0]], [2.0])


def test_regret_and_coverage():
    """Regret is the true front's volume minus the found one's; coverage counts exact hits."""
    true = np.array([[1.0, 2.0], [2.0, 1.0]])
    found = np.array([[1.0, 2.0], [2.5, 2.5]])
    ref = np.array([3.0, 3.0])
    assert hypervolume_regret(found, true, ref) == pytest.approx(3.0 - 2.0)
    assert hypervolume_regret(true, true, ref) == 0.0
    assert front_coverage(found, true) == 0.5


def test_front_of_a_whole_table_is_fast_and_exact():
    """15,625 random 3-objective points: the sorted-filter front equals rank 0 of a sample check."""
    rng = np.random.default_rng(1)
    p = rng.random((15_625, 3))
    mask = is_non_dominated(p)
    idx = np.flatnonzero(mask)
    # no front point is dominated by any point, and a sample of the others is dominated
    for i in idx[:50]:
        assert not np.any(np.all(p <= p[i], axis=1) & np.any(p < p[i], axis=1))
    for i in np.flatnonzero(~mask)[:50]:
        assert np.any(np.all(p[idx] <= p[i], axis=1) & np.any(p[idx] < p[i], axis=1))
