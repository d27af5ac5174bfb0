"""Helpers shared by the benchmark scripts: seed lists and the git revision of a run."""

from __future__ import annotations

import argparse
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path


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
