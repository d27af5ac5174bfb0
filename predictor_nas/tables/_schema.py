"""The predictor_nas benchmark-table format, version 1 (HDF5, written and read with h5py).

A table file holds measured metrics of every architecture of one search space, for one or more
datasets, per training seed and per fidelity (training epochs), plus optional per-epoch
curves.

Layout::

    [user block, 512 bytes]   b"PNASTBL1 sha256:<64 hex>\\n" + zero padding: SHA-256 of every byte
                              after the user block. Any flipped or missing byte is detected on open.
    /                         attrs: format = "predictor_nas.table", format_version = 1,
                              name, space, description, license, source,
                              content_hash = "sha256:<hex>"
    /archs                    (N,) ASCII strings: the space's standard arch strings, in row order
                              (for NB201: the official NAS-Bench-201 index order)
    /datasets/<dataset>/      attrs: description
        metrics/<metric>/     attrs: unit, description, higher_is_better, source
            <fidelity>        float64 (N, S): value per arch and trial position; NaN = not measured.
                              Name = fidelity in epochs ("12", "200"; "0" = a property of the
                              untrained network: zero-cost proxies, hardware latency).
                              attrs: per_seed (bool); False = column 0 holds the
                              mean over the source's trials.
        curves/<metric>       float32 (N, E, S), optional: per-epoch values. attrs: epochs (E,) int
    Metric ``train_time`` (unit "s") is the simulated training cost at each fidelity.

Every dataset is chunked with shuffle + gzip and HDF5's fletcher32 checksum. ``content_hash`` is a
SHA-256 over the logical content (paths, attrs, dtypes, shapes, values; see ``content_hash``), so
rebuilding a table from the same source gives the same hash even where HDF5 bytes differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from predictor_nas.exceptions import TableFormatError

FORMAT_NAME = "predictor_nas.table"
FORMAT_VERSION = 1
USERBLOCK_SIZE = 512
MAGIC = b"PNASTBL1"
COST_METRIC = "train_time"

#: Root attributes every table has, with the Python type h5py reads them back as.
ROOT_ATTRS: dict[str, type] = {
    "format": str,
    "format_version": int,
    "name": str,
    "space": str,
    "description": str,
    "license": str,
    "source": str,
    "content_hash": str,
}
#: Attributes of a metric group ``/datasets/<dataset>/metrics/<metric>``.
METRIC_ATTRS: dict[str, type] = {
    "unit": str,
    "description": str,
    "higher_is_better": bool,
    "source": str,
}

Tree = dict[str, tuple[dict[str, Any], "np.ndarray | None"]]


def _type_ok(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, (bool, np.bool_))
    if kind is int:
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    return isinstance(value, kind)


class _Checker:
    """Raises ``TableFormatError`` naming the file and the field that breaks the schema."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, problem: str) -> TableFormatError:
        return TableFormatError(
            f"Table file {self.where!r} does not follow the table schema (format version "
            f"{FORMAT_VERSION}): {field} {problem}. Rebuild or re-import the table."
        )

    def attrs(self, path: str, attrs: dict[str, Any], spec: dict[str, type]) -> None:
        for key, kind in spec.items():
            label = "root attribute" if path == "/" else f"attribute of {path}:"
            if key not in attrs:
                raise self.fail(f"{label} {key!r}", "is missing")
            value = attrs[key]
            if not _type_ok(value, kind):
                shown = value.item() if isinstance(value, np.generic) else value
                raise self.fail(
                    f"{label} {key!r}",
                    f"must be a {kind.__name__}; got {shown!r} ({type(value).__name__})",
                )

    def group(self, path: str, data: np.ndarray | None) -> None:
        if data is not None:
            raise self.fail(path, "must be a group; it is a dataset")

    def array(
        self, path: str, data: np.ndarray | None, dtype: str, shape: tuple[int | None, ...]
    ) -> np.ndarray:
        if data is None:
            raise self.fail(path, "must be a dataset; it is a group")
        arr = np.asarray(data)
        if arr.dtype != np.dtype(dtype):
            raise self.fail(path, f"must hold {dtype} values; it holds {arr.dtype}")
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape)
        ):
            raise self.fail(path, f"must have shape {want}; it has shape {arr.shape}")
        if 0 in arr.shape[1:]:
            raise self.fail(path, f"must have shape {want} with no empty axis; got {arr.shape}")
        return arr

    def finite_or_nan(self, path: str, arr: np.ndarray) -> None:
        inf = np.isinf(arr)
        if inf.any():
            idx = tuple(int(i) for i in np.argwhere(inf)[0])
            raise self.fail(
                path,
                f"holds {int(inf.sum())} infinite value(s), first {arr[idx]} at {idx}; values "
                "must be finite (NaN = not measured)",
            )


def check_tree(tree: Tree, where: str) -> int:
    """Check a table's logical content against the format-version-1 schema (see module doc).

    Cheap: one pass of vectorised checks over the values already in memory. Not checked here:
    duplicate rows (the reader finds them when it indexes the rows) and whether the arch strings
    parse in their space (``verify_table`` does that; it costs more than opening).

    Args:
        tree: path -> (attrs, data) of every group (data ``None``) and dataset in the file.
        where: The file, for error messages.

    Returns:
        The number of architectures N.

    Raises:
        TableFormatError: the first violation, naming ``where`` and the field.
    """
    c = _Checker(where)
    c.attrs("/", tree["/"][0], ROOT_ATTRS)
    for key in ("name", "space"):
        if not tree["/"][0][key].strip():
            raise c.fail(f"root attribute {key!r}", "must not be empty")
    if "/archs" not in tree:
        raise c.fail("/archs", "is missing")
    archs = tree["/archs"][1]
    if archs is None or np.asarray(archs).dtype.kind != "S" or np.ndim(archs) != 1:
        what = "a group" if archs is None else f"{np.asarray(archs).dtype} {np.shape(archs)}"
        raise c.fail("/archs", f"must be a 1-D array of ASCII strings; it is {what}")
    n = len(archs)
    if n == 0:
        raise c.fail("/archs", "must hold at least one architecture")
    if "/datasets" not in tree:
        raise c.fail("/datasets", "is missing")
    c.group("/datasets", tree["/datasets"][1])
    fids_of: dict[tuple[str, str], list[str]] = {}
    metrics_of: dict[str, list[str]] = {}
    for path in sorted(tree):
        if path in ("/", "/archs", "/datasets"):
            continue
        attrs, data = tree[path]
        parts = path.strip("/").split("/")
        if parts[0] != "datasets":
            raise c.fail(path, "is not part of the schema (only /archs and /datasets)")
        if len(parts) == 2:
            c.group(path, data)
            c.attrs(path, attrs, {"description": str})
            metrics_of.setdefault(parts[1], [])
        elif len(parts) == 3:
            if parts[2] not in ("metrics", "curves"):
                raise c.fail(path, "is not part of the schema (only metrics/ and curves/)")
            c.group(path, data)
        elif len(parts) == 4 and parts[2] == "metrics":
            c.group(path, data)
            c.attrs(path, attrs, METRIC_ATTRS)
            metrics_of.setdefault(parts[1], []).append(parts[3])
            fids_of[(parts[1], parts[3])] = []
        elif len(parts) == 5 and parts[2] == "metrics":
            if not parts[4].isdigit() or parts[4] != str(int(parts[4])):
                raise c.fail(path, "must be named by a fidelity in epochs (an int >= 0)")
            arr = c.array(path, data, "float64", (n, None))
            c.attrs(path, attrs, {"per_seed": bool})
            c.finite_or_nan(path, arr)
            if parts[3] == COST_METRIC and bool(np.any(arr < 0)):
                raise c.fail(path, f"holds negative {COST_METRIC} (seconds); min {np.nanmin(arr)}")
            fids_of.setdefault((parts[1], parts[3]), []).append(parts[4])
        elif len(parts) == 4 and parts[2] == "curves":
            arr = c.array(path, data, "float32", (n, None, None))
            c.attrs(path, attrs, {"epochs": np.ndarray})
            epochs = attrs["epochs"]
            if epochs.dtype.kind not in "iu" or epochs.shape != (arr.shape[1],):
                raise c.fail(
                    f"attribute of {path}: 'epochs'",
                    f"must be {arr.shape[1]} ints (one per curve point); got {epochs!r}",
                )
            c.finite_or_nan(path, arr)
        else:
            raise c.fail(path, "is not part of the schema")
    for (ds, m), fids in fids_of.items():
        if not fids:
            raise c.fail(f"/datasets/{ds}/metrics/{m}", "has no fidelity dataset")
    for ds, metrics in metrics_of.items():
        if COST_METRIC not in metrics:
            raise c.fail(
                f"/datasets/{ds}/metrics/{COST_METRIC}",
                "is missing (every dataset needs its training cost in seconds)",
            )
        unit = tree[f"/datasets/{ds}/metrics/{COST_METRIC}"][0]["unit"]
        if unit != "s":
            raise c.fail(
                f"attribute of /datasets/{ds}/metrics/{COST_METRIC}: 'unit'",
                f"must be 's'; got {unit!r}",
            )
    return n
