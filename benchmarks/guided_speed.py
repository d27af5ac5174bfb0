"""CPU cost of a ``guided`` proposal on long searches, before and after issue 19.21, and its regret.

``speed`` (one process, ``OMP_NUM_THREADS=1``): for each study size ``N`` (100, 500, 1,000 trials
of distinct random NB201 cells with their ``nb201-rich`` cifar10 ``val_acc``), ``--proposals``
further guided proposals are timed (process CPU seconds of ``study.ask`` + the six suggestions,
which is where the sampler proposes), each told its table value, for two settings of the same
``PredictorGuidedSampler.benchmarked`` sampler:

- ``before``: what issue 19.21 measured: the predictor (5 x 150 xgb trees) refitted from scratch
  on every trial at every proposal (``refit_growth=None``) and every trial re-encoded (the
  encoder's row memo disabled);
- ``memo``: pure caching, proposals identical to ``before``: the encoder's row memo on, still
  a refit at every proposal (``refit_growth=None``);
- ``after``: encodings memoised per architecture and, past 100 trials with a target, a refit
  once the trials have grown by 2 % (``refit_growth=0.02``, opt-in: the default is ``None``).

``--proposals`` is a multiple of 20 so that ``after``'s mean holds its refits (one per 20
proposals at 1,000 trials). TPE (Optuna's default sampler) on the same studies is timed too, as
a reference. Medians over ``--repeats`` of the mean ms per proposal.

``regret`` (``--arm exact|growth``, one process per arm): ``predictor_nas.compare`` of ``guided``
over ``--seeds`` at ``--budget`` queries with ``refit_growth=None`` (``exact``) or 0.02;
``report`` pairs the two arms' runs by (dataset, seed) and writes the regret table.

Writes ``<out>/guided_speed.json`` / ``.md`` (speed) and ``guided_regret.json`` / ``.md``::

    OMP_NUM_THREADS=1 python benchmarks/guided_speed.py speed
    OMP_NUM_THREADS=1 python benchmarks/guided_speed.py regret --arm exact &
    OMP_NUM_THREADS=1 python benchmarks/guided_speed.py regret --arm growth
    python benchmarks/guided_speed.py report
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from _common import git_revision, parse_seeds

OUT = Path(__file__).resolve().parent / "results"
SIZES = (100, 500, 1000)


def _table() -> tuple[Any, Any, np.ndarray]:
    from predictor_nas.spaces import get_space
    from predictor_nas.tables import open_table

    tbl = open_table("nb201-rich")
    values = tbl.query_many(np.arange(len(tbl)), "val_acc", dataset="cifar10")
    return get_space("nb201"), tbl, np.asarray(values, dtype=np.float64)


def _study(sampler: Any, n: int, seed: int, space: Any, tbl: Any, values: np.ndarray) -> Any:
    """A maximised study holding ``n`` distinct random cells with their table values."""
    study = optuna.create_study(direction="maximize", sampler=sampler)
    dists = space.distributions()
    rows = np.random.default_rng([seed, n]).choice(len(tbl), n, replace=False)
    study.add_trials([
        optuna.trial.create_trial(
            params=space.to_params(space.parse(tbl.archs[int(r)])),
            distributions=dists,
            value=float(values[r]),
        )
        for r in rows
    ])
    return study


def _sampler(case: str, space: Any, seed: int) -> Any:
    import predictor_nas.encodings._encoder as encoder
    from predictor_nas.samplers import PredictorGuidedSampler

    encoder._MAX_ROWS = 0 if case == "before" else 1 << 17  # 0: the memo is cleared every call
    if case == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    sampler = PredictorGuidedSampler.benchmarked(space, seed=seed)
    sampler.refit_growth = None if case in ("before", "memo") else 0.02
    return sampler


def _time_proposals(case: str, n: int, k: int, seed: int) -> float:
    """Mean CPU ms of ``k`` proposals on a study of ``n`` trials."""
    space, tbl, values = _table()
    study = _study(_sampler(case, space, seed), n, seed, space, tbl, values)
    dists = space.distributions()
    cpu = []
    for _ in range(k):
        t0 = time.process_time()
        trial = study.ask()
        params = {name: trial.suggest_categorical(name, d.choices) for name, d in dists.items()}
        cpu.append(time.process_time() - t0)
        study.tell(trial, float(values[tbl.rows([space.from_params(params)])[0]]))
    return 1000.0 * float(np.mean(cpu))


def speed(args: argparse.Namespace) -> None:
    """Time ``before`` / ``after`` / ``tpe`` proposals at every size; write the report."""
    _time_proposals("after", 20, 2, 0)  # imports and first-use costs out of the way
    cases = ("before", "memo", "after", "tpe")
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        ms = {c: [_time_proposals(c, n, args.proposals, r) for r in range(args.repeats)]
              for c in cases}
        row = {"trials": n, **{f"{c}_ms": statistics.median(ms[c]) for c in cases},
               "runs_ms": ms}
        row["speedup"] = row["before_ms"] / row["after_ms"]
        rows.append(row)
        logging.info("N=%d: %s", n, {c: round(row[f"{c}_ms"], 1) for c in cases})
    meta = _meta(args)
    (args.out / "guided_speed.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    lines = [
        "# Guided proposal CPU cost (issue 19.21)", "",
        f"`{meta['command']}` at {meta['revision']}, {meta['machine']}; OMP_NUM_THREADS="
        f"{meta['omp_num_threads']}. Mean CPU ms per proposal over {args.proposals} proposals "
        f"on a study of N random NB201 cells (cifar10 val_acc), median of {args.repeats}.", "",
        "| N trials | before (refit + re-encode every proposal) | memo only (same proposals) "
        "| after (memo + 2 % refits) | speed-up | TPE |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['trials']} | {r['before_ms']:.1f} | {r['memo_ms']:.1f} | "
                     f"{r['after_ms']:.1f} | "
                     f"{r['speedup']:.1f}x | {r['tpe_ms']:.1f} |")
    (args.out / "guided_speed.md").write_text("\n".join(lines) + "\n")


#: The refit settings of each arm of the regret check (changes to ``GUIDED_KWARGS``).
ARMS: dict[str, dict[str, Any]] = {
    "exact": {"refit_growth": None},  # refit at every proposal
    "growth": {"refit_growth": 0.02, "refit_start": 0},  # 2 % refits from 100 trials on
    "default": {},  # the sampler's defaults: 2 % refits from 300 trials on
}


def _arm_file(arm: str, budget: int) -> str:
    """The runs cache of an arm (budget 200: the names of the first check)."""
    return f"guided_regret_{arm}.jsonl" if budget == 200 else f"guided_regret_{arm}_b{budget}.jsonl"


def regret(args: argparse.Namespace) -> None:
    """One arm of the paired regret check: ``compare`` of ``guided`` into a runs cache."""
    from predictor_nas.compare import compare
    from predictor_nas.search import _strategies

    _strategies.GUIDED_KWARGS.update(ARMS[args.arm])
    cache = args.out / _arm_file(args.arm, args.budget)
    compare(table="nb201-rich", datasets=args.datasets, strategies="guided",
            budget=args.budget, seeds=list(args.seeds), cache=cache, jobs=1)


def _runs(path: Path) -> dict[tuple[str, int], dict]:
    with path.open(encoding="utf-8") as f:
        runs = [json.loads(line)["run"] for line in f if line.strip()]
    return {(r["dataset"], r["seed"]): r for r in runs}


def report(args: argparse.Namespace) -> None:
    """Pair the two arms' runs by (dataset, seed): regret at 100 and at the budget."""
    from scipy.stats import wilcoxon

    exact = _runs(args.out / "guided_regret_exact.jsonl")
    growth = _runs(args.out / "guided_regret_growth.jsonl")
    keys = sorted(set(exact) & set(growth))
    out: dict[str, Any] = {**_meta(args), "pairs": len(keys), "datasets": {}}
    for ds in sorted({d for d, _ in keys}):
        ks = [k for k in keys if k[0] == ds]
        budget = min(len(exact[k]["trajectory_regret_val"]) for k in ks)
        e = np.array([exact[k]["trajectory_regret_val"][budget - 1] for k in ks])
        g = np.array([growth[k]["trajectory_regret_val"][budget - 1] for k in ks])
        same100 = all(exact[k]["trajectory_regret_val"][:100] ==
                      growth[k]["trajectory_regret_val"][:100] for k in ks)
        diff = g - e
        p = float(wilcoxon(g, e).pvalue) if np.any(diff != 0) else 1.0
        out["datasets"][ds] = {
            "seeds": [k[1] for k in ks], "budget": budget, "exact_mean_regret": float(e.mean()),
            "growth_mean_regret": float(g.mean()), "mean_paired_diff": float(diff.mean()),
            "growth_better": int((diff < 0).sum()), "growth_worse": int((diff > 0).sum()),
            "wilcoxon_p": p, "identical_first_100": same100,
            "exact_hit_rate": float((e == 0).mean()), "growth_hit_rate": float((g == 0).mean()),
        }
    (args.out / "guided_regret.json").write_text(json.dumps(out, indent=1))
    lines = [
        "# Guided regret: refit every proposal vs 2 % refits (paired seeds)", "",
        f"NB201 (nb201-rich, val_acc), guided, {out['pairs']} (dataset, seed) pairs; regret at "
        "the budget; `exact` = `refit_growth=None` (the default), `growth` = 0.02.", "",
        "| dataset | budget | seeds | exact mean regret | growth mean regret | paired diff "
        "| better / worse | Wilcoxon p | hit exact / growth | same first 100 queries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for ds, d in out["datasets"].items():
        lines.append(
            f"| {ds} | {d['budget']} | {len(d['seeds'])} | {d['exact_mean_regret']:.4f} | "
            f"{d['growth_mean_regret']:.4f} | {d['mean_paired_diff']:+.4f} | "
            f"{d['growth_better']} / {d['growth_worse']} | {d['wilcoxon_p']:.2f} | "
            f"{d['exact_hit_rate']:.2f} / {d['growth_hit_rate']:.2f} | "
            f"{d['identical_first_100']} |"
        )
    (args.out / "guided_regret.md").write_text("\n".join(lines) + "\n")


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "command": "python benchmarks/guided_speed.py " + " ".join(sys.argv[1:]),
        "revision": git_revision(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}",
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def main() -> None:
    """Parse the command line and run ``speed``, ``regret`` or ``report``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=("speed", "regret", "report"))
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    p.add_argument("--proposals", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--arm", choices=tuple(ARMS), default="default")
    p.add_argument("--datasets", default="cifar10,ImageNet16-120")
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-19"))
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    {"speed": speed, "regret": regret, "report": report}[args.what](args)


if __name__ == "__main__":
    main()
