"""One-shot search strategies: DARTS / GDAS derive the argmax cell, SPOS searches the supernet.

``run_oneshot_search(strategy, ...)``:

1. builds the supernet of the space (NB201 or a declared ``CellEdgesSpace``) and trains it
   (``train_supernet``, mode = the strategy);
2. picks a cell: DARTS and GDAS take ``derive_argmax``; SPOS runs one of our samplers
   (``make_sampler``: ``rea`` by default, any table strategy such as ``guided``) for
   ``n_candidates`` proposals in an in-memory Optuna study whose objective is the candidate's
   inherited-weight validation accuracy with BN statistics recalibrated
   (``inherited_accuracy``), and takes the best;
3. trains that cell stand-alone with the normal trainer (``predictor_nas.training.train``, NB201's
   recipe) and reports its validation curve and test accuracy.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import optuna

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.models import build_model
from predictor_nas.oneshot._evaluate import derive_argmax, inherited_accuracy
from predictor_nas.oneshot._supernet import build_supernet
from predictor_nas.oneshot._train import train_supernet
from predictor_nas.search import ask_arch, available_strategies, make_sampler
from predictor_nas.training import ImageData, load_dataset, train

log = logging.getLogger(__name__)

__all__ = ["ONESHOT_STRATEGIES", "OneShotResult", "run_oneshot_search"]

_OWNER = "run_oneshot_search"
#: Strategy names of ``run_oneshot_search`` (and of ``predictor-nas search --evaluator train``).
ONESHOT_STRATEGIES = ("darts", "gdas", "spos")


@dataclass
class OneShotResult:
    """What a one-shot search found and what its cell scored stand-alone.

    Attributes:
        strategy: ``"darts"``, ``"gdas"`` or ``"spos"``.
        arch: The chosen cell (the space's string form).
        dataset: Dataset name.
        seed: Seed of the run.
        inherited_acc: Validation accuracy (%) of the chosen cell with the supernet's weights
            (BN recalibrated).
        candidates: SPOS: ``{"arch", "inherited_acc"}`` per proposal in order (empty otherwise).
        supernet: ``SupernetResult.to_dict()`` of the supernet training.
        val_acc: Stand-alone validation curve (%), shape (final_epochs,).
        test_acc: Stand-alone test accuracy (%) or ``None`` (no test split).
        n_params: Parameters of the stand-alone network.
        supernet_seconds: Wall seconds of supernet training.
        search_seconds: Wall seconds of picking the cell (SPOS sampling; ~0 for DARTS / GDAS).
        train_seconds: Wall seconds of the stand-alone training.
        device: Device used.
        model: The trained stand-alone network (not serialised by ``to_dict``).
    """

    strategy: str
    arch: str
    dataset: str
    seed: int
    inherited_acc: float
    candidates: list[dict[str, Any]]
    supernet: dict[str, Any]
    val_acc: list[float]
    test_acc: float | None
    n_params: int
    supernet_seconds: float
    search_seconds: float
    train_seconds: float
    device: str
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def final_val_acc(self) -> float:
        """Stand-alone validation accuracy after the last epoch (%)."""
        return self.val_acc[-1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict without the model."""
        d = asdict(self)
        d.pop("model")
        return d


def _spos_pick(
    supernet: Any, data: ImageData, *, sampler: str, n_candidates: int, seed: int,
    bn_batches: int, batch_size: int,
) -> tuple[str, float, list[dict[str, Any]]]:
    """SPOS: run ``sampler`` over the supernet with inherited accuracy as the objective."""
    space = supernet.space
    study = optuna.create_study(direction="maximize", sampler=make_sampler(sampler, space, seed))
    seen: dict[str, float] = {}
    candidates: list[dict[str, Any]] = []
    for _ in range(n_candidates):
        trial, arch = ask_arch(study, space)
        key = space.format(arch)
        if key not in seen:
            seen[key] = inherited_accuracy(
                supernet, arch, data, bn_recalibration_batches=bn_batches,
                batch_size=batch_size, seed=seed,
            )
        study.tell(trial, seen[key])
        candidates.append({"arch": key, "inherited_acc": seen[key]})
    best = max(candidates, key=lambda c: c["inherited_acc"])  # first of the ties
    return best["arch"], best["inherited_acc"], candidates


def run_oneshot_search(
    strategy: str,
    *,
    space: Any = "nb201",
    data: ImageData | None = None,
    dataset: str = "digits",
    data_root: str | os.PathLike[str] | None = None,
    download: bool = False,
    supernet_epochs: int = 3,
    final_epochs: int = 4,
    width: int = 8,
    depth: int = 1,
    batch_size: int = 64,
    supernet_lr: float = 0.025,
    final_lr: float = 0.1,
    order: int = 1,
    sampler: str = "rea",
    n_candidates: int = 100,
    bn_recalibration_batches: int = 4,
    seed: int = 0,
    device: str | None = None,
    amp: bool | str | None = None,
    num_threads: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
) -> OneShotResult:
    """Search a cell space by weight sharing, then train the chosen cell stand-alone.

    See the module docstring for the three steps.

    Args:
        strategy: ``"darts"``, ``"gdas"`` or ``"spos"``.
        space: ``"nb201"``, a ``CellEdgesSpace`` or its name / YAML file (the stand-alone
            network: ``build_nb201`` or ``build_model``).
        data: The dataset; ``None`` loads ``dataset`` (split seeded by ``seed``).
        dataset: ``"digits"`` or ``"cifar10"`` when ``data`` is ``None``.
        data_root: CIFAR-10 folder.
        download: Allow fetching CIFAR-10.
        supernet_epochs: Epochs of supernet training.
        final_epochs: Epochs of the stand-alone training of the chosen cell.
        width: Channels of the first stage (supernet and stand-alone network).
        depth: Cells per stage.
        batch_size: Batch size of both trainings.
        supernet_lr: Initial weight learning rate of the supernet.
        final_lr: Initial learning rate of the stand-alone training.
        order: DARTS order (1 or 2).
        sampler: SPOS's sampler, a table strategy name (``rea``, ``guided``, ``random``...).
        n_candidates: SPOS proposals scored by inherited accuracy (>= 1).
        bn_recalibration_batches: Batches re-estimating each candidate's BN statistics.
        seed: Seed of everything (supernet, sampler, stand-alone training).
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
        amp: Mixed precision (``None``: on with CUDA).
        num_threads: Torch CPU threads during the trainings.
        checkpoint_dir: Folder of ``supernet-<strategy>.pt`` and ``final-<strategy>.pt``
            (resumed when present).

    Returns:
        The ``OneShotResult``.
    """
    strategy = check_choice(strategy, "strategy", _OWNER, ONESHOT_STRATEGIES)
    seed = check_int(seed, "seed", _OWNER, minimum=0)
    final_epochs = check_int(final_epochs, "final_epochs", _OWNER, minimum=1)
    n_candidates = check_int(n_candidates, "n_candidates", _OWNER, minimum=1)
    bn_batches = check_int(
        bn_recalibration_batches, "bn_recalibration_batches", _OWNER, minimum=0
    )
    if strategy == "spos":
        sampler = check_choice(sampler, "sampler", _OWNER, available_strategies())
    data = _image_data(data, dataset, data_root=data_root, seed=seed, download=download)
    ckdir = None if checkpoint_dir is None else Path(checkpoint_dir)
    if ckdir is not None:
        ckdir.mkdir(parents=True, exist_ok=True)
    sizes = {"width": width, "depth": depth, "num_classes": data.num_classes,
             "in_channels": int(data.x_train.shape[1])}
    supernet = build_supernet(space, seed=seed, **sizes)
    sp = supernet.space
    sres = train_supernet(
        supernet, data, mode=strategy, order=order, epochs=supernet_epochs,
        batch_size=batch_size, lr=supernet_lr, seed=seed, device=device, amp=amp,
        num_threads=num_threads,
        checkpoint=None if ckdir is None else ckdir / f"supernet-{strategy}.pt",
    )
    arch, inherited, candidates, search_seconds = _pick(
        supernet, data, strategy=strategy, sampler=sampler, n_candidates=n_candidates,
        seed=seed, bn_batches=bn_batches, batch_size=batch_size,
    )
    log.info("%s picked %s (inherited val %.2f %%)", strategy, arch, inherited)

    def standalone() -> Any:
        return build_model(sp, arch, seed=seed, **sizes)

    final = train(
        standalone, data, epochs=final_epochs,
        batch_size=batch_size, lr=final_lr, seed=seed, device=device, amp=amp,
        num_threads=num_threads,
        checkpoint=None if ckdir is None else ckdir / f"final-{strategy}.pt",
    )
    return OneShotResult(
        strategy=strategy, arch=arch, dataset=data.name, seed=seed, inherited_acc=inherited,
        candidates=candidates, supernet=sres.to_dict(), val_acc=final.val_acc,
        test_acc=final.test_acc, n_params=final.n_params, supernet_seconds=sres.seconds,
        search_seconds=search_seconds, train_seconds=final.seconds, device=final.device,
        model=final.model,
    )


def _image_data(
    data: ImageData | None, dataset: str, *, data_root: Any, seed: int, download: bool
) -> ImageData:
    """``data``, or the named ``dataset`` loaded (split with ``seed``) when it is None."""
    if data is None:
        return load_dataset(dataset, root=data_root, seed=seed, download=download)
    if not isinstance(data, ImageData):
        raise param_error("data", _OWNER, "an ImageData or None", type(data).__name__)
    return data


def _pick(
    supernet: Any, data: ImageData, *, strategy: str, sampler: str, n_candidates: int,
    seed: int, bn_batches: int, batch_size: int,
) -> tuple[str, float, list[dict[str, Any]], float]:
    """The trained supernet's pick: ``(arch, inherited val acc, candidates, search seconds)``.

    ``spos`` samples candidates with ``sampler`` and keeps the best inherited accuracy; the
    bilevel strategies take the argmax of the architecture weights (no candidates).
    """
    t0 = time.perf_counter()
    candidates: list[dict[str, Any]] = []
    if strategy == "spos":
        arch, inherited, candidates = _spos_pick(
            supernet, data, sampler=sampler, n_candidates=n_candidates, seed=seed,
            bn_batches=bn_batches, batch_size=batch_size,
        )
    else:
        arch = supernet.space.format(derive_argmax(supernet))
        inherited = inherited_accuracy(
            supernet, arch, data, bn_recalibration_batches=bn_batches, batch_size=batch_size,
            seed=seed,
        )
    return arch, inherited, candidates, time.perf_counter() - t0
