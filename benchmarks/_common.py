"""The benchmark harness: what every script under ``benchmarks/`` shares.

Seed lists (``parse_seeds`` / ``seeds_text``), where the shared benchmark data is
(``shared_data``, never an absolute path in a script), the machine and revision a run was on
(``machine_info``, ``git_revision``), statistics over seeds (``t_ci``, ``t_ci_curve``, ``wilson``,
``paired``, ``welch``) and the JSON writer (``jsonable`` / ``write_json``: NaN -> null, paths
relative to the repository, so committed reports carry no machine paths).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: The repository root (the folder holding ``benchmarks/``).
REPO = Path(__file__).resolve().parent.parent


def parse_seeds(text: str) -> list[int]:
    """``"0-99"`` (inclusive), ``"0,3,7"`` or a mix like ``"0-9,100-109"``."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            if hi < lo:
                raise argparse.ArgumentTypeError(f"empty seed range {part!r}")
            seeds.extend(range(lo, hi + 1))
        else:
            seeds.append(int(part))
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds must be distinct ints >= 0, got {text!r}")
    return seeds


def seeds_text(seeds: Sequence[int]) -> str:
    """Compact form of a seed list (inverse of ``parse_seeds`` for ranges)."""
    s = sorted(seeds)
    parts, start = [], s[0]
    for a, b in zip(s, [*s[1:], None]):
        if b != a + 1:
            parts.append(f"{start}-{a}" if a != start else f"{a}")
            start = b
    return ",".join(parts)


def git_revision() -> str | None:
    """Commit of the working tree (``+dirty`` if tracked files differ), or None."""

    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "predictor_nas"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return rev + ("+dirty(predictor_nas)" if dirty else "")


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else what ``platform`` knows."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return cpu


def shared_data(*parts: str) -> str:
    """Path of the shared benchmark data: ``$PREDICTOR_NAS_SHARED_DATA`` or ``../shared/data``.

    ``../shared/data`` is relative to the repository root (where CI and the README put it), so no
    script holds a machine path.
    """
    root = os.environ.get("PREDICTOR_NAS_SHARED_DATA") or str(REPO.parent / "shared" / "data")
    return os.path.join(root, *parts)


def machine_info(*packages: str, **extra: Any) -> dict[str, Any]:
    """Platform, CPU, CPU counts, load and the versions of ``packages`` (distribution names)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = None
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "load_avg_1min_at_start": load,
        "python": platform.python_version(),
    }
    for name in ("numpy", *packages):
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info[name] = None
    info.update(extra)
    return info


def t_ci(x: Iterable[float | None], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t-interval of the mean over independent seeds.

    ``None`` and non-finite values are left out. Fewer than 2 values: ``(mean, nan, nan)``; all
    equal: ``(m, m, m)``.
    """
    from scipy import stats

    a = np.asarray([v for v in x if v is not None and math.isfinite(v)], dtype=np.float64)
    if a.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(a.mean())
    if a.size < 2:
        return m, float("nan"), float("nan")
    se = float(a.std(ddof=1)) / math.sqrt(a.size)
    if se == 0.0:
        return m, m, m
    h = float(stats.t.ppf(0.5 + level / 2, a.size - 1)) * se
    return m, m - h, m + h


def bounded_ci(x: Iterable[float | None], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap interval (inside the data's range; for bounded values such
    as regrets and accuracies, where a t-interval can cross 0). Same contract as ``t_ci``."""
    from predictor_nas.compare import mean_ci

    m, ci = mean_ci([v for v in x if v is not None], level)
    if m is None:
        return float("nan"), float("nan"), float("nan")
    return (m, float("nan"), float("nan")) if ci is None else (m, ci[0], ci[1])


def bounded_ci_curve(
    a: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise ``bounded_ci`` of an (n_seeds, n_points) array."""
    from predictor_nas.compare import mean_ci_columns

    return mean_ci_columns(a, level)


def t_ci_curve(a: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean and t-interval of an (n_seeds, n_points) array."""
    from scipy import stats

    m = a.mean(axis=0)
    if a.shape[0] < 2:
        nan = np.full_like(m, np.nan)
        return m, nan, nan
    h = stats.t.ppf(0.5 + level / 2, a.shape[0] - 1) * a.std(axis=0, ddof=1) / np.sqrt(a.shape[0])
    return m, m - h, m + h


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial share ``k / n``."""
    from scipy import stats

    if n == 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, c - h), min(1.0, c + h)


def paired(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Mean of the per-seed differences ``a - b``, its t-interval and two-sided p-value.

    Returns:
        ``{"diff", "lo", "hi", "p"}``; ``p`` is NaN when every difference is the same.
    """
    from scipy import stats

    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    m, lo, hi = t_ci(d, level)
    if d.size < 2 or not np.any(d != d[0]):
        return {"diff": m, "lo": m, "hi": m, "p": float("nan")}
    p = float(stats.ttest_1samp(d, 0.0).pvalue)
    return {"diff": m, "lo": lo, "hi": hi, "p": p}


def welch(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Difference of means ``a - b`` with Welch's t-interval and two-sided p-value."""
    from scipy import stats

    a_, b_ = np.asarray(a, float), np.asarray(b, float)
    t = stats.ttest_ind(a_, b_, equal_var=False)
    d = float(a_.mean() - b_.mean())
    ci = t.confidence_interval(level) if np.isfinite(t.statistic) else (d, d)
    p = float(t.pvalue) if np.isfinite(t.pvalue) else float("nan")
    return {"diff": d, "lo": float(ci[0]), "hi": float(ci[1]), "p": p}


def jsonable(x: Any) -> Any:
    """``x`` as plain JSON values: NaN/inf -> None, numpy -> Python, paths -> repo-relative."""
    if isinstance(x, Path):
        try:
            return str(x.resolve().relative_to(REPO))
        except ValueError:
            return x.name
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(path: Path, report: Any) -> None:
    """Write ``jsonable(report)`` with one-space indent and a final newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jsonable(report), indent=1) + "\n")
