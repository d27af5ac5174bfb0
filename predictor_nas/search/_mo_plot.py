"""Plots of a multi-objective search's front (matplotlib, imported when drawing)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas._lazy import mpl_backend_agg, mpl_figure
from predictor_nas.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from predictor_nas.search._mo import MOSearchResult
    from predictor_nas.search._mo_real import MORealSearchResult


def _check_plottable(objectives: Sequence[str]) -> None:
    """Refuse to draw the front of a single objective.

    Raises:
        InvalidParameterError: Fewer than 2 objectives.
    """
    m = len(objectives)
    if m < 2:
        raise InvalidParameterError(
            "The --plot option of search draws a Pareto front and needs at least 2 objectives; "
            f"got {m} ({', '.join(objectives)})."
        )


def plot_mo_front(result: MOSearchResult, path: str | Any) -> Any:
    """Write a PNG of the found front over all evaluated points and over the true front.

    Two objectives are drawn as they are; with three or more, the first two are drawn (the
    title says so). A single objective has no front to draw.

    Args:
        result: A ``MOSearchResult`` (it holds the evaluated points and the true front).
        path: The PNG file; its folder is created if needed.

    Returns:
        The ``Path`` written.

    Raises:
        InvalidParameterError: The search had a single objective.
    """
    _check_plottable(result.objectives)
    title = (
        f"{result.strategy}, {result.dataset}, {result.n_queries} queries: hypervolume "
        f"{result.hypervolume:.4g} of {result.true_hypervolume:.4g}"
    )
    return draw_front(
        path, objectives=result.objectives, evaluated=result.evaluated,
        front=[p["values"] for p in result.front], title=title,
        constraints=result.constraints, true_front=result.true_front,
    )


def plot_mo_real_front(result: MORealSearchResult, path: str | Any) -> Any:
    """Write a PNG of the found front over every trained point (first two objectives).

    Raises:
        InvalidParameterError: The search had a single objective.
    """
    _check_plottable(result.objectives)
    title = (
        f"{result.strategy}, {result.dataset}, {result.n_trained} trained: hypervolume "
        f"{result.hypervolume:.4g}"
    )
    return draw_front(
        path,
        objectives=result.objectives,
        evaluated=result.evaluated,
        front=[p["values"] for p in result.front],
        title=title,
        constraints=result.constraints,
    )


def draw_front(
    path: str | Any,
    *,
    objectives: Sequence[str],
    evaluated: Sequence[Sequence[float]],
    front: Sequence[Sequence[float]],
    title: str,
    constraints: Sequence[str] = (),
    true_front: Sequence[Sequence[float]] | None = None,
) -> Any:
    """Write a PNG of ``front`` over the ``evaluated`` points (and ``true_front`` if given).

    Args:
        path: The PNG file; its folder is created if needed.
        objectives: The m >= 2 objectives' names; the first two are drawn.
        evaluated: (n, m) every evaluated point, in the objectives' units.
        front: (k, m) the found front, sorted along the first objective.
        title: First title line (the objectives shown and constraints are added).
        constraints: Constraint strings named in the title.
        true_front: (t, m) a known true front, or ``None``.

    Returns:
        The ``Path`` written.
    """


    m = len(objectives)
    fig = mpl_figure.Figure(figsize=(6.4, 4.8), dpi=110)
    mpl_backend_agg.FigureCanvasAgg(fig)
    ax = fig.subplots()
    ev = np.asarray(evaluated, dtype=np.float64).reshape(-1, m)
    fr = np.asarray(front, dtype=np.float64).reshape(-1, m)
    ax.scatter(ev[:, 0], ev[:, 1], s=12, c="0.7", label=f"evaluated ({len(ev)})")
    if true_front is not None:
        tf = np.asarray(true_front, dtype=np.float64).reshape(-1, m)
        ax.plot(tf[:, 0], tf[:, 1], "k.-", lw=0.8, ms=4, label=f"true front ({len(tf)})")
    ax.plot(fr[:, 0], fr[:, 1], "o-", c="tab:red", lw=1.2, ms=5, label=f"found front ({len(fr)})")
    ax.set_xlabel(objectives[0])
    ax.set_ylabel(objectives[1])
    if m > 2:
        title += f"\n(first 2 of {m} objectives shown)"
    if constraints:
        title += f"\nconstraints: {', '.join(constraints)}"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
