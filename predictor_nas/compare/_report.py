"""Markdown report of a comparison: one table per dataset, a row per strategy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from predictor_nas._validation import param_error


def seeds_text(seeds: list[int]) -> str:
    """Compact form of a seed list: ``[0, 1, 2, 7]`` -> ``"0-2,7"``."""
    s = sorted(seeds)
    if not s:
        return ""
    parts, start = [], s[0]
    for a, b in zip(s, [*s[1:], None]):
        if b != a + 1:
            parts.append(f"{start}-{a}" if a != start else f"{a}")
            start = b
    return ",".join(parts)


def _ci(m: float | None, ci: list[float] | None, nd: int = 3, scale: float = 1.0) -> str:
    if m is None:
        return "n/a"
    text = f"{scale * m:.{nd}f}"
    if ci is not None:
        text += f" [{scale * ci[0]:.{nd}f}, {scale * ci[1]:.{nd}f}]"
    return text


def markdown_table(head: list[str], rows: list[list[str]]) -> list[str]:
    """The lines of a Markdown table: header, separator, one line per row."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def reach_cells(e: dict[str, Any], thresholds: list[str]) -> list[str]:
    """Per threshold: median queries to reach it (``>budget`` when not reached) and the share."""
    cells = []
    for t in thresholds:
        q = e["queries_to_reach"][t]
        med = f">{e['budget']}" if q["median"] is None else f"{q['median']:g}"
        cells.append(f"{med}; {100 * q['reached']:.0f}%")
    return cells


def hit_cell(e: dict[str, Any]) -> str:
    """The hit rate with its Wilson interval, in %."""
    hl, hh = e["ci95_hit_rate"]
    return f"{100 * e['hit_rate']:.0f}% [{100 * hl:.0f}, {100 * hh:.0f}]"


def report_dict(result: Any, owner: str, kind: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """``result.to_dict(curves=False)`` (or ``result`` itself), checked to hold ``keys``."""
    d = result.to_dict(curves=False) if hasattr(result, "to_dict") else result
    if not isinstance(d, dict) or any(k not in d for k in keys):
        raise param_error("result", owner, f"a {kind} or its to_dict()", type(result).__name__)
    return d


def run_lines(d: dict[str, Any], command: str | None) -> list[str]:
    """The report's command block (when given) and its seeds / table / runs bullet lines."""
    lines = ["```", command, "```", ""] if command else []
    return [
        *lines,
        f"- seeds: {seeds_text(d['seeds'])} ({len(d['seeds'])}); budget {d['budget']} queries; "
        f"datasets {', '.join(d['dataset_names'])}",
        f"- table: `{d['table']}` content hash `{d['table_content_hash']}`",
        f"- runs: {d['n_runs']} ({d['n_cached']} from the cache); wall time "
        f"{d['wall_seconds']:.1f} s with {d['jobs']} job(s); predictor-nas {d['version']}",
        "",
    ]


def all_datasets_lines(
    d: dict[str, Any], rows: Callable[[dict[str, Any], list[str]], list[str]], thresholds: list[str]
) -> list[str]:
    """The "All datasets" section of a report with several datasets (none with one).

    Args:
        d: The comparison's ``to_dict()``.
        rows: Builds the table lines from per-strategy entries and threshold keys.
        thresholds: The threshold keys.
    """
    if len(d["datasets"]) <= 1:
        return []
    return [
        "## All datasets",
        "",
        "Per seed the mean over datasets, then the interval over seeds; hit rate and "
        "queries-to-reach pooled over all runs.",
        "",
        *rows(d["strategies"], thresholds),
        "",
    ]


def _rows(strategies: dict[str, dict[str, Any]], thresholds: list[str]) -> list[str]:
    budget = max(e["budget"] for e in strategies.values())
    head = [
        "strategy",
        f"regret@{budget} mean [95% CI]",
        "median",
        "best val [95% CI]",
        "test acc of chosen [95% CI]",
        "hit rate [95% CI]",
        *(f"queries to regret ≤ {t} (median; reached)" for t in thresholds),
        "mean rank",
        "ms / query",
    ]
    rows = []
    for name, e in strategies.items():
        row = [
            f"`{name}`",
            _ci(e["mean_regret_val"], e["ci95_regret_val"]),
            f"{e['median_regret_val']:.3f}",
            _ci(e["mean_best_val"], e["ci95_best_val"], nd=2),
            _ci(e["mean_test_acc"], e["ci95_test_acc"], nd=2),
            hit_cell(e),
            *reach_cells(e, thresholds),
            "n/a" if e["mean_rank"] is None else f"{e['mean_rank']:.2f}",
            f"{1e3 * e['seconds_per_query']:.2f}",
        ]
        rows.append(row)
    return markdown_table(head, rows)


def markdown_report(result: Any, *, command: str | None = None, plot: str | None = None) -> str:
    """The Markdown report of a comparison.

    Args:
        result: A ``ComparisonResult`` or its ``to_dict()``.
        command: The command that produced it, quoted in the report.
        plot: File name of the regret PNG to embed (relative to the report).

    Returns:
        The report text.
    """
    d = report_dict(result, "markdown_report", "ComparisonResult", ("datasets", "strategies"))
    thresholds = [f"{t:g}" for t in d["thresholds"]]
    lines = [
        f"# Strategy comparison on {d['space']} (table `{d['table']}`)",
        "",
        "Every strategy searched every dataset once per seed (`run_search(..., storage=None)`), "
        f"{d['budget']} queries each, maximizing `{d['metric']}`"
        + (" (one drawn training trial per query)" if d["draw_seed"] else "")
        + ". The incumbent is chosen by validation only. **Regret** = the table's best "
        "validation value minus the incumbent's (percentage points, lower is better). "
        "**Test acc of chosen** = test value of the final incumbent (n/a where the table has "
        "none). **Hit rate** = share of seeds whose final incumbent is the table's "
        "best-validation architecture (Wilson 95% interval). **Queries to regret ≤ t** = "
        "median over seeds of the first query with regret ≤ t (>budget: half of the seeds or "
        "more never got there) and the share that did. **Mean rank** of final regret among the "
        "strategies per seed (1 = best). **ms / query** = wall time of the search loop per "
        "query. Intervals of means are 95% percentile-bootstrap intervals over seeds (10,000 "
        "resamples, fixed seed: deterministic; they stay within the range of the values, so a "
        "regret interval never goes below 0).",
        "",
    ]
    lines += run_lines(d, command)
    if plot:
        lines += [f"![validation regret vs queries]({plot})", ""]
    if "reference" in d:  # a surrogate: what regret is measured against
        lines += [
            f"Evaluator `{d.get('evaluator')}` (a surrogate: no table of every architecture). "
            f"**Regret** here is measured against the {d['reference']}, "
            f"{next(iter(d['datasets'].values()))['table_best_val']:.4f}; **hit rate** = share "
            "of seeds that reached it.",
            "",
            *_checkpoint_rows(result.to_dict() if hasattr(result, "to_dict") else d),
        ]
    for ds, entry in d["datasets"].items():
        ref = f"table best validation {entry['table_best_val']:.3f}"
        if "reference" in entry:
            ref = f"reference best validation {entry['table_best_val']:.3f}"
        if entry.get("test_of_best_val_arch") is not None:
            ref += f"; test of that architecture {entry['test_of_best_val_arch']:.3f}"
        lines += [f"## {ds}", "", f"{ref} (`{entry['best_val_arch']}`).", ""]
        lines += _rows(entry["strategies"], thresholds)
        lines.append("")
    lines += all_datasets_lines(d, _rows, thresholds)
    return "\n".join(lines)


def _checkpoint_rows(d: dict[str, Any]) -> list[str]:
    """Mean regret and best value [95% CI] at 50 and 100 queries (those within the budget),
    from the per-query curves, one row per strategy (first dataset)."""
    at = [q for q in (50, 100) if q <= d["budget"]] or [d["budget"]]
    entry = next(iter(d["datasets"].values()))
    head = ["strategy", *(f"regret@{q} [95% CI]" for q in at), *(f"best val@{q}" for q in at)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, e in entry["strategies"].items():
        c = e.get("curves")
        if not c:
            return []
        reg = [_at(c["regret_val"], q, 3) for q in at]
        best = [_at(c["best_val"], q, 2) for q in at]
        lines.append("| " + " | ".join([f"`{name}`", *reg, *best]) + " |")
    return [*lines, ""]


def _at(curve: dict[str, list[float]], q: int, nd: int) -> str:
    """A curve's mean [95% CI] after query ``q``."""
    i = q - 1
    lo, hi = curve["ci95_low"][i], curve["ci95_high"][i]
    return _ci(curve["mean"][i], None if lo is None or hi is None else [lo, hi], nd=nd)
