"""Record learning curves from this project's own trainings: random NB201 cells on digits.

Each run ``i`` (0-based) of a corpus with seed ``s`` draws, from
``numpy.random.default_rng(SeedSequence([s, i]))``: a uniform NB201 architecture, a learning rate
log-uniform in [``--lr-min``, ``--lr-max``] (rounded to 3 significant digits), a batch size from
``--batch-sizes`` and a training seed. It then trains ``predictor_nas.models.build_nb201(arch,
width=8, depth=1, in_channels=1)`` with ``predictor_nas.training.train`` (NB201's recipe: SGD,
Nesterov momentum 0.9, weight decay 5e-4, cosine schedule to 0 over the planned epochs) for
``--epochs`` epochs on scikit-learn's digits (``load_digits_data(seed=0)``: 1,079 train / 359
validation / 359 test images), on CPU with one torch thread. Run ``i``'s settings depend only on
``(s, i)``, so a larger ``--runs`` extends a corpus without changing its first runs, and on CPU
the same settings give bit-identical curves on a given machine and torch build.

The mixed learning rates and batch sizes make the curves differ in shape: large steps saturate
in 2-3 epochs, small learning rates with large batches are still rising at the last epoch, and
cells whose output is cut off from the input (all-``none`` paths) stay at chance level.

Output: a gzip JSON-lines corpus (read it with ``predictor_nas.curves.load_curve_corpus``; the
format is documented there): a header line with the settings, then one line per run with
``run``, ``arch``, ``arch_index``, ``seed``, ``lr``, ``batch_size``, ``epochs``, ``val_acc``
(E,), ``train_loss`` (E,), ``test_acc``, ``n_params``, ``seconds`` and ``epoch_seconds`` (E,).
Recording is resumable: every finished run is appended (and flushed) to ``<out>.partial``; a
rerun with the same settings skips the runs already there (or already in ``<out>``) and, once all
``--runs`` runs exist, writes ``<out>`` (runs sorted, gzip with a fixed timestamp) atomically and
deletes the partial file. The seconds are wall time on whatever machine recorded the run (this
repo's corpus: a shared 2-core machine under load), so they are only roughly comparable::

    nice -n 10 python benchmarks/record_curves_digits.py --runs 200 --workers 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from _common import cpu_name, git_revision

log = logging.getLogger("record_curves_digits")
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "digits_nb201_curves.jsonl.gz"
CORPUS_NAME = "digits-nb201-curves"
#: Header keys that must match between a partial/previous corpus and the current call.
SETTING_KEYS = (
    "seed", "epochs", "width", "depth", "weight_decay", "lr_range", "batch_sizes",
    "data_seed", "data_fingerprint", "space",
)


# --------------------------------------------------------------------------- runs
def run_config(seed: int, index: int, settings: dict[str, Any]) -> dict[str, Any]:
    """Settings of run ``index``: drawn from ``SeedSequence([seed, index])`` only."""
    from predictor_nas.spaces import get_space

    space = get_space("nb201")
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    arch = space.sample(rng)
    lo, hi = settings["lr_range"]
    lr = float(f"{math.exp(rng.uniform(math.log(lo), math.log(hi))):.3g}")
    batch_size = int(rng.choice(settings["batch_sizes"]))
    train_seed = int(rng.integers(0, 2**31 - 1))
    return {
        "run": index,
        "arch": str(arch),
        "arch_index": int(space.index(arch)),
        "seed": train_seed,
        "lr": lr,
        "batch_size": batch_size,
        "epochs": settings["epochs"],
    }


_DATA: dict[int, Any] = {}


def train_run(cfg: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Train one run (in a worker process) and return its record."""
    from predictor_nas.models import build_nb201
    from predictor_nas.training import load_digits_data, train

    data_seed = settings["data_seed"]
    if data_seed not in _DATA:
        _DATA[data_seed] = load_digits_data(data_seed)
    data = _DATA[data_seed]

    def factory():
        return build_nb201(
            cfg["arch"], width=settings["width"], depth=settings["depth"],
            num_classes=data.num_classes, in_channels=data.in_channels, seed=cfg["seed"],
        )

    r = train(
        factory, data, epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"],
        weight_decay=settings["weight_decay"], seed=cfg["seed"], device="cpu", num_threads=1,
    )
    return {
        **cfg,
        "val_acc": [float(v) for v in r.val_acc],
        "train_loss": [float(v) for v in r.train_loss],
        "test_acc": None if r.test_acc is None else float(r.test_acc),
        "n_params": int(r.n_params),
        "seconds": round(float(r.seconds), 3),
        "epoch_seconds": [round(float(s), 3) for s in r.epoch_seconds],
    }


# --------------------------------------------------------------------------- files
def read_lines(path: Path) -> list[dict[str, Any]]:
    """JSON records of a (gzip) JSON-lines file; a torn last line (a killed writer) is dropped."""
    opener = gzip.open if path.name.endswith(".gz") else open
    out = []
    with opener(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if k >= len(lines) - 2:  # the last (possibly unterminated) line
                log.warning("%s: dropping a torn last line", path.name)
                continue
            raise
    return out


def check_header(found: dict[str, Any], want: dict[str, Any], path: Path) -> None:
    """Refuse to mix runs recorded with other settings."""
    diff = [k for k in SETTING_KEYS if found.get(k) != want.get(k)]
    if diff:
        details = ", ".join(f"{k}: {found.get(k)!r} there, {want.get(k)!r} now" for k in diff)
        raise SystemExit(f"{path} was recorded with other settings ({details}); use another --out.")


def finalize(path: Path, header: dict[str, Any], runs: dict[int, dict[str, Any]], n: int) -> None:
    """Write runs 0..n-1 after the header as gzip JSON lines (fixed mtime), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write((json.dumps(header, sort_keys=True) + "\n").encode())
        for i in range(n):
            gz.write((json.dumps(runs[i], sort_keys=True) + "\n").encode())
    os.replace(tmp, path)


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--depth", type=int, default=1)
    p.add_argument("--lr-min", type=float, default=0.005)
    p.add_argument("--lr-max", type=float, default=0.2)
    p.add_argument("--batch-sizes", default="64,128,256")
    p.add_argument("--workers", type=int, default=1, help="training processes (1 thread each)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import torch

    from predictor_nas.training import load_digits_data

    if args.runs < 1 or args.workers < 1 or args.epochs < 2:
        raise SystemExit("--runs and --workers must be >= 1 and --epochs >= 2")
    data = load_digits_data(0)
    settings = {
        "seed": args.seed,
        "epochs": args.epochs,
        "width": args.width,
        "depth": args.depth,
        "weight_decay": 5e-4,
        "lr_range": [args.lr_min, args.lr_max],
        "batch_sizes": [int(b) for b in args.batch_sizes.split(",")],
        "data_seed": 0,
        "data_fingerprint": data.fingerprint,
        "space": "nb201",
    }
    header = {
        "format": "predictor_nas.curve_corpus",
        "format_version": 1,
        "name": CORPUS_NAME,
        "description": (
            "Validation-accuracy and training-loss curves of random NB201 cells (width "
            f"{args.width}, {args.depth} cell(s) per stage) trained {args.epochs} epochs on "
            "scikit-learn's digits with NB201's recipe (SGD + cosine) and a per-run learning rate "
            "and batch size; recorded by benchmarks/record_curves_digits.py."
        ),
        "dataset": "digits",
        "split": {"train": len(data.y_train), "val": len(data.y_val),
                  "test": len(data.y_test)},
        "curves": {
            "val_acc": {"unit": "%", "higher_is_better": True,
                        "description": "validation accuracy after each epoch (359 images)"},
            "train_loss": {"unit": "nats", "higher_is_better": False,
                           "description": "mean training cross-entropy of each epoch"},
        },
        "run_fields": {
            "run": "index of the run in the corpus (0-based)",
            "arch": "NB201 arch string", "arch_index": "NAS-Bench-201 index of the arch",
            "seed": "training seed (initialisation and data order)",
            "lr": "initial learning rate", "batch_size": "training batch size",
            "epochs": "epochs trained", "val_acc": "(epochs,) %", "train_loss": "(epochs,) nats",
            "test_acc": "test accuracy after the last epoch (%, 359 images)",
            "n_params": "trainable parameters", "seconds": "wall seconds of training",
            "epoch_seconds": "(epochs,) wall seconds of each epoch",
        },
        **settings,
        "recipe": {"optimizer": "SGD", "momentum": 0.9, "nesterov": True,
                   "schedule": "cosine to 0 over the epochs", "device": "cpu", "torch_threads": 1},
        "command": shlex.join(["python", "benchmarks/record_curves_digits.py",
                               *(sys.argv[1:] if argv is None else argv)]),
        "machine": f"{platform.platform()}; {cpu_name()}; cpu_count {os.cpu_count()}; "
        f"Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}",
        "git": git_revision(),
    }

    out: Path = args.out
    partial = out.with_name(out.name + ".partial")
    done: dict[int, dict[str, Any]] = {}
    for path in (out, partial):
        if path.exists():
            recs = read_lines(path)
            if recs and recs[0].get("format") == header["format"]:
                check_header(recs[0], header, path)
                recs = recs[1:]
            for r in recs:
                done[int(r["run"])] = r
    todo = [i for i in range(args.runs) if i not in done]
    log.info("%d of %d runs already recorded; %d to train with %d worker(s)",
             args.runs - len(todo), args.runs, len(todo), args.workers)
    if todo:
        out.parent.mkdir(parents=True, exist_ok=True)
        fresh = not partial.exists()
        with open(partial, "a", encoding="utf-8") as fh:
            if fresh:
                fh.write(json.dumps(header, sort_keys=True) + "\n")
                fh.flush()
            t0 = time.perf_counter()
            configs = [run_config(args.seed, i, settings) for i in todo]

            def record(rec: dict[str, Any]) -> None:
                done[rec["run"]] = rec
                fh.write(json.dumps(rec, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
                n_new = sum(i in done for i in todo)
                log.info(
                    "run %d: val %.1f%% (lr %.3g, bs %d, %.1f s); %d/%d new, %.0f s",
                    rec["run"], rec["val_acc"][-1], rec["lr"], rec["batch_size"],
                    rec["seconds"], n_new, len(todo), time.perf_counter() - t0,
                )

            if args.workers == 1:  # in this process, in run order
                for c in configs:
                    record(train_run(c, settings))
            else:
                with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
                    pending = {pool.submit(train_run, c, settings) for c in configs}
                    while pending:
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for f in finished:
                            record(f.result())
    header["n_runs"] = args.runs
    finalize(out, header, done, args.runs)
    extra = sorted(i for i in done if i >= args.runs)
    if extra:  # keep them in the partial file for a later, larger --runs
        log.info("%d recorded runs beyond --runs %d left out of %s (kept in %s)", len(extra),
                 args.runs, out, partial.name)
    elif partial.exists():
        partial.unlink()
    log.info("wrote %s (%d runs, %.0f kB)", out, args.runs, out.stat().st_size / 1e3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
