"""A table of uniform random NB301 architectures scored by the YAHPO surrogate.

NB301 (DARTS, ~1e18 cells) has no table of measured architectures, so predictors cannot be
evaluated on it the usual way (fit on n table rows, rank the rest). This script draws ``--n``
distinct uniform random architectures (``get_space("nb301").sample`` with one
``numpy.random.default_rng(--seed)``), asks ``NB301SurrogateEvaluator`` for their epoch-98
validation accuracy, cross-entropy and runtime in batches, and writes them as a predictor_nas
table (dataset ``cifar10``) into the table cache (``predictor_nas.tables.cache_dir()``, i.e.
``$PREDICTOR_NAS_CACHE``) or ``--out``.

**Every value is the surrogate's prediction, not a real training.** A predictor's Kendall tau
on this table measures how well it imitates the surrogate (a model fitted on NAS-Bench-301
data), which is deterministic and smoother than real training noise.

Stored (per architecture, one column, ``per_seed`` False)::

    val_acc            fid 98  %   surrogate val_accuracy * 100   (higher is better)
    val_cross_entropy  fid 98      surrogate val_cross_entropy    (lower is better)
    train_time         fid 98  s   surrogate runtime to epoch 98  (lower is better)

Used by ``benchmarks/predictors_declared.py``::

    PYTHONPATH=. python scripts/nb301_sample_table.py \\
        --surrogate ../shared/data/surrogates/yahpo/nb301 --n 5000 --seed 0

(``--surrogate`` defaults to ``$PREDICTOR_NAS_NB301_SURROGATE``.) Deterministic: the same
surrogate files and arguments give the same content hash.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from predictor_nas.evaluators import NB301SurrogateEvaluator
from predictor_nas.exceptions import PredictorNASError
from predictor_nas.spaces import get_space
from predictor_nas.tables import cache_dir
from predictor_nas.tables._writer import DatasetData, MetricData, write_table

log = logging.getLogger("nb301_sample_table")

TABLE_NAME = "nb301-surrogate-sample"
SPACE = "nb301"
DATASET = "cifar10"
SURROGATE_ENV = "PREDICTOR_NAS_NB301_SURROGATE"


def sample_archs(n: int, seed: int) -> list[str]:
    """``n`` distinct uniform random NB301 architectures, as standard strings, in draw order.

    One ``numpy.random.default_rng(seed)`` draws them one after another; a repeat (never seen
    in practice: the space has ~1e18 cells) is skipped, so the list is a deterministic function
    of ``(n, seed)``.
    """
    sp = get_space(SPACE)
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        s = sp.format(sp.sample(rng))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def score(ev: NB301SurrogateEvaluator, archs: list[str], batch: int) -> dict[str, np.ndarray]:
    """Surrogate outputs at the last epoch: metric name -> float64 array (n,)."""
    parts: dict[str, list[np.ndarray]] = {"val_acc": [], "val_cross_entropy": [], "runtime": []}
    for start in range(0, len(archs), batch):
        c = ev.curves(archs[start : start + batch], [ev.max_epoch])
        parts["val_acc"].append(c.val_acc[:, 0])
        parts["val_cross_entropy"].append(c.val_cross_entropy[:, 0])
        parts["runtime"].append(c.runtime[:, 0])
    return {k: np.concatenate(v) for k, v in parts.items()}


def build_table(
    surrogate: str | os.PathLike,
    out: str | os.PathLike,
    *,
    n: int = 5000,
    seed: int = 0,
    batch: int = 4096,
    overwrite: bool = False,
) -> str:
    """Sample, score and write the table; returns its content hash.

    Args:
        surrogate: Folder of YAHPO's nb301 files.
        out: Destination ``.h5`` file (its stem is the table's name when found in the cache).
        n: Number of distinct random architectures (>= 2).
        seed: Seed of the sample.
        batch: Architectures per surrogate call.
        overwrite: Replace an existing ``out``.
    """
    ev = NB301SurrogateEvaluator(surrogate)
    archs = sample_archs(n, seed)
    y = score(ev, archs, batch)
    epoch = int(ev.max_epoch)
    src = f"YAHPO Gym nb301 surrogate {ev.model_sha256}, epoch {epoch}"
    note = (
        f" Predicted by the YAHPO NB301 surrogate (model {ev.model_sha256}) at epoch {epoch} for "
        f"a uniform random sample of {n} architectures (seed {seed}): NOT a real training."
    )
    metrics = {
        "val_acc": MetricData(
            values={epoch: y["val_acc"][:, None]},
            unit="%",
            description="CIFAR-10 validation accuracy." + note,
            higher_is_better=True,
            source=src + " output val_accuracy * 100",
            aggregated=[epoch],
        ),
        "val_cross_entropy": MetricData(
            values={epoch: y["val_cross_entropy"][:, None]},
            unit="nats",
            description="CIFAR-10 validation cross-entropy." + note,
            higher_is_better=False,
            source=src + " output val_cross_entropy",
            aggregated=[epoch],
        ),
        "train_time": MetricData(
            values={epoch: np.maximum(y["runtime"], 0.0)[:, None]},
            unit="s",
            description="Training seconds to the epoch (negative predictions clipped to 0)." + note,
            higher_is_better=False,
            source=src + " output runtime",
            aggregated=[epoch],
        ),
    }
    return write_table(
        out,
        name=Path(out).stem,
        space=SPACE,
        archs=archs,
        datasets={
            DATASET: DatasetData(
                metrics=metrics,
                description=f"CIFAR-10, NB301 surrogate predictions for {n} random cells.",
            )
        },
        description=(
            f"{n:,} uniform random NB301 (DARTS) architectures (seed {seed}) with the YAHPO "
            "surrogate's predicted epoch-98 validation accuracy, cross-entropy and runtime; "
            "surrogate predictions, not real trainings (scripts/nb301_sample_table.py)."
        ),
        license="Apache-2.0 (YAHPO Gym surrogate, slds-lmu/yahpo_data)",
        source=src,
        overwrite=overwrite,
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, build the table, log where it went; exit 2 on a user mistake."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--surrogate",
        default=os.environ.get(SURROGATE_ENV),
        help=f"folder of YAHPO's nb301 files (default ${SURROGATE_ENV})",
    )
    ap.add_argument("--n", type=int, default=5000, help="random architectures (default 5000)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    ap.add_argument("--batch", type=int, default=4096, help="architectures per surrogate call")
    ap.add_argument(
        "--out", default=None, help=f"table file (default <table cache>/{TABLE_NAME}.h5)"
    )
    ap.add_argument("--overwrite", action="store_true", help="replace an existing table file")
    args = ap.parse_args(argv)
    if not args.surrogate:
        ap.error(f"give --surrogate or set ${SURROGATE_ENV} to the folder of YAHPO's nb301 files")
    if args.n < 2:
        ap.error(f"--n must be an int >= 2. Got {args.n} instead.")
    if args.batch < 1:
        ap.error(f"--batch must be an int >= 1. Got {args.batch} instead.")
    out = Path(args.out) if args.out else cache_dir() / f"{TABLE_NAME}.h5"
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        chash = build_table(
            args.surrogate,
            out,
            n=args.n,
            seed=args.seed,
            batch=args.batch,
            overwrite=args.overwrite,
        )
    except PredictorNASError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    log.info("wrote %s (%d archs, %s) in %.1f s", out, args.n, chash, time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
