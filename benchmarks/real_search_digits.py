"""Predictor-in-the-loop search vs regularized evolution, both training for real, same wall budget.

Dataset: scikit-learn's digits (8x8x1; split seed 0: 1,079 train / 359 validation / 359 test).
Every architecture is an NB201 cell built at reduced size (``--width`` channels, ``--depth``
cells per stage) and trained ``--epochs`` epochs with NB201's recipe (SGD + cosine), one torch
thread, on CPU. Arms, all with the same time budget per search (``--budget`` seconds of
``--clock``, everything counted: training, predictor fits, pool scoring, model building, test
passes). The default clock is the CPU time of the process (``time.process_time``): the work is
single-threaded, so on an idle machine it equals the wall time, and on this 2-core machine,
shared with other jobs, it still gives every search the same compute (``--clock wall`` for
elapsed time):

- ``rea``: regularized evolution (``RegularizedEvolutionSampler``, population 10, tournament 3)
  trains every proposal for all epochs (no pruning);
- ``topk``: ``run_real_search``'s predictor-in-the-loop strategy: 4 random archs, then per
  round an XGBoost ensemble fitted on everything trained so far ranks a pool of 500 candidates
  by expected improvement, the top 4 are trained, and the curve pruner stops hopeless runs;
- ``topk+prior`` (unless ``--no-prior``): the same, warm-started with NB201's CIFAR-10
  validation accuracy as the round-0 ranking and as an extra predictor feature.

Per search: the final validation accuracy of the best finished run (the search's choice), the
test accuracy of that architecture (never seen by any search), training epochs and architectures
trained. The seed of a search also seeds every architecture's training, so on the same seed an
architecture trains identically under every arm; differences are paired by seed. Arms are run
interleaved (seed 0: every arm, then seed 1, ...) so drifting machine load hits them alike.

Writes ``<out>/real_search_digits.{json,md,png}``::

    nice -n 10 python benchmarks/real_search_digits.py     # 5 seeds x 3 arms x 30 CPU s
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import git_revision, machine_info, paired, parse_seeds, seeds_text, t_ci

log = logging.getLogger("real_search_digits")
HERE = Path(__file__).resolve().parent
GRID = 200  # points of the anytime curves over the wall budget


def anytime(traj: list[dict[str, Any]], grid: np.ndarray, key: str) -> np.ndarray:
    """Incumbent ``key`` ("val"/"test") at each wall time of ``grid`` (NaN before the first)."""
    out = np.full(len(grid), np.nan)
    for p in traj:
        if p[key] is not None:
            out[grid >= p["seconds"]] = p[key]
    return out


def to_match(traj: list[dict[str, Any]], target: float) -> tuple[float, float] | None:
    """(seconds, epochs) at which a search's incumbent validation accuracy first reached
    ``target``, or None if it never did."""
    for p in traj:
        if p["val"] is not None and p["val"] >= target:
            return p["seconds"], p["epochs"]
    return None


def plot(path: Path, arms: list[str], curves: dict[str, dict[str, np.ndarray]], grid: np.ndarray,
         title: str, xlabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for ax, key, label in zip(axes, ("val", "test"),
                              ("validation accuracy of the incumbent (%)",
                               "test accuracy of the incumbent (%)")):
        for arm in arms:
            a = curves[arm][key]
            ok = ~np.isnan(a).any(axis=0)  # plotted once every seed has an incumbent
            m = a.mean(axis=0)
            s = a.std(axis=0, ddof=1) / np.sqrt(a.shape[0])
            ax.plot(grid[ok], m[ok], label=arm)
            ax.fill_between(grid[ok], (m - 2 * s)[ok], (m + 2 * s)[ok], alpha=0.2)
        ax.set_xlabel(f"{xlabel} seconds")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def collect(args: argparse.Namespace, argv: list[str] | None) -> tuple[dict, dict]:
    """Run every arm on every seed; return (runs per arm, meta)."""
    from predictor_nas.search import TablePrior, run_real_search
    from predictor_nas.training import load_digits_data

    data = load_digits_data(0)
    arms = {"rea": dict(strategy="rea"), "topk": dict(strategy="topk")}
    if not args.no_prior:
        arms["topk+prior"] = dict(strategy="topk", warm_start=TablePrior("nb201", "cifar10"))
    common = dict(data=data, width=args.width, depth=args.depth, epochs=args.epochs,
                  top_k=args.top_k, batch_size=64, num_threads=1, budget_seconds=args.budget,
                  clock=args.clock)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    runs: dict[str, list[dict[str, Any]]] = {a: [] for a in arms}
    for seed in args.seeds:
        for arm, kw in arms.items():
            r = run_real_search(seed=seed, study_name=f"{arm}-{seed}", **common, **kw)
            d = r.to_dict(trajectory=True)
            d["arm"] = arm
            runs[arm].append(d)
            log.info("seed %d %-10s val %.2f test %.2f  trained %d (%d pruned), %d epochs, "
                     "%.0f s (%.0f s wall)", seed, arm, r.best_val or np.nan,
                     r.best_test or np.nan, r.n_trained, r.n_pruned, r.total_epochs,
                     r.clock_seconds, r.wall_seconds)
    total = time.perf_counter() - t0
    load_after = os.getloadavg()

    meta = {
        "command": "python benchmarks/real_search_digits.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "seeds": seeds_text(args.seeds),
        "budget_s": args.budget,
        "clock": args.clock,
        "settings": {"width": args.width, "depth": args.depth, "epochs": args.epochs,
                     "top_k": args.top_k, "batch_size": 64, "threads": 1,
                     "data": data.sizes()},
        "total_seconds": total,
        "loadavg_before_after": [load_before, load_after],
        "machine": machine_info("torch", git=git_revision()),
    }
    return runs, meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-4"))
    p.add_argument("--budget", type=float, default=30.0, help="seconds per search (--clock)")
    p.add_argument("--clock", choices=["process", "wall"], default="process",
                   help="budget clock: CPU seconds of the process (default) or wall seconds")
    p.add_argument("--width", type=int, default=4)
    p.add_argument("--depth", type=int, default=1)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--top-k", type=int, default=4)
    p.add_argument("--no-prior", action="store_true", help="leave out the topk+prior arm")
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--from-json", type=Path, default=None,
                   help="re-render the report from a saved real_search_digits.json (no runs)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("predictor_nas").setLevel(logging.WARNING)
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text())
        runs, meta = saved["runs"], saved["meta"]
        meta["rendered"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    else:
        runs, meta = collect(args, argv)
    st = meta["settings"]
    budget = float(meta["budget_s"])
    load_before, load_after = meta["loadavg_before_after"]
    total = meta["total_seconds"]
    sizes = st["data"]
    end = max(r["trajectory"][-1]["seconds"] for rs in runs.values() for r in rs)
    grid = np.linspace(0, max(budget, end), GRID + 1)[1:]
    names = list(runs)
    summary: dict[str, Any] = {}
    curves: dict[str, dict[str, np.ndarray]] = {}
    for arm in names:
        rs = runs[arm]
        summary[arm] = {
            k: t_ci([r[src] for r in rs])
            for k, src in (("val", "best_val"), ("test", "best_test"),
                           ("epochs", "total_epochs"), ("trained", "n_trained"),
                           ("pruned", "n_pruned"), ("wall_s", "wall_seconds"),
                           ("clock_s", "clock_seconds"))
        }
        curves[arm] = {k: np.stack([anytime(r["trajectory"], grid, k) for r in rs])
                       for k in ("val", "test")}
    matches: dict[str, Any] = {}
    for arm in names:
        hits = [to_match(r["trajectory"], ref["best_val"])
                for r, ref in zip(runs[arm], runs["rea"])]
        ok = [h for h in hits if h is not None]
        matches[arm] = {
            "reached": len(ok),
            "of": len(hits),
            "seconds_median": float(np.median([h[0] for h in ok])) if ok else None,
            "epochs_median": float(np.median([h[1] for h in ok])) if ok else None,
            "per_seed": hits,
        }
    comparisons = {}
    for arm in names[1:]:
        comparisons[f"{arm} - rea"] = {
            k: paired([r[src] for r in runs[arm]], [r[src] for r in runs["rea"]])
            for k, src in (("val", "best_val"), ("test", "best_test"),
                           ("epochs", "total_epochs"), ("trained", "n_trained"))
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "real_search_digits.json").write_text(json.dumps(
        {"meta": meta, "summary": summary, "comparisons": comparisons,
         "match_rea_final_val": matches, "runs": runs}, indent=1
    ) + "\n")
    clock_name = "CPU (process)" if meta["clock"] == "process" else "wall"
    title = (f"digits, NB201 w{st['width']} d{st['depth']}, {st['epochs']} epochs, "
             f"{budget:.0f} {clock_name} s per search, seeds {meta['seeds']} "
             "(mean ± 2 s.e.)")
    plot(args.out / "real_search_digits.png", names, curves, grid, title, clock_name)

    def f(c: tuple[float, float, float], spec: str = ".2f") -> str:
        return f"{c[0]:{spec}} [{c[1]:{spec}}, {c[2]:{spec}}]"

    m = meta["machine"]
    lines = [
        "# Real search on digits: predictor in the loop vs regularized evolution",
        "",
        f"`nice -n 10 {meta['command'].strip()}` — {meta['date']}"
        + (f" (report re-rendered {meta['rendered']} with `--from-json`)"
           if "rendered" in meta else "")
        + f"; {m['cpu']} "
        f"({m['cpu_count']} CPUs, shared with other jobs: load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after), torch {m['torch']}, git "
        f"{m['git']}; {total / 60:.1f} min in all.",
        "",
        f"sklearn digits (split seed 0: {sizes['train']} train / {sizes['val']} "
        f"validation / {sizes['test']} test), NB201 cells at width {st['width']}, "
        f"{st['depth']} cell per stage, {st['epochs']} epochs (SGD + cosine, batch 64, 1 thread), "
        f"{budget:.0f} {clock_name} seconds per search, seeds {meta['seeds']} "
        f"({len(runs['rea'])} per arm). `rea` trains every proposal fully; `topk` trains the "
        f"predictor's top {st['top_k']} per round with the curve pruner; `topk+prior` also "
        "starts from NB201's CIFAR-10 accuracy. val = final validation accuracy of the "
        "search's best finished run (its choice); test = that architecture's test accuracy "
        "(never seen by a search). Mean [95% t-interval] over seeds.",
        "",
        "| arm | val (%) | test of choice (%) | archs trained | of which pruned | "
        "training epochs |",
        "|---|---|---|---|---|---|",
    ]
    for arm in names:
        s = summary[arm]
        lines.append(
            f"| {arm} | {f(s['val'])} | {f(s['test'])} | {f(s['trained'], '.1f')} | "
            f"{f(s['pruned'], '.1f')} | {f(s['epochs'], '.1f')} |"
        )
    lines += ["", "Paired by seed (difference to `rea`, 95% t-interval, two-sided p):", "",
              "| comparison | val (pp) | test (pp) | archs trained | training epochs |",
              "|---|---|---|---|---|"]
    for name, c in comparisons.items():
        cell = [f"{c[k]['diff']:+.2f} [{c[k]['lo']:+.2f}, {c[k]['hi']:+.2f}] p={c[k]['p']:.2f}"
                for k in ("val", "test", "trained", "epochs")]
        lines.append(f"| {name} | " + " | ".join(cell) + " |")
    lines += [
        "",
        "Cost of matching `rea`: per seed, the budget seconds and training epochs after which "
        "an arm's incumbent first reached the final validation accuracy `rea` ended with on "
        "that seed (median over the seeds where it did):",
        "",
        "| arm | reached | seconds (median) | epochs (median) |",
        "|---|---|---|---|",
    ]
    for arm in names:
        mt = matches[arm]
        sec = "-" if mt["seconds_median"] is None else f"{mt['seconds_median']:.1f}"
        ep = "-" if mt["epochs_median"] is None else f"{mt['epochs_median']:.0f}"
        lines.append(f"| {arm} | {mt['reached']}/{mt['of']} | {sec} | {ep} |")
    lines += [
        "",
        "Caveats: the validation accuracy of a search's best run is the maximum over noisy "
        "measurements (359 images: one image = 0.28 pp), so an arm that trains more "
        "architectures is favoured on it; the test accuracy of the chosen architecture is the "
        "unbiased comparison. The machine was shared with other jobs; budgets are "
        f"{clock_name} seconds (see the script's docstring) and the arms were interleaved.",
        "",
        "![anytime incumbent](real_search_digits.png)",
    ]
    (args.out / "real_search_digits.md").write_text("\n".join(lines) + "\n")
    log.info("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
