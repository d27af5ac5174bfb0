"""CIFAR-10 from its official files (either layout), read without unpickling arbitrary objects."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas._validation import check_choice, check_int
from predictor_nas.exceptions import DatasetError
from predictor_nas.training._image_data import (
    AUGMENTATIONS,
    ImageData,
    _channel_stats,
    _check_fractions,
    stratified_split,
)

log = logging.getLogger(__name__)


CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


CIFAR10_TGZ_MD5 = "c58f30108f718f92721af3b95e74349a"


CIFAR10_PY_FOLDER = "cifar-10-batches-py"


CIFAR10_BIN_FOLDER = "cifar-10-batches-bin"


#: torchvision's published MD5 of each file of ``cifar-10-batches-py``.
CIFAR10_PY_MD5: dict[str, str] = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}


CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))


CIFAR10_TEST_FILE = "test_batch"


CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


_CIFAR_PIXELS = 3 * 32 * 32


_CIFAR_RECORDS = 10_000


# --------------------------------------------------------------------------- CIFAR-10
def md5_file(path: str | os.PathLike[str]) -> str:
    """Hex MD5 of a file (read in 1 MiB chunks)."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _safe_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """What ``numpy.core.multiarray._reconstruct`` does, for plain ndarrays only.

    The array is an empty shell; its dtype and bytes come from ``__setstate__`` next, and that
    dtype is built by ``_safe_dtype`` (integers only, so no object array ever unpickles items).
    """
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"refused to build an array of type {subtype!r}")
    if isinstance(dtype, bytes):
        dtype = dtype.decode("latin1")
    if not isinstance(dtype, str) or np.dtype(dtype).kind not in "biu":
        raise pickle.UnpicklingError(f"refused an array shell of dtype {dtype!r}")
    return np.ndarray(shape=tuple(int(s) for s in shape), dtype=np.dtype(dtype))


def _safe_dtype(obj: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if isinstance(obj, bytes):
        obj = obj.decode("latin1")
    if not isinstance(obj, str):
        raise pickle.UnpicklingError(f"refused a dtype built from {type(obj).__name__}")
    dt = np.dtype(obj)
    if dt.kind not in "biu":  # CIFAR batches hold uint8 pixels; labels are Python ints
        raise pickle.UnpicklingError(f"refused dtype {obj!r} (only integer arrays are allowed)")
    return np.dtype(obj, bool(align), bool(copy))


def _safe_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("refused _codecs.encode with unexpected arguments")
    return text.encode("latin1")


#: The only globals a CIFAR-10 batch pickle may name, mapped to checked replacements.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,  # Python 2 / numpy 1 files
    ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,  # numpy 2 files
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _safe_encode,  # bytes in protocol-2 pickles written by Python 3
}


class _CifarUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals a CIFAR-10 batch needs (see ``_ALLOWED_GLOBALS``).

    ``find_class`` is the only way a pickle reaches code, so refusing every other name means a
    crafted file cannot run anything.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"the file asks for {module}.{name}, which a CIFAR-10 batch never needs"
            ) from None


def load_cifar_pickle(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read one CIFAR batch pickle with the restricted unpickler.

    Args:
        path: A file of ``cifar-10-batches-py``.

    Returns:
        Its dict with ``str`` keys (``"data"``: uint8 (n, 3072), ``"labels"``: list of ints...).

    Raises:
        DatasetError: The file names anything but numpy integer arrays, or is not a pickle.
    """
    raw = Path(path).read_bytes()
    try:
        obj = _CifarUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DatasetError(
            f"Refused to load {path}: {exc}. It is not a genuine CIFAR-10 batch; delete it and "
            "fetch the official archive."
        ) from exc
    if not isinstance(obj, dict):
        raise DatasetError(f"{path} holds a {type(obj).__name__}, not a CIFAR-10 batch dict.")
    return {(k.decode("latin1") if isinstance(k, bytes) else str(k)): v for k, v in obj.items()}


def _batch_arrays(entry: Mapping[str, Any], path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = entry.get("data")
    labels = entry.get("labels", entry.get("fine_labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DatasetError(f"{path}: 'data' is not a uint8 array (n, 3072).")
    if data.shape[1] != _CIFAR_PIXELS or labels is None or len(labels) != len(data):
        raise DatasetError(
            f"{path}: expected 'data' of shape (n, {_CIFAR_PIXELS}) and one label per image; got "
            f"{data.shape} and {None if labels is None else len(labels)} labels."
        )
    y = np.asarray(labels, dtype=np.int64)
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DatasetError(f"{path}: labels outside 0..9.")
    return data.reshape(-1, 3, 32, 32), y


def _read_py_folder(
    folder: Path, md5: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    parts = []
    for fname in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE):
        path = folder / fname
        if not path.is_file():
            raise DatasetError(f"{path} is missing; the CIFAR-10 folder is incomplete.")
        expected = md5.get(fname)
        if expected is None:
            raise DatasetError(f"No MD5 is known for {fname}; pass it in md5=.")
        got = md5_file(path)
        if got != expected:
            raise DatasetError(
                f"{path} fails its checksum (MD5 {got}, expected {expected}): the file is "
                "damaged or not the official one. It was not read; delete it and fetch the "
                "official archive again."
            )
        parts.append(_batch_arrays(load_cifar_pickle(path), path))
    x_train = np.concatenate([p[0] for p in parts[:-1]])
    y_train = np.concatenate([p[1] for p in parts[:-1]])
    return x_train, y_train, parts[-1][0], parts[-1][1]


def _read_bin_file(path: Path, md5: Mapping[str, str] | None) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing; the CIFAR-10 folder is incomplete.")
    rec = 1 + _CIFAR_PIXELS
    size = path.stat().st_size
    if md5 is None:
        # No per-file MD5s are published for the binary version: check the exact official size.
        if size != _CIFAR_RECORDS * rec:
            raise DatasetError(
                f"{path} has {size} bytes; an official CIFAR-10 binary batch has "
                f"{_CIFAR_RECORDS * rec}. The file is damaged or not the official one."
            )
    else:
        expected = md5.get(path.name)
        got = md5_file(path)
        if expected is None or got != expected:
            raise DatasetError(
                f"{path} fails its checksum (MD5 {got}, expected {expected}); it was not read."
            )
        if size % rec:
            raise DatasetError(f"{path}: {size} bytes is not a whole number of {rec}-byte records.")
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, rec)
    y = raw[:, 0].astype(np.int64)
    if y.size and y.max() > 9:
        raise DatasetError(f"{path}: labels outside 0..9; not a CIFAR-10 binary batch.")
    return np.ascontiguousarray(raw[:, 1:].reshape(-1, 3, 32, 32)), y


def _read_bin_folder(
    folder: Path, md5: Mapping[str, str] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    parts = [_read_bin_file(folder / f"{f}.bin", md5) for f in CIFAR10_TRAIN_FILES]
    x_test, y_test = _read_bin_file(folder / f"{CIFAR10_TEST_FILE}.bin", md5)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        x_test,
        y_test,
    )


def _download_cifar10(
    root: Path, *, url: str = CIFAR10_URL, md5: str = CIFAR10_TGZ_MD5, timeout: float = 60.0
) -> None:
    """Fetch the CIFAR-10 python tarball into ``root``, check its MD5 and extract it safely."""
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".cifar-10-download-", suffix=".tar.gz")
    try:
        log.info("downloading %s", url)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310
                shutil.copyfileobj(r, out, length=1 << 20)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DatasetError(
                f"Could not download CIFAR-10 from {url} ({exc}). Without network access, fetch "
                f"that file elsewhere and extract it into {root} (it holds {CIFAR10_PY_FOLDER})."
            ) from exc
        got = md5_file(tmp)
        if got != md5:
            raise DatasetError(
                f"The downloaded {url} has MD5 {got}, expected {md5}; nothing was extracted."
            )
        with tarfile.open(tmp, "r:gz") as tar:
            tar.extractall(root, filter="data")  # no absolute paths, links out, devices
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_cifar10(
    root: str | os.PathLike[str],
    *,
    download: bool = False,
    val_fraction: float = 0.5,
    seed: int = 0,
    md5: Mapping[str, str] | None = None,
    augment: str = "crop_flip",
) -> ImageData:
    """CIFAR-10 from a local folder in torchvision's layout; downloads only when asked.

    Reads ``root/cifar-10-batches-bin`` (plain bytes, preferred: no pickle at all) if present,
    else ``root/cifar-10-batches-py`` (each file MD5-checked, then read with the restricted
    unpickler; see the module docstring). The 50,000 training images are split, stratified and
    seeded, into train and validation (NAS-Bench-201's ``cifar10-valid`` protocol uses half and
    half, the default here); the 10,000 official test images are the test split.

    Args:
        root: Folder holding ``cifar-10-batches-py`` or ``cifar-10-batches-bin``.
        download: If neither folder exists, fetch the official archive (MD5-checked,
            ``c58f30108f718f92721af3b95e74349a``) into ``root``. Default: never download.
        val_fraction: Share of the training images held out for validation, in (0, 1).
        seed: Seed of the train/validation split.
        md5: Expected MD5 per file name, for a re-packed copy you trust (tests use it); ``None``
            = torchvision's published MD5s for the python files, and the exact official sizes
            for the binary ones.
        augment: Default training augmentation (NB201: ``"crop_flip"``).

    Returns:
        ``ImageData`` with uint8 pixels (n, 3, 32, 32).

    Raises:
        DatasetError: folder missing (and ``download`` not set), a file fails its checksum or is
            unsafe to read, or the download fails.
    """
    owner = "load_cifar10"
    seed = check_int(seed, "seed", owner, minimum=0)
    _check_fractions(val_fraction, 0.0, owner)
    check_choice(augment, "augment", owner, AUGMENTATIONS)
    root = Path(root).expanduser()
    bin_dir, py_dir = root / CIFAR10_BIN_FOLDER, root / CIFAR10_PY_FOLDER
    if not bin_dir.is_dir() and not py_dir.is_dir():
        if not download:
            raise DatasetError(
                f"CIFAR-10 not found: neither {py_dir} nor {bin_dir} exists. Extract the official "
                f"archive ({CIFAR10_URL}) into {root}, or pass download=True (CLI: "
                "--download) to fetch it."
            )
        _download_cifar10(root)
    if bin_dir.is_dir():
        x_tr, y_tr, x_te, y_te = _read_bin_folder(bin_dir, md5)
    else:
        x_tr, y_tr, x_te, y_te = _read_py_folder(py_dir, CIFAR10_PY_MD5 if md5 is None else md5)
    val, train = stratified_split(y_tr, (val_fraction,), seed)
    mean, std = _channel_stats(x_tr[train])
    return ImageData(
        name="cifar10",
        x_train=x_tr[train],
        y_train=y_tr[train],
        x_val=x_tr[val],
        y_val=y_tr[val],
        x_test=x_te,
        y_test=y_te,
        num_classes=10,
        mean=mean,
        std=std,
        augment=augment,
    )
