"""The YAHPO Gym NAS-Bench-301 surrogate (ONNX): validation accuracy and runtime at any epoch.

The user passes the folder that holds YAHPO's ``nb301`` files (``model_v2.onnx``,
``encoding_v2.json``, ``config_space_v2.json``); nothing is copied. The input recipe follows
yahpo_gym: ``x_cat`` int32 (n, 34) holds each decision's integer code from ``encoding_v2.json``
in ``NB301Space.param_names`` order (YAHPO's column order), ``"#na#"`` (code 0) for inactive
edges; ``x_cont`` float32 (n, 1) is the raw epoch. The output (n, 4) is ``[val_accuracy (0-1),
val_cross_entropy, runtime (s), runtime_increase]``. The model is deterministic; rows do not
interact, so a whole batch of architectures x epochs goes in one call.

onnxruntime (the ``nb301`` extra) is imported when the evaluator is created, not with the
package.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas._validation import check_int, param_error
from predictor_nas.evaluators._base import Evaluation, Evaluator
from predictor_nas.exceptions import InvalidParameterError, PredictorNASError
from predictor_nas.spaces import (
    NB301_INACTIVE,
    YAHPO_PREFIX,
    Arch,
    get_space,
    read_config_space,
)

MODEL_FILE = "model_v2.onnx"
ENCODING_FILE = "encoding_v2.json"
CONFIG_SPACE_FILE = "config_space_v2.json"
#: Epochs the surrogate was trained on (its ``epoch`` fidelity range).
MIN_EPOCH = 1
MAX_EPOCH = 98
OUTPUTS = ("val_accuracy", "val_cross_entropy", "runtime", "runtime_increase")
_NA = "#na#"


@dataclass(frozen=True)
class SurrogateCurves:
    """Surrogate predictions for n architectures at E epochs.

    Attributes:
        epochs: int64 array (E,) of the epochs asked for.
        val_acc: float64 array (n, E), validation accuracy in percent.
        val_cross_entropy: float64 array (n, E).
        runtime: float64 array (n, E), predicted training seconds up to that epoch (the raw
            surrogate output; it is not guaranteed to increase with the epoch).
    """

    epochs: np.ndarray
    val_acc: np.ndarray
    val_cross_entropy: np.ndarray
    runtime: np.ndarray


def _resolve_folder(path: str | os.PathLike) -> Path:
    """The folder holding the three files: ``path`` itself or ``path/nb301``."""
    owner = "NB301SurrogateEvaluator"
    allowed = (
        f"a folder holding YAHPO's nb301 {MODEL_FILE}, {ENCODING_FILE} and {CONFIG_SPACE_FILE}"
    )
    if not isinstance(path, (str, os.PathLike)):
        raise param_error("path", owner, allowed, path)
    folder = Path(path)
    for cand in (folder, folder / "nb301"):
        if all((cand / f).is_file() for f in (MODEL_FILE, ENCODING_FILE, CONFIG_SPACE_FILE)):
            return cand
    raise param_error("path", owner, allowed, os.fspath(path))


def _import_onnxruntime() -> Any:
    """The onnxruntime module, or a one-line error naming the extra that installs it."""
    try:
        import onnxruntime
    except ImportError:
        raise PredictorNASError(
            "The NB301 surrogate needs onnxruntime, which is not installed: "
            "pip install 'predictor-nas[nb301]'."
        ) from None
    return onnxruntime


class NB301SurrogateEvaluator(Evaluator):
    """Validation accuracy (%) and simulated runtime of NB301 architectures at epochs 1-98.

    Args:
        path: Folder of YAHPO's ``nb301`` files (or its parent holding ``nb301/``).
        n_threads: onnxruntime intra-op threads (1 by default: small batches, shared machines,
            and results that do not depend on the thread count).

    Raises:
        InvalidParameterError: the folder lacks a file, or its configuration space differs from
            ``NB301Space`` (another YAHPO version).
        PredictorNASError: onnxruntime is not installed (``pip install 'predictor-nas[nb301]'``).
    """

    kind = "surrogate"
    metric = "val_acc"
    higher_is_better = True
    space_name = "nb301"
    min_epoch = MIN_EPOCH
    max_epoch = MAX_EPOCH

    def __init__(self, path: str | os.PathLike, *, n_threads: int = 1) -> None:
        ort = _import_onnxruntime()
        self.path = _resolve_folder(path)
        self.n_threads = check_int(n_threads, "n_threads", "NB301SurrogateEvaluator", minimum=1)
        self.space = get_space(self.space_name)
        cs = read_config_space(self.path / CONFIG_SPACE_FILE)
        want = {p: self.space.param_choices(p) for p in self.space.param_names}
        if cs["choices"] != want or cs["conditions"] != self.space.conditions():
            raise InvalidParameterError(
                f"{self.path / CONFIG_SPACE_FILE} does not describe the NB301 space of "
                "predictor_nas (different decisions, values or conditions); use YAHPO's nb301 "
                "v2 files."
            )
        with open(self.path / ENCODING_FILE, encoding="utf-8") as f:
            enc = json.load(f)
        self._codes: list[dict[str, int]] = []
        for p in self.space.param_names:
            key = YAHPO_PREFIX + p
            values = (*self.space.param_choices(p), _NA)
            if key not in enc or any(v not in enc[key] for v in values):
                raise InvalidParameterError(
                    f"{self.path / ENCODING_FILE} has no code for every value of {p}."
                )
            table = {v: int(enc[key][v]) for v in values}
            table[NB301_INACTIVE] = table[_NA]
            self._codes.append(table)
        model = (self.path / MODEL_FILE).read_bytes()
        self.model_sha256 = "sha256:" + hashlib.sha256(model).hexdigest()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.n_threads
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            model, sess_options=opts, providers=["CPUExecutionProvider"]
        )

    def __repr__(self) -> str:
        return f"NB301SurrogateEvaluator(path={os.fspath(self.path)!r})"

    def describe(self) -> dict[str, Any]:
        """The surrogate model's hash and its epoch range."""
        return {
            "kind": self.kind,
            "model_sha256": self.model_sha256,
            "min_epoch": MIN_EPOCH,
            "max_epoch": MAX_EPOCH,
        }

    # ----------------------------------------------------------------- encoding
    def encode(self, archs: Sequence[Arch | str]) -> np.ndarray:
        """The surrogate's ``x_cat`` rows: int32 array (n, 34)."""
        if isinstance(archs, (str, Arch)):
            raise InvalidParameterError(
                "NB301SurrogateEvaluator expects a sequence of architectures, got a single one."
            )
        rows = [[tbl[op] for tbl, op in zip(self._codes, self.space.coerce(a).ops)] for a in archs]
        return np.array(rows, dtype=np.int32).reshape(len(rows), len(self.space.param_names))

    def _check_epochs(self, epochs: Sequence[int] | np.ndarray | int, owner: str) -> np.ndarray:
        e = np.atleast_1d(np.asarray(epochs))
        allowed = f"epochs (ints) in [{MIN_EPOCH}, {MAX_EPOCH}]"
        if e.ndim != 1 or e.size == 0 or e.dtype.kind not in "iu":
            raise param_error("epochs", owner, allowed, epochs)
        if e.min() < MIN_EPOCH or e.max() > MAX_EPOCH:
            raise param_error("epochs", owner, allowed, e.tolist())
        return e.astype(np.int64)

    # ----------------------------------------------------------------- queries
    def curves(
        self, archs: Sequence[Arch | str], epochs: Sequence[int] | np.ndarray | None = None
    ) -> SurrogateCurves:
        """Predictions for every architecture at every epoch, in one batched call.

        Args:
            archs: (n,) architectures (or Genotype strings).
            epochs: (E,) epochs in 1..98; ``None`` = all 98 (the full learning curve).

        Returns:
            ``SurrogateCurves`` with (n, E) arrays.
        """
        e = (
            np.arange(MIN_EPOCH, MAX_EPOCH + 1)
            if epochs is None
            else self._check_epochs(epochs, "NB301SurrogateEvaluator.curves")
        )
        x = self.encode(archs)
        n = len(x)
        if n == 0:
            empty = np.zeros((0, len(e)))
            return SurrogateCurves(e, empty, empty.copy(), empty.copy())
        x_cat = np.repeat(x, len(e), axis=0)
        x_cont = np.tile(e.astype(np.float32), n)[:, None]
        y = self._session.run(["output"], {"x_cat": x_cat, "x_cont": x_cont})[0]
        y = y.astype(np.float64).reshape(n, len(e), len(OUTPUTS))
        return SurrogateCurves(
            epochs=e, val_acc=100.0 * y[:, :, 0], val_cross_entropy=y[:, :, 1], runtime=y[:, :, 2]
        )

    def evaluate(self, arch: Arch | str, fidelity: int = MAX_EPOCH) -> Evaluation:
        """One arch at ``fidelity`` epochs (1-98).

        Returns:
            ``Evaluation`` with ``value`` = validation accuracy (%), ``cost`` = predicted
            training seconds to that epoch, ``metrics`` = ``{"val_acc", "val_cross_entropy",
            "runtime"}`` and ``fidelity``.
        """
        owner = "NB301SurrogateEvaluator.evaluate"
        epoch = int(self._check_epochs(check_int(fidelity, "fidelity", owner), owner)[0])
        c = self.curves([arch], [epoch])
        metrics = {
            "val_acc": float(c.val_acc[0, 0]),
            "val_cross_entropy": float(c.val_cross_entropy[0, 0]),
            "runtime": float(c.runtime[0, 0]),
        }
        return Evaluation(
            value=metrics["val_acc"], metrics=metrics, cost=metrics["runtime"], fidelity=epoch
        )
