"""Fully train one chosen architecture and save it (``predictor-nas train``).

Writes into the output folder:

- ``model.pt``: the trained ``state_dict`` (``torch.save``; load with ``weights_only=True``).
- ``arch.json``: space name and declaration (``space.spec()``), the arch string, the builder
  and its settings, the training settings, the validation curve, test accuracy and the
  TorchScript outcome (``load_trained`` rebuilds the model from it).
- ``model.ts``: a TorchScript export (``torch.jit.script``, else ``torch.jit.trace`` on one
  batch) checked to reproduce the model's outputs; when neither works ``arch.json`` says why.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from predictor_nas._lazy import models, torch
from predictor_nas._paths import check_output_dir
from predictor_nas._validation import check_int, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces import SearchSpace, available_spaces, get_space, space_from_spec
from predictor_nas.training._config import TrainConfig
from predictor_nas.training._datasets import load_dataset
from predictor_nas.training._trainer import train

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

_OWNER = "train_final"
#: Version of the ``arch.json`` layout.
FINAL_FORMAT = 1


@dataclass
class FinalResult:
    """Outcome of ``train_final``.

    Attributes:
        space: Space name.
        arch: Architecture string.
        val_acc: Validation accuracy (%) after the last epoch.
        test_acc: Test accuracy (%) or ``None`` (no test split).
        val_curve: Validation accuracy per epoch.
        n_params: Trainable parameters.
        seconds: Training seconds.
        device: Device trained on.
        out: Output folder.
        files: Files written (names inside ``out``).
        torchscript: ``{"method": "script"|"trace"}`` or ``{"error": why}``.
    """

    space: str
    arch: str
    val_acc: float
    test_acc: float | None
    val_curve: list[float]
    n_params: int
    seconds: float
    device: str
    out: str
    files: list[str]
    torchscript: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)


def _builder_settings(
    space: SearchSpace, width: float | None, depth: int | None, data: Any
) -> dict[str, Any]:
    c, h, w = data.input_shape
    return {
        "in_channels": c,
        "num_classes": data.num_classes,
        "image_size": [h, w],
        "width": width,
        "depth": depth,
    }


def _build(space: SearchSpace, arch: str, settings: dict[str, Any], seed: int) -> torch.nn.Module:
    """The network of ``arch`` (``models.build_model``, NB201 included)."""
    return models.build_model(
        space,
        arch,
        in_channels=settings["in_channels"],
        num_classes=settings["num_classes"],
        seed=seed,
        width=settings["width"],
        depth=settings["depth"],
        image_size=tuple(settings["image_size"]),
    )


def _export_torchscript(model: torch.nn.Module, example: torch.Tensor, path: Path) -> dict:
    """Script (else trace) ``model``; keep the file only if it reproduces the outputs."""

    reasons = []
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still works
        want = model(example)
        for method in ("script", "trace"):
            try:
                ts = (
                    torch.jit.script(model)
                    if method == "script"
                    else torch.jit.trace(model, example, check_trace=False)
                )
                diff = float((ts(example) - want).abs().max())
            except Exception as exc:  # any scripting/tracing failure: not exportable
                reasons.append(f"{method}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                continue
            if diff > 1e-5:
                reasons.append(f"{method}: outputs differ by {diff:.3g}")
                continue
            ts.save(str(path))
            return {"file": path.name, "method": method, "max_abs_diff": diff}
    return {"error": "; ".join(reasons)}


def _record(
    sp: SearchSpace,
    text: str,
    settings: dict[str, Any],
    data: Any,
    recipe: TrainConfig,
    seed: int,
    r: Any,
    ts: dict[str, Any],
) -> dict[str, Any]:
    """The ``arch.json`` record of a trained architecture (what ``load_trained`` reads back).

    Args:
        sp, text: The space and the architecture string.
        settings: The builder settings the network was built with.
        data: The ``ImageData`` it was trained on.
        recipe: The training recipe; ``seed`` its seed.
        r: The ``train`` result.
        ts: What ``_export_torchscript`` reported.
    """
    return {
        "format": FINAL_FORMAT,
        "space": sp.name,
        "space_spec": sp.spec(),
        "arch": text,
        "builder": "build_model",
        "builder_settings": settings,
        "training": {
            "dataset": data.name,
            "data_fingerprint": data.fingerprint,
            "epochs": recipe.epochs,
            "batch_size": recipe.batch_size,
            "lr": recipe.lr,
            "weight_decay": recipe.weight_decay,
            "seed": seed,
            "normalisation": {"mean": list(data.mean), "std": list(data.std)},
        },
        "val_acc": r.final_val_acc,
        "val_curve": r.val_acc,
        "test_acc": r.test_acc,
        "n_params": r.n_params,
        "train_seconds": r.seconds,
        "device": r.device,
        "torchscript": ts,
    }


def train_final(
    space: SearchSpace | str,
    arch: str,
    *,
    out: str | os.PathLike[str],
    dataset: str = "digits",
    data_root: str | os.PathLike[str] | None = None,
    download: bool = False,
    epochs: int | None = None,
    seed: int = 0,
    width: float | None = None,
    depth: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    weight_decay: float | None = None,
    device: str | None = None,
    num_threads: int | None = None,
) -> FinalResult:
    """Train one architecture on the train split and save model, arch and accuracies in ``out``.

    The split is seeded with ``seed``, and so are weights and data order (``train``). The
    network is ``build_nb201`` for ``nb201`` (``width`` = channels, default 16; ``depth`` =
    cells per stage, default 5) and ``build_model`` otherwise (see its ``width`` / ``depth``).

    Args:
        space: Space name, YAML path or ``SearchSpace``.
        arch: The architecture string (``space.format`` form).
        out: Output folder (created; existing files in it are overwritten).
        dataset: ``"digits"`` or ``"cifar10"``.
        data_root: CIFAR-10 folder.
        download: Allow downloading CIFAR-10.
        epochs: Training epochs (``None``: ``TrainConfig().epochs``).
        seed: Seed of split, initialisation and data order.
        width, depth: Builder sizes (see above).
        batch_size, lr, weight_decay: Training recipe (``train``); ``None``: the
            ``TrainConfig`` default.
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"``.
        num_threads: Torch CPU threads (``None`` = leave as is).

    Returns:
        The ``FinalResult``.

    Raises:
        InvalidParameterError: a bad argument or space, an arch the builder cannot build.
        InvalidArchitectureError: ``arch`` is not in the space, or collapses the image.
    """

    sp = get_space(space) if isinstance(space, str) else space
    if not isinstance(sp, SearchSpace):
        raise param_error("space", _OWNER, "a space name, YAML path or SearchSpace", space)
    recipe = TrainConfig.from_options(
        {"epochs": epochs, "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay},
        _OWNER,
    )
    epochs, batch_size, lr = recipe.epochs, recipe.batch_size, recipe.lr
    weight_decay = recipe.weight_decay
    seed = check_int(seed, "seed", _OWNER, minimum=0)
    folder = check_output_dir(out, "--out", "train")
    a = sp.coerce(arch)
    text = sp.format(a)
    data = load_dataset(dataset, root=data_root, seed=seed, download=download)
    settings = _builder_settings(sp, width, depth, data)
    model = _build(sp, text, settings, seed)  # fails here, before training, on a bad arch
    r = train(
        model,
        data,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        device=device,
        num_threads=num_threads,
    )
    net = r.model.to("cpu", memory_format=torch.contiguous_format).eval()
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), folder / "model.pt")
    example = (
        torch.from_numpy(data.x_val[:8]).float() - torch.tensor(data.mean).reshape(1, -1, 1, 1)
    ) / torch.tensor(data.std).reshape(1, -1, 1, 1)
    ts = _export_torchscript(net, example, folder / "model.ts")
    files = ["model.pt", "arch.json"] + (["model.ts"] if "file" in ts else [])
    record = _record(sp, text, settings, data, recipe, seed, r, ts)
    (folder / "arch.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    log.info("saved %s to %s", text, folder)
    return FinalResult(
        space=sp.name,
        arch=text,
        val_acc=r.final_val_acc,
        test_acc=r.test_acc,
        val_curve=list(r.val_acc),
        n_params=r.n_params,
        seconds=r.seconds,
        device=r.device,
        out=str(folder),
        files=files,
        torchscript=ts,
    )


def _saved_space(name: str, spec: dict[str, Any]) -> SearchSpace:
    """The registered space when its declaration is unchanged, else one rebuilt from ``spec``.

    ``spec()`` lists constraints as descriptions only; they are dropped when rebuilding (they
    restrict which archs are valid, never how one is built).
    """
    if name in available_spaces():
        sp = get_space(name)
        if json.loads(json.dumps(sp.spec(), default=str)) == spec:
            return sp
    return space_from_spec({k: v for k, v in spec.items() if k != "constraints"})


def load_trained(folder: str | os.PathLike[str]) -> torch.nn.Module:
    """Rebuild the network saved by ``train_final`` in ``folder`` and load its weights.

    Args:
        folder: The ``--out`` folder (``arch.json`` + ``model.pt``).

    Returns:
        The trained model in eval mode, on the CPU.
    """

    p = Path(folder)
    try:
        record = json.loads((p / "arch.json").read_text())
    except (OSError, ValueError) as exc:
        raise InvalidParameterError(
            f"{str(p / 'arch.json')!r} is not a readable arch.json of predictor-nas train ({exc})."
        ) from exc
    sp = _saved_space(record["space"], record["space_spec"])
    model = _build(sp, record["arch"], record["builder_settings"], 0)
    model.load_state_dict(torch.load(p / "model.pt", map_location="cpu", weights_only=True))
    return model.eval()
