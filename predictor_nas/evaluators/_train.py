"""Objective functions that really train the architecture (``predictor_nas.training``)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas._validation import check_int, param_error
from predictor_nas.evaluators._base import Evaluation, Evaluator
from predictor_nas.spaces import Arch, SearchSpace, get_space
from predictor_nas.training import TrainConfig

if TYPE_CHECKING:
    from predictor_nas.training import ImageData

_OWNER = "TrainEvaluator"
#: The training defaults (one place for all entry points: ``TrainConfig``).
_DEFAULTS = TrainConfig()


@dataclass(frozen=True)
class TrainEvaluation(Evaluation):
    """An :class:`Evaluation` by real training, with the learning curve.

    ``value`` is the validation accuracy (%) after the last epoch run; ``cost`` the training
    seconds; ``metrics`` holds ``val_acc``, ``test_acc`` (only for reporting; absent when the
    run was pruned or the data has no test split), ``train_loss``, ``n_params``, ``epochs_run``.

    Attributes:
        val_curve: Validation accuracy (%) after each epoch run.
        epochs_run: Epochs trained (fewer than planned when pruned).
        pruned: Whether the trial's pruner stopped the run.
        device: Device it trained on.
    """

    val_curve: tuple[float, ...] = field(default=())
    epochs_run: int = 0
    pruned: bool = False
    device: str = "cpu"


class TrainEvaluator(Evaluator):
    """Evaluate an architecture by building its network and training it on a dataset.

    The network is ``predictor_nas.models.build_nb201(arch, width=..., depth=...)`` (NB201 is the
    only space with a builder so far); training is :func:`predictor_nas.training.train` with
    NB201's recipe. Each architecture gets its own seed,
    ``SeedSequence([seed, space.index(arch)])``, for both weight initialisation and data order,
    so the same arch under the same ``seed`` trains identically whichever search proposes it
    (and bit-identically on CPU).

    Args:
        data: The dataset (``load_digits_data``, ``load_cifar10``, ``from_arrays``).
        space: Search space (or its name, or a YAML declaration): ``nb201`` (the NB201
            network) or a declared chain, cell or macro space (``models.build_model``).
        width: Channels of the first stage (NB201's own network: 16); cell spaces too. Chain and
            macro spaces keep their declared channels (width multiplier 1).
        depth: Cells per stage (NB201's own network: 5); cell spaces too. Not used by chain and
            macro spaces.
        epochs: Epochs per architecture (the cosine schedule's length).
            Defaults of width, depth, epochs, batch_size, lr, weight_decay: ``TrainConfig``.
        batch_size: Training batch size.
        lr: Initial learning rate.
        weight_decay: L2 weight decay.
        seed: Seed of the evaluator (combined with each arch's index).
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"``...
        amp: Mixed precision (see ``train``; ``None`` = on with CUDA).
        num_threads: Torch CPU threads while training (``None`` = leave as is).
        checkpoint_dir: Folder for one checkpoint per architecture, so a run killed mid-training
            resumes from its last epoch; ``None`` = no checkpoints.
    """

    kind = "train"
    metric = "val_acc"
    higher_is_better = True

    def __init__(
        self,
        data: ImageData,
        *,
        space: SearchSpace | str = "nb201",
        width: int = _DEFAULTS.width,
        depth: int = _DEFAULTS.depth,
        epochs: int = _DEFAULTS.epochs,
        batch_size: int = _DEFAULTS.batch_size,
        lr: float = _DEFAULTS.lr,
        weight_decay: float = _DEFAULTS.weight_decay,
        seed: int = 0,
        device: str | None = None,
        amp: bool | str | None = None,
        num_threads: int | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        from predictor_nas.training import ImageData

        if not isinstance(data, ImageData):
            raise param_error("data", _OWNER, "an ImageData", type(data).__name__)
        self.data = data
        self.space = get_space(space)
        if getattr(self.space, "kind", None) == "chain":
            self.space = _fitting(self.space, data)
        given = {"width": width, "depth": depth, "epochs": epochs, "batch_size": batch_size}
        given.update(lr=lr, weight_decay=weight_decay)
        #: The training recipe (checked; ``None`` arguments take the ``TrainConfig`` defaults).
        self.train_config = TrainConfig.from_options(given, _OWNER)
        self.width, self.depth = self.train_config.width, self.train_config.depth
        self.epochs, self.batch_size = self.train_config.epochs, self.train_config.batch_size
        self.lr, self.weight_decay = self.train_config.lr, self.train_config.weight_decay
        self.seed = check_int(seed, "seed", _OWNER, minimum=0)
        self.device = device
        self.amp = amp
        self.num_threads = num_threads
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)

    @property
    def _nb201(self) -> bool:
        return self.space.name == "nb201"

    def _arch_id(self, a: Arch) -> int:
        """NB201: the official index; other spaces: a stable 63-bit hash of the arch string."""
        if self._nb201:
            return self.space.index(a)
        digest = hashlib.blake2b(self.space.format(a).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 1

    def arch_seed(self, arch: Arch | str) -> int:
        """Seed of ``arch``'s training run: from the evaluator seed and the arch's id (NB201's
        index; a hash of the arch string in other spaces)."""
        a = self.space.coerce(arch)
        return int(np.random.SeedSequence([self.seed, self._arch_id(a)]).generate_state(1)[0])

    def config(self) -> dict[str, Any]:
        """Settings that change results (stored with a study so a resume can check them)."""
        space = {} if self._nb201 else {"space": self.space.spec()}
        return {
            **space,
            "dataset": self.data.name,
            "data_fingerprint": self.data.fingerprint,
            "width": self.width,
            "depth": self.depth,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "seed": self.seed,
        }

    def build_network(self, arch: Arch | str) -> Any:
        """The untrained network ``evaluate`` trains for ``arch`` (same seed, same weights).

        Cost metrics that need no training (``predictor_nas.models.count_params``,
        ``count_flops``, ``measure_latency``) are measured on it.
        """
        from predictor_nas.models import build_model, build_nb201

        a = self.space.coerce(arch)
        seed = self.arch_seed(a)
        data = self.data
        if not self._nb201:
            cell = getattr(self.space, "kind", "").startswith("cell")
            return build_model(
                self.space,
                a,
                in_channels=data.in_channels,
                num_classes=data.num_classes,
                seed=seed,
                width=self.width if cell else None,
                depth=self.depth if cell else None,
                image_size=int(data.x_train.shape[-1]),
            )
        return build_nb201(
            a,
            width=self.width,
            depth=self.depth,
            num_classes=data.num_classes,
            in_channels=data.in_channels,
            seed=seed,
        )

    def describe(self) -> dict[str, Any]:
        """``kind`` and ``config()``: space, data, training recipe and seed."""
        return {"kind": self.kind, **self.config()}

    def evaluate(self, arch: Arch | str, *, trial: Any = None) -> TrainEvaluation:
        """Build and train ``arch``; report each epoch to ``trial`` (which may prune it).

        Args:
            arch: The architecture (or its string).
            trial: Optional Optuna trial (``report`` / ``should_prune``).

        Returns:
            The ``TrainEvaluation`` (``value`` = last validation accuracy, %).
        """
        from predictor_nas.training import train

        a = self.space.coerce(arch)
        seed = self.arch_seed(a)
        data = self.data

        def factory():
            return self.build_network(a)

        ckpt = None
        if self.checkpoint_dir is not None:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            ckpt = self.checkpoint_dir / f"{self.space.name}-{self._arch_id(a)}-seed{seed}.pt"
        r = train(
            factory,
            data,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            seed=seed,
            device=self.device,
            amp=self.amp,
            trial=trial,
            checkpoint=ckpt,
            num_threads=self.num_threads,
        )
        metrics = {
            "val_acc": r.final_val_acc,
            "train_loss": r.train_loss[-1],
            "n_params": float(r.n_params),
            "epochs_run": float(r.epochs_run),
        }
        if r.test_acc is not None:
            metrics["test_acc"] = r.test_acc
        return TrainEvaluation(
            value=r.final_val_acc,
            metrics=metrics,
            cost=r.seconds,
            val_curve=tuple(r.val_acc),
            fidelity=r.epochs_run,
            epochs_run=r.epochs_run,
            pruned=r.pruned,
            device=r.device,
        )


def _fitting(space: Any, data: Any) -> Any:
    """``space`` with the constraint that its networks fit ``data``'s images: no chain layer
    shrinks the image below one pixel (e.g. 'valid' 5x5 layers on 8x8 digits). Every sampler
    then proposes only trainable networks; ``build_model`` checks the shapes (cached per arch)."""
    from functools import lru_cache

    from predictor_nas.exceptions import InvalidArchitectureError
    from predictor_nas.spaces import Constraint

    side = int(data.x_train.shape[-1])

    @lru_cache(maxsize=1 << 16)
    def fits(ops: tuple) -> bool:
        from predictor_nas.models import build_model

        try:
            build_model(
                space,
                Arch(space.name, ops),
                in_channels=data.in_channels,
                num_classes=data.num_classes,
                seed=0,
                image_size=side,
            )
        except InvalidArchitectureError:
            return False
        return True

    rule = Constraint(
        f"fits a {side}x{side} input (no layer shrinks it below one pixel)",
        lambda values: fits(tuple(values[n] for n in space.param_names)),
    )
    return space.with_constraints(rule)
