"""Datasets (digits, CIFAR-10 folders, user arrays) and the trainer: real PyTorch at tiny size."""

from __future__ import annotations

import hashlib
import os
import pickle
import tarfile

import numpy as np
import optuna
import pytest
import torch
from torch import nn

from predictor_nas.curves import CurvePruner, LastValueCurveModel
from predictor_nas.exceptions import DatasetError, InvalidParameterError
from predictor_nas.training import (
    CIFAR10_PY_MD5,
    ImageData,
    from_arrays,
    load_cifar10,
    load_cifar_pickle,
    load_dataset,
    load_digits_data,
    stratified_split,
    train,
)
from predictor_nas.training._cifar10 import _download_cifar10
from predictor_nas.training._trainer import _augment

PY_FILES = [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]


# --------------------------------------------------------------------------- helpers
def small_cnn() -> nn.Module:
    """A small real CNN for 8x8x1 digits (about 5k parameters)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, stride=2),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


@pytest.fixture(scope="module")
def digits() -> ImageData:
    return load_digits_data(seed=0)


def _md5(path) -> str:
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def write_py_folder(root, n_per_batch: int = 6, seed: int = 0) -> dict[str, str]:
    """Write a tiny cifar-10-batches-py folder in torchvision's format; return file MD5s."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for k, name in enumerate(PY_FILES):
        entry = {
            "batch_label": f"batch {k}",
            "labels": [int(v) for v in rng.integers(0, 10, n_per_batch)],
            "data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
            "filenames": [f"img_{k}_{i}.png" for i in range(n_per_batch)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f, protocol=2)
    return {name: _md5(folder / name) for name in PY_FILES}


class _SystemCall:
    """Pickles to a call of os.system (what a malicious 'dataset' file does)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


# --------------------------------------------------------------------------- digits / arrays
def test_digits_split_is_stratified_seeded_and_disjoint(digits):
    """Digits: 8x8x1 images, disjoint train/val/test covering all 1,797, stratified, seeded."""
    assert digits.input_shape == (1, 8, 8) and digits.in_channels == 1
    sizes = digits.sizes()
    assert sum(sizes.values()) == 1797 and sizes["val"] == 359 and sizes["test"] == 359
    for split in (digits.y_train, digits.y_val, digits.y_test):
        assert set(np.unique(split)) == set(range(10))
    counts = np.bincount(digits.y_val, minlength=10)
    assert counts.min() >= 34 and counts.max() <= 38  # ~20% of each ~180-image class
    again = load_digits_data(seed=0)
    assert np.array_equal(again.x_val, digits.x_val)
    other = load_digits_data(seed=1)
    assert not np.array_equal(other.y_val, digits.y_val)
    from sklearn.datasets import load_digits

    full = np.bincount(load_digits().target, minlength=10)
    together = np.concatenate([digits.y_train, digits.y_val, digits.y_test])
    assert np.array_equal(np.bincount(together, minlength=10), full)
    assert abs(np.mean((digits.x_train - digits.mean[0]) / digits.std[0])) < 1e-5


def test_stratified_split_partitions_indices():
    """stratified_split returns sorted disjoint index arrays covering range(n), per-class rounded."""
    y = np.repeat(np.arange(3), [10, 20, 30])
    a, b, rest = stratified_split(y, (0.1, 0.5), seed=3)
    assert np.array_equal(np.sort(np.concatenate([a, b, rest])), np.arange(60))
    assert np.bincount(y[a]).tolist() == [1, 2, 3]
    assert np.bincount(y[b]).tolist() == [5, 10, 15]


def test_from_arrays_validates_and_normalises():
    """from_arrays accepts (n,H,W) and tensors, computes channel stats, and names bad inputs."""
    rng = np.random.default_rng(0)
    x = rng.normal(5, 2, (20, 6, 6)).astype(np.float64)
    y = np.arange(20) % 4
    d = from_arrays(x, y, torch.tensor(x[:5]), y[:5], name="mine")
    assert d.input_shape == (1, 6, 6) and d.num_classes == 4 and d.x_train.dtype == np.float32
    assert d.mean[0] == pytest.approx(x.mean(), rel=1e-6)
    assert d.std[0] == pytest.approx(x.std(), rel=1e-5)
    assert not d.has_test
    with pytest.raises(InvalidParameterError, match=r"labels in \[0, 3\]\. Got 7 at position 2"):
        from_arrays(x, y, x[:5], [0, 1, 7, 0, 0], num_classes=4)
    with pytest.raises(InvalidParameterError, match=r"\(one per image\)"):
        from_arrays(x, y[:19], x[:5], y[:5])
    with pytest.raises(InvalidParameterError, match=r"\(C, H, W\) = \(1, 6, 6\); x_val has"):
        from_arrays(x, y, x[:5, :4], y[:5])
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(InvalidParameterError, match="non-finite"):
        from_arrays(bad, y, x[:5], y[:5])
    with pytest.raises(InvalidParameterError, match="uint8, integer or float"):
        from_arrays(x > 5, y, x[:5], y[:5])
    with pytest.raises(InvalidParameterError, match="integer class labels"):
        from_arrays(x, y + 0.5, x[:5], y[:5])
    with pytest.raises(InvalidParameterError, match="both x_test and y_test"):
        from_arrays(x, y, x[:5], y[:5], x_test=x[:3])
    with pytest.raises(InvalidParameterError, match=r"images \(n, C, H, W\)"):
        from_arrays(x[0, 0], y, x[:5], y[:5])


def test_split_fraction_errors():
    """Fractions that leave nothing to train on are refused with the standard message."""
    with pytest.raises(InvalidParameterError, match="sum < 1"):
        load_digits_data(val_fraction=0.6, test_fraction=0.4)
    with pytest.raises(InvalidParameterError, match="'val_fraction' parameter"):
        load_digits_data(val_fraction=0.0)
    with pytest.raises(InvalidParameterError, match="'dataset' parameter"):
        load_dataset("mnist")
    with pytest.raises(InvalidParameterError, match="needs a data folder"):
        load_dataset("cifar10")


# --------------------------------------------------------------------------- CIFAR-10
def test_cifar_py_folder_loads_exact_arrays(tmp_path):
    """A torchvision-format folder loads with the restricted unpickler: same pixels and labels."""
    md5 = write_py_folder(tmp_path, n_per_batch=6)
    d = load_cifar10(tmp_path, md5=md5, val_fraction=0.5, seed=0)
    assert d.input_shape == (3, 32, 32) and d.x_train.dtype == np.uint8
    sizes = d.sizes()
    assert sizes["test"] == 6 and sizes["train"] + sizes["val"] == 30 and sizes["val"] >= 10
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "rb") as f:
        ref = pickle.load(f)
    assert np.array_equal(d.x_test, ref["data"].reshape(-1, 3, 32, 32))
    assert d.y_test.tolist() == ref["labels"]
    entry = load_cifar_pickle(tmp_path / "cifar-10-batches-py" / "data_batch_1")
    assert entry["filenames"][0] == "img_0_0.png"
    assert d.augment == "crop_flip"


def test_cifar_default_checksums_refuse_unofficial_files(tmp_path):
    """With torchvision's MD5s, files that are not the official ones are refused before reading."""
    write_py_folder(tmp_path)
    with pytest.raises(DatasetError, match=r"data_batch_1 fails its checksum .*"
                       + CIFAR10_PY_MD5["data_batch_1"]):
        load_cifar10(tmp_path)


def test_cifar_tampered_file_is_refused(tmp_path):
    """Flipping one byte of a batch after its MD5 was recorded makes loading fail."""
    md5 = write_py_folder(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="data_batch_3 fails its checksum"):
        load_cifar10(tmp_path, md5=md5)


def test_malicious_pickle_is_refused_without_running(tmp_path):
    """A pickle that calls os.system is refused by name and its command never runs."""
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"data": _SystemCall(f"touch {marker}")}, protocol=2)
    md5 = write_py_folder(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(payload)
    md5["data_batch_2"] = _md5(path)  # the checksum passes: the unpickler must still refuse
    with pytest.raises(DatasetError, match=r"asks for (posix|os)\.system"):
        load_cifar10(tmp_path, md5=md5)
    with pytest.raises(DatasetError, match="not a genuine CIFAR-10 batch"):
        load_cifar_pickle(path)
    assert not marker.exists()


def test_object_array_pickle_is_refused(tmp_path):
    """An object-dtype numpy array (which would unpickle arbitrary items) is refused."""
    path = tmp_path / "obj"
    path.write_bytes(pickle.dumps({"data": np.array([1, "a"], dtype=object)}, protocol=2))
    with pytest.raises(DatasetError, match="dtype"):
        load_cifar_pickle(path)


def test_cifar_binary_folder(tmp_path):
    """cifar-10-batches-bin (label byte + 3072 pixel bytes per record) loads without pickle."""
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(1)
    md5 = {}
    records = {}
    for name in PY_FILES:
        rec = rng.integers(0, 256, (4, 3073), dtype=np.uint8)
        rec[:, 0] = rng.integers(0, 10, 4)
        (folder / f"{name}.bin").write_bytes(rec.tobytes())
        md5[f"{name}.bin"] = _md5(folder / f"{name}.bin")
        records[name] = rec
    d = load_cifar10(tmp_path, md5=md5, val_fraction=0.25)
    assert np.array_equal(d.x_test, records["test_batch"][:, 1:].reshape(-1, 3, 32, 32))
    assert d.y_test.tolist() == records["test_batch"][:, 0].tolist()
    assert sum(d.sizes().values()) == 24
    with pytest.raises(DatasetError, match="an official CIFAR-10 binary batch has 30730000"):
        load_cifar10(tmp_path)  # no MD5s published: exact official size required


def test_cifar_missing_folder_needs_explicit_download(tmp_path):
    """Without the folder and without download=True nothing is fetched and the error says how."""
    with pytest.raises(DatasetError, match="download=True"):
        load_cifar10(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_checks_md5_and_extracts(tmp_path):
    """The download path fetches a tarball (file:// URL), checks its MD5 and extracts it."""
    src = tmp_path / "src"
    md5 = write_py_folder(src)
    tgz = tmp_path / "cifar.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError, match=r"expected 0+; nothing was extracted"):
        _download_cifar10(dest, url=tgz.as_uri(), md5="0" * 32)
    assert not (dest / "cifar-10-batches-py").exists()
    assert list(dest.iterdir()) == []  # the partial download was removed
    _download_cifar10(dest, url=tgz.as_uri(), md5=_md5(tgz))
    d = load_cifar10(dest, md5=md5)
    assert d.sizes()["test"] == 6
    with pytest.raises(DatasetError, match="Could not download CIFAR-10"):
        _download_cifar10(tmp_path / "x", url=(tmp_path / "nope.tgz").as_uri())


# --------------------------------------------------------------------------- trainer
def test_training_digits_reaches_high_accuracy(digits):
    """A small CNN trained 5 epochs on digits gets > 85% validation accuracy (chance: 10%)."""
    r = train(small_cnn, digits, epochs=5, batch_size=32, lr=0.05, seed=0, num_threads=1, device="cpu")
    assert r.epochs_run == 5 and len(r.val_acc) == 5 and len(r.train_loss) == 5
    assert r.final_val_acc > 85.0
    assert r.test_acc is not None and r.test_acc > 85.0
    assert r.train_loss[-1] < r.train_loss[0] / 2
    assert not r.pruned and r.device == "cpu" and r.amp is None
    assert r.seconds > 0 and r.n_params == sum(p.numel() for p in small_cnn().parameters())


def test_training_is_deterministic_and_leaves_global_rng(digits):
    """Same seed -> bit-identical curves; another seed differs; torch's global RNG is untouched."""
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = train(small_cnn, digits, epochs=2, batch_size=64, seed=7, num_threads=1)
    assert torch.equal(torch.rand(3), expected_next)
    b = train(small_cnn, digits, epochs=2, batch_size=64, seed=7, num_threads=1)
    c = train(small_cnn, digits, epochs=2, batch_size=64, seed=8, num_threads=1)
    assert a.val_acc == b.val_acc and a.train_loss == b.train_loss
    assert a.train_loss != c.train_loss
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)


class _CrashAtEpoch:
    """Stands for a run killed during epoch ``n`` (raises from report); never prunes."""

    def __init__(self, n: int) -> None:
        self.n = n

    def report(self, value: float, step: int) -> None:
        if step == self.n:
            raise KeyboardInterrupt

    def should_prune(self) -> bool:
        return False


def test_checkpoint_resume_equals_uninterrupted_run(digits, tmp_path):
    """4 epochs straight == 2 epochs, crash, resume for 2 more (same curve, bit for bit)."""
    straight = train(small_cnn, digits, epochs=4, batch_size=64, seed=3, num_threads=1)
    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        train(small_cnn, digits, epochs=4, batch_size=64, seed=3, num_threads=1,
              checkpoint=ckpt, trial=_CrashAtEpoch(3))
    state = torch.load(ckpt, weights_only=True)
    assert state["epoch"] == 2 and len(state["val_acc"]) == 2
    assert not (tmp_path / "run.pt.tmp").exists()
    resumed = train(small_cnn, digits, epochs=4, batch_size=64, seed=3, num_threads=1,
                    checkpoint=ckpt)
    assert resumed.resumed_from == 2
    assert resumed.val_acc == straight.val_acc
    assert resumed.train_loss == straight.train_loss
    assert resumed.test_acc == straight.test_acc
    again = train(small_cnn, digits, epochs=4, batch_size=64, seed=3, checkpoint=ckpt)
    assert again.resumed_from == 4 and again.val_acc == straight.val_acc
    with pytest.raises(InvalidParameterError, match=r"lr: stored 0\.1, now 0\.2"):
        train(small_cnn, digits, epochs=4, batch_size=64, seed=3, lr=0.2, checkpoint=ckpt)


def test_median_pruner_stops_a_bad_run(digits):
    """In a real Optuna study with MedianPruner, a run with a useless lr is pruned early."""
    study = optuna.create_study(
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=2),
    )
    good = study.ask()
    r = train(small_cnn, digits, epochs=4, batch_size=64, lr=0.05, seed=0, trial=good,
              num_threads=1)
    study.tell(good, r.final_val_acc)
    bad = study.ask()
    rb = train(small_cnn, digits, epochs=4, batch_size=64, lr=1e-6, seed=0, trial=bad,
               num_threads=1)
    assert rb.pruned and rb.epochs_run == 2 and rb.test_acc is None
    study.tell(bad, state=optuna.trial.TrialState.PRUNED)
    frozen = study.trials[1]
    assert frozen.state == optuna.trial.TrialState.PRUNED
    assert frozen.intermediate_values == {1: rb.val_acc[0], 2: rb.val_acc[1]}
    assert study.trials[0].intermediate_values[4] == r.val_acc[3]


def test_curve_pruner_stops_a_hopeless_run(digits):
    """Our CurvePruner (last-value model) stops a near-chance run once it has 2 epochs."""
    pruner = CurvePruner(
        LastValueCurveModel(kind="accuracy"), final_epoch=5, min_epochs=2, n_startup_trials=1
    )
    study = optuna.create_study(direction="maximize", pruner=pruner)
    t = study.ask()
    r = train(small_cnn, digits, epochs=5, batch_size=64, lr=0.05, seed=0, trial=t,
              num_threads=1)
    study.tell(t, r.final_val_acc)
    t2 = study.ask()
    r2 = train(small_cnn, digits, epochs=5, batch_size=64, lr=1e-6, seed=1, trial=t2,
               num_threads=1)
    assert r2.pruned and r2.epochs_run == 2 and max(r2.val_acc) < 40


def test_bf16_autocast_on_cpu_and_module_input(digits):
    """amp=True on CPU trains under bfloat16 autocast; an nn.Module instance is accepted."""
    r = train(small_cnn(), digits, epochs=1, batch_size=128, amp=True, seed=0, num_threads=1)
    assert r.amp == "bfloat16" and 0 <= r.final_val_acc <= 100


def test_augment_crops_and_flips_within_padding():
    """Random crop(+flip) keeps shapes, draws from the generator, and stays inside the padding."""
    x = torch.ones(16, 3, 8, 8)
    g = torch.Generator().manual_seed(0)
    out = _augment(x, "crop_flip", g, torch.device("cpu"))
    assert out.shape == x.shape
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert (out.sum(dim=(1, 2, 3)) >= 3 * 4 * 4).all()  # offsets <= 4 keep a 4x4 core
    again = _augment(x, "crop_flip", torch.Generator().manual_seed(0), torch.device("cpu"))
    assert torch.equal(out, again)
    assert torch.equal(_augment(x, "none", g, torch.device("cpu")), x)


def test_trainer_argument_errors(digits):
    """Bad arguments raise the standard messages before any training."""
    with pytest.raises(InvalidParameterError, match=r"'epochs' parameter of train must be an int >= 1\. Got 0"):
        train(small_cnn, digits, epochs=0)
    with pytest.raises(InvalidParameterError, match="'device' parameter"):
        train(small_cnn, digits, epochs=1, device="tpu")
    with pytest.raises(InvalidParameterError, match="'data' parameter"):
        train(small_cnn, np.zeros((3, 1, 8, 8)), epochs=1)
    with pytest.raises(InvalidParameterError, match="'augment' parameter"):
        train(small_cnn, digits, epochs=1, augment="mixup")
    with pytest.raises(InvalidParameterError, match="'model' parameter"):
        train(42, digits, epochs=1)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match="CUDA is not available"):
            train(small_cnn, digits, epochs=1, device="cuda")
        with pytest.raises(InvalidParameterError, match="float16 autocast needs CUDA"):
            train(small_cnn, digits, epochs=1, amp="float16")


def test_checkpoint_that_is_not_ours_is_refused(digits, tmp_path):
    """A checkpoint file of another format (or garbage) is refused with a clear message."""
    p = tmp_path / "c.pt"
    torch.save({"hello": 1}, p)
    with pytest.raises(InvalidParameterError, match="not a predictor_nas training checkpoint"):
        train(small_cnn, digits, epochs=1, checkpoint=p)
    p.write_bytes(b"garbage")
    with pytest.raises(InvalidParameterError, match="cannot be read"):
        train(small_cnn, digits, epochs=1, checkpoint=p)


def test_uint8_images_normalised_on_the_fly():
    """uint8 images (like CIFAR) train without a float copy; the normalisation uses train stats."""
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    x = (rng.integers(0, 100, (40, 3, 4, 4)) + 150 * y[:, None, None, None]).astype(np.uint8)
    d = from_arrays(x, y, x, y, augment="crop_flip")
    assert d.x_train.dtype == np.uint8

    def net() -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(48, 2))

    r = train(net, d, epochs=3, batch_size=8, lr=0.05, seed=0, num_threads=1)
    assert r.final_val_acc > 90.0  # chance: 50%


def test_pickle_with_bytes_keys(tmp_path):
    """load_cifar_pickle also reads a batch whose keys are bytes (as Python 2 wrote them)."""
    path = tmp_path / "b"
    with open(path, "wb") as f:
        pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"labels": [3]}, f, protocol=2)
    entry = load_cifar_pickle(path)
    assert entry["labels"] == [3] and entry["data"].shape == (1, 3072)
