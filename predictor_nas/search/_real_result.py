"""The outcome of a real-training search (``RealSearchResult``) and how it is read off the
study's trained runs."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState


@dataclass
class RealSearchResult:
    """Outcome of a real-training search; ``to_dict`` gives the CLI's JSON object.

    Attributes:
        best_arch: Architecture with the best final validation accuracy among the runs that
            finished (pruned runs are not candidates); ``None`` if none finished.
        best_val: Its final validation accuracy (%).
        best_test: Its test accuracy (%), measured after training and never read by the search.
        n_trained: Architectures trained (finished + pruned).
        n_complete: Runs that trained all epochs.
        n_pruned: Runs stopped by the pruner.
        total_epochs: Epochs trained over all runs.
        train_seconds: Seconds spent in training + validation.
        wall_seconds: Wall seconds of the search (training, predictor fits, pool scoring,
            model building, test passes), summed over runs, including those before a resume.
        clock: The budget's clock, ``"wall"`` or ``"process"``.
        clock_seconds: Seconds on that clock, summed the same way.
        rounds: Rounds planned (``"topk"``; 0 for the other strategies).
        trajectory: Per trained arch, in order: cumulative ``seconds`` (budget clock),
            ``wall_s`` and ``epochs``, and the
            incumbent's ``val`` and ``test`` after it (``None`` before the first finished run).
        stop_reason: Why the search stopped, e.g. ``"wall-clock budget of 600 s reached after
            23 trained archs (603.2 s spent)"``.
    """

    best_arch: str | None
    best_val: float | None
    best_test: float | None
    n_trained: int
    n_complete: int
    n_pruned: int
    total_epochs: int
    train_seconds: float
    wall_seconds: float
    clock: str
    clock_seconds: float
    rounds: int
    strategy: str
    dataset: str
    seed: int
    study_name: str
    storage: str
    resumed_from: int
    device: str
    stop_reason: str | None = None
    trajectory: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_dict(self, *, trajectory: bool = False) -> dict[str, Any]:
        """JSON-able dict; the trajectory is left out unless asked for."""
        d = asdict(self)
        if not trajectory:
            d.pop("trajectory")
        return d


def _result(
    study: optuna.Study, finished: list[FrozenTrial], **kw: Any
) -> RealSearchResult:
    traj = []
    wall = 0.0
    sec = 0.0
    ep = 0
    best_val = -math.inf
    best: FrozenTrial | None = None
    for t in finished:
        wall += float(t.user_attrs.get("wall_s", 0.0))
        sec += float(t.user_attrs.get("clock_s", 0.0))
        ep += int(t.user_attrs.get("epochs_run", len(t.intermediate_values)))
        if t.state == TrialState.COMPLETE and t.value > best_val:
            best_val, best = float(t.value), t
        traj.append({
            "seconds": sec,
            "wall_s": wall,
            "epochs": ep,
            "val": None if best is None else best_val,
            "test": None if best is None else best.user_attrs.get("test_acc"),
        })
    rounds = kw.pop("rounds")
    return RealSearchResult(
        best_arch=None if best is None else best.user_attrs["arch"],
        best_val=None if best is None else best_val,
        best_test=None if best is None else best.user_attrs.get("test_acc"),
        n_trained=len(finished),
        n_complete=sum(t.state == TrialState.COMPLETE for t in finished),
        n_pruned=sum(t.state == TrialState.PRUNED for t in finished),
        total_epochs=ep,
        train_seconds=float(sum(t.user_attrs.get("cost_s", 0.0) for t in finished)),
        wall_seconds=wall,
        clock_seconds=sec,
        rounds=rounds,
        trajectory=traj,
        **kw,
    )
