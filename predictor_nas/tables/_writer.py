"""Write benchmark tables in the predictor_nas HDF5 format (see ``_schema``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from predictor_nas._lazy import h5py
from predictor_nas.exceptions import InvalidParameterError, TableFormatError
from predictor_nas.tables._integrity import content_hash, seal_file
from predictor_nas.tables._schema import FORMAT_NAME, FORMAT_VERSION, USERBLOCK_SIZE, check_tree


@dataclass
class MetricData:
    """One metric of one dataset.

    Attributes:
        values: fidelity (epochs) -> float array of shape (n_archs, n_seeds); NaN = not measured.
        unit: Unit of the values, e.g. ``"%"`` or ``"s"``.
        description: What exactly was measured (split, source column...).
        higher_is_better: Direction of the metric.
        source: Where the numbers come from.
        aggregated: Fidelities whose single column is a mean over the source's trials, not a seed.
    """

    values: Mapping[int, np.ndarray]
    unit: str
    description: str
    higher_is_better: bool
    source: str = ""
    aggregated: Sequence[int] = ()


@dataclass
class CurveData:
    """Per-epoch values of one metric: array (n_archs, n_epochs, n_seeds) and the epoch numbers."""

    values: np.ndarray
    epochs: Sequence[int]


@dataclass
class DatasetData:
    """Everything a table holds about one dataset."""

    metrics: Mapping[str, MetricData]
    curves: Mapping[str, CurveData] = field(default_factory=dict)
    description: str = ""


_DS_KW = dict(compression="gzip", compression_opts=4, shuffle=True, fletcher32=True)


def _tree(
    archs: np.ndarray, datasets: Mapping[str, DatasetData], root_attrs: dict[str, Any]
) -> dict[str, tuple[dict[str, Any], np.ndarray | None]]:
    tree: dict[str, tuple[dict[str, Any], np.ndarray | None]] = {"/": (root_attrs, None)}
    tree["/archs"] = ({}, archs)
    tree["/datasets"] = ({}, None)
    n = len(archs)
    for ds, dd in datasets.items():
        if not dd.metrics:
            raise InvalidParameterError(f"Dataset {ds!r} has no metrics.")
        tree[f"/datasets/{ds}"] = ({"description": dd.description}, None)
        tree[f"/datasets/{ds}/metrics"] = ({}, None)
        for metric, md in dd.metrics.items():
            tree[f"/datasets/{ds}/metrics/{metric}"] = (
                {
                    "unit": md.unit,
                    "description": md.description,
                    "higher_is_better": bool(md.higher_is_better),
                    "source": md.source,
                },
                None,
            )
            if not md.values:
                raise InvalidParameterError(f"Metric {metric!r} of dataset {ds!r} has no fidelity.")
            for fid, arr in md.values.items():
                a = np.asarray(arr, dtype=np.float64)
                if a.ndim == 1:
                    a = a[:, None]
                if a.ndim != 2 or a.shape[0] != n:
                    raise InvalidParameterError(
                        f"Values of {ds}/{metric} at fidelity {fid} must have shape (n_archs={n}, "
                        f"n_seeds); got {np.shape(arr)}."
                    )
                if int(fid) < 0:
                    raise InvalidParameterError(f"Fidelities are epochs >= 0; got {fid!r}.")
                per_seed = int(fid) not in {int(f) for f in md.aggregated}
                tree[f"/datasets/{ds}/metrics/{metric}/{int(fid)}"] = ({"per_seed": per_seed}, a)
        if dd.curves:
            tree[f"/datasets/{ds}/curves"] = ({}, None)
        for metric, cd in dd.curves.items():
            c = np.asarray(cd.values, dtype=np.float32)
            if c.ndim != 3 or c.shape[0] != n or c.shape[1] != len(cd.epochs):
                raise InvalidParameterError(
                    f"Curve {ds}/{metric} must have shape (n_archs={n}, n_epochs={len(cd.epochs)}, "
                    f"n_seeds); got {c.shape}."
                )
            tree[f"/datasets/{ds}/curves/{metric}"] = (
                {"epochs": np.asarray(cd.epochs, dtype=np.int64)},
                c,
            )
    return tree


def write_table(
    path: str | os.PathLike,
    *,
    name: str,
    space: str,
    archs: Sequence[str],
    datasets: Mapping[str, DatasetData],
    description: str = "",
    license: str = "",
    source: str = "",
    overwrite: bool = False,
) -> str:
    """Write a table file atomically and return its content hash.

    The file is written to a temporary name in the same folder, sealed with its digest, then
    renamed over ``path``; an existing file is never half-overwritten.

    Args:
        path: Destination ``.h5`` file.
        name: Table name (how users refer to it, e.g. ``"nb201"``).
        space: Search-space name of the architecture strings.
        archs: (N,) standard arch strings in row order; must be unique.
        datasets: dataset name -> its metrics and curves. Values must be finite or NaN, and
            every dataset needs a ``train_time`` metric in seconds (>= 0); the file must pass
            the reader's schema check (``check_tree``), else nothing is written.
        description, license, source: Stored as root attributes.
        overwrite: Replace an existing file at ``path`` (refused by default).

    Returns:
        The content hash ``"sha256:<hex>"``.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise InvalidParameterError(
            f"{path!r} already exists; pass overwrite=True (CLI: --overwrite) to replace it."
        )
    if len(set(archs)) != len(archs):
        raise InvalidParameterError("Architecture strings of a table must be unique.")
    arch_arr = np.array([a.encode("ascii") for a in archs], dtype=f"S{max(map(len, archs))}")
    root = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": name,
        "space": space,
        "description": description,
        "license": license,
        "source": source,
    }
    tree = _tree(arch_arr, datasets, root)
    chash = content_hash(tree)
    root["content_hash"] = chash
    try:
        check_tree(tree, path)
    except TableFormatError as exc:
        raise InvalidParameterError(f"Refusing to write the table: {exc}") from None
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".h5", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w", userblock_size=USERBLOCK_SIZE, track_order=False) as f:
            for p in sorted(tree):
                attrs, data = tree[p]
                if p == "/":
                    obj = f
                elif data is None:
                    obj = f.create_group(p, track_order=False)
                else:
                    chunks = _chunks(data.shape)
                    obj = f.create_dataset(p, data=data, chunks=chunks, track_times=False, **_DS_KW)
                for k, v in attrs.items():
                    obj.attrs[k] = v
            f.attrs["content_hash"] = chash
        seal_file(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return chash


def _chunks(shape: tuple[int, ...]) -> tuple[int, ...]:
    rows = max(1, min(shape[0], 4096))
    return (rows, *shape[1:])
