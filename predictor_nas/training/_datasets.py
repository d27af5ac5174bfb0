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

import logging
import os

import numpy as np

from predictor_nas._lazy import sklearn_datasets
from predictor_nas._validation import check_choice, check_int
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.training._cifar10 import (
    CIFAR10_BIN_FOLDER,
    CIFAR10_CLASSES,
    CIFAR10_PY_FOLDER,
    CIFAR10_PY_MD5,
    CIFAR10_TGZ_MD5,
    CIFAR10_URL,
    load_cifar10,
    load_cifar_pickle,
    md5_file,
)
from predictor_nas.training._image_data import (
    AUGMENTATIONS,
    MAX_CLASSES,
    ImageData,
    _channel_stats,
    _check_fractions,
    from_arrays,
    stratified_split,
)

# Re-exported: the package face imports the dataset API from here.
__all__ = [
    "AUGMENTATIONS",
    "CIFAR10_CLASSES",
    "CIFAR10_PY_MD5",
    "CIFAR10_TGZ_MD5",
    "CIFAR10_URL",
    "DATASETS",
    "MAX_CLASSES",
    "ImageData",
    "from_arrays",
    "load_cifar10",
    "load_cifar_pickle",
    "load_dataset",
    "load_digits_data",
    "md5_file",
    "stratified_split",
]

log = logging.getLogger(__name__)


#: Datasets ``load_dataset`` knows by name.
DATASETS: tuple[str, ...] = ("digits", "cifar10")


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

    bunch = sklearn_datasets.load_digits()
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
