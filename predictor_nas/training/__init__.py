"""Real training: image datasets (digits, CIFAR-10, user arrays) and a seeded, checkpointed trainer.

Importing this package does not import torch (``train`` imports it when called); the datasets
are numpy arrays.
"""

from predictor_nas.training._checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from predictor_nas.training._config import TrainConfig
from predictor_nas.training._datasets import (
    AUGMENTATIONS,
    CIFAR10_CLASSES,
    CIFAR10_PY_MD5,
    CIFAR10_TGZ_MD5,
    CIFAR10_URL,
    DATASETS,
    ImageData,
    from_arrays,
    load_cifar10,
    load_cifar_pickle,
    load_dataset,
    load_digits_data,
    md5_file,
    stratified_split,
)
from predictor_nas.training._final import FINAL_FORMAT, FinalResult, load_trained, train_final
from predictor_nas.training._runtime import autocast, resolve_amp, resolve_device, torch_threads
from predictor_nas.training._steps import augment_batch, evaluate_accuracy
from predictor_nas.training._trainer import TrainResult, train

__all__ = [
    "AUGMENTATIONS",
    "CHECKPOINT_FORMAT",
    "CIFAR10_CLASSES",
    "CIFAR10_PY_MD5",
    "CIFAR10_TGZ_MD5",
    "CIFAR10_URL",
    "DATASETS",
    "FINAL_FORMAT",
    "FinalResult",
    "ImageData",
    "TrainConfig",
    "TrainResult",
    "augment_batch",
    "autocast",
    "evaluate_accuracy",
    "from_arrays",
    "load_checkpoint",
    "load_cifar10",
    "load_cifar_pickle",
    "load_dataset",
    "load_digits_data",
    "load_trained",
    "md5_file",
    "resolve_amp",
    "resolve_device",
    "save_checkpoint",
    "stratified_split",
    "torch_threads",
    "train",
    "train_final",
]
