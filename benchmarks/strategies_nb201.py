"""Search benchmark on the embedded NAS-Bench-201 table: regularized evolution vs random vs TPE.

Choose by validation, report test: every search maximises the mean validation accuracy
(``run_search``'s default objective); the architecture it ends with is then scored by its
validation regret to the table's best-validation architecture and, where the richer "nb201-rich"
table can be imported, by its test accuracy (which the search never sees).

A second, smaller section repeats the searches on cifar10 with ``draw_seed=True`` (the
NAS-Bench-201 protocol: each query returns one drawn training trial, so the search sees noise).

Writes ``<out>/<name>.json`` (per-seed final numbers, mean/CI trajectories), ``<out>/<name>.md``
(tables, command, machine) and ``<out>/<name>.png`` (mean validation regret vs queries).

Default = the full run (3 strategies x 3 datasets x 100 seeds + the draw-seed section)::

    python benchmarks/strategies_nb201.py
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    bounded_ci,
    bounded_ci_curve,
    git_revision,
    machine_info,
    paired,
    parse_seeds,
    seeds_text,
    shared_data,
    t_ci,
    welch,
    wilson,
    write_json,
)

log = logging.getLogger("benchmarks.strategies_nb201")

ALL_STRATEGIES = ("random", "rea", "tpe")
ALL_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
CHECKPOINTS = (10, 20, 50, 100)
RICH_SOURCE = shared_data("nb201")
RICH_FIDELITY = 200
FOUND_TOL = 1e-9  # regret <= this counts as "found the table's best-validation architecture"
LOG_FLOOR = 1e-3  # plotted regret floor on the log axis (percentage points)


# --------------------------------------------------------------------------- helpers
# --------------------------------------------------------------------------- searches
def run_tasks(
    strategies: Sequence[str],
    datasets: Sequence[str],
    seeds: Sequence[int],
    *,
    budget: int,
    draw_seed: bool,
    section: str,
    table: str,
    workers: int,
) -> list[dict[str, Any]]:
    """Run every (strategy, dataset, seed) search through ``predictor_nas.compare.compare``.

    ``compare`` spawns ``workers`` processes and seeds every run on its own, so the runs do not
    depend on ``workers``; the returned dicts are the rows ``summarise`` reads.
    """
    from predictor_nas.compare import compare

    res = compare(
        table=table,
        datasets=list(datasets),
        strategies=list(strategies),
        budget=budget,
        seeds=list(seeds),
        jobs=workers,
        draw_seed=draw_seed,
        progress=True,
    )
    return [
        {
            "section": section,
            "strategy": r.strategy,
            "dataset": r.dataset,
            "seed": r.seed,
            "budget": r.budget,
            "draw_seed": draw_seed,
            "best_arch": r.best_arch,
            "best_val": r.best_val,
            "best_val_observed": r.best_val_observed,
            "regret": r.regret_val,
            "table_best_val": r.best_val + r.regret_val,  # val_acc is maximised
            "n_queries": r.n_queries,
            "wall_s": r.wall_seconds,
            "trajectory": np.asarray(r.trajectory_regret_val, dtype=np.float64),
        }
        for r in res.runs
    ]


# --------------------------------------------------------------------------- rich table
def load_rich_table(source_dir: str | None) -> tuple[Any, dict[str, Any]]:
    """Import "nb201-rich" into a temporary folder, or explain why there is no test column."""
    info: dict[str, Any] = {"source_dir": source_dir, "available": False}
    if not source_dir:
        info["reason"] = "disabled (--rich-source '')"
        return None, info
    if not (Path(source_dir) / "nb201.csv.gz").is_file():
        info["reason"] = f"{source_dir}/nb201.csv.gz not found"
        return None, info
    try:
        from predictor_nas.tables.importers import import_nb201_rich
    except ImportError as exc:
        info["reason"] = f"predictor_nas.tables.importers not importable ({exc})"
        return None, info
    from predictor_nas.tables import Table

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nb201-rich-") as tmp:
        path, chash = import_nb201_rich(source_dir, out=Path(tmp) / "nb201-rich.h5")
        table = Table(path)  # held in memory; the file can go
    info.update(
        available=True, content_hash=chash, name=table.name,
        import_seconds=round(time.perf_counter() - t0, 2),
        test_acc_description={
            d: table.metric_info("test_acc", dataset=d).description
            for d in rich_test_datasets(table, table.datasets)
        },
    )
    log.info("imported %s (%s) in %.1f s", table.name, chash, info["import_seconds"])
    return table, info


def rich_test_datasets(rich: Any, datasets: Sequence[str]) -> list[str]:
    """Datasets of ``datasets`` for which ``rich`` has ``test_acc`` at fidelity 200."""
    if rich is None:
        return []
    return [
        d for d in datasets
        if d in rich.datasets and "test_acc" in rich.metrics(d)
        and RICH_FIDELITY in rich.fidelities("test_acc", dataset=d)
    ]


# --------------------------------------------------------------------------- summaries
def summarise(
    runs: list[dict[str, Any]],
    strategies: Sequence[str],
    datasets: Sequence[str],
    *,
    rich: Any = None,
    base_table: Any = None,
) -> dict[str, Any]:
    """Per dataset x strategy: final regret stats, checkpoints, found-best share, test acc."""
    test_ds = set(rich_test_datasets(rich, datasets))
    res: dict[str, Any] = {}
    for ds in datasets:
        res[ds] = {}
        ref: dict[str, Any] = {}
        if ds in test_ds:
            row_best, _ = base_table.best("val_acc", dataset=ds)
            best_arch = base_table.archs[row_best]
            tst = rich.query_many([best_arch], "test_acc", dataset=ds, fidelity=RICH_FIDELITY)[0]
            _, top_test = rich.best("test_acc", dataset=ds, fidelity=RICH_FIDELITY)
            ref = {"test_acc_of_best_val_arch": float(tst), "best_test_acc_in_table": top_test}
            # The rich table must agree with the searched one on validation, or the test column
            # would score a different ranking than the search saw.
            vb = base_table.query_many(np.arange(len(base_table)), "val_acc", dataset=ds)
            vr = rich.query_many(base_table.archs, "val_acc", dataset=ds, fidelity=RICH_FIDELITY) \
                if "val_acc" in rich.metrics(ds) else None
            ref["rich_val_matches"] = (
                None if vr is None else bool(np.allclose(vb, vr, equal_nan=True, atol=1e-6))
            )
        for st in strategies:
            rs = sorted((r for r in runs if r["dataset"] == ds and r["strategy"] == st),
                        key=lambda r: r["seed"])
            if not rs:
                continue
            traj = np.stack([r["trajectory"] for r in rs])
            final = traj[:, -1]
            m, lo, hi = bounded_ci(final)
            tm, tlo, thi = bounded_ci_curve(traj)
            entry: dict[str, Any] = {
                "n_seeds": len(rs),
                "budget": int(traj.shape[1]),
                "regret_mean": m,
                "regret_ci95": [lo, hi],
                "regret_median": float(np.median(final)),
                "regret_std": float(final.std(ddof=1)) if len(rs) > 1 else float("nan"),
                "regret_at": {
                    str(q): dict(zip(("mean", "ci_low", "ci_high"), bounded_ci(traj[:, q - 1])),
                                 median=float(np.median(traj[:, q - 1])))
                    for q in CHECKPOINTS if q <= traj.shape[1]
                },
                "found_best_share": float(np.mean(final <= FOUND_TOL)),
                "found_best_ci95": list(wilson(int(np.sum(final <= FOUND_TOL)), len(rs))),
                "wall_s_per_query": float(np.mean([r["wall_s"] / r["n_queries"] for r in rs])),
                "trajectory": {
                    "mean": tm.tolist(), "ci_low": tlo.tolist(), "ci_high": thi.tolist(),
                    "median": np.median(traj, axis=0).tolist(),
                },
                "per_seed": {
                    "seed": [r["seed"] for r in rs],
                    "regret": final.tolist(),
                    "best_arch": [r["best_arch"] for r in rs],
                    "best_val": [r["best_val"] for r in rs],
                    "best_val_observed": [r["best_val_observed"] for r in rs],
                    "regret_at": {str(q): traj[:, q - 1].tolist()
                                  for q in CHECKPOINTS if q <= traj.shape[1]},
                    "wall_s": [r["wall_s"] for r in rs],
                },
            }
            if ds in test_ds:
                tst = rich.query_many([r["best_arch"] for r in rs], "test_acc", dataset=ds,
                                      fidelity=RICH_FIDELITY)
                tm_, tlo_, thi_ = bounded_ci(tst)
                entry["test_acc_mean"] = tm_
                entry["test_acc_ci95"] = [tlo_, thi_]
                entry["per_seed"]["test_acc"] = tst.tolist()
            res[ds][st] = entry
        if ref:
            res[ds]["_reference"] = ref
    return res


def timing(runs: list[dict[str, Any]], strategies: Sequence[str]) -> dict[str, Any]:
    """Mean wall seconds per query per strategy (search loop only) and ratio to random."""
    out: dict[str, Any] = {}
    for st in strategies:
        rs = [r for r in runs if r["strategy"] == st]
        if rs:
            per_q = np.array([r["wall_s"] / r["n_queries"] for r in rs])
            out[st] = {"s_per_query": float(per_q.mean()),
                       "ci95": list(t_ci(per_q)[1:]),
                       "n_runs": len(rs)}
    if "random" in out:
        for st in out:
            out[st]["ratio_vs_random"] = out[st]["s_per_query"] / out["random"]["s_per_query"]
    return out


# --------------------------------------------------------------------------- outputs
def _fmt_ci(m: float, lo: float, hi: float, nd: int = 3) -> str:
    if not np.isfinite(lo):
        return f"{m:.{nd}f}"
    return f"{m:.{nd}f} [{lo:.{nd}f}, {hi:.{nd}f}]"


def _section_md(title: str, res: dict[str, Any], strategies: Sequence[str],
                datasets: Sequence[str]) -> list[str]:
    lines = [f"## {title}", ""]
    has_test = any(
        "test_acc_mean" in res[ds].get(st, {}) for ds in datasets for st in strategies
    )
    budget = next(res[ds][st]["budget"] for ds in datasets for st in strategies if st in res[ds])
    cps = [q for q in CHECKPOINTS if q <= budget]
    head = (["dataset", "strategy", f"regret@{budget} mean [95% CI]", "median"]
            + [f"@{q}" for q in cps if q != budget] + ["found best [95% CI]"])
    if has_test:
        head.append(f"test acc of chosen arch [95% CI] ({RICH_FIDELITY} ep.)")
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for ds in datasets:
        for st in strategies:
            e = res[ds].get(st)
            if e is None:
                continue
            row = [ds, st, _fmt_ci(e["regret_mean"], *e["regret_ci95"]),
                   f"{e['regret_median']:.3f}"]
            row += [f"{e['regret_at'][str(q)]['mean']:.3f}" for q in cps if q != budget]
            flo, fhi = e["found_best_ci95"]
            row.append(f"{100 * e['found_best_share']:.0f}% [{100 * flo:.0f}, {100 * fhi:.0f}]")
            if has_test:
                row.append(_fmt_ci(e["test_acc_mean"], *e["test_acc_ci95"], nd=2)
                           if "test_acc_mean" in e else "—")
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    refs = [(ds, res[ds]["_reference"]) for ds in datasets if "_reference" in res[ds]]
    if refs:
        lines.append("Reference (rich table, test accuracy at 200 epochs): " + "; ".join(
            f"{ds}: best-validation arch {r['test_acc_of_best_val_arch']:.2f}, best test in "
            f"table {r['best_test_acc_in_table']:.2f}" for ds, r in refs) + ".")
        lines.append("")
    if "rea" in strategies and "random" in strategies:
        lines += ["REA minus random, final regret (Welch t-interval of the difference):", ""]
        lines += ["| dataset | diff [95% CI] | p |", "|---|---|---|"]
        for ds in datasets:
            if "rea" in res[ds] and "random" in res[ds]:
                w = res[ds]["_rea_vs_random"]
                lines.append(f"| {ds} | {_fmt_ci(w['diff'], w['lo'], w['hi'])} | "
                             f"{w['p']:.2g} |")
        lines.append("")
    return lines


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    """The human-readable report."""
    meta = report["meta"]
    a = meta["args"]
    lines = [
        "# Search strategies on NAS-Bench-201 (embedded table)",
        "",
        "Regularized evolution (`rea`) vs `random` vs `tpe`, each run as "
        "`run_search(..., storage=None)`. Objective: mean validation accuracy over the table's "
        "training trials at 200 epochs (choose by validation). **Regret** = the table's best mean "
        "validation accuracy minus that of the search's incumbent (percentage points; lower is "
        "better). **Found best** = share of seeds whose final incumbent is the table's "
        "best-validation architecture. Test accuracy (never seen by the search) is looked up for "
        "the chosen architecture in the `nb201-rich` table. 95% CIs of regrets and accuracies are "
        "percentile-bootstrap intervals over seeds (inside the values' range), of times "
        "t-intervals.",
        "",
        "```",
        meta["command"],
        "```",
        "",
        f"- date: {meta['date']}; run time {meta['run_seconds']:.0f} s "
        f"({meta['run_seconds'] / 60:.1f} min) with {a['workers']} worker processes "
        "(spawned by `predictor_nas.compare`)",
        f"- seeds: {seeds_text(a['seeds'])} ({len(a['seeds'])}); budget {a['budget']} queries; "
        f"strategies {', '.join(a['strategies'])}; datasets {', '.join(a['datasets'])}",
        f"- table: `{meta['table']['name']}` content hash `{meta['table']['content_hash']}`; "
        f"rich table: " + (
            f"`{meta['rich']['name']}` content hash `{meta['rich']['content_hash']}`"
            if meta["rich"]["available"] else f"not used ({meta['rich']['reason']})"),
        f"- machine: {meta['machine']['platform']}; {meta['machine']['cpu']}; "
        f"cpu_count {meta['machine']['cpu_count']}; Python {meta['machine']['python']}, "
        f"numpy {meta['machine']['numpy']}, scipy {meta['machine']['scipy']}, "
        f"optuna {meta['machine']['optuna']}; git {meta['git']}",
        "- strategies: "
        + "; ".join(f"`{k}`: {v}" for k, v in meta["strategy_descriptions"].items()),
        "",
        f"![mean validation regret vs queries]({path.with_suffix('.png').name})",
        "",
    ]
    for ds, desc in meta["rich"].get("test_acc_description", {}).items():
        lines.append(f"- test_acc ({ds}): {desc}")
    lines.append("")
    secs = report["sections"]
    lines += _section_md("Mean validation accuracy as objective", secs["mean_val"]["results"],
                         a["strategies"], a["datasets"])
    tm = report["timing"]
    lines += ["### Wall time per query", "",
              "Search loop only (`SearchResult.wall_seconds / n_queries`), measured inside the "
              "worker processes, all strategies interleaved under the same load; mean over all "
              "runs of the first section.", "",
              "| strategy | ms / query [95% CI] | vs random |", "|---|---|---|"]
    for st, e in tm.items():
        lines.append(f"| {st} | {_fmt_ci(1e3 * e['s_per_query'], *(1e3 * x for x in e['ci95']), 2)}"
                     f" | {e.get('ratio_vs_random', float('nan')):.2f}x |")
    lines.append("")
    if "draw_seed" in secs:
        d = secs["draw_seed"]
        lines += _section_md(
            f"One drawn training trial per query (`draw_seed=True`, NB201 protocol), seeds "
            f"{seeds_text(d['seeds'])}", d["results"], d["strategies"], d["datasets"])
        lines += ["The incumbent is chosen by the *observed* (drawn, noisy) value; its regret is "
                  "measured on the mean over trials, as above.", ""]
        if report.get("noise_effect"):
            lines += ["Effect of the noise: final regret with one drawn trial minus with the mean "
                      "(paired by seed, which fixes the sampler's seeds; paired t-interval):", "",
                      "| dataset | strategy | diff [95% CI] | p |", "|---|---|---|---|"]
            for ds, per in report["noise_effect"].items():
                for st, w in per.items():
                    lines.append(f"| {ds} | {st} | "
                                 f"{_fmt_ci(w['diff'], w['lo'], w['hi'])} | "
                                 f"{w['p']:.2g} |")
            lines.append("")
    if report.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in report["notes"]] + [""]
    path.write_text("\n".join(lines))


def plot(path: Path, report: dict[str, Any]) -> None:
    """One panel per dataset (plus the draw-seed cifar10 panel): mean regret with 95% CI bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    secs = report["sections"]
    panels = [("mean_val", ds, ds) for ds in secs["mean_val"]["datasets"]]
    if "draw_seed" in secs:
        panels += [("draw_seed", ds, f"{ds}, one drawn trial per query")
                   for ds in secs["draw_seed"]["datasets"]]
    ncol = 2 if len(panels) == 4 else min(3, len(panels))
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.6 * ncol, 4.2 * nrow), squeeze=False)
    colors = {"random": "tab:gray", "rea": "tab:red", "tpe": "tab:blue"}
    labels = {"random": "random", "rea": "regularized evolution", "tpe": "TPE"}
    for ax, (sec, ds, title) in zip(axes.flat, panels):
        res = secs[sec]["results"][ds]
        n = 0
        for st in secs[sec]["strategies"]:
            if st not in res:
                continue
            tr = res[st]["trajectory"]
            m = np.maximum(np.asarray(tr["mean"]), LOG_FLOOR)
            lo = np.maximum(np.asarray(tr["ci_low"]), LOG_FLOOR)
            hi = np.maximum(np.asarray(tr["ci_high"]), LOG_FLOOR)
            x = np.arange(1, m.size + 1)
            c = colors.get(st)
            ax.plot(x, m, color=c, lw=2, label=f"{labels.get(st, st)} "
                    f"({res[st]['regret_mean']:.2f})")
            ax.fill_between(x, lo, hi, color=c, alpha=0.2, lw=0)
            n = res[st]["n_seeds"]
        ax.set_yscale("log")
        ax.set_xlim(1, secs[sec]["budget"])
        ax.set_title(f"{title} ({n} seeds)", fontsize=11)
        ax.set_xlabel("queries")
        ax.set_ylabel("validation regret (% points)")
        ax.grid(True, which="major", alpha=0.4)
        ax.grid(True, which="minor", alpha=0.12)
        ax.legend(title=f"strategy (regret@{secs[sec]['budget']})", fontsize=9, title_fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("NAS-Bench-201: mean validation regret of the incumbent, 95% CI bands",
                 fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--strategies", nargs="+", default=list(ALL_STRATEGIES))
    p.add_argument("--datasets", nargs="+", default=list(ALL_DATASETS))
    p.add_argument("--budget", type=int, default=100, help="queries per search")
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-99"),
                   help="e.g. 0-99 or 0,5,7")
    p.add_argument("--noise-strategies", nargs="*", default=list(ALL_STRATEGIES),
                   help="draw_seed=True section; give no names to skip it")
    p.add_argument("--noise-datasets", nargs="+", default=["cifar10"])
    p.add_argument("--noise-seeds", type=parse_seeds, default=None,
                   help="seeds of the draw_seed section (default: --seeds)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--table", default="nb201", help="table searched (name or path)")
    p.add_argument("--rich-source", default=RICH_SOURCE,
                   help="folder with nb201.csv.gz for the test-accuracy column ('' to skip)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    p.add_argument("--name", default="strategies_nb201", help="stem of the output files")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from predictor_nas.search import STRATEGIES
    from predictor_nas.tables import open_table

    t_start = time.perf_counter()
    git = git_revision()
    base = open_table(args.table)
    rich, rich_info = load_rich_table(args.rich_source or None)
    if not rich_info["available"]:
        log.warning("no test-accuracy column: %s", rich_info["reason"])
    noise_seeds = args.noise_seeds or args.seeds
    runs = run_tasks(args.strategies, args.datasets, args.seeds, budget=args.budget,
                     draw_seed=False, section="mean_val", table=args.table, workers=args.workers)
    if args.noise_strategies:
        runs += run_tasks(args.noise_strategies, args.noise_datasets, noise_seeds,
                          budget=args.budget, draw_seed=True, section="draw_seed",
                          table=args.table, workers=args.workers)
    search_seconds = time.perf_counter() - t_start

    main_runs = [r for r in runs if r["section"] == "mean_val"]
    sections: dict[str, Any] = {
        "mean_val": {
            "draw_seed": False, "strategies": args.strategies, "datasets": args.datasets,
            "seeds": args.seeds, "budget": args.budget,
            "results": summarise(main_runs, args.strategies, args.datasets, rich=rich,
                                 base_table=base),
        }
    }
    if args.noise_strategies:
        sections["draw_seed"] = {
            "draw_seed": True, "strategies": args.noise_strategies,
            "datasets": args.noise_datasets, "seeds": noise_seeds, "budget": args.budget,
            "results": summarise([r for r in runs if r["section"] == "draw_seed"],
                                 args.noise_strategies, args.noise_datasets, rich=rich,
                                 base_table=base),
        }
    for sec in sections.values():
        for res in sec["results"].values():
            if "rea" in res and "random" in res:
                res["_rea_vs_random"] = welch(res["rea"]["per_seed"]["regret"],
                                              res["random"]["per_seed"]["regret"])
    noise_effect: dict[str, Any] = {}
    if "draw_seed" in sections:
        for ds, res in sections["draw_seed"]["results"].items():
            base_res = sections["mean_val"]["results"].get(ds, {})
            for st in args.noise_strategies:
                if st in res and st in base_res:
                    if res[st]["per_seed"]["seed"] == base_res[st]["per_seed"]["seed"]:
                        noise_effect.setdefault(ds, {})[st] = paired(
                            res[st]["per_seed"]["regret"], base_res[st]["per_seed"]["regret"])
    notes = []
    same_start = []
    for sname, sec in sections.items():
        for ds, res in sec["results"].items():
            if "tpe" in res and "random" in res and "10" in res["tpe"]["per_seed"]["regret_at"]:
                a, b = (res[s_]["per_seed"]["regret_at"]["10"] for s_ in ("tpe", "random"))
                if res["tpe"]["per_seed"]["seed"] == res["random"]["per_seed"]["seed"] and a == b:
                    same_start.append(f"{ds} ({sname})")
    if same_start:
        notes.append(
            "TPE's first 10 queries are its random start-up trials, drawn with the same "
            "RandomSampler seeds as the `random` strategy, so per seed the two searches coincide "
            "up to query 10 (identical @10 columns): " + ", ".join(same_start) + ". Comparisons "
            "with TPE are therefore not independent in the first 10 queries; REA draws its own.")
    for sec in sections.values():
        for ds, res in sec["results"].items():
            ref = res.get("_reference", {})
            if ref.get("rich_val_matches") is False:
                notes.append(f"{ds}: nb201-rich validation accuracy differs from the searched "
                             "table's; test accuracies are looked up by architecture string.")
    run_seconds = time.perf_counter() - t_start
    cmd = "python " + " ".join(
        shlex.quote(a) for a in [os.path.relpath(sys.argv[0]), *(argv or sys.argv[1:])]
    )
    report = {
        "meta": {
            "command": cmd,
            "args": {**{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                     "noise_seeds": noise_seeds},
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "machine": machine_info("scipy", "optuna"),
            "git": git,
            "table": {"name": base.name, "content_hash": base.content_hash},
            "rich": rich_info,
            "search_seconds": search_seconds,
            "run_seconds": run_seconds,
            "n_searches": len(runs),
            "strategy_descriptions": {s: STRATEGIES[s][1] for s in
                                      dict.fromkeys([*args.strategies, *args.noise_strategies])},
            "regret_unit": "percentage points of mean validation accuracy",
            "found_best_tolerance": FOUND_TOL,
        },
        "sections": sections,
        "timing": timing(main_runs, args.strategies),
        "noise_effect": noise_effect,
        "notes": notes,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / args.name
    write_json(stem.with_suffix(".json"), report)
    write_markdown(stem.with_suffix(".md"), report)
    plot(stem.with_suffix(".png"), report)
    log.info("wrote %s.{json,md,png}; %d searches in %.1f s", stem, len(runs), run_seconds)
    for ds, res in sections["mean_val"]["results"].items():
        for st in args.strategies:
            if st in res:
                e = res[st]
                log.info("%-15s %-7s regret@%d %.3f [%.3f, %.3f]%s", ds, st, args.budget,
                         e["regret_mean"], *e["regret_ci95"],
                         f"  test {e['test_acc_mean']:.2f}" if "test_acc_mean" in e else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
