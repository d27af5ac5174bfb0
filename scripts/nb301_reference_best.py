"""The reference best of the YAHPO NB301 surrogate: what NB301 regret is measured against.

A surrogate has no table of every architecture, so no true best. The reference is the best
validation accuracy (98 epochs) found over a large seeded uniform random sample of the space
plus the incumbents of every run of the committed NB301 comparison (any strategy, any seed);
it is stored as ``predictor_nas.search._evaluator.REFERENCE_BEST`` with this command::

    PYTHONPATH=. python scripts/nb301_reference_best.py \\
        --surrogate ../shared/data/surrogates/yahpo/nb301 --n 200000 --seed 0 \\
        --runs benchmarks/results/compare_nb301/runs.jsonl.gz \\
        --out benchmarks/results/nb301_reference_best.json

It prints the ``ReferenceBest(...)`` entry to paste there. Deterministic: same files, same
arguments, same result.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np

from predictor_nas.evaluators import NB301SurrogateEvaluator
from predictor_nas.spaces import get_space


def _runs(path: Path) -> list[dict]:
    """The run records of a compare cache (``runs.jsonl`` or ``runs.jsonl.gz``)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["run"] for line in fh if line.strip()]


def main() -> None:
    """Sample, evaluate, merge with the runs, print and write the reference."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--surrogate", required=True, help="folder of YAHPO's nb301 files")
    ap.add_argument("--n", type=int, default=200_000, help="random architectures")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=8192)
    ap.add_argument("--runs", action="append", default=[], help="compare runs.jsonl[.gz]")
    ap.add_argument("--out", default=None, help="JSON file to write")
    args = ap.parse_args()

    ev = NB301SurrogateEvaluator(args.surrogate)
    sp = get_space("nb301")
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    best_val, best_arch = -np.inf, ""
    for start in range(0, args.n, args.batch):
        archs = [sp.sample(rng) for _ in range(min(args.batch, args.n - start))]
        vals = ev.curves(archs, [ev.max_epoch]).val_acc[:, 0]
        i = int(np.argmax(vals))
        if vals[i] > best_val:
            best_val, best_arch = float(vals[i]), sp.format(archs[i])
    sample = {"value": best_val, "arch": best_arch, "n": args.n, "seed": args.seed}
    source = f"uniform random sample of {args.n:,} (seed {args.seed})"
    n_runs = 0
    for path in args.runs:
        for run in _runs(Path(path)):
            n_runs += 1
            val = float(ev.evaluate(run["best_arch"]).value)  # the surrogate's own number
            if val > best_val:
                best_val, best_arch = val, run["best_arch"]
                source = f"{run['strategy']} seed {run['seed']} ({path})"
    out = {
        "model_sha256": ev.model_sha256,
        "value": best_val,
        "arch": best_arch,
        "epochs": ev.max_epoch,
        "found_by": source,
        "random_sample": sample,
        "runs": args.runs,
        "n_runs": n_runs,
        "seconds": time.perf_counter() - t0,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    how = (
        f"best of a uniform random sample of {args.n:,} architectures (seed {args.seed}) "
        f"and the incumbents of {n_runs} committed compare runs; found by {source}; "
        "scripts/nb301_reference_best.py"
    )
    print(json.dumps(out, indent=1))
    print(
        f"    {ev.model_sha256!r}: ReferenceBest(\n        value={best_val!r},\n"
        f"        arch={best_arch!r},\n        epochs={ev.max_epoch},\n        how={how!r},\n    ),"
    )


if __name__ == "__main__":
    main()
