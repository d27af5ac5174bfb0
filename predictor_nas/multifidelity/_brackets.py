"""Bracket arithmetic of successive halving and Hyperband (Li et al., 2018).

With a maximum fidelity R, a minimum r_min and a keep ratio eta, the fidelity ladder has
``s_max + 1`` rungs ``R * eta**(k - s_max)`` (k = 0..s_max, rounded to whole epochs), where
``s_max = floor(log_eta(R / r_min))``. Hyperband's bracket s (s = s_max..0) starts
``n = ceil((s_max + 1) / (s + 1) * eta**s)`` configurations on the ladder's rung ``s_max - s`` and
keeps ``floor(n_i / eta)`` of them at each next rung up to R; every bracket costs about the same.
Successive halving is the bracket s = s_max alone.

Where the benchmark offers only a few fidelities (NB201's 12 and 200 epochs), the ladder is those
fidelities (``levels``), s_max = their count - 1, and eta is only the keep ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from predictor_nas._validation import check_int, param_error

_OWNER = "hyperband_brackets"


@dataclass(frozen=True)
class Rung:
    """One rung of a bracket: ``n_configs`` configurations trained to ``fidelity`` epochs."""

    fidelity: int
    n_configs: int


@dataclass(frozen=True)
class Bracket:
    """A successive-halving run: rungs of increasing fidelity and shrinking size.

    Attributes:
        s: Hyperband's bracket index (number of promotions; 0 = everything at full fidelity).
        rungs: The rungs, lowest fidelity first; the last one is at the maximum fidelity.
    """

    s: int
    rungs: tuple[Rung, ...]

    @property
    def n_evaluations(self) -> int:
        """Evaluations the bracket makes (each promotion is a new evaluation)."""
        return sum(r.n_configs for r in self.rungs)


def fidelity_ladder(
    max_fidelity: int,
    min_fidelity: int,
    eta: int = 3,
    levels: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """The rung fidelities from the lowest to ``max_fidelity``.

    Args:
        max_fidelity: R, the fidelity whose value is the objective (epochs, >= 1).
        min_fidelity: r_min, the lowest fidelity a rung may use (1 <= r_min <= R).
        eta: Keep ratio (int >= 2).
        levels: The only fidelities the evaluator offers (e.g. ``(12, 200)``), or ``None`` when
            every integer epoch in [r_min, R] is available.

    Returns:
        Increasing fidelities; the last is ``max_fidelity``.
    """
    big = check_int(max_fidelity, "max_fidelity", _OWNER, minimum=1)
    small = check_int(min_fidelity, "min_fidelity", _OWNER, minimum=1)
    eta = check_int(eta, "eta", _OWNER, minimum=2)
    if small > big:
        raise param_error("min_fidelity", _OWNER, f"an int <= max_fidelity ({big})", small)
    if levels is not None:
        lv = sorted({check_int(v, "levels", _OWNER, minimum=1) for v in levels})
        if big not in lv:
            raise param_error("levels", _OWNER, f"fidelities that include {big}", list(levels))
        return tuple(v for v in lv if small <= v <= big)
    s_max = math.floor(math.log(big / small) / math.log(eta) + 1e-9)
    return tuple(max(small, round(big * eta ** (k - s_max))) for k in range(s_max + 1))


def _bracket(ladder: Sequence[int], s: int, s_max: int, eta: int) -> Bracket:
    n = math.ceil((s_max + 1) / (s + 1) * eta**s - 1e-9)
    rungs = tuple(
        Rung(fidelity=int(ladder[s_max - s + i]), n_configs=max(1, n // eta**i))
        for i in range(s + 1)
    )
    return Bracket(s=s, rungs=rungs)


def hyperband_brackets(
    max_fidelity: int,
    min_fidelity: int,
    eta: int = 3,
    levels: Sequence[int] | None = None,
) -> list[Bracket]:
    """Hyperband's brackets s = s_max, ..., 0 (see the module docstring).

    Example (R = 81, r_min = 1, eta = 3; Li et al. 2018, Table 1): bracket 4 trains 81, 27, 9, 3,
    1 configurations for 1, 3, 9, 27, 81 epochs; bracket 0 trains 5 for 81 epochs.
    """
    ladder = fidelity_ladder(max_fidelity, min_fidelity, eta, levels)
    s_max = len(ladder) - 1
    return [_bracket(ladder, s, s_max, eta) for s in range(s_max, -1, -1)]


def successive_halving_bracket(
    max_fidelity: int,
    min_fidelity: int,
    eta: int = 3,
    levels: Sequence[int] | None = None,
) -> Bracket:
    """The most aggressive Hyperband bracket (s = s_max): plain successive halving."""
    return hyperband_brackets(max_fidelity, min_fidelity, eta, levels)[0]
