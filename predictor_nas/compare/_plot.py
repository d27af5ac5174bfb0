"""PNG of a comparison: validation regret vs queries (log y), mean with 95% CI bands."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from predictor_nas._validation import param_error

#: Regret drawn at this floor on the log axis (percentage points): a mean of exactly 0 (every
#: seed found the best architecture) or a t-interval reaching below 0 cannot be drawn on a log
#: scale.
LOG_FLOOR = 1e-3


def plot_regret(result: Any, path: str | os.PathLike) -> str:
    """Write validation regret vs queries, one panel per dataset, one line per strategy.

    Args:
        result: A ``ComparisonResult`` or its ``to_dict()`` (with curves).
        path: Output PNG file.

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    d = result.to_dict() if hasattr(result, "to_dict") else result
    datasets = d.get("datasets") if isinstance(d, dict) else None
    if not datasets or any(
        "curves" not in e for entry in datasets.values() for e in entry["strategies"].values()
    ):
        raise param_error(
            "result",
            "plot_regret",
            "a ComparisonResult or its to_dict() with curves",
            type(result).__name__,
        )
    n = len(datasets)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    fig = Figure(figsize=(max(6.4, 5.4 * ncol), 4.2 * nrow), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, (ds, entry) in zip(axes.flat, datasets.items()):
        n_seeds = 0
        budget = 1
        for name, e in entry["strategies"].items():
            c = e["curves"]["regret_val"]
            m = np.maximum(_arr(c["mean"]), LOG_FLOOR)
            lo = np.maximum(_arr(c["ci95_low"]), LOG_FLOOR)
            hi = np.maximum(_arr(c["ci95_high"]), LOG_FLOOR)
            x = np.arange(1, m.size + 1)
            final = e["mean_regret_val"]
            (line,) = ax.plot(x, m, lw=1.8, label=f"{name} ({final:.3f})")
            ok = np.isfinite(lo) & np.isfinite(hi)
            if ok.any():
                ax.fill_between(x, lo, hi, where=ok, color=line.get_color(), alpha=0.2, lw=0)
            n_seeds = max(n_seeds, e["n_seeds"])
            budget = max(budget, m.size)
        ax.set_yscale("log")
        ax.set_xlim(1, max(2, budget))
        ax.set_title(f"{ds} ({n_seeds} seeds)", fontsize=11)
        ax.set_xlabel("queries")
        ax.set_ylabel(f"validation regret (pp; log, floor {LOG_FLOOR:g})")
        ax.grid(True, which="major", alpha=0.4)
        ax.grid(True, which="minor", alpha=0.12)
        ax.legend(title="strategy (final mean)", fontsize=9, title_fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"{d.get('table', '')}: incumbent's validation regret, mean and 95% CI", fontsize=11
    )
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, format="png")
    return out


def _arr(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
