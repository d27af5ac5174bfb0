"""``predictor-nas train``: fully train one architecture and save it."""

from __future__ import annotations

import argparse
from typing import Any

from predictor_nas.cli._options import (
    _add_json,
    _add_threads,
    _apply_threads,
    _command,
    _positive_int_or_raw,
    _space_option,
)
from predictor_nas.cli._render import _fmt_seconds, _out_json, _out_rows
from predictor_nas.training import DATASETS, TrainConfig, train_final


# --------------------------------------------------------------------------- train
def _cmd_train(args: argparse.Namespace) -> int:
    _apply_threads(args.threads, "train")
    r = train_final(
        args.space,
        args.arch,
        out=args.out,
        dataset=args.dataset,
        data_root=args.data_root,
        download=args.download,
        epochs=args.epochs,
        seed=args.seed,
        width=args.width,
        depth=args.depth,
        batch_size=args.batch_size,
        lr=args.lr,
        device=args.device,
        num_threads=args.threads,
    )
    if args.json:
        _out_json(r.to_dict())
        return 0
    ts = r.torchscript
    rows = [
        ("architecture", r.arch),
        ("validation accuracy", f"{r.val_acc:.2f} % (after epoch {len(r.val_curve)})"),
        ("test accuracy", "n/a (no test split)" if r.test_acc is None else f"{r.test_acc:.2f} %"),
        ("parameters", f"{r.n_params:,}"),
        ("time", f"{_fmt_seconds(r.seconds)} training on {r.device}"),
        ("saved", f"{', '.join(r.files)} in {r.out}"),
        ("torchscript", ts.get("method", f"not exported ({ts.get('error')})")),
    ]
    _out_rows(rows)
    return 0


def register(sub: Any) -> None:
    """Add the ``train`` subcommand."""
    _add_train_parser(sub)


def _add_train_parser(sub: Any) -> None:
    """The ``train`` subcommand."""

    tr = sub.add_parser(
        "train",
        help="fully train one architecture and save it (state dict, arch.json, TorchScript)",
        description="Build the network of one architecture (nb201: the NB201 network; declared "
        "chain/cell/macro spaces: predictor_nas.models.build_model), train it on the train "
        "split, report validation and test accuracy, and write OUT/model.pt, OUT/arch.json and "
        "OUT/model.ts.",
    )
    tr.add_argument("--space", required=True, type=_space_option, metavar="NAME|FILE.yaml")
    tr.add_argument("--arch", required=True, help="architecture string of the space")
    tr.add_argument("--dataset", default="digits", help=f"{' or '.join(DATASETS)} (default digits)")
    tr.add_argument("--data-root", default=None, help="folder of CIFAR-10 (torchvision layout)")
    tr.add_argument(
        "--download", action="store_true", help="download CIFAR-10 into --data-root if missing"
    )
    recipe = TrainConfig()
    tr.add_argument(
        "--epochs",
        type=_positive_int_or_raw,
        default=recipe.epochs,
        help=f"epochs ({recipe.epochs})",
    )
    tr.add_argument("--seed", type=_positive_int_or_raw, default=0)
    tr.add_argument("--out", required=True, metavar="DIR", help="folder for the saved model")
    tr.add_argument(
        "--width",
        type=float,
        default=None,
        help="chain/macro: channel multiplier (1.0); cell spaces and nb201: channels of the "
        "first stage (16)",
    )
    tr.add_argument(
        "--depth", type=int, default=None, help="cell spaces: cells per stage (edges 5, nodes 3)"
    )
    tr.add_argument(
        "--batch-size",
        type=int,
        default=recipe.batch_size,
        help=f"training batch size ({recipe.batch_size})",
    )
    tr.add_argument(
        "--lr", type=float, default=recipe.lr, help=f"initial learning rate ({recipe.lr})"
    )
    tr.add_argument("--device", default=None, help="auto (default: CUDA if present), cpu, cuda")
    _add_threads(tr, "CPU threads (BLAS, torch)")
    _add_json(tr)
    _command(tr, _cmd_train)
