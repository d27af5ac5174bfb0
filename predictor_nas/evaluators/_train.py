"""Objective functions that really train the architecture (``predictor_nas.training``)."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.trial import TrialState

from predictor_nas._lazy import models, torch
from predictor_nas._validation import check_int, param_error
from predictor_nas.evaluators._base import Evaluation, Evaluator
from predictor_nas.evaluators._inherit import (
    changed_edges,
    inherit_weights,
    nearest_parent,
    supports_inheritance,
)
from predictor_nas.exceptions import InvalidArchitectureError, InvalidParameterError
from predictor_nas.spaces import Arch, Constraint, NB201Space, SearchSpace, get_space
from predictor_nas.training import CHECKPOINT_FORMAT, ImageData, TrainConfig, train

if TYPE_CHECKING:
    from predictor_nas.training import ImageData

log = logging.getLogger(__name__)

_OWNER = "TrainEvaluator"


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
        parent: The trained arch whose weights it started from (weight inheritance), or
            ``None`` (trained from scratch).
        n_inherited: State-dict tensors copied from ``parent`` (0 from scratch).
    """

    val_curve: tuple[float, ...] = field(default=())
    epochs_run: int = 0
    pruned: bool = False
    device: str = "cpu"
    parent: str | None = None
    n_inherited: int = 0


class TrainEvaluator(Evaluator):
    """Evaluate an architecture by building its network and training it on a dataset.

    The network is ``predictor_nas.models.build_model(space, arch, ...)`` (NB201's network for
    NB201); training is :func:`predictor_nas.training.train` with the ``TrainConfig`` recipe.
    Each architecture gets its own seed, ``SeedSequence([seed, id])`` (``id``: NB201's official
    index, else a hash of the arch string), for both weight initialisation and data order,
    so the same arch under the same ``seed`` trains identically whichever search proposes it
    (and bit-identically on CPU).

    Args:
        data: The dataset (``load_digits_data``, ``load_cifar10``, ``from_arrays``).
        space: Search space (or its name, or a YAML declaration): ``nb201`` (the NB201
            network) or a declared chain, cell or macro space (``models.build_model``).
        seed: Seed of the evaluator (combined with each arch's index).
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"``...
        amp: Mixed precision (see ``train``; ``None`` = on with CUDA).
        num_threads: Torch CPU threads while training (``None`` = leave as is).
        checkpoint_dir: Folder for one checkpoint per architecture, so a run killed mid-training
            resumes from its last epoch; ``None`` = no checkpoints.
        inherit_weights: Weight inheritance (``evaluators._inherit``): 0 = off; ``k >= 1`` = an
            arch differing from an already trained one (the nearest by edit distance on the
            decisions, at most ``k`` edges apart; with a ``trial``: the COMPLETE trials of its
            study, else the runs this evaluator finished) starts from that parent's final
            weights for every unchanged tensor, then trains all its epochs from its own first
            one (fresh optimizer and schedule). The parent's weights come from its checkpoint
            (``checkpoint_dir``, read with ``weights_only=True``) or, without checkpoints, from
            this evaluator's memory. NB201 and cell spaces with ops on edges only.
        **recipe: The training recipe, fields of ``TrainConfig`` (the one place of their
            defaults): ``width`` (channels of the first stage, NB201 and cell spaces; chain and
            macro spaces keep their declared channels), ``depth`` (cells per stage, NB201 and
            cell spaces), ``epochs`` (the cosine schedule's length), ``batch_size``, ``lr``,
            ``weight_decay``. ``None`` keeps the default.

    Raises:
        InvalidParameterError: a bad argument, or a ``recipe`` name that is no field of
            ``TrainConfig``.
    """

    kind = "train"
    metric = "val_acc"
    higher_is_better = True

    def __init__(
        self,
        data: ImageData,
        *,
        space: SearchSpace | str = "nb201",
        seed: int = 0,
        device: str | None = None,
        amp: bool | str | None = None,
        num_threads: int | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        inherit_weights: int = 0,
        **recipe: Any,
    ) -> None:
        if not isinstance(data, ImageData):
            raise param_error("data", _OWNER, "an ImageData", type(data).__name__)
        self.data = data
        self.space = get_space(space)
        if getattr(self.space, "kind", None) == "chain":
            self.space = _fitting(self.space, data)
        unknown = sorted(set(recipe) - set(TrainConfig.field_names()))
        if unknown:
            raise InvalidParameterError(
                f"{_OWNER} got unknown argument(s) {', '.join(map(repr, unknown))}: besides data, "
                "space, seed, device, amp, num_threads, checkpoint_dir and inherit_weights it "
                f"takes the TrainConfig fields {', '.join(TrainConfig.field_names())}."
            )
        #: The training recipe (checked; ``None`` arguments take the ``TrainConfig`` defaults).
        self.train_config = TrainConfig.from_options(recipe, _OWNER)
        self.width, self.depth = self.train_config.width, self.train_config.depth
        self.epochs, self.batch_size = self.train_config.epochs, self.train_config.batch_size
        self.lr, self.weight_decay = self.train_config.lr, self.train_config.weight_decay
        self.seed = check_int(seed, "seed", _OWNER, minimum=0)
        self.device = device
        self.amp = amp
        self.num_threads = num_threads
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.inherit_weights = check_int(inherit_weights, "inherit_weights", _OWNER, minimum=0)
        if self.inherit_weights and not supports_inheritance(self.space):
            raise param_error(
                "inherit_weights",
                _OWNER,
                f"0 for space {self.space.name!r} (weight inheritance "
                "needs NB201 or a cell space with ops on edges)",
                inherit_weights,
            )
        #: Runs this evaluator finished (arch string -> (arch, val acc, parent string)).
        self._trained: dict[str, tuple[Arch, float, str | None]] = {}
        #: Final weights of those runs when there are no checkpoint files to read them from.
        self._states: dict[tuple[str, str | None], dict[str, Any]] = {}

    @property
    def _nb201(self) -> bool:
        """NB201 keeps its official index as the arch id and stores no space spec (the records
        of studies made before declared spaces existed stay valid)."""
        return isinstance(self.space, NB201Space)

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
            **({"inherit_weights": self.inherit_weights} if self.inherit_weights else {}),
        }

    def build_network(self, arch: Arch | str) -> Any:
        """The untrained network ``evaluate`` trains for ``arch`` (same seed, same weights).

        Cost metrics that need no training (``predictor_nas.models.count_params``,
        ``count_flops``, ``measure_latency``) are measured on it.
        """
        a = self.space.coerce(arch)
        seed = self.arch_seed(a)
        data = self.data
        cell = models.takes_cell_sizes(self.space)
        return models.build_model(
            self.space,
            a,
            in_channels=data.in_channels,
            num_classes=data.num_classes,
            seed=seed,
            width=self.width if cell else None,
            depth=self.depth if cell else None,
            image_size=int(data.x_train.shape[-1]),
        )

    def describe(self) -> dict[str, Any]:
        """``kind`` and ``config()``: space, data, training recipe and seed."""
        return {"kind": self.kind, **self.config()}

    def checkpoint_path(self, arch: Arch | str, parent: Arch | str | None = None) -> Path | None:
        """``arch``'s checkpoint file in ``checkpoint_dir`` (``None`` without one); a run that
        inherits from ``parent`` has its own file (``...-from<parent id>.pt``)."""
        if self.checkpoint_dir is None:
            return None
        a = self.space.coerce(arch)
        name = f"{self.space.name}-{self._arch_id(a)}-seed{self.arch_seed(a)}"
        if parent is not None:
            name += f"-from{self._arch_id(self.space.coerce(parent))}"
        return self.checkpoint_dir / f"{name}.pt"

    def _candidates(self, trial: Any) -> list[tuple[Arch, float, str | None]]:
        """Trained runs a parent may come from: the COMPLETE trials of ``trial``'s study (in
        trial order) or, without a trial, the runs this evaluator finished."""
        study = getattr(trial, "study", None)
        if study is None:
            return list(self._trained.values())

        out = []
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if "arch" in t.user_attrs and t.value is not None:
                a = self.space.parse(t.user_attrs["arch"])
                out.append((a, float(t.value), t.user_attrs.get("inherit_parent")))
        return out

    def _parent_state(self, parent: Arch, grandparent: str | None) -> dict[str, Any] | None:
        """The final weights of the trained ``parent`` (``None`` when they are not stored)."""
        key = self.space.format(parent)
        if (key, grandparent) in self._states:
            return self._states[(key, grandparent)]
        path = self.checkpoint_path(parent, grandparent)
        if path is None or not path.exists():
            return None

        try:  # tensors and plain containers only: never unpickle code
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for a bad file
            raise InvalidParameterError(
                f"The checkpoint {path} of parent {key} cannot be read ({type(exc).__name__}: "
                f"{exc}); delete it or turn inherit_weights off."
            ) from exc
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            return None
        if state.get("epoch") != self.epochs or state.get("pruned"):
            return None  # an unfinished (interrupted or pruned) run is no parent
        return state.get("model")

    def find_parent(
        self, arch: Arch | str, trial: Any = None
    ) -> tuple[Arch, str | None, dict[str, Any]] | None:
        """The parent ``evaluate`` would inherit from: (parent, its own parent string, its
        final state dict), or ``None`` (inheritance off, nothing within ``inherit_weights``
        edges, or its weights not stored)."""
        if not self.inherit_weights:
            return None
        a = self.space.coerce(arch)
        cands = self._candidates(trial)
        hit = nearest_parent(self.space, a, [(c[0], c[1]) for c in cands], self.inherit_weights)
        if hit is None:
            return None
        parent, _, grand = cands[hit[0]]
        state = self._parent_state(parent, grand)
        if state is None:
            log.warning(
                "no stored weights of parent %s; training from scratch", self.space.format(parent)
            )
            return None
        return parent, grand, state

    def evaluate(
        self, arch: Arch | str, *, trial: Any = None, parent: Arch | str | None = None
    ) -> TrainEvaluation:
        """Build and train ``arch``; report each epoch to ``trial`` (which may prune it).

        With ``inherit_weights`` the network starts from its parent's weights (see the class
        docstring; ``parent`` names one explicitly, a run this evaluator finished); the trial
        then gets user attrs ``inherit_parent`` (the parent's arch string, or ``None``),
        ``inherit_distance`` (edges changed) and ``inherited_tensors`` (tensors copied).

        Args:
            arch: The architecture (or its string).
            trial: Optional Optuna trial (``report`` / ``should_prune``).
            parent: Inherit from this arch instead of the nearest one: a run this evaluator
                finished, whose weights are in its checkpoint or (with ``inherit_weights``)
                in memory; any number of edges apart.

        Returns:
            The ``TrainEvaluation`` (``value`` = last validation accuracy, %).
        """

        a = self.space.coerce(arch)
        seed = self.arch_seed(a)
        data = self.data
        found = (
            self._explicit_parent(a, parent) if parent is not None else self.find_parent(a, trial)
        )
        p_arch = None if found is None else found[0]
        changed = [] if p_arch is None else changed_edges(self.space, a, p_arch)
        copied: list[str] = []

        def factory():
            net = self.build_network(a)
            if found is not None:
                copied[:] = inherit_weights(net, found[2], changed)
            return net

        ckpt = self.checkpoint_path(a, p_arch)
        if ckpt is not None:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
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
        p_str = None if p_arch is None else self.space.format(p_arch)
        self._remember(a, r, p_str, len(copied), trial if self.inherit_weights else None)
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
            parent=p_str,
            n_inherited=len(copied),
        )

    def _explicit_parent(
        self, a: Arch, parent: Arch | str
    ) -> tuple[Arch, str | None, dict[str, Any]]:
        p = self.space.coerce(parent)
        entry = self._trained.get(self.space.format(p))
        grand = None if entry is None else entry[2]
        state = self._parent_state(p, grand)
        if state is None:
            raise param_error(
                "parent",
                f"{_OWNER}.evaluate",
                "an arch trained to the end whose weights are stored (this evaluator's "
                "memory with inherit_weights >= 1, or its checkpoint in checkpoint_dir)",
                self.space.format(p),
            )
        if p == a:
            raise param_error("parent", f"{_OWNER}.evaluate", "an arch other than arch", parent)
        return p, grand, state

    def _remember(self, a: Arch, r: Any, parent: str | None, n_copied: int, trial: Any) -> None:
        """Keep a finished run as a future parent; record the inheritance on ``trial``."""
        if trial is not None:
            distance = (
                0 if parent is None else len(changed_edges(self.space, a, self.space.parse(parent)))
            )
            trial.set_user_attr("inherit_parent", parent)
            trial.set_user_attr("inherit_distance", distance)
            trial.set_user_attr("inherited_tensors", n_copied)
        if r.pruned:
            return
        key = self.space.format(a)
        self._trained[key] = (a, float(r.final_val_acc), parent)
        if self.checkpoint_dir is None and self.inherit_weights:
            self._states[(key, parent)] = {
                k: v.detach().to("cpu", copy=True) for k, v in r.model.state_dict().items()
            }


def _fitting(space: Any, data: Any) -> Any:
    """``space`` with the constraint that its networks fit ``data``'s images: no chain layer
    shrinks the image below one pixel (e.g. 'valid' 5x5 layers on 8x8 digits). Every sampler
    then proposes only trainable networks; ``build_model`` checks the shapes (cached per arch)."""

    side = int(data.x_train.shape[-1])

    @lru_cache(maxsize=1 << 16)
    def fits(ops: tuple) -> bool:
        try:
            models.build_model(
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
