"""Import the NAS-Bench-Suite-Zero NB101 subset (``nb101_zc_500.json``) as the table ``nb101-zc``.

Source: GitHub automl/NASLib ``naslib/data/zc_nasbench101.json`` converted to a list of 500
records (copy in ``../shared/data/nb101``; Apache-2.0): ``matrix`` (7x7 adjacency, row = source),
``ops`` (7 names, ``input`` first, ``output`` last), ``val_accuracy`` and 11 zero-cost proxies.

The matrices are *unpruned* specs: 305 of the 500 have more than 9 edges, all of them because of
nodes off every input-output path, which NAS-Bench-101 itself prunes before it checks the 9-edge
limit and looks a cell up (``ModelSpec``). The importer does the same: edges touching a node that
is not on an input-output path are dropped, then the cell is ``nb101``'s
``from_matrix(matrix, ops)``. Records that prune to the same cell (same standard string) are
several looks at one cell: their ``val_accuracy`` (each a repeat NASLib sampled independently, so
two may be the same repeat) and their proxies (other random initialisations and batches) become
trial positions 1, 2, ... of that cell's row (NaN for the other cells).

Stored (dataset ``cifar10``)::

    val_acc     fid 108  (N, S) per trial, %  NB101 108-epoch validation accuracy of ONE of its 3
                                               training repeats per record, sampled by NASLib's
                                               NB101 query (which repeat is not recorded): each
                                               position is one trial, not a mean over trials
    zc_<proxy>  fid 0    (N, S), score        the 11 NAS-Bench-Suite-Zero proxies (epe_nas, fisher,
                                               flops, grad_norm, grasp, jacov, l2_norm, params,
                                               plain, snip, synflow), as zc_* in nb201-rich
    train_time  fid 0, 108  NaN                not in the source
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from predictor_nas._progress import step_reporter
from predictor_nas.exceptions import PredictorNASError, TableFormatError
from predictor_nas.spaces import INPUT, OUTPUT, ArchGraph, get_space
from predictor_nas.tables.importers._generic import MetricSpec, import_records
from predictor_nas.tables.importers._sources import read_json, source_file

log = logging.getLogger(__name__)

TABLE_NAME = "nb101-zc"
SPACE = "nb101"
FILE_NAME = "nb101_zc_500.json"
EPOCHS = 108
PROXIES = (
    "epe_nas",
    "fisher",
    "flops",
    "grad_norm",
    "grasp",
    "jacov",
    "l2_norm",
    "params",
    "plain",
    "snip",
    "synflow",
)
#: Proxies that are sizes: their unit (NASLib's NB101 flops are MFLOPs, params millions).
ZC_UNITS = {"flops": "MFLOPs", "params": "M"}
LICENSE = "Apache-2.0 (GitHub automl/NASLib, see ../shared/data/licenses)"


def live_nodes(matrix: Sequence[Sequence[int]]) -> set[int]:
    """Nodes on some path from node 0 (input) to node N-1 (output) of an upper-triangular DAG
    (``ArchGraph.live_nodes`` of the matrix's graph)."""
    n = len(matrix)
    edges = tuple((i, j) for i in range(n) for j in range(i + 1, n) if matrix[i][j])
    return set(ArchGraph((INPUT, *("node",) * (n - 2), OUTPUT), edges).live_nodes())


def prune_matrix(matrix: Sequence[Sequence[int]]) -> list[list[int]]:
    """``matrix`` without the edges of nodes off every input-output path (as NB101 prunes)."""
    live = live_nodes(matrix)
    n = len(matrix)
    return [
        [int(matrix[i][j]) if i in live and j in live else 0 for j in range(n)] for i in range(n)
    ]


def nb101_records(path: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Records ``{"arch": standard nb101 string, "val_acc", "zc_<proxy>"...}`` and counts.

    Returns:
        (records, counts) with counts ``records`` (in the file), ``pruned`` (records that had
        edges of dead nodes), ``merged`` (records identical to an earlier one after pruning),
        ``distinct_cells`` (rows kept), ``isomorphism_classes`` (distinct canonical keys).
    """
    where = os.fspath(path)
    data = read_json(path)
    if not isinstance(data, list):
        raise TableFormatError(f"{where!r} must hold a JSON list of records.")
    space = get_space(SPACE)
    kept: dict[str, tuple[dict[str, Any], int]] = {}
    n_pruned = 0
    for k, rec in enumerate(data, start=1):
        try:
            matrix, ops = rec["matrix"], rec["ops"]
            values = {"val_acc": float(rec["val_accuracy"])}
            values |= {f"zc_{p}": float(rec[p]) for p in PROXIES}
        except (KeyError, TypeError, ValueError) as exc:
            raise TableFormatError(
                f"{where!r} record {k}: missing or non-numeric field ({exc}); records need "
                f"matrix, ops, val_accuracy and {', '.join(PROXIES)}."
            ) from None
        if len(ops) != space.n_nodes or ops[0] != "input" or ops[-1] != "output":
            raise TableFormatError(
                f"{where!r} record {k}: ops must be {space.n_nodes} names, 'input' first and "
                f"'output' last; got {ops!r}."
            )
        pruned = prune_matrix(matrix)
        n_pruned += pruned != [[int(x) for x in row] for row in matrix]
        try:
            arch = space.from_matrix(pruned, ops)
        except PredictorNASError as exc:
            raise TableFormatError(
                f"{where!r} record {k} ({rec.get('naslib_key')}): not an nb101 cell after "
                f"pruning dead nodes: {exc}"
            ) from None
        text = space.format(arch)
        if text in kept:
            first, _ = kept[text]
            first["val_acc"].append(values["val_acc"])
            for p in PROXIES:  # another evaluation (another random init and batch)
                first[f"zc_{p}"].append(values[f"zc_{p}"])
            continue
        kept[text] = (
            {"arch": text, "val_acc": [values["val_acc"]]}
            | {f"zc_{p}": [values[f"zc_{p}"]] for p in PROXIES},
            k,
        )
    records = [r for r, _ in kept.values()]
    keys = {space.canonical_key(space.parse(r["arch"])) for r in records}
    counts = {
        "records": len(data),
        "pruned": n_pruned,
        "merged": len(data) - len(records),
        "distinct_cells": len(records),
        "isomorphism_classes": len(keys),
    }
    return records, counts


def import_nb101_zc(
    source: str | PathLike,
    *,
    out: str | PathLike | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> tuple[str, str]:
    """Import ``nb101_zc_500.json`` into the table ``nb101-zc``.

    Args:
        source: Folder holding ``nb101_zc_500.json`` or that file.
        out: Destination ``.h5``; default ``cache_dir() / "nb101-zc.h5"``.
        overwrite: Replace an existing ``out``.
        progress: Status lines on stderr per step (``predictor_nas._progress``).

    Returns:
        ``(path written, content hash)``.

    Raises:
        TableNotFoundError: no such file.
        TableFormatError: a record that is not an NB101 cell or lacks a field.
    """
    path = source_file(source, FILE_NAME, TABLE_NAME, "../shared/data/nb101")
    step_reporter(progress, log)(f"tables import {TABLE_NAME}: reading {os.fspath(path)} ...")
    records, counts = nb101_records(path)
    log.info("nb101-zc: %s", counts)
    note = (
        f"{counts['records']} records; {counts['pruned']} had edges of nodes off every "
        f"input-output path, dropped as NAS-Bench-101 prunes them; {counts['merged']} were the "
        f"same cell as an earlier record (stored as further trial positions): "
        f"{counts['distinct_cells']} "
        f"cells, {counts['isomorphism_classes']} isomorphism classes (canonical keys)."
    )
    metrics = [
        MetricSpec(
            "val_acc",
            True,
            "%",
            description="NAS-Bench-101 CIFAR-10 validation accuracy after 108 epochs of ONE of "
            "NB101's 3 training repeats per record, the one NASLib's NB101 query sampled (which "
            "one is not recorded); trial position 0 is the first record of the cell, positions "
            "1.. further records of the same cell after pruning dead nodes (independent samples, "
            "possibly the same repeat again). Each position is one trial, not a mean.",
        )
    ]
    metrics += [
        MetricSpec(
            f"zc_{p}",
            True,
            ZC_UNITS.get(p, "score"),
            fidelity=0,
            description=f"zero-cost proxy '{p}' (NAS-Bench-Suite-Zero / NASLib zerocost) on "
            "CIFAR-10 at initialisation (fidelity 0: no training). higher_is_better follows "
            "NAS-Bench-Suite-Zero, which ranks cells by the raw score. Trial position 0 is the "
            "proxy of the first record of the cell; cells that occur in several records (after "
            "pruning dead nodes) have those records' evaluations at positions 1.. (NaN elsewhere).",
        )
        for p in PROXIES
    ]
    return import_records(
        records,
        space=SPACE,
        name=TABLE_NAME,
        metrics=metrics,
        dataset="cifar10",
        fidelity=EPOCHS,
        out=out,
        overwrite=overwrite,
        progress=progress,
        description="NAS-Bench-101 subset of NAS-Bench-Suite-Zero: CIFAR-10 validation accuracy "
        "(one sampled repeat) and 11 zero-cost proxies; training cost not in the source. " + note,
        license=LICENSE,
        source=f"{FILE_NAME} (GitHub automl/NASLib naslib/data/zc_nasbench101.json, blob 82227ea3)",
        where=os.fspath(path),
    )
