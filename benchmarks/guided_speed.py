"""CPU cost of a ``guided`` proposal on long searches, before and after issue 19.21, and its regret.

``speed`` (one process, ``OMP_NUM_THREADS=1``): for each study size ``N`` (100, 500, 1,000 trials
of distinct random NB201 cells with their ``nb201-rich`` cifar10 ``val_acc``), ``--proposals``
further guided proposals are timed (process CPU seconds of ``study.ask`` + the six suggestions,
which is where the sampler proposes), each told its table value, for these settings of the same
``PredictorGuidedSampler.benchmarked`` sampler:

- ``before``: what issue 19.21 measured: the predictor (5 x 150 xgb trees) refitted from scratch
  on every trial at every proposal (``refit_growth=None``) and every trial re-encoded (the
  encoder's row memo disabled);
- ``memo``: pure caching, proposals identical to ``before``: the encoder's row memo on, still
  a refit at every proposal (``refit_growth=None``);
- ``default``: the sampler as it is built by default: encodings memoised per architecture and,
  from ``refit_start=300`` trials with a target on, a refit once the trials have grown by 2 %
  (``refit_growth=0.02``); below 300 trials it is ``memo`` (a refit at every proposal);
- ``fresh``: ``default`` with a new sampler for every proposal, as ``run_search`` builds them
  (the refit fits are shared between them, see ``PredictorGuidedSampler``).

``--proposals`` is a multiple of 20 so that ``default``'s mean holds its refits (one per 20
proposals at 1,000 trials). TPE (Optuna's default sampler) on the same studies is timed too, as
a reference. Medians over ``--repeats`` of the mean ms per proposal; the slowest single
proposal (a refit) is reported too.

``regret`` (``--arm exact|growth|default``, one process per arm): ``predictor_nas.compare`` of
``guided`` over ``--seeds`` at ``--budget`` queries with ``refit_growth=None`` (``exact``), 0.02
from 100 trials on (``growth``, the first opt-in setting) or the defaults (0.02 from 300 on);
``report`` pairs each check's two arms by (dataset, seed) and writes the regret table: the first
check (budget 200, exact vs growth) and the check past ``refit_start`` (budget 500, exact vs
default).

Writes ``<out>/guided_speed.json`` / ``.md`` (speed) and ``guided_regret.json`` / ``.md``::

    OMP_NUM_THREADS=1 python benchmarks/guided_speed.py speed
    OMP_NUM_THREADS=1 python benchmarks/guided_speed.py regret --arm exact &
    OMP_NUM_THREADS=1 python benchmarks/guided_speed.py regret --arm growth
    OMP_NUM_THREADS=1 python benchmarks/guided_speed.py regret --arm exact \
        --datasets ImageNet16-120 --budget 500 --seeds 0-19 &
    OMP_NUM_THREADS=1 python benchmarks/guided_speed.py regret --arm default \
        --datasets ImageNet16-120 --budget 500 --seeds 0-19
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
    if case in ("before", "memo"):
        sampler.refit_growth = None
    return sampler


def _time_proposals(case: str, n: int, k: int, seed: int) -> tuple[float, float]:
    """Mean and max CPU ms of ``k`` proposals on a study of ``n`` trials (``fresh``: a new
    default sampler per proposal, as ``run_search`` builds them, its construction timed too)."""
    from predictor_nas.samplers import _guided_fit

    _guided_fit._SHARED_FITS.clear()
    space, tbl, values = _table()
    study = _study(_sampler(case, space, seed), n, seed, space, tbl, values)
    dists = space.distributions()
    cpu = []
    for i in range(k):
        t0 = time.process_time()
        if case == "fresh":
            study.sampler = _sampler(case, space, 1000 * seed + i)
        trial = study.ask()
        params = {name: trial.suggest_categorical(name, d.choices) for name, d in dists.items()}
        cpu.append(time.process_time() - t0)
        study.tell(trial, float(values[tbl.rows([space.from_params(params)])[0]]))
    return 1000.0 * float(np.mean(cpu)), 1000.0 * float(np.max(cpu))


def speed(args: argparse.Namespace) -> None:
    """Time ``before`` / ``memo`` / ``default`` / ``tpe`` proposals at every size; report."""
    _time_proposals("default", 20, 2, 0)  # imports and first-use costs out of the way
    cases = ("before", "memo", "default", "fresh", "tpe")
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        runs = {c: [_time_proposals(c, n, args.proposals, r) for r in range(args.repeats)]
                for c in cases}
        row: dict[str, Any] = {"trials": n, "runs_ms": runs}
        for c in cases:
            row[f"{c}_ms"] = statistics.median(mean for mean, _ in runs[c])
            row[f"{c}_max_ms"] = max(top for _, top in runs[c])
        row["speedup"] = row["before_ms"] / row["default_ms"]
        rows.append(row)
        logging.info("N=%d: %s", n, {c: round(row[f"{c}_ms"], 1) for c in cases})
    meta = _meta(args)
    (args.out / "guided_speed.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    lines = [
        "# Guided proposal CPU cost (issue 19.21)", "",
        f"`{meta['command']}` at {meta['revision']}, {meta['machine']}; OMP_NUM_THREADS="
        f"{meta['omp_num_threads']}. Mean CPU ms per proposal over {args.proposals} proposals "
        f"on a study of N random NB201 cells (cifar10 val_acc), median of {args.repeats} "
        "(in brackets: the slowest single proposal of all repeats, a refit).", "",
        "| N trials | before (refit + re-encode every proposal) | memo only (same proposals) "
        "| **default** (memo; 2 % refits from 300 trials) | speed-up "
        "| default, a new sampler per proposal (as `run_search`) | TPE |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['trials']} | {r['before_ms']:.1f} | {r['memo_ms']:.1f} | "
                     f"**{r['default_ms']:.1f}** ({r['default_max_ms']:.0f}) | "
                     f"{r['speedup']:.1f}x | {r['fresh_ms']:.1f} ({r['fresh_max_ms']:.0f}) | "
                     f"{r['tpe_ms']:.1f} |")
    lines += [
        "",
        "Below `refit_start=300` trials the default refits at every proposal (its row equals "
        "memo only, up to timing noise); from 300 on it refits once the trials have grown by "
        "2 % (every 20 proposals at 1,000 trials) and reuses the fit in between. Those fits "
        "are seeded by their data and shared between samplers of the same settings, so a new "
        "sampler per proposal (what `run_search`, `compare` and the CLI do) reuses them too.",
    ]
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


#: The paired checks of ``report``: (title, arm A, arm B, budget, queries both must share,
#: queries at which the regret is compared).
CHECKS = (
    ("2 % refits from 100 trials on (the first, opt-in setting)", "exact", "growth", 200, 100,
     (200,)),
    ("the default: 2 % refits from refit_start = 300 trials on", "exact", "default", 500, 300,
     (350, 400, 500)),
)
#: What a reader needs to know about a check's runs, by arm B.
NOTES = {
    "growth": "Run before the growth fits were seeded by their data and shared between "
    "samplers: `compare` builds a new sampler per query, so each query refitted the stale "
    "prefix with its own seed (no time saved, as the wall times show). `--arm growth` today "
    "gives other runs.",
    "default": "Run with the shared, data-seeded fits: the queries after a refit reuse it.",
}


def _runs(path: Path) -> dict[tuple[str, int], dict]:
    with path.open(encoding="utf-8") as f:
        runs = [json.loads(line)["run"] for line in f if line.strip()]
    return {(r["dataset"], r["seed"]): r for r in runs}


def _paired(a: dict, b: dict, keys: list, same: int, at: int) -> dict[str, Any]:
    """Regret after ``at`` queries of arms ``a`` and ``b`` paired over ``keys`` (one dataset)."""
    from scipy.stats import wilcoxon

    budget = min(at, *(len(a[k]["trajectory_regret_val"]) for k in keys))
    ra = np.array([a[k]["trajectory_regret_val"][budget - 1] for k in keys])
    rb = np.array([b[k]["trajectory_regret_val"][budget - 1] for k in keys])
    diff = rb - ra
    return {
        "seeds": [k[1] for k in keys], "budget": budget,
        "a_mean_regret": float(ra.mean()), "b_mean_regret": float(rb.mean()),
        "mean_paired_diff": float(diff.mean()),
        "paired_diff_se": float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0,
        "b_better": int((diff < 0).sum()), "b_worse": int((diff > 0).sum()),
        "wilcoxon_p": float(wilcoxon(rb, ra).pvalue) if np.any(diff != 0) else 1.0,
        "identical_first": same,
        "identical": all(a[k]["trajectory_regret_val"][:same]
                         == b[k]["trajectory_regret_val"][:same] for k in keys),
        "a_hit_rate": float((ra == 0).mean()), "b_hit_rate": float((rb == 0).mean()),
    }


def report(args: argparse.Namespace) -> None:
    """Pair each check's two arms by (dataset, seed): regret at the checked query counts."""
    out: dict[str, Any] = {**_meta(args), "checks": []}
    lines = [
        "# Guided regret: refit every proposal vs refits every 2 % (paired seeds)", "",
        "NB201 (nb201-rich, val_acc), `guided` (`compare`), regret after the given number of "
        "queries (runs of the budget); `exact` = "
        "`refit_growth=None` (a refit at every proposal). Paired diff = other arm - exact "
        "(negative: the other arm is better), with its standard error; better / worse: seeds "
        "where the other arm's regret is lower / higher.", "",
    ]
    for title, arm_a, arm_b, budget, same, ats in CHECKS:
        fa, fb = args.out / _arm_file(arm_a, budget), args.out / _arm_file(arm_b, budget)
        if not (fa.exists() and fb.exists()):
            continue
        a, b = _runs(fa), _runs(fb)
        keys = sorted(set(a) & set(b))
        check: dict[str, Any] = {"title": title, "a": arm_a, "b": arm_b, "datasets": {}}
        lines += [
            f"## {title}", "",
            f"| dataset | queries | seeds | {arm_a} mean regret | {arm_b} mean regret "
            f"| paired diff (se) | better / worse | Wilcoxon p | hit {arm_a} / {arm_b} "
            f"| same first {same} queries |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for ds, at in [(ds, at) for ds in sorted({d for d, _ in keys}) for at in ats]:
            d = _paired(a, b, [k for k in keys if k[0] == ds], same, at)
            check["datasets"][f"{ds}@{at}"] = d
            lines.append(
                f"| {ds} | {d['budget']} | {len(d['seeds'])} | {d['a_mean_regret']:.4f} | "
                f"{d['b_mean_regret']:.4f} | {d['mean_paired_diff']:+.4f} "
                f"({d['paired_diff_se']:.4f}) | {d['b_better']} / {d['b_worse']} | "
                f"{d['wilcoxon_p']:.2f} | {d['a_hit_rate']:.2f} / {d['b_hit_rate']:.2f} | "
                f"{d['identical']} |"
            )
        wall = {arm: statistics.median(r["wall_seconds"] for k, r in runs.items() if k in keys)
                for arm, runs in ((arm_a, a), (arm_b, b))}
        check["median_wall_seconds"] = wall
        lines += [
            "",
            f"Median wall seconds per {budget}-query run: {arm_a} {wall[arm_a]:.0f}, {arm_b} "
            f"{wall[arm_b]:.0f} (both arms side by side on the same shared machine). "
            + NOTES.get(arm_b, ""),
            "",
        ]
        out["checks"].append(check)
    (args.out / "guided_regret.json").write_text(json.dumps(out, indent=1))
    (args.out / "guided_regret.md").write_text("\n".join(lines))


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
