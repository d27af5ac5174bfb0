"""Learning-curve extrapolation on curves from this project's own trainings (NB201 cells on digits).

The corpus (``benchmarks/record_curves_digits.py``, read with
``predictor_nas.curves.load_curve_corpus``) holds the per-epoch validation accuracy (%) of random
NB201 cells trained 20 epochs on scikit-learn's digits with a per-run learning rate and batch
size. Every model sees the first 10%, 20% or 50% of the epochs (2, 4, 10) and predicts the
accuracy after the last epoch, with a Gaussian std. As in ``curves_nlp.py``, runs are split into
5 folds per seed; every model is fitted on the other folds (the learned models train there, the
last-value std and the parametric calibration are estimated there) and predicts the held-out
runs; throughput is ``predict_final`` on all runs in one batch.

Models (all ``kind="accuracy"``, means clipped to [0, 100]): ``last-value`` (baseline),
``parametric`` (the default ensemble; with 2 observed epochs no family can be fitted and it falls
back to the last value with its calibrated std), ``parametric (equal weights)``, ``learned``
(gradient boosting on curve features) and ``learned+hp`` (plus the run's known settings:
log learning rate, log2 batch size, log parameter count).

With ``--pruning`` it also replays the runs through Optuna studies like ``pruner_nlp.py``: per
seed a random half of the runs is the study (in a random order) and the other half is the corpus
that the corpus-calibrated pruners are fitted on; a pruned run stops consuming epochs and
seconds. Reported per pruner: epochs and training seconds saved, regret of the best completed run
(best final validation accuracy of the study's runs minus the best completed one, in points) and
how often the best run survived.

Writes ``<out>/curves_digits.json``, ``.md`` and ``.png`` (example extrapolations and MAE /
log-likelihood vs cut)::

    python benchmarks/curves_own.py --pruning
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import parse_seeds, t_ci
from curves_nlp import git_revision, machine_info, paired_mae_diff

log = logging.getLogger("benchmarks.curves_own")
HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "results" / "digits_nb201_curves.jsonl.gz"
CUTS = (0.1, 0.2, 0.5)
TARGET_SPEED = 1000.0  # curves per second, the issue's goal
BASELINE = "last-value"
BOUNDS = (0.0, 100.0)


# --------------------------------------------------------------------------- models
def model_specs(n_threads: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(models without run features, models with them, one-line description per model)."""
    from predictor_nas.curves import (
        FEATURE_NAMES,
        LastValueCurveModel,
        LearnedCurveModel,
        ParametricEnsembleCurveModel,
    )

    kw = {"kind": "accuracy", "bounds": BOUNDS}
    plain = {
        "last-value": lambda s: LastValueCurveModel(**kw, seed=s),
        "parametric": lambda s: ParametricEnsembleCurveModel(**kw, seed=s),
        "parametric (equal weights)": lambda s: ParametricEnsembleCurveModel(
            **kw, weighting="equal", seed=s
        ),
        "learned": lambda s: LearnedCurveModel(**kw, n_threads=n_threads, seed=s),
    }
    with_hp = {
        "learned+hp": lambda s: LearnedCurveModel(**kw, n_threads=n_threads, seed=s),
    }
    desc = {
        "last-value": "mean = last observed accuracy; std = RMS of (final minus cut) accuracy "
        "over the training folds at the same cut",
        "parametric": "default ParametricEnsembleCurveModel(kind='accuracy'): 7 families, "
        "weights exp(-BIC/(2T)) with T=10, std calibrated on the training folds; fewer than 3 "
        "observed epochs -> last value with the calibrated std",
        "parametric (equal weights)": "the same members weighted equally, calibrated std",
        "learned": "LearnedCurveModel(kind='accuracy'): 3 HistGradientBoostingRegressors (mean; "
        f"2.3% and 97.7% quantiles for the std) on {len(FEATURE_NAMES)} partial-curve features, "
        "trained on every cut of the training runs",
        "learned+hp": "LearnedCurveModel with the run's settings as extra features: log(lr), "
        "log2(batch size), log(number of parameters)",
    }
    return plain, with_hp, desc


def run_features(info: dict[str, Any]) -> np.ndarray:
    """(n, 3) features known before training: log lr, log2 batch size, log parameter count."""
    return np.column_stack([
        np.log(info["lr"].astype(np.float64)),
        np.log2(info["batch_size"].astype(np.float64)),
        np.log(info["n_params"].astype(np.float64)),
    ])


# --------------------------------------------------------------------------- throughput
def throughput(
    curves: np.ndarray, specs: dict[str, Any], extra: np.ndarray | None, cut_epochs: Sequence[int],
    batch: int, repeats: int,
) -> dict[tuple[str, int], dict[str, float]]:
    """Curves per second of ``predict_final`` on the corpus tiled to ``batch`` curves.

    Each model is fitted on the whole corpus once (with ``extra`` (n, d) if given); the timing
    is the best of ``repeats`` calls on one batch, by the wall clock and by this process's CPU
    clock (the machine is shared, so the wall figure depends on the load; the CPU figure much
    less).
    """
    n, length = curves.shape
    reps = -(-batch // n)
    tiled = np.tile(curves, (reps, 1))[:batch]
    x = None if extra is None else np.tile(extra, (reps, 1))[:batch]
    out = {}
    for name, make in specs.items():
        model = make(0).fit(curves, extra=extra)
        for t in cut_epochs:
            wall, cpu = np.inf, np.inf
            for _ in range(repeats):
                w0, c0 = time.perf_counter(), time.process_time()
                model.predict_final(tiled[:, :t], final_epoch=length, extra=x)
                wall = min(wall, time.perf_counter() - w0)
                cpu = min(cpu, time.process_time() - c0)
            out[name, t] = {"wall": batch / max(wall, 1e-12), "cpu": batch / max(cpu, 1e-12)}
        log.info("throughput of %s measured", name)
    return out


# --------------------------------------------------------------------------- pruning replay
def replay(
    curves: np.ndarray, epoch_seconds: np.ndarray, pruner: Any
) -> tuple[int, float, float, list[bool]]:
    """Run one maximising study over ``curves`` in order.

    Returns:
        (epochs used, seconds used, best completed final value, pruned flag per run).
    """
    import optuna

    study = optuna.create_study(direction="maximize", pruner=pruner)
    used, secs, pruned = 0, 0.0, []
    length = curves.shape[1]
    for c, s in zip(curves, epoch_seconds):
        trial = study.ask()
        for epoch, v in enumerate(c, start=1):
            trial.report(float(v), epoch)
            used += 1
            secs += float(s[epoch - 1])
            if epoch < length and trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                pruned.append(True)
                break
        else:
            study.tell(trial, float(c[-1]))
            pruned.append(False)
    return used, secs, float(study.best_value), pruned


def pruner_factories(
    length: int, threads: int
) -> dict[str, Callable[[np.ndarray], Any]]:
    """Name -> factory(corpus (m, L) of the runs outside the study) -> Optuna pruner."""
    import optuna

    from predictor_nas.curves import (
        CurvePruner,
        LastValueCurveModel,
        LearnedCurveModel,
        ParametricEnsembleCurveModel,
    )

    common = {"final_epoch": length, "min_epochs": 2, "n_startup_trials": 5, "interval": 2}
    kw = {"kind": "accuracy", "bounds": BOUNDS}

    def curve(make_model: Callable[[np.ndarray], Any], threshold: float):
        return lambda corpus: CurvePruner(make_model(corpus), threshold=threshold, **common)

    return {
        "none": lambda corpus: optuna.pruners.NopPruner(),
        "median (Optuna)": lambda corpus: optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=2, interval_steps=2
        ),
        "curve parametric, no corpus, p<0.05": curve(
            lambda corpus: ParametricEnsembleCurveModel(**kw, calibrate=False), 0.05
        ),
        "curve parametric, calibrated, p<0.05": curve(
            lambda corpus: ParametricEnsembleCurveModel(**kw).fit(corpus), 0.05
        ),
        "curve last-value, calibrated, p<0.05": curve(
            lambda corpus: LastValueCurveModel(**kw).fit(corpus), 0.05
        ),
        "curve learned, p<0.05": curve(
            lambda corpus: LearnedCurveModel(**kw, n_threads=threads).fit(corpus), 0.05
        ),
        "curve learned, p<0.01": curve(
            lambda corpus: LearnedCurveModel(**kw, n_threads=threads).fit(corpus), 0.01
        ),
    }


def run_pruning(
    curves: np.ndarray, epoch_seconds: np.ndarray, test_acc: np.ndarray, seeds: Sequence[int],
    threads: int,
) -> dict[str, Any]:
    """Replay a random half of the runs per seed under every pruner (see the module docstring)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("predictor_nas").setLevel(logging.WARNING)  # one line per pruned trial
    n, length = curves.shape
    factories = pruner_factories(length, threads)
    rows: dict[str, dict[str, list[float]]] = {
        name: {"epochs_saved": [], "seconds_saved": [], "regret": [], "kept_best": [],
               "test_regret": [], "pruned_share": [], "seconds_per_study": []}
        for name in factories
    }
    for seed in seeds:
        perm = np.random.default_rng(seed).permutation(n)
        study_idx, corpus_idx = perm[: n // 2], perm[n // 2 :]
        c, s = curves[study_idx], epoch_seconds[study_idx]
        best_possible = float(c[:, -1].max())
        total_s = float(s.sum())
        for name, make in factories.items():
            t0 = time.perf_counter()
            pruner = make(curves[corpus_idx])
            used, secs, best, pruned = replay(c, s, pruner)
            r = rows[name]
            r["seconds_per_study"].append(time.perf_counter() - t0)
            r["epochs_saved"].append(1 - used / (length * len(c)))
            r["seconds_saved"].append(1 - secs / total_s)
            r["regret"].append(best_possible - best)
            r["kept_best"].append(float(best == best_possible))
            # test accuracy of the chosen (best completed) run vs the best-val run's
            done = [i for i, p in enumerate(pruned) if not p]
            chosen = done[int(np.argmax(c[done, -1]))]
            oracle = int(np.argmax(c[:, -1]))
            picked, ref = test_acc[study_idx[chosen]], test_acc[study_idx[oracle]]
            r["test_regret"].append(float(ref - picked))
            r["pruned_share"].append(float(np.mean(pruned)))
        log.info("pruning replay: seed %d done", seed)
    summary = {
        name: {
            **{k: t_ci(v) for k, v in r.items() if k not in ("kept_best", "seconds_per_study")},
            "kept_best_share": float(np.mean(r["kept_best"])),
            "seconds_per_study": float(np.median(r["seconds_per_study"])),
        }
        for name, r in rows.items()
    }
    return {"summary": summary, "per_seed": rows, "runs_per_study": int(n // 2),
            "seeds": list(seeds)}


# --------------------------------------------------------------------------- figure
def plot(
    path: Path, curves: np.ndarray, predictions: dict[str, Any], table: list[dict[str, Any]],
    models: Sequence[str], examples: Sequence[int], example_models: Sequence[str],
    titles: Sequence[str],
) -> None:
    """Example extrapolations (rows = cuts, columns = runs) and MAE / log-lik vs cut."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    length = curves.shape[1]
    epochs = np.arange(1, length + 1)
    colors = dict(zip(models, plt.get_cmap("tab10").colors))
    styles = {m: ("-" if m in example_models else ":") for m in models}
    fig = plt.figure(figsize=(4.2 * len(examples), 3.0 * (len(CUTS) + 1.3)))
    gs = GridSpec(len(CUTS) + 1, len(examples), figure=fig, height_ratios=[1] * len(CUTS) + [1.3])
    offsets = np.linspace(-0.6, 0.6, len(example_models))
    for r, cut in enumerate(CUTS):
        t = round(cut * length)
        for c, i in enumerate(examples):
            ax = fig.add_subplot(gs[r, c])
            ax.plot(epochs[:t], curves[i, :t], "k.-", lw=1.8, label="observed")
            ax.plot(epochs[t - 1 :], curves[i, t - 1 :], color="0.6", ls="--", lw=1.2,
                    label="true remainder")
            ax.plot([length], [curves[i, -1]], "k*", ms=9, label=f"true epoch {length}")
            for k, name in enumerate(example_models):
                p = predictions[name][cut]
                ax.errorbar(length + 1.5 + offsets[k], p.mean[i], yerr=2 * p.std[i], fmt="o",
                            ms=4, color=colors[name], capsize=2, lw=1.2, label=name)
            lo = min(curves[i].min(), *(predictions[m][cut].mean[i] for m in example_models))
            hi = max(curves[i].max(), *(predictions[m][cut].mean[i] for m in example_models))
            pad = 0.12 * (hi - lo + 1.0)
            ax.set_ylim(max(lo - pad, -2), min(hi + pad, 102))
            ax.set_xlim(0, length + 3)
            ax.axvline(t + 0.5, color="0.85", lw=0.8)
            ax.set_title(f"{titles[c]}: {t} of {length} epochs seen", fontsize=9)
            if c == 0:
                ax.set_ylabel("validation accuracy (%)")
            if r == len(CUTS) - 1:
                ax.set_xlabel("epoch")
            if r == 0 and c == len(examples) - 1:
                ax.legend(fontsize=6.5, loc="lower right")
    half = max(len(examples) // 2, 1)
    for j, (metric, label) in enumerate(
        (("mae", f"MAE of epoch-{length} accuracy, points (lower is better)"),
         ("loglik", "mean Gaussian log-likelihood (higher is better)"))
    ):
        ax = fig.add_subplot(gs[len(CUTS), j * half : (j + 1) * half if j == 0 else None])
        for name in models:
            rows = [row for row in table if row["model"] == name]
            x = [100 * row["cut"] for row in rows]
            y = [row[metric] for row in rows]
            err = [row[f"{metric}_sd"] for row in rows]
            ax.errorbar(x, y, yerr=err, marker="o", color=colors[name], label=name, capsize=3,
                        ls=styles[name], ms=4)
        ax.set_xticks([100 * c for c in CUTS])
        ax.set_xlabel(f"share of the {length} epochs observed (%)")
        ax.set_title(label, fontsize=10)
        if metric == "mae":
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=max(ax.get_ylim()[0], -8))
        ax.grid(alpha=0.3)
        if j == 0:
            ax.legend(fontsize=7)
    fig.suptitle(f"NB201 cells on digits (our own trainings): predicted epoch-{length} validation "
                 "accuracy (+-2 std), out-of-fold, seed 0", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------- report
def fmt(x: float | None, nd: int = 3) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    s = report["settings"]
    m = report["machine"]
    c = s["corpus_summary"]
    length = s["epochs"]
    lines = [
        "# Learning-curve extrapolation on our own training curves (NB201 cells on digits)",
        "",
        f"Corpus `{s['corpus']}` ({s['corpus_name']}): {s['n_curves']} runs of random NB201 "
        f"cells (width {c['width']}, {c['depth']} cell per stage) trained {length} epochs on "
        f"digits, learning rate log-uniform in {c['lr_range']}, batch size in "
        f"{c['batch_sizes']}, recorded by `benchmarks/record_curves_digits.py`. Final "
        f"validation accuracy: median {c['final_median']:.1f}%, {c['chance_runs']} run(s) at "
        f"chance level (<= 20% at the end), {c['still_rising']} runs that gained >= 1 point in "
        f"the second half. Each model sees the first {', '.join(map(str, s['cut_epochs']))} of "
        f"the {length} epochs of a run's validation accuracy and predicts the accuracy after "
        f"epoch {length}, with a Gaussian std. {s['n_folds']}-fold cross-validation by run for "
        "every seed (models fitted on the training folds only; metrics over all out-of-fold "
        "predictions of a seed, then mean ± sd over seeds). **log-lik** = mean Gaussian log "
        "density of the true value; **cov** = share of true values within ±2 std; "
        "**Spearman** between predicted and true final accuracies; **curves/s** = "
        f"`predict_final` on all runs in one batch (a model fitted on the first training split; "
        f"dominated by per-call overhead at this corpus size), and on the corpus tiled to "
        f"{s['throughput_batch']:,} curves (a model fitted on all runs) by the wall clock and "
        f"per CPU second of the process; best of {s['timing_repeats']}, one process on a shared "
        "machine (the wall figures move with its load).",
        "",
        "```",
        report["command"],
        "```",
        "",
        f"- date: {report['date']}; run time {report['run_seconds']:.0f} s; seeds "
        f"{s['seeds']}",
        f"- machine: {m['platform']}; {m['cpu']}; cpu_count {m['cpu_count']} (load average "
        f"{fmt(m['load_avg_1min_at_start'], 2)} at start, machine shared); Python {m['python']}, "
        f"numpy {m['numpy']}, scipy {m['scipy']}, scikit-learn {m['sklearn']}; git "
        f"{report['git']}",
        "",
        "![examples and metrics vs cut](curves_digits.png)",
        "",
        "## Results",
        "",
        "| model | cut | epochs seen | MAE (± sd over seeds) | RMSE | log-lik | cov ±2σ | "
        f"Spearman | curves/s ({s['n_curves']}) | curves/s ({s['throughput_batch']:,}) | "
        f"curves/CPU-s ({s['throughput_batch']:,}) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["table"]:
        lines.append(
            f"| {r['model']} | {100 * r['cut']:.0f}% | {r['observed_epochs']} | "
            f"{r['mae']:.3f} ± {r['mae_sd']:.3f} | {r['rmse']:.2f} | {r['loglik']:.3f} | "
            f"{r['coverage_2sd']:.2f} | {fmt(r['spearman'])} | {r['curves_per_s']:,.0f} | "
            f"{r['curves_per_s_batch']:,.0f} | {r['curves_per_cpu_s_batch']:,.0f} |"
        )
    lines += [
        "",
        f"## Against {BASELINE} (seed 0, paired over runs)",
        "",
        "MAE ratio = model MAE / last-value MAE; diff = mean over runs of |error| minus "
        "last-value |error| (accuracy points) with a 95% t-interval (negative = better).",
        "",
        "| model | cut | MAE ratio | diff [95% CI] | p |",
        "|---|---|---|---|---|",
    ]
    for r in report["versus_baseline"]:
        p = "—" if not np.isfinite(r["p"]) else f"{r['p']:.1g}"
        lines.append(
            f"| {r['model']} | {100 * r['cut']:.0f}% | {r['mae_ratio']:.3f} | "
            f"{r['diff']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}] | {p} |"
        )
    lines += ["", "## Goals (from the issue)", ""]
    for g in report["goals"]:
        lines.append(f"- {g}")
    pr = report.get("pruning")
    if pr:
        lines += [
            "",
            "## Pruning (replayed studies)",
            "",
            f"Per seed ({len(pr['seeds'])} seeds) a random half of the runs "
            f"({pr['runs_per_study']}) is replayed, in a random order, through an Optuna study "
            "(maximise the final validation accuracy); the other half is the corpus the "
            "calibrated/learned pruners are fitted on. CurvePruner: decisions every 2 epochs "
            "from epoch 2, after 5 completed runs. Regret = best final validation accuracy "
            "among the study's runs minus that of the best completed run (points); test regret "
            "= test accuracy of the best-validation run minus that of the run the pruned study "
            "picks. Seconds are the recorded training seconds of the epochs run. 95% "
            "t-intervals over seeds.",
            "",
            "| pruner | epochs saved | seconds saved | regret (points) | best run kept | "
            "test regret | runs pruned | s / study |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, r in pr["summary"].items():
            e, sec, g, tr, ps = (r[k] for k in ("epochs_saved", "seconds_saved", "regret",
                                                "test_regret", "pruned_share"))
            lines.append(
                f"| {name} | {e[0]:.1%} [{e[1]:.1%}, {e[2]:.1%}] | {sec[0]:.1%} | "
                f"{g[0]:.3f} [{g[1]:.3f}, {g[2]:.3f}] | {r['kept_best_share']:.0%} | "
                f"{tr[0]:+.3f} | {ps[0]:.0%} | {r['seconds_per_study']:.2f} |"
            )
    lines += ["", "## Models", ""]
    for name, d in report["models"].items():
        lines.append(f"- `{name}`: {d}")
    lines += ["", "## Notes", ""]
    for n in report["notes"]:
        lines.append(f"- {n}")
    path.write_text("\n".join(lines) + "\n")


def build_notes(
    table: list[dict[str, Any]], curves: np.ndarray, cut_epochs: Sequence[int],
    preds: dict[str, Any], y: np.ndarray,
) -> list[str]:
    """Observations computed from the results (no hand-written numbers)."""
    def row(model: str, cut: float) -> dict[str, Any]:
        return next(r for r in table if r["model"] == model and r["cut"] == cut)

    length = curves.shape[1]
    notes = []
    for cut in CUTS:
        best = min((r for r in table if r["cut"] == cut), key=lambda r: r["mae"])
        notes.append(f"Lowest MAE at {100 * cut:.0f}%: `{best['model']}` ({best['mae']:.3f}).")
    final = curves[:, -1]
    gains = [float(np.median(final - curves[:, t - 1])) for t in cut_epochs]
    notes.append(
        "Median gain from the cut to the last epoch: "
        + ", ".join(f"{100 * c:.0f}% {g:+.2f}" for c, g in zip(CUTS, gains))
        + " points: most digits runs are near their plateau by half-way, so last-value is a "
        "strong baseline at 50%."
    )
    steps = np.abs(np.diff(curves, axis=1))  # (n, L - 1): step j is epoch j+1 -> j+2
    mid = float(np.mean(steps[:, length // 2 - 1 : length // 2 + 4]))
    end = float(np.mean(steps[:, -5:]))
    notes.append(
        f"Validation noise: mean |epoch-to-epoch change| {mid:.2f} points over epochs "
        f"{length // 2}-{length // 2 + 5} but {end:.2f} over the last 5 epochs (one validation "
        f"image = {100 / 359:.2f} points): the cosine schedule freezes the curves at the end, "
        "so a run's final value is close to its value a few epochs earlier."
    )
    last_cut = CUTS[-1]
    for name in ("parametric", "learned"):
        err = preds[name][last_cut].mean - y
        worst = int(np.argmax(np.abs(err)))
        notes.append(
            f"`{name}` at {100 * last_cut:.0f}% (seed 0): mean signed error {err.mean():+.2f} "
            f"points, predicted above the true final value in {int(np.sum(err > 0))} of "
            f"{len(err)} runs, largest miss {err[worst]:+.1f} points (run {worst}, "
            f"final accuracy {y[worst]:.1f}%)."
        )
    p2 = row("parametric", CUTS[0])
    lv2 = row(BASELINE, CUTS[0])
    if abs(p2["mae"] - lv2["mae"]) < 1e-12:
        notes.append(
            f"At {100 * CUTS[0]:.0f}% ({cut_epochs[0]} epochs) no parametric family can be "
            "fitted (each needs at least its number of parameters + 1 epochs), so `parametric` "
            "returns the last value there (same MAE as last-value, calibrated std)."
        )
    notes.append(
        "The learned models' MAE varies over seeds (their training folds change); last-value "
        "and parametric means do not depend on the folds (only their std is estimated there)."
    )
    return notes


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                   help="curve corpus (.jsonl.gz) from record_curves_digits.py")
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-2"),
                   help="fold seeds, e.g. 0-2 (default)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--timing-repeats", type=int, default=5)
    p.add_argument("--batch", type=int, default=2000,
                   help="curves per predict_final call in the throughput timing (corpus tiled)")
    p.add_argument("--threads", type=int, default=1,
                   help="OpenMP threads of the boosting (default 1)")
    p.add_argument("--pruning", action="store_true", help="also replay studies with pruners")
    p.add_argument("--pruning-seeds", type=parse_seeds, default=parse_seeds("0-9"))
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--name", default="curves_digits")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from predictor_nas.curves import evaluate_curve_models, load_curve_corpus

    t_start = time.perf_counter()
    machine = machine_info("scipy", "scikit-learn", "torch")
    curves, info = load_curve_corpus(args.corpus, metric="val_acc", with_info=True)
    header = info["header"]
    n, length = curves.shape
    plain, with_hp, desc = model_specs(args.threads)
    common = {"cuts": CUTS, "seeds": args.seeds, "n_folds": args.folds,
              "timing_repeats": args.timing_repeats}
    ev = evaluate_curve_models(curves, plain, **common)
    ev_hp = evaluate_curve_models(curves, with_hp, extra=run_features(info), **common)
    table = ev.table + ev_hp.table
    preds = {**ev.predictions, **ev_hp.predictions}
    y = ev.final
    models = list(plain) + list(with_hp)
    cut_epochs = [next(r["observed_epochs"] for r in table if r["cut"] == c) for c in CUTS]
    tp = {
        **throughput(curves, plain, None, cut_epochs, args.batch, args.timing_repeats),
        **throughput(curves, with_hp, run_features(info), cut_epochs, args.batch,
                     args.timing_repeats),
    }
    for row in table:
        speed = tp[row["model"], row["observed_epochs"]]
        row["curves_per_s_batch"] = speed["wall"]
        row["curves_per_cpu_s_batch"] = speed["cpu"]

    versus = []
    for name in models:
        if name == BASELINE:
            continue
        for cut in CUTS:
            e_m = preds[name][cut].mean - y
            e_b = preds[BASELINE][cut].mean - y
            mae_b = float(np.mean(np.abs(e_b)))
            if np.allclose(e_m, e_b):
                diff = {"diff": 0.0, "lo": 0.0, "hi": 0.0, "p": float("nan")}
            else:
                diff = paired_mae_diff(e_m, e_b)
            versus.append({
                "model": name, "cut": cut,
                "mae_ratio": float(np.mean(np.abs(e_m)) / mae_b) if mae_b > 0 else float("nan"),
                **diff,
            })

    goals = []
    for name in models:
        if name == BASELINE:
            continue
        rows = [v for v in versus if v["model"] == name]
        better = all(v["hi"] < 0 for v in rows)
        worst = max(v["mae_ratio"] for v in rows)
        speed = min(r["curves_per_cpu_s_batch"] for r in table if r["model"] == name)
        speed_wall = min(r["curves_per_s_batch"] for r in table if r["model"] == name)
        lv = {r["cut"]: r for r in table if r["model"] == BASELINE}
        own = {r["cut"]: r for r in table if r["model"] == name}
        sp_worse = [f"{100 * c:.0f}%" for c in CUTS if own[c]["spearman"] < lv[c]["spearman"]]
        ll_worse = [f"{100 * c:.0f}%" for c in CUTS if own[c]["loglik"] < lv[c]["loglik"]]
        goals.append(
            f"`{name}`: MAE below last-value at every cut with the paired 95% CI below 0: "
            f"**{'yes' if better else 'no'}** (worst MAE ratio {worst:.2f}); "
            f">= {TARGET_SPEED:,.0f} curves per CPU second at every cut ({args.batch:,}-curve "
            f"batch): **{'yes' if speed >= TARGET_SPEED else 'no'}** (slowest {speed:,.0f}; "
            f"wall clock on the loaded machine {speed_wall:,.0f}/s); "
            "Spearman below last-value at: " + (", ".join(sp_worse) or "none")
            + "; log-lik below last-value at: " + (", ".join(ll_worse) or "none")
        )

    final = curves[:, -1]
    half = curves[:, length // 2 - 1]
    corpus_summary = {
        "width": header.get("width"), "depth": header.get("depth"),
        "lr_range": header.get("lr_range"), "batch_sizes": header.get("batch_sizes"),
        "final_median": float(np.median(final)),
        "chance_runs": int(np.sum(final <= 20.0)),
        "still_rising": int(np.sum(final - half >= 1.0)),
        "recording_seconds": float(np.sum(info["seconds"])),
        "machine": header.get("machine"),
    }
    pruning = None
    if args.pruning:
        ep_s = np.asarray(info["epoch_seconds"], dtype=np.float64)
        pruning = run_pruning(curves, ep_s, info["test_acc"], args.pruning_seeds, args.threads)

    report = {
        "command": shlex.join(
            ["python", "benchmarks/curves_own.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "run_seconds": 0.0,
        "git": git_revision(),
        "machine": machine,
        "settings": {
            "corpus": str(args.corpus.resolve().relative_to(HERE.parent))
            if args.corpus.resolve().is_relative_to(HERE.parent) else str(args.corpus),
            "corpus_name": header.get("name"), "n_curves": int(n), "epochs": int(length),
            "cuts": list(CUTS), "cut_epochs": cut_epochs, "seeds": args.seeds,
            "n_folds": args.folds, "timing_repeats": args.timing_repeats,
            "throughput_batch": args.batch, "threads": args.threads,
            "corpus_summary": corpus_summary,
        },
        "models": desc,
        "table": table,
        "per_seed": ev.per_seed + ev_hp.per_seed,
        "versus_baseline": versus,
        "goals": goals,
        "pruning": pruning,
        "notes": build_notes(table, curves, cut_epochs, preds, y),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # examples: a slow riser, a typical run, a fast saturating one, the worst parametric miss
    gain = final - curves[:, cut_epochs[1] - 1]
    alive = np.flatnonzero(final > 20.0)
    slow = int(alive[np.argmax(gain[alive])])
    typical = int(alive[np.argsort(final[alive])[len(alive) // 2]])
    fast = int(alive[np.argmin(np.abs(gain[alive]) + 100 * (curves[alive, 1] < 90))])
    miss = np.abs(preds["parametric"][CUTS[2]].mean - y)
    miss[[slow, typical, fast]] = -1.0  # four different runs
    worst = int(np.argmax(miss))
    examples = [slow, typical, fast, worst]
    titles = [f"run {slow} (slow)", f"run {typical} (median)", f"run {fast} (fast)",
              f"run {worst} (worst param. @50%)"]
    plot(out / f"{args.name}.png", curves, preds, table, models, examples,
         ["last-value", "parametric", "learned"], titles)
    report["examples"] = dict(zip(["slow", "median", "fast", "worst_parametric_50"], examples))
    report["run_seconds"] = time.perf_counter() - t_start
    write_markdown(out / f"{args.name}.md", report)
    (out / f"{args.name}.json").write_text(json.dumps(report, indent=1) + "\n")
    log.info("wrote %s.{json,md,png} in %s (%.0f s)", args.name, out, report["run_seconds"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
