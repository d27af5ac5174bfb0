"""Accuracy predictors on declared (non-NB201) spaces: Kendall tau vs training-set size.

Every predictor of the library, with the same protocol as ``predictors_nb201.py``
(``predictor_nas.predictors.evaluate_predictors``: n random architectures per seed, the rest
held out), on the tables of the declared spaces:

* ``nas-bench-macro`` (space ``nas_bench_macro``, a macro chain of 8 blocks): target
  ``search_acc``, training 0's best-epoch CIFAR-10 test accuracy (the benchmark has no
  validation split; see the importer);
* ``nb101-zc`` (space ``nb101``, cells with ops on nodes): target ``val_acc``, one sampled NB101
  repeat, 494 cells (so n stops at 300);
* ``nas-bench-graph`` (space ``nas_bench_graph``, 26,206 GNN architectures): target ``val_acc``
  on cora and on citeseer; plus "+ cost features" rows, where the best predictors also get the
  table's ``params`` and ``latency`` (known without training) through ``zc=`` as extra
  features. Its source is a wheel, not ../shared/data: download with
  ``pip download --no-deps nas-bench-graph==1.4.0 -d nbg`` and import with
  ``predictor-nas tables import nas-bench-graph --source nbg``; without the table these settings
  are skipped (logged);
* ``nb301-surrogate-sample`` (space ``nb301``, DARTS cells): 5,000 uniform random cells whose
  target ``val_acc`` is the **YAHPO surrogate's predicted** epoch-98 validation accuracy, not a
  real training. Build it first (skipped, logged, without it)::

      PYTHONPATH=. python scripts/nb301_sample_table.py \\
          --surrogate ../shared/data/surrogates/yahpo/nb301 --n 5000 --seed 0

Run (imports nas-bench-macro and nb101-zc from ../shared/data into the cache first)::

    python benchmarks/predictors_declared.py --seeds 10

``--only LABEL`` (repeatable; labels as in the markdown headings, e.g. ``nas-bench-graph/cora``)
runs only those settings; every run is merged into the existing JSON by label, so settings not
run (or skipped) keep their committed results. Writes
``benchmarks/results/predictors_declared.{json,md,png}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from predictor_nas.exceptions import PredictorNASError
from predictor_nas.predictors import draw_kendall, evaluate_predictors
from predictor_nas.tables import open_table
from predictor_nas.tables.importers import IMPORTERS

log = logging.getLogger("predictors_declared")

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
PREDICTORS = ("ridge", "xgb", "et", "gin", "ensemble")
#: Predictors given the cost features (the best ones on NAS-Bench-Graph without them).
COST_PREDICTORS = ("et", "ensemble")
COST_FEATURES = ("params", "latency")
NBG_HOWTO = (
    "download with `pip download --no-deps nas-bench-graph==1.4.0 -d nbg` and import with "
    "`predictor-nas tables import nas-bench-graph --source nbg`"
)
NB301_HOWTO = (
    "build with `PYTHONPATH=. python scripts/nb301_sample_table.py "
    "--surrogate ../shared/data/surrogates/yahpo/nb301 --n 5000 --seed 0`"
)


def _setting(table, source, dataset, metric, sizes, zc=None, predictors=PREDICTORS, howto=""):
    return {
        "table": table,
        "source": source,  # folder under ../shared/data the importer reads, or None
        "dataset": dataset,
        "metric": metric,
        "sizes": sizes,
        "zc": zc,
        "predictors": predictors,
        "howto": howto,
    }


#: Every setting, in report order.
SETTINGS = [
    _setting("nas-bench-macro", "nas-bench-macro", "cifar10", "search_acc", (20, 100, 500)),
    _setting("nb101-zc", "nb101", "cifar10", "val_acc", (20, 100, 300)),
    *(
        _setting("nas-bench-graph", None, ds, "val_acc", (20, 100, 500), howto=NBG_HOWTO)
        for ds in ("cora", "citeseer")
    ),
    *(
        _setting(
            "nas-bench-graph",
            None,
            ds,
            "val_acc",
            (20, 100, 500),
            zc=COST_FEATURES,
            predictors=COST_PREDICTORS,
            howto=NBG_HOWTO,
        )
        for ds in ("cora", "citeseer")
    ),
    _setting(
        "nb301-surrogate-sample", None, "cifar10", "val_acc", (20, 100, 500), howto=NB301_HOWTO
    ),
]

#: Notes printed under a table's heading in the markdown.
NOTES = {
    "nas-bench-graph": (
        "NAS-Bench-Graph light files (one value per architecture); target: validation accuracy "
        '(%) after the benchmark\'s full training. "+ cost features": the predictor also gets '
        "the architecture's `params` and `latency` from the table (known without training; "
        "`zc=['params', 'latency']`, log-scaled)."
    ),
    "nb301-surrogate-sample": (
        "**The target is the YAHPO NB301 surrogate's predicted epoch-98 validation accuracy, not "
        "a real training**: 5,000 uniform random DARTS cells (seed 0) scored by "
        "`NB301SurrogateEvaluator` (`scripts/nb301_sample_table.py`). A tau here measures how "
        "well a predictor imitates the surrogate, which is deterministic and smoother than real "
        "training."
    ),
}


def label(run: dict) -> str:
    """The label of a setting or a run: ``table/dataset``, ``+ cost features`` when ``zc``."""
    base = f"{run['table']}/{run['dataset']}"
    return base + (" + cost features" if run.get("zc") else "")


def _available(s: dict) -> bool:
    """Open (or import from ../shared/data) the setting's table; False, logged, when absent."""
    try:
        open_table(s["table"])
        return True
    except PredictorNASError:
        pass
    if s["source"] is not None and (SHARED / s["source"]).is_dir():
        IMPORTERS[s["table"]](SHARED / s["source"])
        return True
    log.warning("skipped %s: table %r not found (%s)", label(s), s["table"], s["howto"])
    return False


def _cell(e: dict) -> str:
    ci = e["kendall_tau_ci95"]
    return f"{e['kendall_tau']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _markdown(runs: list[dict]) -> str:
    lines = [
        "# Accuracy predictors on declared spaces",
        "",
        "Kendall tau between predicted and true target on all held-out architectures after "
        "training on n random ones; mean over seeds [95% t-interval]. Command: "
        "`python benchmarks/predictors_declared.py --seeds 10` (see its docstring for how to "
        "get the NAS-Bench-Graph and NB301 tables).",
        "",
    ]
    noted: set[str] = set()
    for r in runs:
        lines += [
            f"## {label(r)} (space `{r['space']}`, target `{r['metric']}`, "
            f"{r['n_archs']} archs, seeds {r['seeds'][0]}-{r['seeds'][-1]})",
            "",
        ]
        if r["table"] in NOTES and r["table"] not in noted:
            noted.add(r["table"])
            lines += [NOTES[r["table"]], ""]
        lines += [
            "| predictor | "
            + " | ".join(f"n={n}" for n in r["train_sizes"])
            + " | fit s (n=100) |",
            "|---|" + "---:|" * (len(r["train_sizes"]) + 1),
        ]
        suffix = " + cost features" if r.get("zc") else ""
        for name in r["predictors"]:
            cells, fit = [], ""
            for n in r["train_sizes"]:
                e = next(x for x in r["results"] if x["predictor"] == name and x["train_size"] == n)
                cells.append(_cell(e))
                if n == 100:
                    fit = f"{e['fit_seconds']:.2f}"
            lines.append(f"| {name}{suffix} | " + " | ".join(cells) + f" | {fit} |")
        lines.append("")
    return "\n".join(lines)


def _plot(runs: list[dict], path: Path) -> None:
    """One panel per run: Kendall tau vs n (log x) per predictor, with 95 % CI bands."""
    cols = 2
    rows = math.ceil(len(runs) / cols)
    fig = Figure(figsize=(6.4 * cols, 4.0 * rows), dpi=100)
    FigureCanvasAgg(fig)
    for i, r in enumerate(runs):
        ax = fig.add_subplot(rows, cols, i + 1)
        draw_kendall(ax, r["results"])
        ax.axhline(0.7, color="grey", linestyle=":", linewidth=1)
        ax.set_title(f"{label(r)} / {r['metric']} ({len(r['seeds'])} seeds, 95 % CI)", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")


def main() -> None:
    """Run the settings, merge them into the existing JSON, write the JSON, markdown and PNG."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    ap.add_argument("--out", default=str(HERE / "results" / "predictors_declared"))
    ap.add_argument(
        "--only",
        action="append",
        choices=[label(s) for s in SETTINGS],
        help="run only this setting (repeatable); the others keep their results in the JSON",
    )
    args = ap.parse_args()
    out = Path(args.out)
    old = {}
    if out.with_suffix(".json").is_file():
        old = {label(r): r for r in json.loads(out.with_suffix(".json").read_text())}
    new = {}
    t0 = time.perf_counter()
    for s in SETTINGS:
        if args.only and label(s) not in args.only:
            continue
        if not _available(s):
            continue
        new[label(s)] = evaluate_predictors(
            table=s["table"],
            dataset=s["dataset"],
            metric=s["metric"],
            predictors=s["predictors"],
            train_sizes=s["sizes"],
            seeds=range(args.seeds),
            zc=None if s["zc"] is None else list(s["zc"]),
        )
        log.info("%s: done after %.0f s", label(s), time.perf_counter() - t0)
    runs = []
    for s in SETTINGS:
        key = label(s)
        if key in new:
            runs.append(new[key])
        elif key in old:
            log.info("%s: kept the previous result from %s", key, out.with_suffix(".json").name)
            runs.append(old[key])
    if not runs:
        raise SystemExit("no setting ran and no previous results to keep: nothing written")
    out.with_suffix(".json").write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n")
    out.with_suffix(".md").write_text(_markdown(runs) + "\n")
    _plot(runs, out.with_suffix(".png"))
    print(_markdown(runs))


if __name__ == "__main__":
    main()
