"""Image datasets for real training: scikit-learn's digits, CIFAR-10 from disk, user arrays.

Everything here is numpy (no torch import): an :class:`ImageData` holds the raw images of the
train / validation / test splits as ``(n, C, H, W)`` arrays and the per-channel mean and std of
the training split; the trainer normalises on the device, batch by batch, so CIFAR-10 stays in
``uint8`` (184 MB) instead of ``float32`` (737 MB).

CIFAR-10 comes in two official layouts. ``cifar-10-batches-bin`` is plain bytes and read as such.
``cifar-10-batches-py`` holds Python pickles; the project never loads an untrusted pickle, so the
files are first checked against torchvision's published MD5s and then read with a restricted
unpickler that can build nothing but ``uint8``/integer numpy arrays, lists, dicts and strings: a
file that asks for anything else (``os.system``, ``builtins.eval``...) is refused before any of
it runs.
"""

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
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.exceptions import DatasetError, InvalidParameterError

log = logging.getLogger(__name__)

#: Augmentations the trainer knows: none, or random crop (4 px zero padding) + horizontal flip
#: (NAS-Bench-201's CIFAR recipe), or the random crop alone (for images that must not be flipped).
AUGMENTATIONS: tuple[str, ...] = ("none", "crop_flip", "crop")

#: Datasets ``load_dataset`` knows by name.
DATASETS: tuple[str, ...] = ("digits", "cifar10")

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
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
_CIFAR_PIXELS = 3 * 32 * 32
_CIFAR_RECORDS = 10_000


@dataclass(frozen=True, eq=False)
class ImageData:
    """Train / validation / (optional) test splits of an image classification dataset.

    Attributes:
        name: Dataset name (``"digits"``, ``"cifar10"``, or the user's).
        x_train: Raw images, array (n_train, C, H, W), ``uint8`` or ``float32``.
        y_train: Labels, int64 array (n_train,) in ``[0, num_classes)``.
        x_val: Validation images (n_val, C, H, W); the search reads only these.
        y_val: int64 (n_val,).
        x_test: Test images (n_test, C, H, W) or ``None``; only for reporting.
        y_test: int64 (n_test,) or ``None``.
        num_classes: Number of classes.
        mean: Per-channel mean of ``x_train`` (C,), in the raw units; the trainer feeds the
            network ``(x - mean) / std``.
        std: Per-channel std of ``x_train`` (C,) (1 where a channel is constant).
        augment: Default training augmentation, one of ``AUGMENTATIONS``.
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_val: np.ndarray = field(repr=False)
    y_val: np.ndarray = field(repr=False)
    x_test: np.ndarray | None = field(repr=False, default=None)
    y_test: np.ndarray | None = field(repr=False, default=None)
    num_classes: int = 10
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    augment: str = "none"

    @property
    def in_channels(self) -> int:
        """Number of image channels C."""
        return int(self.x_train.shape[1])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        c, h, w = self.x_train.shape[1:]
        return int(c), int(h), int(w)

    @property
    def has_test(self) -> bool:
        """Whether a test split is present."""
        return self.x_test is not None

    def sizes(self) -> dict[str, int]:
        """Number of images per split."""
        out = {"train": len(self.y_train), "val": len(self.y_val)}
        if self.y_test is not None:
            out["test"] = len(self.y_test)
        return out

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 over every split's shape, dtype and bytes, the normalisation and augmentation.

        Checkpoints store it, so a resumed run refuses to continue on different data.
        """
        h = hashlib.sha256()
        h.update(repr((self.name, self.num_classes, self.mean, self.std, self.augment)).encode())
        for arr in (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test):
            if arr is None:
                h.update(b"none")
                continue
            h.update(repr((arr.shape, arr.dtype.str)).encode())
            h.update(np.ascontiguousarray(arr).data)
        return h.hexdigest()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes().items())
        return (
            f"ImageData({self.name!r}, {sizes}, input_shape={self.input_shape}, "
            f"num_classes={self.num_classes}, augment={self.augment!r})"
        )


# --------------------------------------------------------------------------- user arrays
def _as_array(x: Any, name: str, owner: str) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise param_error(name, owner, "an array", type(x).__name__) from exc


def _check_images(x: Any, name: str, owner: str) -> np.ndarray:
    a = _as_array(x, name, owner)
    if a.ndim == 3:  # (n, H, W): one channel
        a = a[:, None]
    if a.ndim != 4:
        raise param_error(
            name, owner, "an array of images (n, C, H, W) or (n, H, W)", f"shape {a.shape}"
        )
    if a.dtype == np.uint8:
        pass
    elif a.dtype.kind in "iuf" and a.dtype != np.bool_:
        a = a.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} holds non-finite values (NaN or inf)."
            )
    else:
        raise param_error(name, owner, "an array of uint8, integer or float pixels", f"{a.dtype}")
    if a.shape[0] < 1 or min(a.shape[1:]) < 1:
        raise param_error(name, owner, "a non-empty array of images", f"shape {a.shape}")
    return np.ascontiguousarray(a)


#: Most classes ``from_arrays`` accepts (ImageNet-21k has 21,841): a classifier head of 100,000
#: classes at width 64 is 25.6 MB; a label beyond it is almost surely a stray id, not a class.
MAX_CLASSES = 100_000


def _check_labels(y: Any, n: int, num_classes: int, name: str, owner: str) -> np.ndarray:
    a = _as_array(y, name, owner)
    if a.ndim != 1 or len(a) != n:
        raise param_error(name, owner, f"a 1-D array of {n} labels (one per image)", a.shape)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise param_error(name, owner, "integer class labels", "non-integer values")
    elif a.dtype.kind not in "iu" or a.dtype == np.bool_:
        raise param_error(name, owner, "integer class labels", f"dtype {a.dtype}")
    a = a.astype(np.int64)
    bad = (a < 0) | (a >= num_classes)
    if bad.any():
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must hold labels in [0, {num_classes - 1}]. "
            f"Got {int(a[bad][0])} at position {int(np.flatnonzero(bad)[0])} instead."
        )
    return a


def _channel_stats(x: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    mean = np.zeros(x.shape[1])
    sq = np.zeros(x.shape[1])
    for start in range(0, len(x), 4096):  # float64 in chunks: exact enough, bounded memory
        chunk = x[start : start + 4096].astype(np.float64)
        mean += chunk.sum(axis=(0, 2, 3))
        sq += (chunk**2).sum(axis=(0, 2, 3))
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean /= count
    std = np.sqrt(np.maximum(sq / count - mean**2, 0.0))
    std = np.where(std > 1e-8, std, 1.0)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def from_arrays(
    x_train: Any,
    y_train: Any,
    x_val: Any,
    y_val: Any,
    x_test: Any = None,
    y_test: Any = None,
    *,
    num_classes: int | None = None,
    name: str = "arrays",
    augment: str = "none",
) -> ImageData:
    """Wrap user-supplied arrays (numpy or CPU torch tensors) as an :class:`ImageData`.

    Args:
        x_train: Images (n, C, H, W) or (n, H, W); ``uint8`` kept as is, other integer or float
            dtypes become ``float32``; NaN/inf refused.
        y_train: Integer labels (n,).
        x_val: Validation images, same (C, H, W) as ``x_train``.
        y_val: Validation labels.
        x_test: Optional test images; give both ``x_test`` and ``y_test`` or neither.
        y_test: Optional test labels.
        num_classes: Number of classes, 2..``MAX_CLASSES``; ``None`` = ``max label + 1`` over
            all splits (>= 2). Labels must be ints in ``[0, num_classes)``; a label of
            ``MAX_CLASSES`` or more is refused rather than inferred (one stray label of 10**9
            would otherwise size a 10**9-way classifier), so sparse label ids must be relabelled
            to 0..K-1 first.
        name: Dataset name for reports and checkpoints.
        augment: Default training augmentation, one of ``AUGMENTATIONS``.

    Returns:
        The ``ImageData``, with mean/std computed on ``x_train``.

    Raises:
        InvalidParameterError: wrong shapes, dtypes, label values or mismatched splits.
    """
    owner = "from_arrays"
    check_choice(augment, "augment", owner, AUGMENTATIONS)
    if (x_test is None) != (y_test is None):
        raise InvalidParameterError(
            "from_arrays needs both x_test and y_test, or neither; got only one of them."
        )
    xs = {"x_train": _check_images(x_train, "x_train", owner)}
    xs["x_val"] = _check_images(x_val, "x_val", owner)
    if x_test is not None:
        xs["x_test"] = _check_images(x_test, "x_test", owner)
    shape = xs["x_train"].shape[1:]
    for k, v in xs.items():
        if v.shape[1:] != shape:
            raise InvalidParameterError(
                f"Every split of from_arrays must have the images of x_train, shape (C, H, W) = "
                f"{shape}; {k} has {v.shape[1:]}."
            )
    if len({v.dtype for v in xs.values()}) > 1:  # one dtype, so normalisation is the same
        xs = {k: v.astype(np.float32) for k, v in xs.items()}
    raw = {"y_train": y_train, "y_val": y_val}
    if y_test is not None:
        raw["y_test"] = y_test
    if num_classes is None:
        top = -1
        for k, v in raw.items():
            a = _as_array(v, k, owner)
            if a.size and a.dtype.kind in "iuf" and np.all(np.isfinite(a)):
                top = max(top, int(np.max(a)))
                if top >= MAX_CLASSES:
                    raise InvalidParameterError(
                        f"The {k!r} parameter of {owner} holds label {top}, so num_classes would "
                        f"be {top + 1}; at most {MAX_CLASSES} classes are supported. Labels must "
                        "be 0..K-1: relabel them (np.unique(y, return_inverse=True)) or pass "
                        "num_classes."
                    )
        num_classes = max(top + 1, 2)
    num_classes = check_int(num_classes, "num_classes", owner, minimum=2)
    if num_classes > MAX_CLASSES:
        raise param_error("num_classes", owner, f"an int in [2, {MAX_CLASSES}]", num_classes)
    ys = {
        k: _check_labels(v, len(xs["x" + k[1:]]), num_classes, k, owner) for k, v in raw.items()
    }
    mean, std = _channel_stats(xs["x_train"])
    return ImageData(
        name=str(name),
        x_train=xs["x_train"],
        y_train=ys["y_train"],
        x_val=xs["x_val"],
        y_val=ys["y_val"],
        x_test=xs.get("x_test"),
        y_test=ys.get("y_test"),
        num_classes=num_classes,
        mean=mean,
        std=std,
        augment=augment,
    )


# --------------------------------------------------------------------------- splits
def _check_fractions(val_fraction: float, test_fraction: float, owner: str) -> None:
    check_float(val_fraction, "val_fraction", owner, minimum=0.0, exclusive=True)
    check_float(test_fraction, "test_fraction", owner, minimum=0.0)
    if val_fraction + test_fraction >= 1.0:
        raise InvalidParameterError(
            f"The 'val_fraction' and 'test_fraction' parameters of {owner} must leave images to "
            f"train on (sum < 1). Got {val_fraction} + {test_fraction} instead."
        )


def stratified_split(
    y: np.ndarray, fractions: tuple[float, ...], seed: int
) -> list[np.ndarray]:
    """Seeded stratified split of indices.

    Args:
        y: Labels, int array (n,).
        fractions: Share of each class in each of the first ``k`` parts; the rest forms the last.
        seed: Seed of the shuffle.

    Returns:
        ``k + 1`` sorted int64 index arrays that partition ``range(n)``; per class, part ``i``
        gets ``round(fractions[i] * n_class)`` images.
    """
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        start = 0
        for i, f in enumerate(fractions):
            k = round(f * len(idx))
            parts[i].append(idx[start : start + k])
            start += k
        parts[-1].append(idx[start:])
    return [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]


# --------------------------------------------------------------------------- digits
def load_digits_data(
    seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2
) -> ImageData:
    """scikit-learn's handwritten digits (1,797 images, 8x8x1, 10 classes; ships with sklearn).

    A seeded stratified split into train / validation / test; search on the validation split,
    report the test split.

    Args:
        seed: Seed of the split.
        val_fraction: Share of each class in the validation split, in (0, 1).
        test_fraction: Share in the test split, in [0, 1); 0 = no test split.

    Returns:
        ``ImageData`` with float32 pixels in [0, 16], shape (n, 1, 8, 8), no augmentation.
    """
    owner = "load_digits_data"
    seed = check_int(seed, "seed", owner, minimum=0)
    _check_fractions(val_fraction, test_fraction, owner)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.float32)[:, None]
    y = bunch.target.astype(np.int64)
    if test_fraction > 0:
        val, test, train = stratified_split(y, (val_fraction, test_fraction), seed)
    else:
        (val, train), test = stratified_split(y, (val_fraction,), seed), None
    mean, std = _channel_stats(x[train])
    return ImageData(
        name="digits",
        x_train=x[train],
        y_train=y[train],
        x_val=x[val],
        y_val=y[val],
        x_test=None if test is None else x[test],
        y_test=None if test is None else y[test],
        num_classes=10,
        mean=mean,
        std=std,
        augment="none",
    )


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


def load_dataset(
    name: str, *, root: str | os.PathLike[str] | None = None, seed: int = 0, download: bool = False
) -> ImageData:
    """Load a dataset by name (``DATASETS``); the CLI's ``--dataset``.

    Args:
        name: ``"digits"`` or ``"cifar10"``.
        root: Folder of CIFAR-10 (required for it; ignored for digits).
        seed: Seed of the split.
        download: Allow fetching CIFAR-10 when it is missing.
    """
    check_choice(name, "dataset", "load_dataset", DATASETS)
    if name == "digits":
        return load_digits_data(seed)
    if root is None:
        raise InvalidParameterError(
            "CIFAR-10 needs a data folder: pass root= (CLI: --data-root) holding "
            f"{CIFAR10_PY_FOLDER} or {CIFAR10_BIN_FOLDER}."
        )
    return load_cifar10(root, download=download, seed=seed)
