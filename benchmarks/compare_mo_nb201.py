"""Multi-objective strategy comparison on NAS-Bench-201 (table ``nb201-rich``).

Settings, each run with ``predictor_nas.compare.compare_mo`` (every multi-objective strategy,
100 queries, the given seeds), on cifar10, cifar100 and ImageNet16-120:

* ``edgegpu``: ``val_acc:max, hw_edgegpu_latency:min``;
* ``raspi4``: ``val_acc:max, hw_raspi4_latency:min``;
* ``constrained``: ``val_acc:max`` with ``hw_edgegpu_latency <= median`` (the median edge-GPU
  latency over the table's architectures of that dataset): a constrained single-objective
  search; a run *finds the constrained optimum* when its hypervolume regret is 0, and *comes
  within 0.001 %* of it when that regret is <= 1e-5 (on cifar10 the optimum, 91.3660 %, and the
  runner-up, 91.3653 %, are 0.0007 points apart: the runner-up is within, the third is not);
* ``edgegpu_params`` (cifar10 only): ``val_acc:max, hw_edgegpu_latency:min, params:min``.

Writes into ``--out`` (default ``benchmarks/results/compare_mo_nb201``): one folder per setting
(and dataset for ``constrained``) with ``compare.md``, ``compare.json``, ``regret.png`` and
``index.html``; ``runs/<setting>.jsonl`` caches (finished runs are appended at once, so an
interrupted run resumes; gzipped by ``--gzip-runs``); and ``compare_mo_nb201.md`` /
``compare_mo_nb201.json``: the goals (mo-guided lowest mean HV regret at every budget from 30
queries on, >= 99 % of the true front's hypervolume at 100 queries, the constrained optimum in
>= 80 % of the runs) with every strategy's figures.

Full run (OMP_NUM_THREADS=1; about an hour on 2 cores)::

    OMP_NUM_THREADS=1 PREDICTOR_NAS_CACHE=/tmp/pnc nice -n 10 \\
        python benchmarks/compare_mo_nb201.py --seeds 0-49 --jobs 2
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import json
import logging
import os
import platform
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import cpu_name, git_revision, parse_seeds, seeds_text

log = logging.getLogger("benchmarks.compare_mo_nb201")

TABLE = "nb201-rich"
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
STRATEGIES = ("mo-guided", "mo-guided-zc", "mo-rea", "nsga2", "nsga3", "motpe", "random")
#: Our guided samplers: without and with NB201's zero-cost proxies.
OURS = ("mo-guided", "mo-guided-zc")
GOAL_FROM = 30  # mo-guided: lowest mean regret at every budget from this query on
GOAL_SHARE = 0.99  # mean share of the true front's hypervolume at the budget
GOAL_HIT = 0.80  # constrained: share of runs that find the constrained optimum
NEAR = 1e-5  # constrained: also reported, the share of runs within this normalised regret
MULTI = {
    "edgegpu": ("val_acc:max,hw_edgegpu_latency:min", DATASETS),
    "raspi4": ("val_acc:max,hw_raspi4_latency:min", DATASETS),
    "edgegpu_params": ("val_acc:max,hw_edgegpu_latency:min,params:min", ("cifar10",)),
}
SETTING_ORDER = ("edgegpu", "raspi4", "constrained", "edgegpu_params")
CPS = ("10", "30", "50")  # checkpoints (queries) tabulated besides the budget


def median_latency(dataset: str) -> float:
    """Median ``hw_edgegpu_latency`` over every architecture of the table (``dataset``)."""
    from predictor_nas.tables import open_table

    tbl = open_table(TABLE)
    col = tbl.query_many(np.arange(len(tbl.archs)), "hw_edgegpu_latency", dataset=dataset)
    return float(np.median(col[np.isfinite(col)]))


def machine_info() -> dict[str, Any]:
    """Platform, CPU and library versions for the report."""
    import optuna

    return {
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "optuna": optuna.__version__,
    }


def run_setting(
    name: str,
    objectives: str,
    constraints: str | None,
    datasets: tuple[str, ...],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One ``compare_mo`` (cached in runs/NAME.jsonl), its report folder, and its summary."""
    from predictor_nas.compare import compare_mo, write_mo_report

    out = Path(args.out)
    seeds = args.per_setting_seeds.get(name.split("_cifar")[0].split("_Image")[0], args.seeds)
    t0 = time.perf_counter()
    thresholds = (0.01, NEAR) if constraints else (0.01,)
    result = compare_mo(
        objectives=objectives,
        constraints=constraints,
        table=TABLE,
        datasets=list(datasets),
        strategies=args.strategies,
        budget=args.budget,
        seeds=seeds,
        jobs=args.jobs,
        cache=out / "runs" / f"{name}.jsonl",
        progress=args.progress,
        thresholds=thresholds,
    )
    command = shlex.join(
        [
            "predictor-nas", "compare", "--table", TABLE, "--dataset", ",".join(datasets),
            "--objectives", objectives, *(["--constraint", constraints] if constraints else []),
            "--strategies", ",".join(args.strategies), "--budget", str(args.budget),
            "--seeds", seeds_text(seeds), "--jobs", str(args.jobs),
            *(["--thresholds", ",".join(f"{t:g}" for t in thresholds)] if constraints else []),
            "--out", str(out / name),
        ]
    )  # fmt: skip
    write_mo_report(result, out / name, command=command)
    log.info("%s: %d runs in %.0f s", name, len(result.runs), time.perf_counter() - t0)
    d = result.to_dict()
    return {
        "objectives": d["objectives"],
        "constraints": d["constraints"],
        "n_seeds": len(d["seeds"]),
        "wall_seconds": d["wall_seconds"],
        "search_seconds": float(sum(r.wall_seconds for r in result.runs)),
        "datasets": {
            ds: {
                "true_front_size": e["true_front_size"],
                "true_hypervolume": e["true_hypervolume"],
                "strategies": {s: _brief(v) for s, v in e["strategies"].items()},
            }
            for ds, e in d["datasets"].items()
        },
    }


def _brief(e: dict[str, Any]) -> dict[str, Any]:
    """The figures the summary quotes from a strategy's statistics."""
    return {
        "mean_regret": e["mean_regret"],
        "ci95_regret": e["ci95_regret"],
        "mean_hv_share": e["mean_hv_share"],
        "mean_coverage": e["mean_coverage"],
        "hit_rate": e["hit_rate"],
        "ci95_hit_rate": e["ci95_hit_rate"],
        "near_rate": e["queries_to_reach"].get(f"{NEAR:g}", {}).get("reached"),
        "leads_from": e["leads_from"],
        "checkpoints": e["checkpoints"],
        "mean_curve": e["curves"]["regret"]["mean"],
        "seconds_per_query": e["seconds_per_query"],
        "mean_infeasible": e["mean_infeasible"],
    }


def _lead(strategies: dict[str, Any], name: str, rivals: list[str]) -> int | None:
    """First query from which ``name``'s mean HV regret is the lowest among it and ``rivals``
    at every later query (None: not the lowest at the budget)."""
    from predictor_nas.compare import leads_from

    curves = {
        s: [np.nan if x is None else x for x in strategies[s]["mean_curve"]]
        for s in [name, *rivals]
        if s in strategies
    }
    return leads_from(curves)[name] if name in curves else None


def goals(settings: dict[str, Any]) -> dict[str, Any]:
    """The goals of the issue, met or not, with the figures behind them.

    ``mo-guided`` is judged against the field (every strategy but ``mo-guided-zc``, which reads
    zero-cost proxies the others do not get); ``mo-guided-zc`` against every strategy.
    """
    rows = []
    shares: dict[str, list[float]] = {s: [] for s in (*OURS, "nsga2")}
    lowest = dict.fromkeys(OURS, True)
    for name, st in settings.items():
        if name.startswith("constrained"):
            continue
        for ds, e in st["datasets"].items():
            strategies = e["strategies"]
            row: dict[str, Any] = {"setting": name, "dataset": ds}
            for ours in OURS:
                if ours not in strategies:
                    lowest[ours] = False
                    row[f"{ours}_leads_from"] = row[f"{ours}_hv_share"] = None
                    continue
                # mo-guided faces the field; mo-guided-zc every other strategy.
                rivals = [
                    s for s in strategies
                    if s != ours and not (ours == "mo-guided" and s == "mo-guided-zc")
                ]  # fmt: skip
                lead = _lead(strategies, ours, rivals)
                lowest[ours] &= lead is not None and lead <= GOAL_FROM
                shares[ours].append(strategies[ours]["mean_hv_share"])
                row[f"{ours}_leads_from"] = lead
                row[f"{ours}_hv_share"] = strategies[ours]["mean_hv_share"]
            n2 = strategies.get("nsga2")
            if n2 is not None:
                shares["nsga2"].append(n2["mean_hv_share"])
            row["nsga2_hv_share"] = None if n2 is None else n2["mean_hv_share"]
            field = {s: v["mean_regret"] for s, v in strategies.items() if s not in OURS}
            row["best_of_field"] = min(field, key=field.get) if field else None
            rows.append(row)
    constrained = {}
    for name, st in settings.items():
        if not name.startswith("constrained"):
            continue
        for ds, e in st["datasets"].items():
            constrained[ds] = {
                "constraint": st["constraints"][0],
                "hit_rate": {s: v["hit_rate"] for s, v in e["strategies"].items()},
                "ci95_hit_rate": {s: v["ci95_hit_rate"] for s, v in e["strategies"].items()},
                "mean_regret": {s: v["mean_regret"] for s, v in e["strategies"].items()},
                "near_rate": {s: v["near_rate"] for s, v in e["strategies"].items()},
            }

    means = {s: float(np.mean(v)) if v else None for s, v in shares.items()}
    return {
        "lowest_from_30_everywhere": {s: bool(rows) and lowest[s] for s in OURS},
        "mean_hv_share": means,
        "hv_share_goal_met": {s: means[s] is not None and means[s] >= GOAL_SHARE for s in OURS},
        "per_setting": rows,
        "constrained": constrained,
        "constrained_goal_met_by": sorted(
            s
            for s in STRATEGIES
            if constrained
            and all(c["hit_rate"].get(s, 0.0) >= GOAL_HIT for c in constrained.values())
        ),
    }


def markdown(summary: dict[str, Any]) -> str:
    """The top-level report: goals, then per setting and dataset every strategy's figures."""
    g = summary["goals"]

    def pct(x: float | None, nd: int = 2) -> str:
        return "n/a" if x is None else f"{100 * x:.{nd}f}"

    def yes(b: bool) -> str:
        return "**met**" if b else "**not met**"

    lines = [
        "# Multi-objective comparison on NAS-Bench-201 (`nb201-rich`)",
        "",
        "Every multi-objective strategy of `run_mo_search`, "
        f"{summary['budget']} evaluated queries, seeds {seeds_text(summary['seeds'])} "
        f"({len(summary['seeds'])}; fewer where a setting says so), via "
        "`predictor_nas.compare.compare_mo`. **HV regret** = "
        "share of the true front's hypervolume not found (reference point: the worst value of "
        "each objective over every architecture of the table plus 10 % of its range); "
        "**HV share** = 1 − regret. Per-setting reports (tables with 95% bootstrap intervals, "
        "curves) are in the sub-folders.",
        "",
        "```",
        summary["command"],
        "```",
        "",
        f"- machine: {summary['machine']['cpu']} ({summary['machine']['cpu_count']} CPUs), "
        f"Python {summary['machine']['python']}, Optuna {summary['machine']['optuna']}; "
        f"git {summary['git']}; {summary['date']}; total wall {summary['wall_seconds']:.0f} s",
        "",
        "## Goals",
        "",
    ]
    for ours in OURS:
        against = "the field (all but mo-guided-zc)" if ours == "mo-guided" else "all strategies"
        lines += [
            f"- `{ours}` has the lowest mean HV regret of {against} at every budget from "
            f"{GOAL_FROM} queries on, in every setting: "
            f"{yes(g['lowest_from_30_everywhere'][ours])}",
            f"- `{ours}` reaches >= {100 * GOAL_SHARE:.0f} % of the true front's hypervolume at "
            f"{summary['budget']} queries on average: {yes(g['hv_share_goal_met'][ours])} "
            f"({pct(g['mean_hv_share'][ours])} %; NSGA-II {pct(g['mean_hv_share']['nsga2'])} %)",
        ]
    lines += [
        "- constrained search finds the constrained optimum in >= "
        f"{100 * GOAL_HIT:.0f} % of the runs on every dataset: met by "
        + (
            (", ".join(f"`{s}`" for s in g["constrained_goal_met_by"]) or "no strategy")
            if g["constrained"]
            else "not run"
        ),
        "",
        "| setting | dataset | mo-guided lowest (field) from query | mo-guided HV share (%) "
        "| mo-guided-zc lowest (all) from query | mo-guided-zc HV share (%) "
        "| NSGA-II HV share (%) | lowest final regret besides ours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in g["per_setting"]:
        cells = []
        for ours in OURS:
            lead = r[f"{ours}_leads_from"]
            cells += ["never" if lead is None else str(lead), pct(r[f"{ours}_hv_share"])]
        lines.append(
            f"| {r['setting']} | {r['dataset']} | {' | '.join(cells)} | "
            f"{pct(r['nsga2_hv_share'])} | `{r['best_of_field']}` |"
        )
    if g["constrained"]:
        lines += [
            "",
            "Constrained search: share of runs that found the constrained optimum (regret 0) "
            "[Wilson 95% CI], share within 0.001% of it (normalised regret <= 1e-5; on cifar10 "
            "the runner-up, 0.0007 points below the optimum, is within) and mean regret (%) "
            "at the budget.",
            "",
            "| dataset | constraint | " + " | ".join(f"`{s}`" for s in STRATEGIES) + " |",
            "|---|---|" + "---|" * len(STRATEGIES),
        ]
        for ds, c in g["constrained"].items():
            cells = []
            for s in STRATEGIES:
                if s not in c["hit_rate"]:
                    cells.append("n/a")
                    continue
                lo, hi = c["ci95_hit_rate"][s]
                cells.append(
                    f"{pct(c['hit_rate'][s], 0)} [{pct(lo, 0)}, {pct(hi, 0)}]; "
                    f"within {pct(c['near_rate'][s], 0)}; {pct(c['mean_regret'][s], 3)}"
                )
            lines.append(f"| {ds} | `{c['constraint']}` | " + " | ".join(cells) + " |")
    lines.append("")
    for name, st in summary["settings"].items():
        cons = f"; constraint `{', '.join(st['constraints'])}`" if st["constraints"] else ""
        lines += [
            f"## {name}: `{', '.join(st['objectives'])}`{cons}",
            "",
            f"[report]({name}/compare.md) · {st['n_seeds']} seeds · search loops "
            f"{st['search_seconds']:.0f} s (sum over runs)",
            "",
        ]
        for ds, e in st["datasets"].items():
            lines += [
                f"### {ds} (true front: {e['true_front_size']} points)",
                "",
                "| strategy | HV regret @100 (%) [95% CI] | @10 | @30 | @50 | HV share (%) "
                "| front coverage (%) | hit rate (%) [95% CI] | lowest mean from query "
                "| ms / query |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            for s, v in e["strategies"].items():
                ci = v["ci95_regret"]
                cp = v["checkpoints"]
                lo, hi = v["ci95_hit_rate"]
                lines.append(
                    f"| `{s}` | {pct(v['mean_regret'])} "
                    + (f"[{pct(ci[0])}, {pct(ci[1])}]" if ci else "")
                    + " | "
                    + " | ".join(pct(cp[q]["mean"]) if q in cp else "n/a" for q in CPS)
                    + f" | {pct(v['mean_hv_share'])} | {pct(v['mean_coverage'], 1)} | "
                    f"{pct(v['hit_rate'], 0)} [{pct(lo, 0)}, {pct(hi, 0)}] | "
                    f"{v['leads_from'] if v['leads_from'] is not None else '—'} | "
                    f"{1e3 * v['seconds_per_query']:.1f} |"
                )
            lines.append("")
    return "\n".join(lines)


def plot_summary(summary: dict[str, Any], path: Path) -> None:
    """One panel per (setting, dataset): mean HV regret (%) vs queries per strategy."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [
        (f"{name} / {ds}", e["strategies"])
        for name, st in summary["settings"].items()
        for ds, e in st["datasets"].items()
    ]
    ncol = 4
    nrow = -(-len(panels) // ncol)
    fig = Figure(figsize=(4.4 * ncol, 3.4 * nrow + 0.9), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    handles = {}
    for ax, (title, strategies) in zip(axes.flat, panels):
        for s, v in strategies.items():
            m = 100 * np.array([np.nan if x is None else x for x in v["mean_curve"]])
            (h,) = ax.plot(np.arange(1, m.size + 1), m, lw=1.5, label=s)
            handles.setdefault(s, h)
        low = min(
            (min(x for x in v["mean_curve"] if x is not None) for v in strategies.values()),
            default=0.0,
        )
        if low > 0:
            ax.set_yscale("log")
        else:
            ax.set_yscale("symlog", linthresh=1e-2, linscale=0.5)
            ax.set_ylim(bottom=0.0)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("queries", fontsize=8)
        ax.set_ylabel("mean HV regret (%)", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.axvline(GOAL_FROM, color="0.6", lw=0.8, ls=":")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.legend(
        list(handles.values()), list(handles), loc="lower center", ncol=len(handles),
        frameon=False, fontsize=9,
    )  # fmt: skip
    fig.suptitle(
        "nb201-rich: mean hypervolume regret vs queries (log; symlog, linear below 0.01 %, in "
        "panels where a curve reaches 0)"
    )
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    fig.savefig(path, format="png")


def main(argv: list[str] | None = None) -> int:
    """Run the settings (cached, resumable) and write the reports."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-49"))
    p.add_argument("--budget", type=int, default=100)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--strategies", type=lambda t: t.split(","), default=list(STRATEGIES))
    p.add_argument("--settings", type=lambda t: t.split(","), default=list(SETTING_ORDER))
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "compare_mo_nb201"))
    p.add_argument(
        "--constrained-datasets",
        type=lambda t: t.split(","),
        default=list(DATASETS),
        help="datasets of the constrained setting (default all three)",
    )
    p.add_argument(
        "--setting-seeds",
        action="append",
        default=[],
        metavar="NAME=SEEDS",
        help="other seeds for one setting, e.g. edgegpu_params=0-19 (repeatable)",
    )
    p.add_argument("--progress", action="store_true")
    p.add_argument("--gzip-runs", action="store_true", help="gzip runs/*.jsonl at the end")
    args = p.parse_args(argv)
    args.per_setting_seeds = {
        k: parse_seeds(v) for k, v in (item.split("=", 1) for item in args.setting_seeds)
    }
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = Path(args.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    for gz in (out / "runs").glob("*.jsonl.gz"):  # resume from a committed, gzipped cache
        plain = gz.with_suffix("")
        if not plain.exists():
            with gzip.open(gz, "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst)
    t0 = time.perf_counter()
    settings: dict[str, Any] = {}
    for name in args.settings:
        if name == "constrained":
            for ds in args.constrained_datasets:
                bound = median_latency(ds)
                settings[f"constrained_{ds}"] = run_setting(
                    f"constrained_{ds}", "val_acc:max", f"hw_edgegpu_latency<={bound!r}", (ds,),
                    args,
                )  # fmt: skip
        else:
            objectives, datasets = MULTI[name]
            settings[name] = run_setting(name, objectives, None, datasets, args)
    summary = {
        "budget": args.budget,
        "seeds": args.seeds,
        "strategies": args.strategies,
        "command": shlex.join(["python", "benchmarks/compare_mo_nb201.py", *sys.argv[1:]]),
        "machine": machine_info(),
        "git": git_revision(),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": time.perf_counter() - t0,
        "settings": settings,
    }
    summary["goals"] = goals(settings)
    (out / "compare_mo_nb201.json").write_text(json.dumps(summary, indent=1, allow_nan=False))
    (out / "compare_mo_nb201.md").write_text(markdown(summary))
    plot_summary(summary, out / "compare_mo_nb201.png")
    if args.gzip_runs:
        for f in (out / "runs").glob("*.jsonl"):
            # mtime 0: an unchanged cache gives byte-identical files (no churn in git)
            gz = f.with_suffix(".jsonl.gz")
            with f.open("rb") as src, gz.open("wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as dst:
                    shutil.copyfileobj(src, dst)
            f.unlink()
    log.info("wrote %s", out / "compare_mo_nb201.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
