"""``predictor-nas search --evaluator train --strategy darts|gdas|spos``: one-shot search."""

from __future__ import annotations

import argparse

from predictor_nas._lazy import oneshot
from predictor_nas._paths import check_output_dir
from predictor_nas.cli._render import _fmt_seconds, _out_json, _out_rows
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces import DEFAULT_SPACE
from predictor_nas.training import TrainConfig

#: One-shot (weight-sharing) strategies of ``search --evaluator train``
#: (``predictor_nas.oneshot.ONESHOT_STRATEGIES``; named here so the parser does not import torch).
_ONESHOT = ("darts", "gdas", "spos")


def _cmd_search_oneshot(args: argparse.Namespace) -> int:
    """``search --evaluator train --strategy darts|gdas|spos``: ``run_oneshot_search``."""
    unused = ["budget_seconds", "top_k", "pool_size", "warm_start", "storage", "study_name"]
    given = [f"--{k.replace('_', '-')}" for k in unused if getattr(args, k) is not None]
    given += ["--no-prune"] * bool(args.no_prune)
    if given:
        raise InvalidParameterError(
            f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} not used by the one-shot "
            f"strategy {args.strategy!r} (it trains a supernet); drop "
            f"{'it' if len(given) == 1 else 'them'}."
        )
    if args.checkpoint_dir is not None:
        check_output_dir(args.checkpoint_dir, "--checkpoint-dir", "search")
    recipe = TrainConfig()

    def opt(name: str, default: object) -> object:
        v = getattr(args, name)
        return default if v is None else v

    epochs = opt("epochs", recipe.epochs)
    r = oneshot.run_oneshot_search(
        args.strategy,
        space=args.space or DEFAULT_SPACE,
        dataset=args.dataset,
        data_root=args.data_root,
        download=args.download,
        supernet_epochs=epochs,
        final_epochs=epochs,
        width=opt("width", recipe.width),
        depth=opt("depth", recipe.depth),
        batch_size=opt("batch_size", recipe.batch_size),
        final_lr=opt("lr", recipe.lr),
        n_candidates=opt("budget", 100),
        seed=args.seed,
        device=args.device,
        num_threads=args.threads,
        checkpoint_dir=args.checkpoint_dir,
    )
    if args.json:
        _out_json(r.to_dict())
        return 0
    picked = (
        "argmax of the architecture weights"
        if args.strategy != "spos"
        else f"best of {len(r.candidates)} rea proposals on the supernet"
    )
    test = "n/a" if r.test_acc is None else f"{r.test_acc:.2f} % (of that arch)"
    _out_rows(
        [
            ("best architecture", f"{r.arch} ({picked})"),
            ("inherited accuracy", f"{r.inherited_acc:.2f} % (validation, supernet weights)"),
            (
                "validation accuracy",
                f"{r.final_val_acc:.2f} % (trained stand-alone, {epochs} epochs)",
            ),
            ("test accuracy", test),
            (
                "time",
                f"{_fmt_seconds(r.supernet_seconds)} supernet, "
                f"{_fmt_seconds(r.search_seconds)} search, "
                f"{_fmt_seconds(r.train_seconds)} stand-alone on {r.device}",
            ),
            ("strategy / dataset", f"{r.strategy} / {r.dataset} (seed {r.seed})"),
        ]
    )
    return 0
