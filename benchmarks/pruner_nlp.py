"""Curve-extrapolation pruning on real learning curves: epochs saved vs. quality lost.

Replays NAS-Bench-NLP WikiText-2 training runs (341 finished runs x 50 epochs of validation
log-perplexity, ../shared/data) through Optuna studies, epoch by epoch, in a random order per
seed. A pruned run stops consuming epochs. Compared side by side in the same process:
no pruning (the reference), Optuna's MedianPruner, and our CurvePruner with the parametric
ensemble at several thresholds.

Reported per pruner (mean over seeds, 95% t-interval): share of epochs saved, regret of the best
completed run (final val loss minus the best final loss among all runs of that seed's study, in
nats; 0 = the best run was kept), and whether the best run survived.

    python benchmarks/pruner_nlp.py [--seeds 20] [--runs 341]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import optuna
from scipy import stats

from predictor_nas.curves import CurvePruner, ParametricEnsembleCurveModel, load_nlp_curves

log = logging.getLogger("pruner_nlp")
HERE = Path(__file__).resolve().parent
DATA = (
    HERE.parent.parent
    / "shared"
    / "data"
    / "curves"
    / "nas-bench-nlp-wt2"
    / "wikitext2_logs.jsonl.gz"
)


def replay(curves: list[np.ndarray], pruner: optuna.pruners.BasePruner) -> tuple[int, float]:
    """Run one study over ``curves`` in order; return (epochs used, best final value)."""
    study = optuna.create_study(direction="minimize", pruner=pruner)
    used = 0
    for c in curves:
        trial = study.ask()
        for epoch, v in enumerate(c, start=1):
            trial.report(float(v), epoch)
            used += 1
            if epoch < len(c) and trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, float(c[-1]))
    return used, study.best_value


def pruners(final: int) -> dict[str, callable]:
    def curve(threshold: float):
        return lambda: CurvePruner(
            ParametricEnsembleCurveModel(kind="loss"),
            final_epoch=final,
            threshold=threshold,
            min_epochs=5,
            n_startup_trials=5,
            interval=5,
        )

    return {
        "none": lambda: optuna.pruners.NopPruner(),
        "median (Optuna)": lambda: optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=5, interval_steps=5
        ),
        "curve p<0.01": curve(0.01),
        "curve p<0.05": curve(0.05),
        "curve p<0.20": curve(0.20),
    }


def ci(x: np.ndarray) -> tuple[float, float, float]:
    m = float(np.mean(x))
    if len(x) < 2 or np.std(x) == 0:
        return m, m, m
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=m, scale=stats.sem(x))
    return m, float(lo), float(hi)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--runs", type=int, default=341, help="runs per study (random subset)")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--out", type=Path, default=HERE / "results")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("predictor_nas").setLevel(logging.WARNING)  # one line per pruned trial
    curves = load_nlp_curves(args.data)
    final = curves.shape[1]
    names = list(pruners(final))
    rows = {n: {"saved": [], "regret": [], "kept_best": [], "seconds": []} for n in names}
    for seed in range(args.seeds):
        order = np.random.default_rng(seed).permutation(len(curves))[: args.runs]
        runs = [curves[i] for i in order]
        best_possible = min(float(c[-1]) for c in runs)
        for name, make in pruners(final).items():
            t0 = time.perf_counter()
            used, best = replay(runs, make())
            rows[name]["seconds"].append(time.perf_counter() - t0)
            rows[name]["saved"].append(1 - used / (final * len(runs)))
            rows[name]["regret"].append(best - best_possible)
            rows[name]["kept_best"].append(float(best == best_possible))
        log.info("seed %d done", seed)
    summary = {}
    for n in names:
        r = {k: np.array(v) for k, v in rows[n].items()}
        summary[n] = {
            "epochs_saved": ci(r["saved"]),
            "regret_nats": ci(r["regret"]),
            "kept_best_share": float(r["kept_best"].mean()),
            "seconds_per_study": float(np.median(r["seconds"])),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "command": "python benchmarks/pruner_nlp.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeds": args.seeds,
        "runs_per_study": min(args.runs, len(curves)),
        "epochs": final,
        "machine": f"{platform.platform()}; cpu_count {__import__('os').cpu_count()}; "
        f"Python {platform.python_version()}, optuna {optuna.__version__}",
    }
    (args.out / "pruner_nlp.json").write_text(
        json.dumps({"meta": meta, "summary": summary, "per_seed": rows}, indent=1)
    )
    lines = [
        "# Curve pruning on NAS-Bench-NLP learning curves",
        "",
        f"`{meta['command'].strip()}` — {meta['date']}; {meta['seeds']} seeds (random run orders), "
        f"{meta['runs_per_study']} runs x {final} epochs per study; {meta['machine']}.",
        "",
        "Regret = best completed run's final validation log-perplexity minus the best final value "
        "among all runs of the study (nats; 0.01 nats = 1 % perplexity). "
        "95% t-intervals over seeds.",
        "",
        "| pruner | epochs saved | regret (nats) | best run kept | s / study |",
        "|---|---|---|---|---|",
    ]
    for n, s in summary.items():
        e, g = s["epochs_saved"], s["regret_nats"]
        lines.append(
            f"| {n} | {e[0]:.1%} [{e[1]:.1%}, {e[2]:.1%}] | {g[0]:.4f} [{g[1]:.4f}, {g[2]:.4f}] | "
            f"{s['kept_best_share']:.0%} | {s['seconds_per_study']:.2f} |"
        )
    (args.out / "pruner_nlp.md").write_text("\n".join(lines) + "\n")
    log.info("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
