"""Seconds per training epoch of NAS-Bench-201 networks with ``predictor_nas.training.train``.

Cases (each on every requested device; on CUDA with and without mixed precision):

- ``nb201-cifar``: ``build_nb201(ARCH)`` at NB201's size (width 16, 5 cells per stage) on
  ``--images`` CIFAR-shaped images (32x32x3 uint8, synthetic but fixed: drawn from seed 0; plus
  a fifth as many validation images), batch
  256 (NB201's), random crop + flip, as in a CIFAR-10 search;
- ``nb201-digits``: ``build_nb201(ARCH, width=8, depth=1)`` on scikit-learn's digits (the 1,079
  training images of ``load_digits_data(0)``, 8x8x1), batch 64, as in the CPU search benchmark.

ARCH is NB201's best CIFAR-10 cell. Every case trains ``--epochs`` epochs through the real
trainer (SGD, cosine LR, validation pass each epoch); the first epoch (warm-up: cuDNN autotuning,
allocator growth) is reported apart, the others as a median. CPU cases use ``--cpu-images``
CIFAR-shaped images (an epoch of 5,000 takes minutes on 2 cores).

Writes ``<out>/training_speed.json`` and ``<out>/training_speed.md``::

    python benchmarks/training_speed.py                       # cpu, plus cuda when present
    python benchmarks/training_speed.py --device cuda --images 5000
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import platform
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
from _common import cpu_name, git_revision

log = logging.getLogger("training_speed")
HERE = Path(__file__).resolve().parent
ARCH = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
)


def machine_info() -> dict[str, Any]:
    """Platform, CPU, GPU and library versions."""
    import torch

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "git": git_revision(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
        info["bf16"] = torch.cuda.is_bf16_supported()
    return info


def cifar_like(n: int) -> Any:
    """Fixed synthetic CIFAR-shaped data: uint8 (n, 3, 32, 32) + n // 5 validation images."""
    from predictor_nas.training import from_arrays

    n_val = max(n // 5, 10)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n + n_val, 3, 32, 32), dtype=np.uint8)
    y = rng.integers(0, 10, n + n_val)
    return from_arrays(x[:n], y[:n], x[n:], y[n:], num_classes=10, name="cifar-shaped",
                       augment="crop_flip")


def run_case(
    name: str, data: Any, width: int, depth: int, batch: int, device: str, amp: bool, epochs: int
) -> dict[str, Any]:
    """Train one case; return its timings."""
    from predictor_nas.models import build_nb201
    from predictor_nas.training import train

    def factory():
        return build_nb201(ARCH, width=width, depth=depth, in_channels=data.in_channels,
                           num_classes=data.num_classes, seed=0)

    r = train(factory, data, epochs=epochs, batch_size=batch, lr=0.1, seed=0, device=device,
              amp=amp)
    rest = r.epoch_seconds[1:] or r.epoch_seconds
    med = statistics.median(rest)
    n = len(data.y_train)
    row = {
        "case": name,
        "device": r.device,
        "amp": r.amp or "off",
        "width": width,
        "depth": depth,
        "batch_size": batch,
        "train_images": n,
        "val_images": len(data.y_val),
        "params": r.n_params,
        "epochs": epochs,
        "first_epoch_s": r.epoch_seconds[0],
        "epoch_s_median": med,
        "images_per_s": n / med,
        "epoch_s_per_5000_images": med * 5000 / n,
        "final_val_acc": r.final_val_acc,
    }
    log.info("%s %s amp=%s: %.3f s/epoch (first %.3f s), %.0f img/s", name, r.device, row["amp"],
             med, row["first_epoch_s"], row["images_per_s"])
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--device", default=None,
                   help="comma-separated: cpu,cuda (default: cpu, plus cuda when available)")
    p.add_argument("--images", type=int, default=5000, help="CIFAR-shaped images on CUDA")
    p.add_argument("--cpu-images", type=int, default=500, help="CIFAR-shaped images on CPU")
    p.add_argument("--epochs", type=int, default=3, help="epochs per case (first = warm-up)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=HERE / "results")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.device.split(",") if args.device else (
        ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    )
    from predictor_nas.training import load_digits_data

    digits = load_digits_data(0)
    rows = []
    for dev in devices:
        amps = [False, True] if dev.startswith("cuda") else [False]
        cifar = cifar_like(args.images if dev.startswith("cuda") else args.cpu_images)
        for amp in amps:
            rows.append(run_case("nb201-cifar", cifar, 16, 5, 256, dev, amp, args.epochs))
            rows.append(run_case("nb201-digits", digits, 8, 1, 64, dev, amp, args.epochs))
    meta = {
        "command": "python benchmarks/training_speed.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "arch": ARCH,
        "machine": machine_info(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "training_speed.json").write_text(
        json.dumps({"meta": meta, "results": rows}, indent=1) + "\n"
    )
    m = meta["machine"]
    hw = f"{m['cpu']} ({m['cpu_count']} CPUs, {m['torch_threads']} torch threads)"
    if "gpu" in m:
        hw += f"; {m['gpu']}, CUDA {m['cuda']}"
    lines = [
        "# Training speed: seconds per epoch of NB201 networks",
        "",
        f"`{meta['command'].strip()}` — {meta['date']}; {hw}; torch {m['torch']}; git "
        f"{m['git']}.",
        "",
        f"Cell `{ARCH}`. `nb201-cifar`: width 16, 5 cells/stage, synthetic fixed 32x32x3 "
        "images, batch 256, crop+flip; `nb201-digits`: width 8, 1 cell/stage, sklearn digits "
        "(8x8x1), batch 64. Epoch = one pass over the training images + a validation pass; "
        f"median of epochs 2..{args.epochs} (the first, with warm-up, listed apart).",
        "",
        "| case | device | AMP | train images | params | s/epoch | first epoch s | images/s "
        "| s per 5,000 images |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['device']} | {r['amp']} | {r['train_images']:,} | "
            f"{r['params']:,} | {r['epoch_s_median']:.3f} | {r['first_epoch_s']:.3f} | "
            f"{r['images_per_s']:,.0f} | {r['epoch_s_per_5000_images']:.2f} |"
        )
    base = {(r["case"], r["device"]): r for r in rows if r["amp"] == "off"}
    ratios = [
        f"{r['case']} on {r['device']}: AMP ({r['amp']}) {base[(r['case'], r['device'])]['epoch_s_median'] / r['epoch_s_median']:.2f}x"  # noqa: E501
        for r in rows
        if r["amp"] != "off" and (r["case"], r["device"]) in base
    ]
    cpu = {r["case"]: r for r in rows if r["device"] == "cpu"}
    ratios += [
        f"{r['case']}: {r['device']} ({r['amp']}) {r['images_per_s'] / cpu[r['case']]['images_per_s']:.0f}x the CPU's images/s"  # noqa: E501
        for r in rows
        if r["device"] != "cpu" and r["case"] in cpu
    ]
    if ratios:
        lines += ["", "Speed-ups (same process): " + "; ".join(ratios) + "."]
    (args.out / "training_speed.md").write_text("\n".join(lines) + "\n")
    log.info("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
