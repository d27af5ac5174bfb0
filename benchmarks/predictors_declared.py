"""Accuracy predictors on declared (non-NB201) spaces: Kendall tau vs training-set size.

Every predictor of the library, with the same protocol as ``predictors_nb201.py``
(``predictor_nas.predictors.evaluate_predictors``: n random architectures per seed, the rest
held out), on the tables of the declared spaces that the importers provide:

* ``nas-bench-macro`` (space ``nas_bench_macro``, a macro chain of 8 blocks): target
  ``search_acc``, training 0's best-epoch CIFAR-10 test accuracy (the benchmark has no
  validation split; see the importer);
* ``nb101-zc`` (space ``nb101``, cells with ops on nodes): target ``val_acc``, one sampled NB101
  repeat, 494 cells (so n stops at 300).

Run (imports the two tables from ../shared/data into the cache first)::

    python benchmarks/predictors_declared.py --seeds 10

Writes ``benchmarks/results/predictors_declared.{json,md,png}``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from predictor_nas.predictors import evaluate_predictors, plot_kendall
from predictor_nas.tables import open_table
from predictor_nas.tables.importers import IMPORTERS

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
#: (table, importer source folder, target metric, train sizes).
SETTINGS = [
    ("nas-bench-macro", "nas-bench-macro", "search_acc", (20, 100, 500)),
    ("nb101-zc", "nb101", "val_acc", (20, 100, 300)),
]
PREDICTORS = ("ridge", "xgb", "et", "gin", "ensemble")


def _ensure(table: str, folder: str) -> None:
    try:
        open_table(table)
    except Exception:  # not imported yet
        IMPORTERS[table](SHARED / folder)


def _markdown(runs: list[dict]) -> str:
    lines = [
        "# Accuracy predictors on declared spaces",
        "",
        "Kendall tau between predicted and true target on all held-out architectures after "
        "training on n random ones; mean over seeds [95% t-interval]. Command: "
        "`python benchmarks/predictors_declared.py` (see its docstring).",
        "",
    ]
    for r in runs:
        lines += [
            f"## {r['table']} (space `{r['space']}`, target `{r['metric']}`, "
            f"{r['n_archs']} archs, seeds {r['seeds'][0]}-{r['seeds'][-1]})",
            "",
            "| predictor | "
            + " | ".join(f"n={n}" for n in r["train_sizes"])
            + " | fit s (n=100) |",
            "|---|" + "---:|" * (len(r["train_sizes"]) + 1),
        ]
        for name in r["predictors"]:
            cells, fit = [], ""
            for n in r["train_sizes"]:
                e = next(x for x in r["results"] if x["predictor"] == name and x["train_size"] == n)
                ci = e["kendall_tau_ci95"]
                cells.append(
                    f"{e['kendall_tau']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
                )
                if n == 100:
                    fit = f"{e['fit_seconds']:.2f}"
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {fit} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    ap.add_argument("--out", default=str(HERE / "results" / "predictors_declared"))
    args = ap.parse_args()
    runs = []
    t0 = time.perf_counter()
    for table, folder, metric, sizes in SETTINGS:
        _ensure(table, folder)
        r = evaluate_predictors(
            table=table,
            dataset="cifar10",
            metric=metric,
            predictors=PREDICTORS,
            train_sizes=sizes,
            seeds=range(args.seeds),
        )
        runs.append(r)
        print(f"{table}: done after {time.perf_counter() - t0:.0f} s", flush=True)
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n")
    out.with_suffix(".md").write_text(_markdown(runs) + "\n")
    plot_kendall(runs[0], out.with_suffix(".png"))
    print(_markdown(runs))


if __name__ == "__main__":
    main()
