"""Import NAS-Bench-Macro (``nas-bench-macro_cifar10.json``) as the table ``nas-bench-macro``.

Source: GitHub xiusu/NAS-Bench-Macro ``data/nas-bench-macro_cifar10.json`` (copy in
``../shared/data/nas-bench-macro``; Apache-2.0): ``{arch: {test_acc: [3 floats], mean_acc, std,
params, flops}}`` for all 3^8 = 6,561 strings over ``0 1 2``. Digit ``l`` is the block of layer
``l``: an index into the ``blocks`` of the ``nas_bench_macro`` space (``identity``,
``ir_3x3_t3``, ``ir_5x5_t6``).

What the numbers are (from the repository's ``train/train.py`` / ``train_benchmark.py`` /
``collect_benchmark.py``): each network is trained 3 times (seeds 0, 1, 2) for 50 epochs (SGD,
cosine schedule) on the CIFAR-10 training set; ``test_acc`` is, per training, the **best**
accuracy on the 10k CIFAR-10 **test** set over the 50 epochs (the script keeps
``best_acc = max(valid_acc)`` where its "valid" loader is the test set). There is no validation
split. The benchmark also trained only one network per class of strings that differ by moving
identity layers to the end of their stage (stages of 2, 3, 3 layers), and copied its numbers to
every string of the class.

Stored (dataset ``cifar10``), never renamed::

    test_acc    fid 50  (6561, 3) per trial, %   the 3 trainings' best-epoch test accuracy
    params      fid 0   (6561, 1), count          parameter count
    flops       fid 0   (6561, 1), FLOPs          FLOPs of one forward pass
    train_time  fid 0, 50  NaN                    not measured by the benchmark

``mean_acc`` and ``std`` are checked against ``test_acc`` (mean, population std) and not stored.
"""

from __future__ import annotations

import logging
import os
from os import PathLike
from typing import Any

import numpy as np

from predictor_nas._progress import step_reporter
from predictor_nas.exceptions import TableFormatError
from predictor_nas.spaces import get_space
from predictor_nas.tables.importers._generic import MetricSpec, import_records
from predictor_nas.tables.importers._sources import read_json, source_file

log = logging.getLogger(__name__)

TABLE_NAME = "nas-bench-macro"
SPACE = "nas_bench_macro"
FILE_NAME = "nas-bench-macro_cifar10.json"
EPOCHS = 50
N_LAYERS = 8
LICENSE = "Apache-2.0 (GitHub xiusu/NAS-Bench-Macro, see ../shared/data/licenses)"

_TEST_DESC = (
    "NAS-Bench-Macro CIFAR-10 test accuracy (%): per training (seeds 0, 1, 2 of the benchmark's "
    "train.py, trial positions 0..2), the BEST accuracy on the 10k CIFAR-10 test set over 50 "
    "epochs (SGD, cosine schedule, trained on the 50k training images). There is no validation "
    "split: a search on this metric selects on the test set, and the best-epoch maximum is itself "
    "chosen on the test set (optimistic). Strings that differ only by identity layers moved to the "
    "end of their stage (stages of 2, 3, 3 layers) are one trained network and share numbers."
)


#: The documented seed split (NAS-Bench-Macro has no validation split).
_SPLIT_DESC = (
    "Seed split of NAS-Bench-Macro's test accuracy (%), {what} best-epoch CIFAR-10 TEST "
    "accuracy. The benchmark has no validation split, so a search selects on training 0 "
    "(search_acc) and reports trainings 1-2 (heldout_test_acc): independent trainings, but the "
    "same 10k test images, and each value is a best epoch picked on them, so the held-out "
    "number is still optimistic."
)


def _record(key: str, rec: Any, where: str, space: Any) -> dict[str, Any]:
    """One architecture's table record from its JSON entry, checked.

    Args:
        key: The entry's key: one digit 0/1/2 (the block) per layer.
        rec: The entry: ``test_acc`` (3 trainings), ``mean_acc``, ``std``, ``params``, ``flops``.
        where: The file, for messages.
        space: The ``nas-bench-macro`` space.

    Raises:
        TableFormatError: a bad key, or a record without 3 ``test_acc`` values consistent with
            its ``mean_acc`` / ``std``.
    """
    if len(key) != N_LAYERS or set(key) - {"0", "1", "2"}:
        raise TableFormatError(
            f"{where!r}: key {key!r} is not {N_LAYERS} digits 0/1/2 (one block per layer)."
        )
    if not isinstance(rec, dict) or not isinstance(rec.get("test_acc"), list):
        raise TableFormatError(f"{where!r}: record {key!r} has no 'test_acc' list.")
    accs = np.asarray(rec["test_acc"], dtype=np.float64)
    if accs.shape != (3,):
        raise TableFormatError(
            f"{where!r}: record {key!r} has {accs.size} test_acc values; expected 3 trainings."
        )
    if (
        abs(float(np.mean(accs)) - float(rec["mean_acc"])) > 1e-9
        or abs(float(np.std(accs)) - float(rec["std"])) > 1e-9
    ):
        raise TableFormatError(
            f"{where!r}: record {key!r}: mean_acc / std differ from mean / population std of "
            "its test_acc."
        )
    arch = space.make([space.blocks[int(c)] for c in key])
    return {
        "arch": space.format(arch),
        "test_acc": rec["test_acc"],
        "search_acc": [float(accs[0])],
        "heldout_test_acc": [float(np.mean(accs[1:]))],
        "params": rec["params"],
        "flops": rec["flops"],
    }


def import_nas_bench_macro(
    source: str | PathLike,
    *,
    out: str | PathLike | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> tuple[str, str]:
    """Import ``nas-bench-macro_cifar10.json`` into the table ``nas-bench-macro``.

    Args:
        source: Folder holding ``nas-bench-macro_cifar10.json`` or that file.
        out: Destination ``.h5``; default ``cache_dir() / "nas-bench-macro.h5"``.
        overwrite: Replace an existing ``out``.
        progress: Status lines on stderr per step (``predictor_nas._progress``).

    Returns:
        ``(path written, content hash)``.

    Raises:
        TableNotFoundError: no such file.
        TableFormatError: not the benchmark's JSON (keys, 3 trials, mean/std consistency).
    """
    path = source_file(source, FILE_NAME, TABLE_NAME, "../shared/data/nas-bench-macro")
    where = os.fspath(path)
    step_reporter(progress, log)(f"tables import {TABLE_NAME}: reading {where} ...")
    data = read_json(path)
    if not isinstance(data, dict):
        raise TableFormatError(f"{where!r} must be a JSON object {{arch: record}}.")
    space = get_space(SPACE)
    records = [_record(key, data[key], where, space) for key in sorted(data)]
    if len(records) != 3**N_LAYERS:
        raise TableFormatError(
            f"{where!r} has {len(records)} architectures; NAS-Bench-Macro has {3**N_LAYERS}."
        )
    src = f"{FILE_NAME} (GitHub xiusu/NAS-Bench-Macro data/, blob 5b17465f)"
    return import_records(
        records,
        space=space,
        name=TABLE_NAME,
        metrics=[
            MetricSpec("test_acc", True, "%", description=_TEST_DESC),
            MetricSpec(
                "search_acc",
                True,
                "%",
                description=_SPLIT_DESC.format(what="the search signal: training 0's"),
            ),
            MetricSpec(
                "heldout_test_acc",
                True,
                "%",
                aggregated=True,
                description=_SPLIT_DESC.format(
                    what="the held-out report: the mean of trainings 1 and 2's"
                ),
            ),
            MetricSpec(
                "params",
                False,
                "count",
                fidelity=0,
                description="NAS-Bench-Macro parameter count of the CIFAR-10 network "
                "(fidelity 0: a property of the architecture).",
            ),
            MetricSpec(
                "flops",
                False,
                "FLOPs",
                fidelity=0,
                description="NAS-Bench-Macro FLOPs of one CIFAR-10 forward pass (fidelity 0).",
            ),
        ],
        dataset="cifar10",
        fidelity=EPOCHS,
        out=out,
        overwrite=overwrite,
        progress=progress,
        description="NAS-Bench-Macro (6,561 networks of 8 layers x {identity, MobileNetV2 "
        "k3 e3, k5 e6}) on CIFAR-10: per-training best-epoch TEST accuracy of 3 trainings (no "
        "validation split), parameters and FLOPs; training cost not measured.",
        license=LICENSE,
        source=src,
        where=where,
    )
