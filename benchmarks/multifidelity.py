"""Multi-fidelity search benchmark: regret vs simulated training seconds.

Methods (``predictor_nas.multifidelity.METHODS``), all with the same budget in simulated training
seconds and the same predictor settings:

* ``mf`` - Hyperband (eta = 3) whose brackets are proposed by an XGBoost ensemble (EI over
  mutations + random archs) and whose promotions rank by predicted final value (learned curve
  model on NB301, learned 12 -> 200 line on NB201, merged with the calibrated predictor);
* ``hyperband`` - plain Hyperband: random proposals, promotions by observed value;
* ``guided`` - single fidelity: predictor-guided (EI) search, one arch at a time at full fidelity;
* ``random`` - single fidelity: random search at full fidelity;
* ablations: ``mf-observed`` (mf's predictor proposals, promotions by observed value) and
  ``hyperband-curve`` (random proposals, mf's promotions by predicted final value).

Benchmarks: NAS-Bench-201 ``cifar10`` / ``cifar100`` / ``ImageNet16-120`` from the ``nb201-rich``
table (12 and 200 epochs; imported from ../shared/data/nb201 into a temporary folder) and the
YAHPO NB301 surrogate (epochs 1-98, full curves; ../shared/data/surrogates/yahpo/nb301).
Budgets are in units of one "full training": the mean 200-epoch (NB201) / 98-epoch (NB301)
simulated seconds of a uniformly random architecture. Every search maximises validation
accuracy; the report gives the validation regret to the table's best architecture (NB201), the
best final (epoch-98) surrogate validation accuracy found (NB301, no known optimum) and the test
accuracy of the validation-chosen architecture where the table has it (cifar10, cifar100).

Writes ``<out>/<name>.json``, ``<out>/<name>.md`` and ``<out>/<name>.png``::

    nice -n 10 python benchmarks/multifidelity.py
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import multiprocessing as mp
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import git_revision, machine_info, paired, parse_seeds, seeds_text, shared_data, t_ci

log = logging.getLogger("benchmarks.multifidelity")

NB201_BENCHES = ("cifar10", "cifar100", "ImageNet16-120")
ALL_BENCHES = (*NB201_BENCHES, "nb301")
ALL_METHODS = ("mf", "hyperband", "guided", "random", "mf-observed", "hyperband-curve")
#: The default run: ``mf-observed`` costs as much as ``mf`` and was left out to keep the run
#: within ~25 min on the shared 2-core machine (add it with ``--methods``).
DEFAULT_METHODS = ("mf", "hyperband", "guided", "random", "hyperband-curve")
ABLATION_TEXT = {
    "mf-observed": "ablation `mf-observed` (mf's predictor proposals, promotions by observed "
    "value)",
    "hyperband-curve": "ablation `hyperband-curve` (random proposals, mf's promotions by predicted "
    "final value: what the curve/mapping promotions add on their own)",
}
#: Benchmark names -> run_multifidelity arguments; the last two are ablations of mf's parts.
VARIANTS: dict[str, dict[str, str]] = {
    "mf": {"method": "mf"},
    "hyperband": {"method": "hyperband"},
    "guided": {"method": "guided"},
    "random": {"method": "random"},
    "mf-observed": {"method": "mf", "promotion": "observed"},
    "hyperband-curve": {"method": "hyperband", "promotion": "curve"},
}
#: Budgets (in full trainings) the tables report.
CHECKPOINTS = (3, 5, 10, 20, 30)
#: Predictor of every predictor-guided method here (guided and mf alike). The library default
#: (150 trees x 5 members) costs ~2x more per fit; cut to keep the run within ~25 min on 2 shared
#: cores.
PREDICTOR_KWARGS = {"n_estimators": 100, "ensemble_size": 3}
#: Lowest NB301 rung: ladder 11 / 33 / 98 epochs (Hyperband s_max = 2). Chosen on tuning seeds
#: 100-111 (never reported), 12 seeds x 30 full trainings: mean best val of mf / hyperband was
#: 93.06 / 93.04 with min 1 (ladder 1/4/11/33/98), 93.16 / 93.15 with min 3 (4/11/33/98) and
#: 93.26 / 93.12 with min 10 (random search: 93.15).
NB301_MIN_FIDELITY = 10
#: Random archs whose mean 98-epoch cost defines NB301's "full training" unit.
NB301_UNIT_SAMPLE = 500
_EVALUATORS: dict[str, Any] = {}
_PATHS: dict[str, str] = {}


# --------------------------------------------------------------------------- statistics
# --------------------------------------------------------------------------- workers
def _init_worker(paths: dict[str, str]) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _PATHS.update(paths)


def evaluator(bench: str) -> Any:
    """The (per-process cached) multi-fidelity evaluator of a benchmark."""
    if bench not in _EVALUATORS:
        from predictor_nas.multifidelity import SurrogateFidelityEvaluator, TableFidelityEvaluator
        from predictor_nas.tables import Table

        if bench == "nb301":
            _EVALUATORS[bench] = SurrogateFidelityEvaluator(_PATHS["surrogate"])
        else:
            if "table" not in _EVALUATORS:
                _EVALUATORS["table"] = Table(_PATHS["rich"])
            _EVALUATORS[bench] = TableFidelityEvaluator(_EVALUATORS["table"], bench)
    return _EVALUATORS[bench]


def _run_one(task: dict[str, Any]) -> dict[str, Any]:
    from predictor_nas.multifidelity import run_multifidelity

    ev = evaluator(task["bench"])
    unit = task["unit"]
    kwargs = {"min_fidelity": NB301_MIN_FIDELITY} if task["bench"] == "nb301" else {}
    r = run_multifidelity(
        ev,
        **VARIANTS[task["method"]],
        time_budget=task["budget"] * unit,
        seed=task["seed"],
        predictor_kwargs=PREDICTOR_KWARGS,
        **kwargs,
    )
    grid = task["grid"]
    return {
        "bench": task["bench"],
        "method": task["method"],
        "seed": task["seed"],
        "val": [r.val_at(g * unit) for g in grid],
        "test": [r.test_at(g * unit) for g in grid],
        "optimum": r.optimum_val,
        "n_evaluations": r.n_evaluations,
        "n_full_evaluations": r.n_full_evaluations,
        "n_archs": r.n_archs,
        "best_arch": r.best_arch,
        "ladder": r.ladder,
        "wall_seconds": r.wall_seconds,
    }


def run_tasks(tasks: list[dict[str, Any]], paths: dict[str, str], workers: int) -> list[dict]:
    """Run every task, in a spawn pool of ``workers`` processes (1 = in this process)."""
    out = []
    t0 = time.perf_counter()
    if workers <= 1:
        _init_worker(paths)
        for i, t in enumerate(tasks):
            out.append(_run_one(t))
            log.info("%d/%d %s %s seed %d", i + 1, len(tasks), t["bench"], t["method"], t["seed"])
        return out
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(paths,)) as pool:
        for i, res in enumerate(pool.imap_unordered(_run_one, tasks, chunksize=1)):
            out.append(res)
            if (i + 1) % 20 == 0 or i + 1 == len(tasks):
                log.info("%d/%d runs (%.0f s)", i + 1, len(tasks), time.perf_counter() - t0)
    return out


# --------------------------------------------------------------------------- setup
def import_rich(source: str, folder: str) -> tuple[str, str]:
    """Import nb201-rich from ``source`` into ``folder``; returns (path, content hash)."""
    from predictor_nas.tables.importers import import_nb201_rich

    path, chash = import_nb201_rich(source, out=Path(folder) / "nb201-rich.h5")
    return str(path), chash


def units(paths: dict[str, str], benches: Sequence[str]) -> dict[str, float]:
    """Mean full-training simulated seconds of a uniformly random arch, per benchmark."""
    _init_worker(paths)
    out = {}
    for b in benches:
        ev = evaluator(b)
        if b == "nb301":
            rng = np.random.default_rng(12345)
            archs = [ev.space.sample(rng) for _ in range(NB301_UNIT_SAMPLE)]
            obs = ev.observe(archs, ev.max_fidelity)
            out[b] = float(np.mean([o.cost_total for o in obs]))
        else:
            t = ev.table
            out[b] = float(np.nanmean(t.cost_many(np.arange(len(t)), dataset=b, fidelity=200)))
    return out


# --------------------------------------------------------------------------- summaries
def summarise(
    runs: list[dict[str, Any]],
    benches: Sequence[str],
    methods: Sequence[str],
    grid: Sequence[float],
    checkpoints: Sequence[int],
) -> dict[str, Any]:
    """Mean and 95% CI per benchmark, method and budget; MF vs each baseline."""
    idx = [int(np.argmin(np.abs(np.asarray(grid) - c))) for c in checkpoints]
    out: dict[str, Any] = {}
    for b in benches:
        res: dict[str, Any] = {"metric": "best_val" if b == "nb301" else "regret_val"}
        curves = {}
        for m in methods:
            rs = sorted(
                (r for r in runs if r["bench"] == b and r["method"] == m), key=lambda r: r["seed"]
            )
            if not rs:
                continue
            val = np.array([r["val"] for r in rs], dtype=np.float64)
            y = val if b == "nb301" else rs[0]["optimum"] - val
            test = np.array([r["test"] for r in rs], dtype=np.float64)
            curves[m] = y
            rows = {}
            for c, i in zip(checkpoints, idx):
                col = y[:, i]
                ok = ~np.isnan(col)
                entry = {"n": int(ok.sum())}
                if ok.sum() == len(col):
                    entry["mean"], entry["lo"], entry["hi"] = t_ci(col)
                tcol = test[:, i]
                if not np.all(np.isnan(tcol)) and not np.any(np.isnan(tcol)):
                    entry["test_mean"], entry["test_lo"], entry["test_hi"] = t_ci(tcol)
                rows[str(c)] = entry
            mean_curve, lo, hi = [], [], []
            for j in range(len(grid)):
                col = y[:, j]
                if np.any(np.isnan(col)):
                    mean_curve.append(None), lo.append(None), hi.append(None)
                else:
                    mm, ll, hh = t_ci(col)
                    mean_curve.append(mm), lo.append(ll), hi.append(hh)
            res[m] = {
                "checkpoints": rows,
                "curve": {"mean": mean_curve, "lo": lo, "hi": hi},
                "n_evaluations_mean": float(np.mean([r["n_evaluations"] for r in rs])),
                "n_full_evaluations_mean": float(np.mean([r["n_full_evaluations"] for r in rs])),
                "wall_seconds_mean": float(np.mean([r["wall_seconds"] for r in rs])),
                "ladder": rs[0]["ladder"],
            }
        if "mf" in curves:
            res["mf_vs"] = {}
            for m in methods:
                if m == "mf" or m not in curves:
                    continue
                res["mf_vs"][m] = {
                    str(c): paired(curves["mf"][:, i], curves[m][:, i])
                    for c, i in zip(checkpoints, idx)
                    if not (
                        np.any(np.isnan(curves["mf"][:, i])) or np.any(np.isnan(curves[m][:, i]))
                    )
                }
        out[b] = res
    return out


def _rounded(obj: Any, nd: int = 5) -> Any:
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, dict):
        return {k: _rounded(v, nd) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v, nd) for v in obj]
    return obj


def dump_report(report: dict[str, Any]) -> str:
    """The report JSON: floats rounded to 5 decimals, one line per run."""
    head = {k: v for k, v in report.items() if k != "runs"}
    text = json.dumps(_rounded(head), indent=1, allow_nan=True)[:-2]
    runs = ",\n".join(json.dumps(_rounded(r), allow_nan=True) for r in report["runs"])
    return f'{text},\n "runs": [\n{runs}\n ]\n}}\n'


def _fmt(e: dict[str, Any], key: str = "", nd: int = 2) -> str:
    m, lo, hi = e.get(f"{key}mean"), e.get(f"{key}lo"), e.get(f"{key}hi")
    if m is None:
        return "n/a"
    return f"{m:.{nd}f} [{lo:.{nd}f}, {hi:.{nd}f}]"


def markdown(report: dict[str, Any]) -> str:
    """The Markdown report."""
    cfg, summ = report["config"], report["summary"]
    cps = cfg["checkpoints"]
    lines = [
        "# Multi-fidelity search: regret vs simulated training seconds",
        "",
        "`mf` (Hyperband, eta = 3, predictor-proposed brackets, promotions by predicted final "
        "value) vs plain `hyperband` (random proposals, promotions by observed value) vs "
        "single-fidelity predictor-`guided` search and `random` search (both at full fidelity: "
        "200 epochs on NB201, 98 on NB301)"
        + "".join(f", {ABLATION_TEXT[m]}" for m in cfg["methods"] if m in ABLATION_TEXT)
        + ". All methods search validation accuracy; test accuracy is that of the "
        "validation-chosen architecture (never used by any search). Budgets are in **full "
        "trainings**: the mean full-fidelity simulated training seconds of a uniformly random "
        "architecture (" + ", ".join(f"{b}: {u:,.0f} s" for b, u in cfg["units"].items()) + ").",
        "",
        "```",
        cfg["command"],
        "```",
        "",
        f"- date: {report['date']}; run time {report['run_seconds']:.0f} s "
        f"({report['run_seconds'] / 60:.1f} min) with {cfg['workers']} worker processes under "
        "`nice -n 10`",
        f"- seeds: {cfg['seeds_text']} ({cfg['n_seeds']} per method and benchmark; same-seed runs "
        "share their random warm-up; differences are paired by seed)",
        f"- budget: {cfg['budget']} full trainings per search; table columns at {cps}",
        f"- predictor (mf and guided alike): `make_predictor('xgb', **{cfg['predictor_kwargs']})`, "
        "one-hot encoding; 10 random warm-up archs; EI over 200 candidates (mutations of the 10 "
        "best + random) - the library's `guided` settings except 100 trees x 3 members instead of "
        "150 x 5 (time)",
        f"- NB201: table `nb201-rich` (content hash `{cfg['rich_content_hash']}`), imported from "
        f"`{cfg['rich_source']}`; ladder 12 -> 200 epochs",
        f"- NB301: YAHPO surrogate `{cfg['surrogate']}` (model `{cfg['surrogate_sha256']}`); "
        f"lowest rung {NB301_MIN_FIDELITY} epochs: ladder 11 / 33 / 98 (chosen on tuning seeds "
        "100-111, see `NB301_MIN_FIDELITY` in the script); NB301 cost of epoch e = running max of "
        "the surrogate's runtime over epochs 1..e, a promotion continues the run",
        f"- machine: {report['machine']['platform']}; {report['machine']['cpu']}; cpu_count "
        f"{report['machine']['cpu_count']} (shared with other jobs while this ran); Python "
        f"{report['machine']['python']}, optuna {report['machine']['optuna']}, xgboost "
        f"{report['machine']['xgboost']}, onnxruntime {report['machine']['onnxruntime']}; git "
        f"{report['git']}",
        "",
        f"![regret vs simulated seconds]({cfg['name']}.png)",
        "",
    ]
    for b, res in summ.items():
        nb301 = b == "nb301"
        title = "NB301 (YAHPO surrogate)" if nb301 else f"NB201 {b}"
        what = (
            "best final (epoch-98) surrogate validation accuracy found, % (higher is better)"
            if nb301
            else "validation regret to the table's best architecture, pp (lower is better)"
        )
        lines += [f"## {title}", "", f"{what}; mean [95% CI] over seeds.", ""]
        methods = [m for m in cfg["methods"] if m in res]
        lines.append(
            "| method | "
            + " | ".join(f"{c} full trainings" for c in cps)
            + " | evals (full) | wall s/search |"
        )
        lines.append("|---" * (len(cps) + 3) + "|")
        for m in methods:
            e = res[m]
            lines.append(
                f"| `{m}` | "
                + " | ".join(_fmt(e["checkpoints"][str(c)], nd=3) for c in cps)
                + f" | {e['n_evaluations_mean']:.0f} ({e['n_full_evaluations_mean']:.0f}) | "
                f"{e['wall_seconds_mean']:.1f} |"
            )
        has_test = any("test_mean" in res[m]["checkpoints"][str(cps[-1])] for m in methods)
        if has_test:
            lines += ["", "Test accuracy (%) of the validation-chosen architecture:", ""]
            lines.append("| method | " + " | ".join(f"{c}" for c in cps) + " |")
            lines.append("|---" * (len(cps) + 1) + "|")
            for m in methods:
                lines.append(
                    f"| `{m}` | "
                    + " | ".join(_fmt(res[m]["checkpoints"][str(c)], "test_", 2) for c in cps)
                    + " |"
                )
        elif not nb301:
            lines += ["", "(no 200-epoch test accuracy in the table for this dataset)"]
        last = str(cps[-1])
        ranked = sorted(
            (m for m in methods if "mean" in res[m]["checkpoints"][last]),
            key=lambda m: res[m]["checkpoints"][last]["mean"] * (-1 if nb301 else 1),
        )
        verdicts = []
        for m, d in res.get("mf_vs", {}).items():
            x = d.get(last)
            if x is None:
                continue
            better = x["hi"] < 0 if not nb301 else x["lo"] > 0
            worse = x["lo"] > 0 if not nb301 else x["hi"] < 0
            word = "better than" if better else "worse than" if worse else "indistinguishable from"
            verdicts.append(f"{word} `{m}`")
        lines += [
            "",
            f"At {cps[-1]} full trainings the ranking by mean is "
            + " > ".join(f"`{m}`" for m in ranked)
            + (f"; `mf` is {', '.join(verdicts)} (paired 95% CI)." if verdicts else "."),
        ]
        if "mf_vs" in res:
            sign = "higher" if nb301 else "lower"
            lines += [
                "",
                f"`mf` minus baseline ({sign} = mf better), paired by seed; mean [95% CI], p:",
                "",
                "| baseline | " + " | ".join(f"{c}" for c in cps) + " |",
                "|---" * (len(cps) + 1) + "|",
            ]
            for m, d in res["mf_vs"].items():
                cells = []
                for c in cps:
                    x = d.get(str(c))
                    cells.append(
                        "n/a"
                        if x is None
                        else f"{x['diff']:+.3f} [{x['lo']:+.3f}, {x['hi']:+.3f}], p={x['p']:.2g}"
                    )
                lines.append(f"| `{m}` | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## Notes",
        "",
        "- NB201's 12-epoch values come from NB201's separate `hp='12'` schedule, not from the "
        "first 12 epochs of the 200-epoch run, so a promotion to 200 epochs is a new run and pays "
        "the full 200-epoch cost; the 12-epoch cost is 12/200 of it (derived by the table "
        "importer, not measured). Values are means over NB201's training trials.",
        "- On NB201 the only rungs are 12 and 200 epochs: Hyperband's brackets are 3 archs at 12 "
        "epochs -> 1 at 200, then 2 archs at 200 (eta = 3).",
        "- The NB301 surrogate is deterministic; 'best val' is the surrogate's epoch-98 "
        "prediction for the validation-chosen architecture. NB301 has no known optimum, hence no "
        "regret.",
        "- Same seed, same random warm-up: `mf`, `hyperband`, `mf-observed` and `hyperband-curve` "
        "draw the same first brackets, `guided` and `random` the same first 10 archs; that is "
        "why some of their early numbers coincide.",
        "- `mf` coincides with `hyperband` until the predictor has 10 archs with a final (or "
        "informative extrapolated) value, about 10 full trainings on NB201.",
        "- On NB201 the learned 12 -> 200 line is increasing, so without the predictor term a "
        "promotion by predicted final value ranks like one by observed 12-epoch value: "
        "`hyperband-curve` equals `hyperband` there, and mf's gain over `hyperband` comes from "
        "its predictor (proposals, and the predictor term of its promotions). On NB301 the "
        "learned curve model does re-rank.",
        "- `evals (full)`: mean number of evaluations (trials) per search, promotions included, "
        "and of those at full fidelity. `wall s/search`: mean wall seconds of the search itself "
        "(predictor and curve-model fits, surrogate calls) on this shared machine.",
        *(f"- {n}" for n in report.get("notes", [])),
    ]
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], path: Path) -> None:
    """Mean regret (NB201, log scale) / best val (NB301) vs budget, with 95% CI bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg, summ = report["config"], report["summary"]
    grid = np.asarray(cfg["grid"])
    benches = list(summ)
    fig, axes = plt.subplots(1, len(benches), figsize=(4.2 * len(benches), 3.6), squeeze=False)
    for ax, b in zip(axes[0], benches):
        res = summ[b]
        order = [m for m in cfg["methods"] if m in res and m != "mf"] + ["mf"] * ("mf" in res)
        for m in order:
            c = res[m]["curve"]
            mean = np.array([np.nan if v is None else v for v in c["mean"]])
            lo = np.array([np.nan if v is None else v for v in c["lo"]])
            hi = np.array([np.nan if v is None else v for v in c["hi"]])
            style = "--" if m in ABLATION_TEXT else "-"
            color = f"C{ALL_METHODS.index(m)}"
            (line,) = ax.plot(grid, mean, style, color=color, label=m, lw=1.8 if m == "mf" else 1.1)
            ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
        ax.set_xscale("log")
        if b == "nb301":
            ax.set_ylabel("best final val acc (%)")
            ax.set_title("NB301 (YAHPO surrogate)")
        else:
            ax.set_yscale("log")
            ax.set_ylabel("validation regret (pp)")
            ax.set_title(f"NB201 {b}")
        ax.set_xlabel("simulated training (full trainings)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"mean over {cfg['n_seeds']} seeds, 95% CI bands", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the JSON, Markdown and PNG reports."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-29"))
    p.add_argument("--budget", type=float, default=30.0, help="full trainings per search")
    p.add_argument("--benches", default=",".join(ALL_BENCHES))
    p.add_argument(
        "--methods", default=",".join(DEFAULT_METHODS), help=f"some of {', '.join(ALL_METHODS)}"
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rich-source", default=shared_data("nb201"))
    p.add_argument("--surrogate", default=shared_data("surrogates", "yahpo", "nb301"))
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    p.add_argument("--name", default="multifidelity")
    p.add_argument(
        "--render",
        default=None,
        metavar="JSON",
        help="only rewrite the .md and .png next to an existing report JSON (no search)",
    )
    args = p.parse_args(argv)
    if args.render:
        path = Path(args.render)
        report = json.loads(path.read_text())
        path.write_text(dump_report(report))
        plot(report, path.with_suffix(".png"))
        path.with_suffix(".md").write_text(markdown(report))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    benches = [b for b in args.benches.split(",") if b]
    methods = [m for m in args.methods.split(",") if m]
    checkpoints = [c for c in CHECKPOINTS if c <= args.budget]
    grid = sorted(
        {*np.round(np.geomspace(0.5, args.budget, 60), 4).tolist(), *map(float, checkpoints)}
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mf-bench-") as tmp:
        paths = {"surrogate": args.surrogate}
        rich_hash = None
        if any(b in NB201_BENCHES for b in benches):
            paths["rich"], rich_hash = import_rich(args.rich_source, tmp)
        unit = units(paths, benches)
        surrogate_sha = evaluator("nb301").surrogate.model_sha256 if "nb301" in benches else None
        log.info("units (s per full training): %s", unit)
        tasks = [
            {
                "bench": b,
                "method": m,
                "seed": s,
                "budget": args.budget,
                "unit": unit[b],
                "grid": grid,
            }
            for s in args.seeds
            for b in benches
            for m in methods
        ]
        # the slow (predictor) runs first, so the pool's tail is short
        tasks.sort(key=lambda t: (t["method"] in ("random", "hyperband"), t["seed"]))
        runs = run_tasks(tasks, paths, args.workers)
    run_seconds = time.perf_counter() - t0
    cfg = {
        "name": args.name,
        "command": "nice -n 10 python benchmarks/multifidelity.py"
        + "".join(f" {shlex.quote(a)}" for a in (argv if argv is not None else sys.argv[1:])),
        "seeds": list(args.seeds),
        "seeds_text": seeds_text(args.seeds),
        "n_seeds": len(args.seeds),
        "budget": args.budget,
        "benches": benches,
        "methods": methods,
        "checkpoints": checkpoints,
        "grid": grid,
        "units": unit,
        "workers": args.workers,
        "predictor_kwargs": PREDICTOR_KWARGS,
        "nb301_min_fidelity": NB301_MIN_FIDELITY,
        "rich_source": args.rich_source,
        "rich_content_hash": rich_hash,
        "surrogate": args.surrogate,
        "surrogate_sha256": surrogate_sha,
    }
    report = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "run_seconds": run_seconds,
        "git": git_revision(),
        "machine": machine_info("optuna", "xgboost", "scikit-learn", "onnxruntime"),
        "config": cfg,
        "summary": summarise(runs, benches, methods, grid, checkpoints),
        "runs": sorted(runs, key=lambda r: (r["bench"], r["method"], r["seed"])),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(dump_report(report))
    plot(report, out / f"{args.name}.png")
    (out / f"{args.name}.md").write_text(markdown(report))
    log.info("wrote %s.{json,md,png} in %.0f s", out / args.name, run_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
