"""``SupernetPrior``: an SPOS supernet's inherited-weight accuracy as the real search's prior.

The predictor-in-the-loop search (``run_real_search``, strategy ``"topk"``) trains only its
top picks; a warm-start prior decides round 0 (and, as a feature, can inform the predictor).
This prior trains one SPOS supernet of the searched space once (seeded; checkpointed next to
the study's training checkpoints, so a resumed search reuses it) and scores a candidate by the
validation accuracy of its sub-network with the shared weights, BN statistics recalibrated
(``inherited_accuracy``). Scoring a cell costs a few forward passes instead of a training run,
so round 0 picks its ``n_init`` archs from the whole pool.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from predictor_nas._validation import check_float, check_int, param_error
from predictor_nas.oneshot._evaluate import inherited_accuracy
from predictor_nas.oneshot._supernet import build_supernet
from predictor_nas.oneshot._train import train_supernet
from predictor_nas.spaces import DEFAULT_SPACE, Arch, SearchSpace, get_space
from predictor_nas.training import ImageData, torch_threads

log = logging.getLogger(__name__)

_OWNER = "SupernetPrior"


class SupernetPrior:
    """Inherited-weight validation accuracy of an SPOS supernet, as a warm-start prior.

    Same interface as :class:`~predictor_nas.search.ProxyPrior` (``score``, ``describe``,
    ``features``). The supernet is built and trained on the first ``score`` call
    (``train_supernet(mode="spos")``, resumed from ``checkpoint`` when it exists); each
    arch's score is cached by its canonical key.

    Args:
        data: The searched dataset (supernet training on its training split, scores on its
            validation split).
        space: ``"nb201"`` or a cell space with ops on edges.
        width: Channels of the first stage (the search's width).
        depth: Cells per stage (the search's depth).
        epochs: Supernet training epochs (>= 1).
        batch_size: Supernet batch size (>= 2).
        lr: Supernet initial learning rate.
        seed: Seed of the supernet (initialisation, paths, batches) and of the BN batches.
        max_scored: Archs scored per call (the first ones; the rest get -inf), >= 1.
        bn_recalibration_batches: Training batches re-estimating each sub-network's BN (>= 0).
        as_feature: Also give the score to the predictor of later rounds as an extra input
            (every pool arch is then scored each round).
        checkpoint: The supernet's checkpoint file (``None``: set by ``run_real_search`` to
            ``<study checkpoints>/supernet-spos-...pt``, or no checkpoint).
        device: Training / scoring device (``None``: CUDA if present).
        num_threads: Torch CPU threads while training and scoring.
    """

    def __init__(
        self,
        data: ImageData,
        *,
        space: SearchSpace | str = "nb201",
        width: int = 8,
        depth: int = 1,
        epochs: int = 20,
        batch_size: int = 64,
        lr: float = 0.025,
        seed: int = 0,
        max_scored: int = 1000,
        bn_recalibration_batches: int = 4,
        as_feature: bool = False,
        checkpoint: str | os.PathLike[str] | None = None,
        device: str | None = None,
        num_threads: int | None = None,
    ) -> None:
        if not isinstance(data, ImageData):
            raise param_error("data", _OWNER, "an ImageData", type(data).__name__)
        self.data = data
        self.space = get_space(space)
        self.width = check_int(width, "width", _OWNER, minimum=1)
        self.depth = check_int(depth, "depth", _OWNER, minimum=1)
        self.epochs = check_int(epochs, "epochs", _OWNER, minimum=1)
        self.batch_size = check_int(batch_size, "batch_size", _OWNER, minimum=2)
        self.lr = check_float(lr, "lr", _OWNER, minimum=0.0, exclusive=True)
        self.seed = check_int(seed, "seed", _OWNER, minimum=0)
        self.max_scored = check_int(max_scored, "max_scored", _OWNER, minimum=1)
        self.bn_batches = check_int(
            bn_recalibration_batches, "bn_recalibration_batches", _OWNER, minimum=0
        )
        if not isinstance(as_feature, bool):
            raise param_error("as_feature", _OWNER, "a bool", as_feature)
        self.as_feature = as_feature
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.device = device
        self.num_threads = num_threads
        self._supernet: Any = None
        self._cache: dict[str, float] = {}
        #: Seconds spent training the supernet (this process) and scoring archs.
        self.train_seconds = 0.0
        self.score_seconds = 0.0

    # ----------------------------------------------------------------- supernet
    def checkpoint_name(self) -> str:
        """File name of the supernet checkpoint, unique per setting."""
        return (
            f"supernet-spos-w{self.width}d{self.depth}-e{self.epochs}-b{self.batch_size}"
            f"-lr{self.lr:g}-seed{self.seed}.pt"
        )

    def place_checkpoint(self, folder: str | os.PathLike[str] | None) -> None:
        """Put the checkpoint in ``folder`` unless one was given (``run_real_search`` passes
        the study's checkpoint folder; ``None`` leaves it unset)."""
        if self.checkpoint is None and folder is not None:
            self.checkpoint = Path(folder) / self.checkpoint_name()

    @property
    def supernet(self) -> Any:
        """The trained supernet (trained, or loaded from the checkpoint, on first use)."""
        if self._supernet is None:
            net = build_supernet(
                self.space,
                width=self.width,
                depth=self.depth,
                num_classes=self.data.num_classes,
                in_channels=int(self.data.x_train.shape[1]),
                seed=self.seed,
            )
            if self.checkpoint is not None:
                self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            res = train_supernet(
                net,
                self.data,
                mode="spos",
                epochs=self.epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                seed=self.seed,
                device=self.device,
                num_threads=self.num_threads,
                checkpoint=self.checkpoint,
            )
            self.train_seconds = time.perf_counter() - t0
            log.info(
                "SPOS supernet: %d epochs (%d resumed) in %.1f s",
                res.epochs,
                res.resumed_from,
                self.train_seconds,
            )
            self._supernet = net
        return self._supernet

    # ----------------------------------------------------------------- prior interface
    def score(self, archs: Sequence[Arch]) -> np.ndarray:
        """Inherited-weight validation accuracy (%) of each arch, float64 (n,); archs past
        ``max_scored`` get -inf."""
        out = np.full(len(archs), -np.inf)
        head = list(archs[: self.max_scored])
        if head:
            out[: len(head)] = self._scores(head)
        return out

    def _scores(self, archs: Sequence[Arch]) -> np.ndarray:
        net = self.supernet
        t0 = time.perf_counter()
        out = np.empty(len(archs))
        with torch_threads(self.num_threads):
            for i, a in enumerate(archs):
                key = self.space.canonical_key(a)
                if key not in self._cache:
                    self._cache[key] = inherited_accuracy(
                        net,
                        a,
                        self.data,
                        bn_recalibration_batches=self.bn_batches,
                        batch_size=self.batch_size,
                        seed=self.seed,
                    )
                out[i] = self._cache[key]
        self.score_seconds += time.perf_counter() - t0
        return out

    @property
    def features(self) -> SupernetPrior | None:
        """The predictor's extra features in later rounds: this prior with ``as_feature``."""
        return self if self.as_feature else None

    @property
    def names(self) -> list[str]:
        """Feature name: ``["supernet_spos_acc"]``."""
        return ["supernet_spos_acc"]

    def transform(self, archs: Sequence[Arch]) -> np.ndarray:
        """Features of ``archs`` (every one scored): float32 (n, 1)."""
        return self._scores(list(archs))[:, None].astype(np.float32)

    def describe(self) -> str:
        """Short text for configs and reports (the settings that change the scores)."""
        return (
            f"supernet:spos/{self.space.name}/w{self.width}d{self.depth}/e{self.epochs}"
            f"/b{self.batch_size}/lr{self.lr:g}/seed{self.seed}/bn{self.bn_batches}"
            f"/first{self.max_scored}" + ("/feature" if self.as_feature else "")
        )


def supernet_prior(warm_start: Any, data: ImageData, a: SimpleNamespace) -> SupernetPrior:
    """``run_real_search``'s ``warm_start="supernet"``: a ``SupernetPrior`` for the search's
    space, width, depth, seed, device and threads (a given ``SupernetPrior`` passes through)."""
    if isinstance(warm_start, SupernetPrior):
        return warm_start
    return SupernetPrior(
        data,
        space=DEFAULT_SPACE if a.space is None else a.space,
        width=a.width,
        depth=a.depth,
        seed=a.seed,
        device=a.device,
        num_threads=a.num_threads,
    )
