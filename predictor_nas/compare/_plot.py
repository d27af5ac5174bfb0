"""PNG of a comparison: validation regret vs queries (symlog y), mean with 95% CI bands."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from predictor_nas._lazy import mpl_backend_agg, mpl_figure
from predictor_nas._validation import param_error

#: The y axis is symmetric-log: linear from 0 to this regret (percentage points), logarithmic
#: above, so a regret of exactly 0 (every seed found the best architecture) is drawn at 0 on the
#: axis, not at an arbitrary floor. The axis label says so.
LOG_FLOOR = 1e-3


def plot_regret(result: Any, path: str | os.PathLike) -> str:
    """Write validation regret vs queries, one panel per dataset, one line per strategy.

    Args:
        result: A ``ComparisonResult`` or its ``to_dict()`` (with curves).
        path: Output PNG file.

    Returns:
        The path written.
    """
    fig = regret_figure(result)
    out = os.fspath(path)
    fig.savefig(out, format="png")
    return out


def regret_figure(result: Any) -> Any:
    """The figure ``plot_regret`` writes (a matplotlib ``Figure`` on an Agg canvas).

    Each panel's y axis is symlog (linear from 0 to ``LOG_FLOOR``, log above) and starts at 0;
    each panel's legend sits below it, outside the axes.

    Args:
        result: A ``ComparisonResult`` or its ``to_dict()`` (with curves).

    Returns:
        ``matplotlib.figure.Figure``, laid out.
    """

    d = with_curves(result, "plot_regret", "ComparisonResult")
    datasets = d["datasets"]
    n = len(datasets)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    n_strat = max(len(e["strategies"]) for e in datasets.values())
    # Room under each panel for its legend (two columns).
    fig = mpl_figure.Figure(
        figsize=(max(6.4, 5.4 * ncol), (4.2 + 0.2 * -(-n_strat // 2)) * nrow), dpi=110
    )
    mpl_backend_agg.FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, (ds, entry) in zip(axes.flat, datasets.items()):
        n_seeds = 0
        budget = 1
        for name, e in entry["strategies"].items():
            c = e["curves"]["regret_val"]
            m = _arr(c["mean"])
            lo = np.maximum(_arr(c["ci95_low"]), 0.0)
            hi = _arr(c["ci95_high"])
            x = np.arange(1, m.size + 1)
            final = e["mean_regret_val"]
            (line,) = ax.plot(x, m, lw=1.8, label=f"{name} ({final:.3f})")
            ok = np.isfinite(lo) & np.isfinite(hi)
            if ok.any():
                ax.fill_between(x, lo, hi, where=ok, color=line.get_color(), alpha=0.2, lw=0)
            n_seeds = max(n_seeds, e["n_seeds"])
            budget = max(budget, m.size)
        ax.set_yscale("symlog", linthresh=LOG_FLOOR, linscale=0.5)
        ax.set_ylim(bottom=0.0)
        finish_panel(
            ax,
            f"{ds} ({n_seeds} seeds)",
            budget,
            f"validation regret (pp)\nsymlog: linear below {LOG_FLOOR:g}, 0 = best",
        )
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"{d.get('table', '')}: incumbent's validation regret, mean and 95% bootstrap interval",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def with_curves(result: Any, owner: str, kind: str) -> dict[str, Any]:
    """``result.to_dict()`` (or ``result`` itself), checked to hold per-dataset curves.

    Raises:
        InvalidParameterError: not a ``kind`` or its ``to_dict()`` with curves.
    """
    d = result.to_dict() if hasattr(result, "to_dict") else result
    datasets = d.get("datasets") if isinstance(d, dict) else None
    if not datasets or any(
        "curves" not in e for entry in datasets.values() for e in entry["strategies"].values()
    ):
        raise param_error(
            "result", owner, f"a {kind} or its to_dict() with curves", type(result).__name__
        )
    return d


def finish_panel(ax: Any, title: str, budget: int, ylabel: str) -> None:
    """Label a regret-vs-queries panel: x range 1..budget, grid, legend below the axes.

    The legend sits below the panel, outside the axes, so it never covers a curve.
    """
    ax.set_xlim(1, max(2, budget))
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("queries")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.12)
    ax.legend(
        title="strategy (final mean regret)",
        fontsize=9,
        title_fontsize=9,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=2,
        frameon=False,
    )


def _arr(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
