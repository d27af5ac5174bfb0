"""Checks of compare's common options: seeds, strategy names, budget, jobs and thresholds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.search import available_strategies

_SEEDS_ALLOWED = (
    "an int N >= 1 (seeds 0..N-1), a range like '0-99' (inclusive) or a comma list of distinct "
    "ints >= 0 such as '0,5,1000-1019'"
)

#: The function named in the messages.
OWNER = "compare"


def parse_seeds(value: int | str | Iterable[int]) -> list[int]:
    """Seeds of a comparison from an int, a text form, or an iterable of ints.

    ``20`` or ``"20"`` means seeds 0..19; ``"0-99"`` and ``"1000-1019"`` are inclusive ranges;
    ``"0,3,10-12"`` mixes both; ``range(5)`` / ``[3, 7]`` are taken as they are.

    Raises:
        InvalidParameterError: not one of these forms, a seed < 0, an empty range or duplicates.
    """

    def bad() -> Exception:
        return param_error("seeds", OWNER, _SEEDS_ALLOWED, value)

    if isinstance(value, bool):
        raise bad()
    if isinstance(value, int | np.integer):
        if value < 1:
            raise bad()
        return list(range(int(value)))
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            if int(text) < 1:
                raise bad()
            return list(range(int(text)))
        seeds: list[int] = []
        for part in text.split(","):
            part = part.strip()
            try:
                if "-" in part:
                    lo_text, hi_text = part.split("-", 1)
                    lo, hi = int(lo_text), int(hi_text)
                    if hi < lo:
                        raise bad()
                    seeds.extend(range(lo, hi + 1))
                else:
                    seeds.append(int(part))
            except ValueError:
                raise bad() from None
    else:
        try:
            seeds = [check_int(s, "seeds", OWNER, minimum=0) for s in value]
        except TypeError:
            raise bad() from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise bad()
    return seeds


def _names(value: str | Iterable[str], name: str) -> list[str]:
    """A comma text or iterable of names, stripped, non-empty and distinct."""
    items = value.split(",") if isinstance(value, str) else list(value)
    out = [str(v).strip() for v in items]
    if not out or any(not v for v in out) or len(set(out)) != len(out):
        raise param_error(name, OWNER, "a non-empty list of distinct names", value)
    return out


def _check_common(
    budget: int,
    jobs: int,
    seeds: int | str | Iterable[int],
    strategies: str | Sequence[str],
    thresholds: Sequence[float],
) -> tuple[int, int, list[int], list[str], list[float]]:
    """``compare``'s budget, jobs, seeds, strategy names and thresholds, checked."""

    budget = check_int(budget, "budget", OWNER, minimum=1)
    jobs = check_int(jobs, "jobs", OWNER, minimum=1)
    seed_list = parse_seeds(seeds)
    names = _names(strategies, "strategies")
    known = available_strategies()
    for s in names:
        check_choice(s, "strategies", OWNER, known)
    ths = [check_float(t, "thresholds", OWNER, minimum=0.0) for t in thresholds]
    return budget, jobs, seed_list, names, ths
