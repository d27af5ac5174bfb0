"""Inherited-weight evaluation of a sub-network, and the argmax cell of DARTS / GDAS."""

from __future__ import annotations

import torch
from torch import nn

from predictor_nas._validation import check_int, param_error
from predictor_nas.oneshot._supernet import Supernet
from predictor_nas.spaces import Arch
from predictor_nas.training import ImageData, evaluate_accuracy

__all__ = ["derive_argmax", "inherited_accuracy", "recalibrate_bn"]


def _check_supernet(supernet: object, owner: str) -> Supernet:
    if not isinstance(supernet, Supernet):
        raise param_error(
            "supernet", owner, "a Supernet (see build_supernet)", type(supernet).__name__
        )
    return supernet


def derive_argmax(supernet: Supernet) -> Arch:
    """The cell of the largest architecture weight on each edge (DARTS / GDAS derivation).

    Every op competes, ``none`` included (NAS-Bench-201's DARTS baseline); ties go to the op
    listed first.

    Returns:
        An ``Arch`` of the supernet's space.
    """
    net = _check_supernet(supernet, "derive_argmax")
    index = net.alphas.detach().float().argmax(dim=-1).cpu().tolist()
    return net.space.make([net.op_names[i] for i in index])


@torch.no_grad()
def recalibrate_bn(
    model: nn.Module, x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, *, batches: int,
    batch_size: int,
) -> None:
    """Reset every BatchNorm's running statistics and re-estimate them on ``batches`` batches.

    The statistics become the exact (cumulative) mean and variance over the batches of raw
    images ``x`` (n, C, H, W), taken in order; the model is left in eval mode.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average = exact mean over the batches
    model.train()
    try:
        for b in range(batches):
            xb = x[b * batch_size : (b + 1) * batch_size]
            if len(xb) < 2:
                break
            model((xb.float() - mean) / std)
    finally:
        for m, mom in zip(bns, saved, strict=True):
            m.momentum = mom
        model.eval()


def inherited_accuracy(
    supernet: Supernet,
    arch: Arch | str,
    data: ImageData,
    *,
    bn_recalibration_batches: int = 4,
    batch_size: int = 64,
    seed: int = 0,
    split: str = "val",
) -> float:
    """Accuracy (%) of ``arch``'s sub-network with the supernet's shared weights.

    The sub-network is extracted (``supernet.extract``: the stand-alone network holding
    copies of the weights, so the supernet is not changed); its BatchNorm statistics are then
    re-estimated on ``bn_recalibration_batches`` training batches (drawn by a permutation seeded
    with ``seed``; 0 keeps the supernet's statistics, which SPOS has averaged over all paths)
    and it is evaluated on the validation split (or ``split="test"``). Runs on the supernet's
    device, without autocast.

    Args:
        supernet: A (trained) supernet.
        arch: An ``Arch`` of the supernet's space or its string.
        data: The dataset.
        bn_recalibration_batches: Training batches for the BN statistics (>= 0).
        batch_size: Images per recalibration batch (>= 2).
        seed: Seed of the recalibration batches.
        split: ``"val"`` or ``"test"``.

    Returns:
        Top-1 accuracy in percent.
    """
    owner = "inherited_accuracy"
    net = _check_supernet(supernet, owner)
    if not isinstance(data, ImageData):
        raise param_error("data", owner, "an ImageData", type(data).__name__)
    batches = check_int(bn_recalibration_batches, "bn_recalibration_batches", owner, minimum=0)
    batch_size = check_int(batch_size, "batch_size", owner, minimum=2)
    seed = check_int(seed, "seed", owner, minimum=0)
    if split not in ("val", "test") or (split == "test" and data.x_test is None):
        raise param_error("split", owner, "'val' (or 'test' when data has a test split)", split)
    sub = net.extract(arch)
    return subnet_accuracy(sub, data, batches=batches, batch_size=batch_size, seed=seed,
                           split=split)


def subnet_accuracy(
    sub: nn.Module, data: ImageData, *, batches: int, batch_size: int, seed: int,
    split: str = "val",
) -> float:
    """Recalibrate ``sub``'s BN on ``batches`` seeded training batches and evaluate it (%)."""
    dev = next(sub.parameters()).device
    mean = torch.tensor(data.mean, dtype=torch.float32, device=dev).reshape(1, -1, 1, 1)
    std = torch.tensor(data.std, dtype=torch.float32, device=dev).reshape(1, -1, 1, 1)
    if batches > 0:
        gen = torch.Generator().manual_seed(seed)
        take = torch.randperm(len(data.y_train), generator=gen)[: batches * batch_size]
        x_cal = torch.from_numpy(data.x_train[take.numpy()]).to(dev)
        recalibrate_bn(sub, x_cal, mean, std, batches=batches, batch_size=batch_size)
    x, y = (data.x_val, data.y_val) if split == "val" else (data.x_test, data.y_test)
    return evaluate_accuracy(
        sub, torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev), mean, std
    )
