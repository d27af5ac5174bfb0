"""How well does weight sharing rank NB201 cells on digits? Kendall tau against stand-alone runs.

For ``--cells`` NB201 cells (the first distinct archs of the curve corpus
``results/digits_nb201_curves.jsonl.gz``, i.e. uniform random cells), this script measures:

- **stand-alone accuracy**: each cell trained alone with ``predictor_nas.training.train``
  (``build_nb201(arch, width=8, depth=1, in_channels=1)``, NB201's recipe: SGD + Nesterov,
  weight decay 5e-4, cosine; ``--standalone-epochs`` epochs, batch 64, lr 0.1, seed 0) on
  scikit-learn's digits (``load_digits_data(0)``: 1,079 train / 359 val / 359 test); final
  validation and test accuracy. The corpus's own runs of the same cells (20 epochs, but a random
  learning rate in [0.005, 0.2] and batch size per run) are a second, noisier reference.
- **inherited-weight accuracy**: an NB201 supernet (width 8, depth 1) trained with SPOS and with
  first-order DARTS for ``--supernet-epochs`` epochs per seed; every cell's sub-network is
  extracted with the shared weights, its BN statistics re-estimated on 4 training batches of 64,
  and evaluated on the validation split (``inherited_accuracy``).
- **zero-cost proxies** of the same cells at initialisation (``compute_proxies``, width 8,
  depth 1, one normalised digits batch of 64) as the baseline.

Kendall tau-b (``scipy.stats.kendalltau``; digits accuracies have many ties) of each score with
the stand-alone accuracies. Stand-alone runs are appended to ``<out>.standalone.jsonl`` as they
finish and reused by a rerun (resumable). Single CPU thread::

    nice -n 10 python benchmarks/oneshot_digits.py --cells 64 --seeds 0-2
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import cpu_name, git_revision, parse_seeds, seeds_text

log = logging.getLogger("oneshot_digits")
HERE = Path(__file__).resolve().parent
CORPUS = HERE / "results" / "digits_nb201_curves.jsonl.gz"
DEFAULT_OUT = HERE / "results" / "oneshot_digits.json"
PROXIES = ("params", "flops", "synflow", "snip", "grad_norm", "jacov", "nwot", "zen", "fisher")
WIDTH, DEPTH, BATCH, LR, BN_BATCHES = 8, 1, 64, 0.1, 4


def corpus_cells(n: int) -> list[dict[str, Any]]:
    """The first ``n`` distinct archs of the corpus (run order) with their corpus results."""
    out: dict[str, dict[str, Any]] = {}
    with gzip.open(CORPUS, "rt") as f:
        next(f)  # header
        for line in f:
            r = json.loads(line)
            if r["arch"] not in out:
                out[r["arch"]] = {"arch": r["arch"], "corpus_val": r["val_acc"][-1],
                                  "corpus_test": r["test_acc"], "corpus_lr": r["lr"],
                                  "corpus_batch": r["batch_size"]}
            if len(out) == n:
                break
    if len(out) < n:
        raise SystemExit(f"the corpus has only {len(out)} distinct cells; use --cells <= that")
    return list(out.values())


def standalone(cells: list[dict[str, Any]], data: Any, epochs: int, path: Path) -> None:
    """Train every cell alone (resumable through ``path``); adds sa_val / sa_test / sa_seconds."""
    from predictor_nas.models import build_nb201
    from predictor_nas.training import train

    done: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r["epochs"] == epochs:
                done[r["arch"]] = r
    with path.open("a") as f:
        for i, c in enumerate(cells):
            if c["arch"] not in done:
                t0 = time.perf_counter()
                r = train(build_nb201(c["arch"], width=WIDTH, depth=DEPTH, in_channels=1, seed=0),
                          data, epochs=epochs, batch_size=BATCH, lr=LR, seed=0, num_threads=1,
                          device="cpu")
                done[c["arch"]] = {"arch": c["arch"], "epochs": epochs, "val": r.final_val_acc,
                                   "test": r.test_acc, "seconds": time.perf_counter() - t0}
                f.write(json.dumps(done[c["arch"]]) + "\n")
                f.flush()
                log.info("stand-alone %d/%d: %.2f %% val", i + 1, len(cells), r.final_val_acc)
            c["sa_val"], c["sa_test"] = done[c["arch"]]["val"], done[c["arch"]]["test"]
            c["sa_seconds"] = done[c["arch"]]["seconds"]


def supernet_scores(cells: list[dict[str, Any]], data: Any, mode: str, seed: int,
                    epochs: int) -> dict[str, Any]:
    """Train a supernet and score every cell by inherited validation accuracy."""
    from predictor_nas.oneshot import (
        build_supernet,
        derive_argmax,
        inherited_accuracy,
        train_supernet,
    )

    net = build_supernet(width=WIDTH, depth=DEPTH, in_channels=1, seed=seed)
    t0 = time.perf_counter()
    r = train_supernet(net, data, mode=mode, epochs=epochs, batch_size=BATCH, seed=seed,
                       num_threads=1, device="cpu")
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = [inherited_accuracy(net, c["arch"], data, bn_recalibration_batches=BN_BATCHES,
                                 batch_size=BATCH, seed=seed) for c in cells]
    eval_s = time.perf_counter() - t0
    out = {"mode": mode, "seed": seed, "train_seconds": train_s, "eval_seconds": eval_s,
           "final_train_loss": r.train_loss[-1], "scores": scores}
    if mode == "darts":
        out["argmax"] = net.space.format(derive_argmax(net))
    return out


def proxy_scores(cells: list[dict[str, Any]], data: Any) -> dict[str, list[float]]:
    """Zero-cost proxies of each cell at initialisation on one normalised digits batch."""
    import torch

    from predictor_nas.proxies import compute_proxies

    mean = torch.tensor(data.mean).reshape(1, -1, 1, 1)
    std = torch.tensor(data.std).reshape(1, -1, 1, 1)
    x = (torch.from_numpy(data.x_train[:BATCH]).float() - mean) / std
    y = torch.from_numpy(data.y_train[:BATCH]).long()
    torch.set_num_threads(1)
    out: dict[str, list[float]] = {p: [] for p in PROXIES}
    for c in cells:
        v = compute_proxies(c["arch"], PROXIES, data=(x, y), width=WIDTH, depth=DEPTH,
                            in_channels=1, seed=0)
        for p in PROXIES:
            out[p].append(float(v[p]))
    return out


def tau(a: list[float], b: list[float]) -> float | None:
    """Kendall tau-b over the pairs where both values are finite."""
    from scipy.stats import kendalltau

    x, y = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(x) & np.isfinite(y)
    t = kendalltau(x[ok], y[ok]).statistic
    return None if not np.isfinite(t) else round(float(t), 4)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write ``--out`` (JSON) and its Markdown twin."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--cells", type=int, default=64)
    p.add_argument("--standalone-epochs", type=int, default=6)
    p.add_argument("--supernet-epochs", type=int, default=30)
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-2"))
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from predictor_nas.training import load_digits_data

    data = load_digits_data(0)
    cells = corpus_cells(args.cells)
    t0 = time.perf_counter()
    standalone(cells, data, args.standalone_epochs, args.out.with_suffix(".standalone.jsonl"))
    sa_seconds = sum(c["sa_seconds"] for c in cells)
    log.info("stand-alone done (%.0f s of training)", sa_seconds)
    runs = [supernet_scores(cells, data, mode, s, args.supernet_epochs)
            for mode in ("spos", "darts") for s in args.seeds]
    proxies = proxy_scores(cells, data)
    sa_val = [c["sa_val"] for c in cells]
    sa_test = [c["sa_test"] for c in cells]
    corpus_test = [c["corpus_test"] for c in cells]
    rows = []
    for r in runs:
        rows.append({"score": f"{r['mode']} inherited val acc", "seed": r["seed"],
                     "tau_sa_val": tau(r["scores"], sa_val),
                     "tau_sa_test": tau(r["scores"], sa_test),
                     "tau_corpus_test": tau(r["scores"], corpus_test),
                     "seconds": round(r["train_seconds"] + r["eval_seconds"], 1)})
    for name, v in proxies.items():
        rows.append({"score": f"proxy {name}", "seed": 0, "tau_sa_val": tau(v, sa_val),
                     "tau_sa_test": tau(v, sa_test), "tau_corpus_test": tau(v, corpus_test),
                     "seconds": None})
    rows.append({"score": "corpus test acc (other lr / batch, 20 ep)", "seed": None,
                 "tau_sa_val": tau(corpus_test, sa_val), "tau_sa_test": tau(corpus_test, sa_test),
                 "tau_corpus_test": 1.0, "seconds": None})
    summary = {}
    for mode in ("spos", "darts"):
        ts = [r["tau_sa_test"] for r in rows if r["score"].startswith(mode)]
        summary[mode] = {"mean_tau_sa_test": round(float(np.mean(ts)), 4),
                         "min": min(ts), "max": max(ts)}
    best = max((r for r in rows if r["score"].startswith("proxy")),
               key=lambda r: -2.0 if r["tau_sa_test"] is None else r["tau_sa_test"])
    summary["best_proxy"] = {"name": best["score"], "tau_sa_test": best["tau_sa_test"]}
    result = {
        "command": "python benchmarks/" + " ".join(shlex.quote(a) for a in
                                                   [Path(sys.argv[0]).name, *sys.argv[1:]]),
        "git": git_revision(), "machine": f"{platform.platform()}; {cpu_name()}",
        "settings": {"cells": args.cells, "standalone_epochs": args.standalone_epochs,
                     "supernet_epochs": args.supernet_epochs, "seeds": seeds_text(args.seeds),
                     "width": WIDTH, "depth": DEPTH, "batch_size": BATCH, "standalone_lr": LR,
                     "bn_recalibration_batches": BN_BATCHES},
        "standalone_train_seconds": round(sa_seconds, 1),
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "summary": summary, "rows": rows, "cells": cells,
        "supernet_runs": runs, "proxies": proxies,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result) + "\n")
    print(markdown(result))
    return 0


def markdown(res: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    s = res["settings"]
    lines = [
        "# Weight sharing on digits: Kendall tau with stand-alone accuracy",
        "",
        f"{s['cells']} NB201 cells (width {s['width']}, depth {s['depth']}); stand-alone: "
        f"{s['standalone_epochs']} epochs, lr {s['standalone_lr']}, batch {s['batch_size']} "
        f"({res['standalone_train_seconds']:.0f} s of CPU training in all); supernets: "
        f"{s['supernet_epochs']} epochs, seeds {s['seeds']}, BN recalibrated on "
        f"{s['bn_recalibration_batches']} batches. Command: `{res['command']}` (git "
        f"{res['git']}, {res['machine']}).",
        "",
        "| score | seed | tau vs stand-alone val | tau vs stand-alone test | tau vs corpus test "
        "| seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        lines.append(f"| {r['score']} | {r['seed']} | {r['tau_sa_val']} | {r['tau_sa_test']} | "
                     f"{r['tau_corpus_test']} | {r['seconds']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
