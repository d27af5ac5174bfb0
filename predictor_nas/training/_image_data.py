"""Image datasets in memory: ImageData, building one from arrays, and stratified splits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from predictor_nas._validation import check_choice, check_float, check_int, param_error
from predictor_nas.exceptions import InvalidParameterError

#: Augmentations the trainer knows: none, or random crop (4 px zero padding) + horizontal flip
#: (NAS-Bench-201's CIFAR recipe), or the random crop alone (for images that must not be flipped).
AUGMENTATIONS: tuple[str, ...] = ("none", "crop_flip", "crop")


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
    ys = {k: _check_labels(v, len(xs["x" + k[1:]]), num_classes, k, owner) for k, v in raw.items()}
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


def stratified_split(y: np.ndarray, fractions: tuple[float, ...], seed: int) -> list[np.ndarray]:
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
