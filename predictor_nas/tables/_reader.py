"""Read benchmark tables: scalar and vectorised queries over metrics, seeds and fidelities."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from predictor_nas._lazy import h5py
from predictor_nas.exceptions import (
    TableCorruptedError,
    TableFormatError,
    TableNotFoundError,
    TableQueryError,
)
from predictor_nas.spaces import Arch, get_space
from predictor_nas.tables._integrity import check_file, content_hash
from predictor_nas.tables._schema import COST_METRIC, FORMAT_NAME, FORMAT_VERSION, check_tree

ArchLike = Arch | str | int


@dataclass(frozen=True)
class MetricInfo:
    """Description of one metric of one dataset in a table."""

    name: str
    unit: str
    description: str
    higher_is_better: bool
    source: str
    fidelities: tuple[int, ...]
    n_seeds: dict[int, int]
    per_seed: dict[int, bool]


def _listing(items: Sequence[Any]) -> str:
    return ", ".join(repr(i) for i in items)


def _is_version(value: Any, version: int) -> bool:
    return (
        isinstance(value, (int, np.integer))
        and not isinstance(value, (bool, np.bool_))
        and (int(value) == version)
    )


def _decode_archs(raw: np.ndarray, path: str) -> list[str]:
    try:
        return [a.decode("ascii") for a in raw]
    except UnicodeDecodeError:
        row = next(i for i, a in enumerate(raw) if not a.isascii())
        raise TableFormatError(
            f"Table file {path!r} does not follow the table schema (format version "
            f"{FORMAT_VERSION}): /archs row {row} is not an ASCII string ({bytes(raw[row])!r})."
        ) from None


def _raise_duplicate(archs: list[str], path: str) -> None:
    first: dict[str, int] = {}
    for i, a in enumerate(archs):
        if a in first:
            raise TableFormatError(
                f"Table file {path!r} does not follow the table schema (format version "
                f"{FORMAT_VERSION}): /archs rows {first[a]} and {i} are the same architecture "
                f"{a!r}; every row must be a distinct architecture. Rebuild or re-import the table."
            )
        first[a] = i


class Table:
    """A benchmark table held in memory (a few MB), opened read-only and verified.

    Opening checks the whole-file SHA-256, HDF5's fletcher32 chunk checksums and the content hash
    (a damaged file raises ``TableCorruptedError`` naming it), then the schema (``check_tree``:
    root attributes, dtypes, shapes, finite values, a ``train_time`` per dataset, distinct rows;
    a violation raises ``TableFormatError`` naming the file and the field). ``verify_table``
    checks more: that every row is its space's standard arch string.

    Args:
        path: A table file written by ``write_table``.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise TableNotFoundError(f"No table file at {self.path!r}.")
        self.file_digest = check_file(self.path)
        tree = self._read_tree()
        root = tree["/"][0]
        if root.get("format") != FORMAT_NAME:
            raise TableFormatError(
                f"{self.path!r} is not a predictor_nas table (format attribute)."
            )
        if not _is_version(root.get("format_version"), FORMAT_VERSION):
            raise TableFormatError(
                f"{self.path!r} has table format version {root.get('format_version')}; this "
                f"predictor_nas reads version {FORMAT_VERSION}. Rebuild the table with this "
                "version."
            )
        n_archs = check_tree(tree, self.path)
        stored = str(root["content_hash"])
        actual = content_hash(tree)
        if stored != actual:
            raise TableCorruptedError(
                f"Table file {self.path!r} is corrupted: content hash {actual} differs from the "
                f"stored {stored}."
            )
        self.content_hash = stored
        self.name: str = str(root["name"])
        self.space: str = str(root["space"])
        self.description: str = str(root.get("description", ""))
        self.license: str = str(root.get("license", ""))
        self.source: str = str(root.get("source", ""))
        self.archs: list[str] = _decode_archs(tree["/archs"][1], self.path)
        self._row = {a: i for i, a in enumerate(self.archs)}
        if len(self._row) != n_archs:
            _raise_duplicate(self.archs, self.path)
        self._values: dict[tuple[str, str, int], np.ndarray] = {}
        self._curves: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._metric_info: dict[tuple[str, str], MetricInfo] = {}
        self._mean_cache: dict[tuple[str, str, int], np.ndarray] = {}
        self._space_obj = None
        self._ops_rows: dict[tuple[str, ...], int] | None = None
        datasets: dict[str, None] = {}
        for p, (attrs, data) in sorted(tree.items()):
            parts = p.strip("/").split("/")
            if parts[0] != "datasets" or len(parts) < 2:
                continue
            datasets.setdefault(parts[1], None)
            if len(parts) == 5 and parts[2] == "metrics" and data is not None:
                self._values[(parts[1], parts[3], int(parts[4]))] = data
            elif len(parts) == 4 and parts[2] == "curves" and data is not None:
                self._curves[(parts[1], parts[3])] = (data, np.asarray(attrs["epochs"]))
        self.datasets: list[str] = list(datasets)
        for p, (attrs, _data) in tree.items():
            parts = p.strip("/").split("/")
            if len(parts) == 4 and parts[0] == "datasets" and parts[2] == "metrics":
                ds, m = parts[1], parts[3]
                fids = tuple(sorted(f for (d, mm, f) in self._values if d == ds and mm == m))
                self._metric_info[(ds, m)] = MetricInfo(
                    name=m,
                    unit=str(attrs.get("unit", "")),
                    description=str(attrs.get("description", "")),
                    higher_is_better=bool(attrs.get("higher_is_better", True)),
                    source=str(attrs.get("source", "")),
                    fidelities=fids,
                    n_seeds={f: self._values[(ds, m, f)].shape[1] for f in fids},
                    per_seed={f: bool(tree[f"{p}/{f}"][0].get("per_seed", True)) for f in fids},
                )

    def _read_tree(self) -> dict[str, tuple[dict[str, Any], np.ndarray | None]]:
        tree: dict[str, tuple[dict[str, Any], np.ndarray | None]] = {}
        try:
            with h5py.File(self.path, "r") as f:
                tree["/"] = (dict(f.attrs), None)

                def visit(name: str, obj: Any) -> None:
                    data = obj[()] if isinstance(obj, h5py.Dataset) else None
                    tree["/" + name] = (dict(obj.attrs), data)

                f.visititems(visit)
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            raise TableCorruptedError(
                f"Table file {self.path!r} could not be read: {exc}. Rebuild or re-import it."
            ) from exc
        if "/archs" not in tree:
            raise TableFormatError(
                f"{self.path!r} has no /archs dataset; not a predictor_nas table."
            )
        return tree

    # ----------------------------------------------------------------- description
    def __len__(self) -> int:
        return len(self.archs)

    def __repr__(self) -> str:
        return (
            f"Table(name={self.name!r}, space={self.space!r}, archs={len(self)}, "
            f"datasets={self.datasets})"
        )

    def metrics(self, dataset: str) -> list[str]:
        """Metric names available for ``dataset``."""
        self._check_dataset(dataset)
        return [m for (d, m) in self._metric_info if d == dataset]

    def metric_info(self, metric: str, *, dataset: str) -> MetricInfo:
        """Unit, direction, fidelities and seeds of ``metric`` on ``dataset``."""
        self._check_metric(dataset, metric)
        return self._metric_info[(dataset, metric)]

    def fidelities(self, metric: str, *, dataset: str) -> tuple[int, ...]:
        """Fidelities (epochs) at which ``metric`` is stored, ascending."""
        return self.metric_info(metric, dataset=dataset).fidelities

    def has_curve(self, metric: str, *, dataset: str) -> bool:
        """Whether per-epoch curves of ``metric`` are stored for ``dataset``."""
        return (dataset, metric) in self._curves

    # ----------------------------------------------------------------- checks
    def _check_dataset(self, dataset: str) -> None:
        if dataset not in self.datasets:
            raise TableQueryError(
                f"Unknown dataset {dataset!r} for table {self.name!r}; available: "
                f"{_listing(self.datasets)}."
            )

    def _check_metric(self, dataset: str, metric: str) -> None:
        self._check_dataset(dataset)
        if (dataset, metric) not in self._metric_info:
            raise TableQueryError(
                f"Unknown metric {metric!r} for dataset {dataset!r} in table {self.name!r}; "
                f"available: {_listing(self.metrics(dataset))}."
            )

    def _resolve(self, dataset: str, metric: str, fidelity: int | None) -> tuple[np.ndarray, int]:
        self._check_metric(dataset, metric)
        fids = self._metric_info[(dataset, metric)].fidelities
        fid = fids[-1] if fidelity is None else fidelity
        if fid not in fids:
            raise TableQueryError(
                f"Metric {metric!r} of dataset {dataset!r} has no fidelity {fidelity!r}; "
                f"available (epochs): {_listing(fids)}."
            )
        return self._values[(dataset, metric, fid)], fid

    # ----------------------------------------------------------------- rows
    def _space(self):
        if self._space_obj is None:
            self._space_obj = get_space(self.space)
        return self._space_obj

    def _row_of_ops(self) -> dict[tuple[str, ...], int]:
        if self._ops_rows is None:
            space = self._space()
            self._ops_rows = {space.parse(a).ops: i for i, a in enumerate(self.archs)}
        return self._ops_rows

    def row(self, arch: ArchLike) -> int:
        """Row of ``arch`` (an ``Arch``, its string, or a row number)."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= arch < len(self.archs):
                raise TableQueryError(
                    f"Row {int(arch)} is out of range; table {self.name!r} has {len(self)} rows."
                )
            return int(arch)
        if isinstance(arch, Arch):
            if arch.space == self.space:
                row = self._row_of_ops().get(arch.ops)
                if row is not None:
                    return row
            key = self._space().format(arch)
        elif isinstance(arch, str):
            key = arch.strip()
            if key not in self._row:
                key = self._space().format(self._space().parse(key))
        else:
            raise TableQueryError(
                f"Cannot look up {arch!r}: pass an Arch, an arch string or a row number."
            )
        try:
            return self._row[key]
        except KeyError:
            raise TableQueryError(
                f"Architecture {key!r} is not in table {self.name!r} ({len(self)} "
                f"{self.space} architectures)."
            ) from None

    def rows(self, archs: Sequence[ArchLike] | np.ndarray) -> np.ndarray:
        """Rows (n,) of many architectures; an integer array is checked and returned as is."""
        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
            r = archs.astype(np.int64, copy=False)
            if r.size and (r.min() < 0 or r.max() >= len(self.archs)):
                raise TableQueryError(
                    f"Row numbers must be in [0, {len(self) - 1}] for table {self.name!r}."
                )
            return r
        return np.fromiter((self.row(a) for a in archs), dtype=np.int64, count=len(archs))

    # ----------------------------------------------------------------- queries
    def _mean(self, dataset: str, metric: str, fid: int) -> np.ndarray:
        key = (dataset, metric, fid)
        if key not in self._mean_cache:
            vals = self._values[key]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self._mean_cache[key] = np.nanmean(vals, axis=1)
        return self._mean_cache[key]

    def query_many(
        self,
        archs: Sequence[ArchLike] | np.ndarray,
        metric: str,
        *,
        dataset: str,
        fidelity: int | None = None,
        seed: int | np.ndarray | None = None,
    ) -> np.ndarray:
        """Vectorised lookup.

        Args:
            archs: (n,) architectures, arch strings, or an integer array of rows (fastest).
            metric: Metric name, e.g. ``"val_acc"``.
            dataset: Dataset name, e.g. ``"cifar10"``.
            fidelity: Epochs; ``None`` = the highest stored fidelity.
            seed: ``None`` = mean over trials; an int or an (n,) int array = that trial position.

        Returns:
            float64 array of shape (n,); NaN where the table has no value.
        """
        vals, fid = self._resolve(dataset, metric, fidelity)
        rows = self.rows(archs)
        if seed is None:
            return self._mean(dataset, metric, fid)[rows]
        seeds = np.broadcast_to(np.asarray(seed, dtype=np.int64), rows.shape)
        if seeds.size and (seeds.min() < 0 or seeds.max() >= vals.shape[1]):
            raise TableQueryError(
                f"Seed positions of {dataset}/{metric} at fidelity {fid} are "
                f"0..{vals.shape[1] - 1}; "
                f"got {np.unique(seeds).tolist()}."
            )
        if not self._metric_info[(dataset, metric)].per_seed[fid]:
            raise TableQueryError(
                f"{dataset}/{metric} at fidelity {fid} stores only the mean over trials; "
                "query it with seed=None."
            )
        return vals[rows, seeds]

    def query(
        self,
        arch: ArchLike,
        metric: str,
        *,
        dataset: str,
        fidelity: int | None = None,
        seed: int | None = None,
    ) -> float:
        """Value of ``metric`` for one architecture (mean over trials when ``seed`` is None).

        Raises:
            TableQueryError: unknown arch, metric, dataset, fidelity or seed, or no value stored.
        """
        value = float(
            self.query_many([arch], metric, dataset=dataset, fidelity=fidelity, seed=seed)[0]
        )
        if value != value:
            what = "any trial" if seed is None else f"trial position {seed}"
            fid = self._resolve(dataset, metric, fidelity)[1]
            raise TableQueryError(
                f"Table {self.name!r} has no {dataset}/{metric} value at fidelity {fid} for "
                f"{self.archs[self.row(arch)]} ({what})."
            )
        return value

    def n_trials(
        self,
        archs: Sequence[ArchLike] | np.ndarray,
        metric: str,
        *,
        dataset: str,
        fidelity: int | None = None,
    ) -> np.ndarray:
        """Number of measured trials per architecture; int array of shape (n,)."""
        vals, _ = self._resolve(dataset, metric, fidelity)
        return np.sum(~np.isnan(vals[self.rows(archs)]), axis=1)

    def values(self, metric: str, *, dataset: str, fidelity: int | None = None) -> np.ndarray:
        """All stored values, float64 array of shape (n_archs, n_seeds) (read-only view)."""
        vals, _ = self._resolve(dataset, metric, fidelity)
        v = vals.view()
        v.flags.writeable = False
        return v

    def cost(self, arch: ArchLike, *, dataset: str, fidelity: int | None = None) -> float:
        """Simulated training seconds of ``arch`` at ``fidelity`` (metric ``train_time``)."""
        return self.query(arch, COST_METRIC, dataset=dataset, fidelity=fidelity)

    def cost_many(
        self,
        archs: Sequence[ArchLike] | np.ndarray,
        *,
        dataset: str,
        fidelity: int | None = None,
    ) -> np.ndarray:
        """Vectorised ``cost``; float64 array of shape (n,)."""
        return self.query_many(archs, COST_METRIC, dataset=dataset, fidelity=fidelity)

    def curve(
        self, arch: ArchLike, metric: str, *, dataset: str, seed: int | None = None
    ) -> np.ndarray | None:
        """Per-epoch values of ``metric`` (n_epochs,), or ``None`` if no curves are stored."""
        self._check_dataset(dataset)
        if (dataset, metric) not in self._curves:
            return None
        curves, _ = self._curves[(dataset, metric)]
        c = curves[self.row(arch)]
        if seed is not None and not 0 <= seed < c.shape[1]:
            raise TableQueryError(
                f"Seed positions of the {dataset}/{metric} curves are 0..{c.shape[1] - 1}; "
                f"got {seed!r}."
            )
        if seed is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.nanmean(c, axis=1).astype(np.float64)
        return c[:, seed].astype(np.float64)

    def best(self, metric: str, *, dataset: str, fidelity: int | None = None) -> tuple[int, float]:
        """Row and value of the best architecture by mean ``metric`` (respecting its direction)."""
        _, fid = self._resolve(dataset, metric, fidelity)
        mean = self._mean(dataset, metric, fid)
        hib = self._metric_info[(dataset, metric)].higher_is_better
        row = int(np.nanargmax(mean) if hib else np.nanargmin(mean))
        return row, float(mean[row])

    def info(self) -> dict[str, Any]:
        """A JSON-able summary: name, space, hashes, datasets with their metrics."""
        return {
            "name": self.name,
            "path": self.path,
            "space": self.space,
            "n_archs": len(self),
            "content_hash": self.content_hash,
            "description": self.description,
            "license": self.license,
            "source": self.source,
            "datasets": {
                ds: {
                    m: {
                        "unit": mi.unit,
                        "higher_is_better": mi.higher_is_better,
                        "fidelities": list(mi.fidelities),
                        "n_seeds": {str(k): v for k, v in mi.n_seeds.items()},
                        "per_seed": {str(k): v for k, v in mi.per_seed.items()},
                        "has_curve": self.has_curve(m, dataset=ds),
                        "description": mi.description,
                    }
                    for m in self.metrics(ds)
                    for mi in [self._metric_info[(ds, m)]]
                }
                for ds in self.datasets
            },
        }
