"""Import NAS-Bench-Graph (PyPI ``nas-bench-graph==1.4.0``) as the table ``nas-bench-graph``.

Source: the package's wheel (``pip download --no-deps nas-bench-graph==1.4.0``) or a folder
holding its files; Apache-2.0 (THUMNLab). ``nas_bench_graph/light/<dataset>.bench`` is, for each of
the 9 datasets (cora, citeseer, pubmed, cs, physics, photo, computers, arxiv, proteins), a pickle
of ``{key: {"valid_perf", "perf", "latency", "para"}}``: one record per architecture under the
benchmark's key (see ``predictor_nas.spaces._nas_bench_graph``); 26,206 keys, 2,021 for proteins
(the benchmark ran proteins on 5 operations only).

**Pickles are read only here, at import time, and never run code.** ``_BenchUnpickler`` resolves
exactly two globals, ``numpy.core.multiarray.scalar`` and ``numpy.dtype`` (all the files name),
and maps them to checked stand-ins: the dtype must be ``"f8"`` with a little-endian state and the
scalar is rebuilt from its 8 bytes with ``numpy.frombuffer``. Any other global (``os.system``,
``builtins.eval``, ...) is refused with a ``TableFormatError`` naming the file and the global,
before anything is called. The records are then checked (int keys the space lists, the four
fields, finite floats).

Stored per dataset (every value as in the pickle; the accuracies times 100)::

    val_acc     fid 200  (N, 1) mean, %   valid_perf * 100   (higher is better)
    test_acc    fid 200  (N, 1) mean, %   perf * 100         (higher is better)
    latency     fid 0    (N, 1), s        latency            (lower is better)
    params      fid 0    (N, 1), M        para               (lower is better)
    train_time  fid 0, 200  NaN           not in the light files

Fidelity 200 labels "after the benchmark's full training": NAS-Bench-Graph tuned the number of
epochs per dataset (its hyper-parameter grid offers 200, 300, 400 or 500) and the light files do
not say which, so read it as "fully trained", not as exactly 200 epochs. The light files hold one
value per architecture; the benchmark trained every architecture with 3 seeds, and the values
look like means over them (the files do not say), so they are stored as aggregated (per_seed
False). Proteins rows the benchmark does not list are NaN (a search on proteins then meets
architectures without a value).
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import pickle
import zipfile
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas.exceptions import (
    InvalidArchitectureError,
    InvalidParameterError,
    TableFormatError,
    TableNotFoundError,
)
from predictor_nas.spaces import get_space, key_decisions
from predictor_nas.tables._locations import cache_dir
from predictor_nas.tables._schema import COST_METRIC
from predictor_nas.tables._writer import DatasetData, MetricData, write_table

log = logging.getLogger(__name__)

TABLE_NAME = "nas-bench-graph"
SPACE = "nas_bench_graph"
PACKAGE = "nas-bench-graph==1.4.0"
#: The benchmark's datasets, in its own order.
DATASETS: tuple[str, ...] = (
    "cora",
    "citeseer",
    "pubmed",
    "cs",
    "physics",
    "photo",
    "computers",
    "arxiv",
    "proteins",
)
#: Where a dataset's file sits inside the wheel.
MEMBER = "nas_bench_graph/light/{}.bench"
FIELDS: tuple[str, ...] = ("valid_perf", "perf", "latency", "para")
#: Fidelity label of the accuracies (see the module docstring).
FIDELITY = 200
#: A .bench file larger than this is refused (the real ones are ~2 MB).
MAX_BYTES = 64 * 2**20
LICENSE = (
    "Apache-2.0 (PyPI nas-bench-graph 1.4.0, THUMNLab; see data/licenses/NAS-Bench-Graph-LICENSE)"
)
EXAMPLE = (
    "nas_bench_graph-1.4.0-py3-none-any.whl from `pip download --no-deps nas-bench-graph==1.4.0`"
)

_ALLOWED = "numpy.core.multiarray.scalar and numpy.dtype"
#: What a damaged or foreign pickle raises inside ``load`` (turned into ``TableFormatError``).
_LOAD_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    KeyError,
    MemoryError,
    RecursionError,
)


# --------------------------------------------------------------------------- restricted unpickler
class _DTypeStub:
    """What ``numpy.dtype("f8", ...)`` becomes: a record of the requested type, not a dtype."""

    __slots__ = ("byteorder", "code")

    def __init__(self, code: str) -> None:
        self.code = code
        self.byteorder = "="

    def __setstate__(self, state: Any) -> None:
        """The pickle's ``BUILD`` of the dtype: only a plain little-endian scalar type."""
        ok = (
            isinstance(state, tuple)
            and len(state) == 8
            and state[1] in ("<", "=")
            and state[2:5] == (None, None, None)
        )
        if not ok:
            raise pickle.UnpicklingError(f"refused the dtype state {state!r}")
        self.byteorder = state[1]


def _dtype(obj: Any, align: Any = False, copy: Any = False) -> _DTypeStub:
    if isinstance(obj, bytes):
        obj = obj.decode("latin1")
    if obj != "f8" or not isinstance(align, bool) or not isinstance(copy, bool):
        raise pickle.UnpicklingError(f"refused numpy.dtype({obj!r}): only 'f8' is expected")
    return _DTypeStub(obj)


def _scalar(dtype: Any, data: Any = None) -> np.float64:
    if not isinstance(dtype, _DTypeStub):
        raise pickle.UnpicklingError(f"refused a numpy scalar of type {type(dtype).__name__}")
    if isinstance(data, str):
        data = data.encode("latin1")
    if not isinstance(data, bytes) or len(data) != 8:
        raise pickle.UnpicklingError("refused a float64 scalar whose data is not 8 bytes")
    return np.frombuffer(data, dtype=np.dtype("<f8"))[0]


#: The only globals a NAS-Bench-Graph .bench pickle may name, mapped to checked stand-ins.
_GLOBALS: dict[tuple[str, str], Callable[..., Any]] = {
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy", "dtype"): _dtype,
}


class _BenchUnpickler(pickle.Unpickler):
    """Unpickler that resolves only ``_GLOBALS``; anything else is refused before it is called.

    ``find_class`` is how a pickle reaches any callable (``GLOBAL``, ``STACK_GLOBAL``, ``INST``,
    ``OBJ``, extension codes), so a crafted file cannot run code through it.
    """

    def __init__(self, file: io.BytesIO, where: str) -> None:
        super().__init__(file, encoding="latin1")
        self.where = where

    def find_class(self, module: str, name: str) -> Any:
        """The checked stand-in of an allowed global; ``TableFormatError`` for any other."""
        try:
            return _GLOBALS[(module, name)]
        except KeyError:
            raise TableFormatError(
                f"Refused to read {self.where}: the pickle asks for the global {module}.{name}; "
                f"a NAS-Bench-Graph .bench file may name only {_ALLOWED} (nothing was run)."
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        """Persistent ids are refused (the benchmark's files have none)."""
        raise TableFormatError(f"Refused to read {self.where}: it holds a persistent id {pid!r}.")


def load_bench(raw: bytes, where: str) -> dict[int, dict[str, float]]:
    """Unpickle and check one ``.bench`` file's bytes.

    Args:
        raw: The file's bytes.
        where: The file's name for messages (e.g. ``"x.whl:nas_bench_graph/light/cora.bench"``).

    Returns:
        key -> ``{"valid_perf", "perf", "latency", "para"}`` as Python floats (exact values).

    Raises:
        TableFormatError: A global other than ``_GLOBALS``, not a pickle, or records that are not
            ``{int key: {the four fields: finite float}}`` with valid keys; names ``where``.
    """
    try:
        obj = _BenchUnpickler(io.BytesIO(raw), where).load()
    except TableFormatError:
        raise
    except _LOAD_ERRORS as exc:
        raise TableFormatError(
            f"{where} is not a NAS-Bench-Graph .bench pickle: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(obj, dict):
        raise TableFormatError(
            f"{where} holds a {type(obj).__name__}; a .bench file holds a dict {{key: record}}."
        )
    out: dict[int, dict[str, float]] = {}
    for key, rec in obj.items():
        if isinstance(key, bool) or not isinstance(key, int):
            raise TableFormatError(f"{where}: key {key!r} is not an int.")
        try:
            key_decisions(key)
        except ValueError as exc:
            raise TableFormatError(f"{where}: {exc}") from None
        if not isinstance(rec, dict) or set(rec) != set(FIELDS):
            got = sorted(map(str, rec)) if isinstance(rec, dict) else type(rec).__name__
            raise TableFormatError(
                f"{where}: record {key} must have exactly the fields {', '.join(FIELDS)}; "
                f"got {got}."
            )
        values = {}
        for f in FIELDS:
            v = rec[f]
            if isinstance(v, bool) or not isinstance(v, float | np.float64) or not math.isfinite(v):
                raise TableFormatError(
                    f"{where}: record {key} field {f!r} is {v!r}; a finite float is expected."
                )
            values[f] = float(v)
        out[key] = values
    if not out:
        raise TableFormatError(f"{where} holds no records.")
    return out


# --------------------------------------------------------------------------- the source
def _find_wheel(folder: Path) -> Path | None:
    wheels = sorted(folder.glob("nas_bench_graph-*.whl"))
    return wheels[0] if len(wheels) == 1 else None


def bench_files(source: str | PathLike) -> dict[str, tuple[str, bytes]]:
    """The ``.bench`` files of ``source``: dataset -> (name for messages, bytes).

    ``source`` is the wheel, a folder holding it, the extracted wheel (``nas_bench_graph/light``
    inside), the package folder or its ``light`` folder. Datasets whose file is absent are left
    out; at least one must be there.

    Raises:
        TableNotFoundError: no such file or folder, or no ``.bench`` file in it.
        TableFormatError: the wheel is not a zip, or a member is larger than ``MAX_BYTES``.
    """
    src = Path(os.fspath(source)).expanduser()
    shown = src.name or os.fspath(source)
    if src.is_dir():
        for folder in (src, src / "light", src / "nas_bench_graph" / "light"):
            found = {
                ds: folder / f"{ds}.bench" for ds in DATASETS if (folder / f"{ds}.bench").is_file()
            }
            if found:
                return {
                    ds: (f"{shown}/{p.relative_to(src)}", _read_file(p)) for ds, p in found.items()
                }
        wheel = _find_wheel(src)
        if wheel is not None:
            return _wheel_files(wheel)
    elif src.is_file():
        return _wheel_files(src)
    raise TableNotFoundError(
        f"Cannot import {TABLE_NAME!r} from {os.fspath(source)!r}: no NAS-Bench-Graph "
        f"<dataset>.bench file there (looked in it, light/, nas_bench_graph/light/ and for one "
        f"nas_bench_graph-*.whl). Expected the wheel ({EXAMPLE}), a folder holding it, or the "
        "extracted wheel."
    )


def _read_file(path: Path) -> bytes:
    if path.stat().st_size > MAX_BYTES:
        raise TableFormatError(f"{os.fspath(path)!r} is over {MAX_BYTES} bytes; not a .bench file.")
    return path.read_bytes()


def _wheel_files(wheel: Path) -> dict[str, tuple[str, bytes]]:
    where = os.fspath(wheel)
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            out = {}
            for ds in DATASETS:
                member = MEMBER.format(ds)
                if member not in names:
                    continue
                if zf.getinfo(member).file_size > MAX_BYTES:
                    raise TableFormatError(f"{where!r}: {member} is over {MAX_BYTES} bytes.")
                out[ds] = (f"{wheel.name}:{member}", zf.read(member))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise TableFormatError(
            f"{where!r} is not a readable wheel (zip) of {PACKAGE}: {exc}"
        ) from None
    if not out:
        raise TableNotFoundError(
            f"Cannot import {TABLE_NAME!r} from {where!r}: the zip has no "
            f"{MEMBER.format('<dataset>')} member; expected {EXAMPLE}."
        )
    return out


def read_benchmark(
    source: str | PathLike,
) -> tuple[dict[str, dict[int, dict[str, float]]], dict[str, str], str]:
    """Every dataset's checked records, where each came from, and a digest of the files.

    Returns:
        (dataset -> key -> record, dataset -> file name for messages, ``"sha256:<hex>"`` over
        the dataset names and file digests: the same for the wheel and the extracted folder).
    """
    files = bench_files(source)
    data = {ds: load_bench(raw, where) for ds, (where, raw) in files.items()}
    h = hashlib.sha256()
    for ds, (_, raw) in sorted(files.items()):
        h.update(f"{ds}:{hashlib.sha256(raw).hexdigest()}\n".encode())
    return data, {ds: where for ds, (where, _) in files.items()}, f"sha256:{h.hexdigest()}"


def benchmark_keys(source: str | PathLike) -> list[int]:
    """Sorted union of the keys of every dataset of ``source`` (what the space lists)."""
    data, _, _ = read_benchmark(source)
    return sorted(set().union(*(set(d) for d in data.values())))


# --------------------------------------------------------------------------- the table
_DESC = {
    "val_acc": "NAS-Bench-Graph validation performance of {ds}: the light file's 'valid_perf' "
    "times 100 (a fraction in the file, % here). Accuracy on the node-classification datasets; "
    "for proteins the benchmark's own measure (OGB scores ogbn-proteins by ROC-AUC; the file "
    "does not say).",
    "test_acc": "NAS-Bench-Graph test performance of {ds}: the light file's 'perf' times 100 "
    "(a fraction in the file, % here); same measure as val_acc. Report it, never search on it.",
    "latency": "NAS-Bench-Graph inference latency of {ds} in seconds, the light file's "
    "'latency' as is (fidelity 0: a property of the architecture).",
    "params": "NAS-Bench-Graph parameter count of the {ds} model in millions, the light file's "
    "'para' as is (fidelity 0: a property of the architecture).",
}
_AGG_NOTE = (
    " Fidelity 200 labels the benchmark's full training (epochs tuned per dataset among 200, "
    "300, 400, 500; not recorded in the light files). One value per architecture, apparently "
    "the mean over the benchmark's 3 seeds (stored as aggregated)."
)
_METRICS: tuple[tuple[str, str, float | None, str, bool, int], ...] = (
    ("val_acc", "valid_perf", 100.0, "%", True, FIDELITY),
    ("test_acc", "perf", 100.0, "%", True, FIDELITY),
    ("latency", "latency", None, "s", False, 0),
    ("params", "para", None, "M", False, 0),
)


def _dataset(
    ds: str,
    records: Mapping[int, Mapping[str, float]],
    rows: Mapping[int, int],
    n: int,
    digest: str,
) -> DatasetData:
    """One dataset's metrics: (n, 1) arrays, NaN where the benchmark has no record."""
    idx = np.array([rows[k] for k in records], dtype=np.int64)
    metrics: dict[str, MetricData] = {}
    for name, field, scale, unit, hib, fid in _METRICS:
        arr = np.full((n, 1), np.nan)
        vals = np.array([records[k][field] for k in records], dtype=np.float64)
        arr[idx, 0] = vals * scale if scale is not None else vals
        metrics[name] = MetricData(
            values={fid: arr},
            unit=unit,
            description=_DESC[name].format(ds=ds)
            + (_AGG_NOTE if fid else "")
            + f" {len(records)} of {n} architectures have a value (NaN = not in the benchmark).",
            higher_is_better=hib,
            source=f"{PACKAGE} nas_bench_graph/light/{ds}.bench field {field!r} ({digest})",
            aggregated=[fid] if fid else (),
        )
    metrics[COST_METRIC] = MetricData(
        values={0: np.full((n, 1), np.nan), FIDELITY: np.full((n, 1), np.nan)},
        unit="s",
        description="Training cost: NOT MEASURED (the light files hold no training time); NaN "
        "everywhere, so cost-aware budgets cannot use this table.",
        higher_is_better=False,
        source=f"{PACKAGE} (no training time in the light files)",
    )
    return DatasetData(
        metrics=metrics,
        description=f"{ds}: NAS-Bench-Graph light benchmark, {len(records)} architectures.",
    )


def import_nas_bench_graph(
    source: str | PathLike,
    *,
    out: str | PathLike | None = None,
    overwrite: bool = False,
) -> tuple[str, str]:
    """Import NAS-Bench-Graph's light benchmark into the table ``nas-bench-graph``.

    Args:
        source: The ``nas-bench-graph==1.4.0`` wheel, a folder holding it, or its extracted files
            (see ``bench_files``).
        out: Destination ``.h5``; default ``cache_dir() / "nas-bench-graph.h5"``.
        overwrite: Replace an existing ``out``.

    Returns:
        ``(path written, content hash)``.

    Raises:
        TableNotFoundError: no ``.bench`` file in ``source``.
        TableFormatError: a file that names a forbidden global, is not a pickle of records, or
            has a key the ``nas_bench_graph`` space does not list (naming the file and key).
        InvalidParameterError: ``out`` exists and ``overwrite`` is False.
    """
    out_path = (
        Path(os.fspath(out)).expanduser() if out is not None else cache_dir() / f"{TABLE_NAME}.h5"
    )
    if out_path.exists() and not overwrite:
        raise InvalidParameterError(
            f"{os.fspath(out_path)!r} already exists; pass overwrite=True (CLI: --overwrite) to "
            "replace it."
        )
    data, wheres, digest = read_benchmark(source)
    space = get_space(SPACE)
    keys = sorted(set().union(*(set(d) for d in data.values())))
    for ds, recs in data.items():
        for k in recs:
            try:
                space.from_key(k)
            except InvalidArchitectureError as exc:
                raise TableFormatError(
                    f"{wheres[ds]}: key {k} is not an architecture of space {SPACE!r}: {exc}"
                ) from None
    rows = {k: i for i, k in enumerate(keys)}
    archs = [space.format(space.from_key(k)) for k in keys]
    datasets = {
        ds: _dataset(ds, data[ds], rows, len(keys), digest) for ds in DATASETS if ds in data
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    counts = ", ".join(f"{ds} {len(data[ds])}" for ds in datasets)
    chash = write_table(
        out_path,
        name=TABLE_NAME,
        space=SPACE,
        archs=archs,
        datasets=datasets,
        description=f"NAS-Bench-Graph light benchmark ({len(keys):,} GNN architectures of the "
        f"nas_bench_graph space; architectures per dataset: {counts}): validation and test "
        "performance (%), inference latency (s), parameters (M); training cost not in the source.",
        license=LICENSE,
        source=f"{PACKAGE}, nas_bench_graph/light/<dataset>.bench read with a restricted "
        f"unpickler ({digest})",
        overwrite=overwrite,
    )
    log.info("wrote %s (%d archs; %s), content hash %s", out_path, len(keys), counts, chash)
    return os.fspath(out_path), chash
