"""Report of a multi-objective comparison: Markdown tables, the regret PNG, the report folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas._lazy import mpl_backend_agg, mpl_figure
from predictor_nas.compare._html import write_html_report
from predictor_nas.compare._mo_stats import CHECKPOINTS
from predictor_nas.compare._plot import _arr, finish_panel, with_curves
from predictor_nas.compare._report import (
    _ci,
    all_datasets_lines,
    hit_cell,
    markdown_table,
    reach_cells,
    report_dict,
    run_lines,
)

if TYPE_CHECKING:
    from predictor_nas.compare._mo import MOComparisonResult


def _ci_text(m: float | None, ci: list[float] | None, nd: int = 2) -> str:
    """A mean and its interval in %."""
    return _ci(m, ci, nd=nd, scale=100.0)


def _mo_rows(entries: dict[str, dict[str, Any]], thresholds: list[str]) -> list[str]:
    budget = max(e["budget"] for e in entries.values())
    cps = [q for q in map(str, CHECKPOINTS) if int(q) < budget]
    head = [
        "strategy",
        f"HV regret @{budget} (%) mean [95% CI]",
        "median (%)",
        *(f"@{q} (%)" for q in cps),
        "front coverage (%) [95% CI]",
        "whole front's HV (hit rate) [95% CI]",
        *(f"queries to regret ≤ {100 * float(t):g}% (median; reached)" for t in thresholds),
        "lowest mean from query",
        "mean rank",
        "refused / run",
        "ms / query",
    ]
    rows = []
    for name, e in entries.items():
        lead = e.get("leads_from")
        row = [
            f"`{name}`",
            _ci_text(e["mean_regret"], e["ci95_regret"]),
            f"{100 * e['median_regret']:.2f}",
            *(f"{100 * e['checkpoints'][q]['mean']:.2f}" for q in cps),
            _ci_text(e["mean_coverage"], e["ci95_coverage"], nd=1),
            hit_cell(e),
            *reach_cells(e, thresholds),
            "—" if lead is None else str(lead),
            "n/a" if e["mean_rank"] is None else f"{e['mean_rank']:.2f}",
            f"{e['mean_infeasible']:.1f}",
            f"{1e3 * e['seconds_per_query']:.2f}",
        ]
        rows.append(row)
    return markdown_table(head, rows)


def markdown_report_mo(result: Any, *, command: str | None = None, plot: str | None = None) -> str:
    """The Markdown report of a multi-objective comparison: a table per dataset (and one over
    all datasets), a row per strategy; ``command`` and ``plot`` as for ``markdown_report``.

    Args:
        result: A ``MOComparisonResult`` or its ``to_dict()``.
        command: Quoted in the report.
        plot: The regret PNG to embed, relative to the report.

    Returns:
        The report text.
    """
    d = report_dict(result, "markdown_report_mo", "MOComparisonResult", ("objectives", "datasets"))
    thresholds = [f"{t:g}" for t in d["thresholds"]]
    objs = ", ".join(f"`{o}`" for o in d["objectives"])
    cons = ", ".join(f"`{c}`" for c in d["constraints"]) or "none"
    lines = [
        f"# Multi-objective strategy comparison on {d['space']} (table `{d['table']}`)",
        "",
        f"Objectives {objs}; constraints {cons}. Every strategy searched every dataset once per "
        f"seed (`run_mo_search(..., storage=None)`), {d['budget']} evaluated queries each "
        "(proposals that break a constraint are refused before evaluation and cost no query). "
        "**HV regret** = (hypervolume of the table's true front − hypervolume of the points "
        "evaluated so far) / hypervolume of the true front, in % (0 = the whole true front's "
        "hypervolume found, lower is better); both hypervolumes use the reference point of "
        "`run_mo_search`: objectives minimised, the worst value of each over every "
        "architecture of the table plus 10 % of its range. The true front is the Pareto front "
        "of the table's architectures that meet the constraints. **Front coverage** = share of "
        "the true front's points whose objective values the search evaluated. **Hit rate** = "
        "share of runs with regret 0 (with one objective: the constrained optimum was found; "
        "Wilson 95% interval). **Queries to regret ≤ t** = median over runs of the first query "
        "with regret ≤ t (>budget: half of the runs or more never got there) and the share "
        "that did. **Lowest mean from query** = first query from which the strategy's mean "
        "regret is the lowest of all strategies (ties included) at every later query (— : not "
        "the lowest at the end). **Refused / run** = proposals refused for breaking a "
        "constraint. Intervals of means are 95% percentile-bootstrap intervals over seeds "
        "(10,000 resamples, fixed seed; they stay within the range of the values, so a regret "
        "interval never goes below 0).",
        "",
    ]
    lines += run_lines(d, command)
    if plot:
        lines += [f"![hypervolume regret vs queries]({plot})", ""]
    for ds, entry in d["datasets"].items():
        ref = ", ".join(f"{v:.4g}" for v in entry["reference_point"])
        lines += [
            f"## {ds}",
            "",
            f"True front: {entry['true_front_size']} points, hypervolume "
            f"{entry['true_hypervolume']:.6g}; reference point ({ref}).",
            "",
        ]
        lines += _mo_rows(entry["strategies"], thresholds)
        lines.append("")
    lines += all_datasets_lines(d, _mo_rows, thresholds)
    return "\n".join(lines)


#: The regret axis is symmetric-log in %: linear from 0 to this value, logarithmic above, so a
#: regret of exactly 0 is drawn at 0.
LOG_FLOOR_PCT = 1e-2


def plot_regret_mo(result: Any, path: str | os.PathLike) -> str:
    """Write normalised HV regret (%) vs queries, one panel per dataset (plus all datasets).

    Mean and 95% bootstrap band per strategy; a log y axis, or symlog (linear below
    ``LOG_FLOOR_PCT``) in a panel where a curve or band reaches 0; the legend sits below each
    panel, outside the curves.

    Args:
        result: A ``MOComparisonResult`` or its ``to_dict()`` (with curves).
        path: Output PNG file.

    Returns:
        The path written.
    """

    d = with_curves(result, "plot_regret_mo", "MOComparisonResult")
    datasets = d["datasets"]
    panels = {ds: e["strategies"] for ds, e in datasets.items()}
    if len(panels) > 1:
        panels["all datasets (mean per seed)"] = d["strategies"]
    n = len(panels)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    n_strat = max(len(v) for v in panels.values())
    fig = mpl_figure.Figure(
        figsize=(max(6.4, 5.4 * ncol), (4.2 + 0.2 * -(-n_strat // 2)) * nrow), dpi=110
    )
    mpl_backend_agg.FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, (title, entries) in zip(axes.flat, panels.items()):
        n_seeds, budget, low = 0, 1, np.inf
        for name, e in entries.items():
            c = e["curves"]["regret"]
            m = 100 * _arr(c["mean"])
            lo, hi = 100 * _arr(c["ci95_low"]), 100 * _arr(c["ci95_high"])
            x = np.arange(1, m.size + 1)
            (line,) = ax.plot(x, m, lw=1.8, label=f"{name} ({100 * e['mean_regret']:.2f}%)")
            ok = np.isfinite(lo) & np.isfinite(hi)
            if ok.any():
                ax.fill_between(x, lo, hi, where=ok, color=line.get_color(), alpha=0.18, lw=0)
            n_seeds = max(n_seeds, e["n_seeds"])
            budget = max(budget, m.size)
            low = min(low, np.nanmin(np.where(ok, lo, m)))
        ylabel = "HV regret (% of true front's HV)"
        if np.isfinite(low) and low > 0:  # no curve reaches 0: a plain log axis
            ax.set_yscale("log")
            ax.set_ylim(bottom=low / 1.5)
            ylabel += ", log"
        else:
            ax.set_yscale("symlog", linthresh=LOG_FLOOR_PCT, linscale=0.5)
            ax.set_ylim(bottom=0.0)
            ylabel += f"\nsymlog: linear below {LOG_FLOOR_PCT:g}"
        finish_panel(ax, f"{title} ({n_seeds} seeds)", budget, ylabel)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    what = ", ".join(d["objectives"]) + (
        f" | {', '.join(d['constraints'])}" if d.get("constraints") else ""
    )
    fig.suptitle(f"{d.get('table', '')}: hypervolume regret, mean and 95% CI ({what})", fontsize=11)
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, format="png")
    return out


def write_mo_report(
    result: MOComparisonResult, out: str | os.PathLike, *, command: str | None = None
) -> list[str]:
    """Write ``compare.json``, ``compare.md``, ``regret.png`` and ``index.html`` into ``out``.

    Returns:
        The paths written.
    """

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    plot_regret_mo(result, folder / "regret.png")
    data = result.to_dict()
    (folder / "compare.json").write_text(
        json.dumps(data, sort_keys=True, allow_nan=False), encoding="utf-8"
    )
    (folder / "compare.md").write_text(
        markdown_report_mo(result, command=command, plot="regret.png"), encoding="utf-8"
    )
    html = write_html_report(folder / "compare.md")
    return [str(folder / n) for n in ("compare.json", "compare.md", "regret.png")] + [html]
