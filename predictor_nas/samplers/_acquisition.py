"""Acquisition functions over a predictor's per-candidate mean and std (higher is better)."""

from __future__ import annotations

import math

import numpy as np

from predictor_nas._validation import check_choice, check_float

#: Acquisition names accepted by ``acquisition_scores`` and ``PredictorGuidedSampler``.
ACQUISITIONS = ("ei", "ucb", "ts")


def _as_arrays(mean: np.ndarray, std: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(mean, dtype=np.float64).reshape(-1)
    s = np.zeros_like(m) if std is None else np.asarray(std, dtype=np.float64).reshape(-1)
    if s.shape != m.shape:
        raise ValueError(f"mean and std must have the same shape; got {m.shape} and {s.shape}.")
    return m, np.maximum(np.nan_to_num(s, nan=0.0), 0.0)


def expected_improvement(
    mean: np.ndarray, std: np.ndarray | None, best: float, *, xi: float = 0.0
) -> np.ndarray:
    """Expected improvement over ``best`` of a Gaussian ``N(mean, std^2)`` (maximisation).

    ``EI = (mean - best - xi) * Phi(z) + std * phi(z)`` with ``z = (mean - best - xi) / std``; where
    ``std == 0`` (or ``std`` is ``None``) it is ``max(mean - best - xi, 0)``.

    Returns:
        (n,) float64 array, >= 0.
    """
    m, s = _as_arrays(mean, std)
    gain = m - float(best) - float(xi)
    out = np.maximum(gain, 0.0)
    pos = s > 0
    if np.any(pos):
        z = gain[pos] / s[pos]
        cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        out[pos] = np.maximum(gain[pos] * cdf + s[pos] * pdf, 0.0)
    return out


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray | None, kappa: float) -> np.ndarray:
    """``mean + kappa * std`` per candidate (``std`` ``None`` counts as 0)."""
    m, s = _as_arrays(mean, std)
    return m + float(kappa) * s


def thompson_sample(
    mean: np.ndarray, std: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    """One independent draw per candidate from ``N(mean, std^2)`` (``std`` ``None`` = the mean)."""
    m, s = _as_arrays(mean, std)
    return m + s * rng.standard_normal(len(m))


def acquisition_scores(
    name: str,
    mean: np.ndarray,
    std: np.ndarray | None,
    *,
    best: float,
    rng: np.random.Generator,
    kappa: float = 2.0,
) -> np.ndarray:
    """Scores of ``name`` in ``ACQUISITIONS`` (higher is better) for a maximised objective."""
    check_choice(name, "acquisition", "acquisition_scores", ACQUISITIONS)
    if name == "ei":
        return expected_improvement(mean, std, best)
    if name == "ucb":
        check_float(kappa, "kappa", "acquisition_scores", minimum=0.0)
        return upper_confidence_bound(mean, std, kappa)
    return thompson_sample(mean, std, rng)


def top_k(scores: np.ndarray, mean: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best candidates: highest score, then highest mean, then the earlier
    candidate."""
    s = np.asarray(scores, dtype=np.float64)
    m = np.asarray(mean, dtype=np.float64)
    # lexsort: last key is primary; it is stable, so full ties keep the candidate order.
    return np.lexsort((np.arange(len(s)), -m, -s))[:k]


def best_index(scores: np.ndarray, mean: np.ndarray) -> int:
    """Index of the highest score; ties go to the higher mean, then to the earlier candidate."""
    return int(top_k(scores, mean, 1)[0])
