"""Epochs saved by weight inheritance: children trained from their parent's weights vs from scratch.

For ``--pairs`` parent/child pairs of NB201 cells on scikit-learn's digits
(``load_digits_data(0)``: 1,079 train / 359 val / 359 test), this script trains

- the **parent**: a uniform random cell (``space.sample``, seeded by the pair index), trained
  from scratch for ``--epochs`` epochs (``TrainEvaluator``: width 8, depth 1, batch 64, lr 0.1,
  NB201's SGD + cosine recipe; each arch its own seed);
- the **child**: the parent with 1 edge changed (even pairs) or 2 edges changed (odd pairs)
  (``space.mutate``, never isomorphic to the parent), trained twice for ``--epochs`` epochs with
  the same recipe and seed: **from scratch**, and **inherited** (``evaluate(child,
  parent=parent)``: every tensor of the unchanged edges, stem, reduction blocks and head starts
  from the parent's final weights; optimizer and cosine schedule start afresh, the curve is
  the child's own from epoch 1).

Per pair: ``e_scratch`` = first epoch at which the scratch run reaches its own final validation
accuracy, ``e_inh`` = first epoch at which the inherited run reaches that accuracy
(``epochs + 1`` when it never does: counted as censored). Epochs saved = ``e_scratch - e_inh``,
paired over the same children, with a t-interval; also the paired difference of final
validation and test accuracy. Records are appended to ``<out>.pairs.jsonl`` as pairs finish and
reused by a rerun (``--max-seconds`` stops between pairs). Single CPU thread::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/inherit_digits.py --pairs 20 --epochs 6
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import cpu_name, git_revision, jsonable, paired, t_ci

log = logging.getLogger("inherit_digits")
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "inherit_digits.json"
WIDTH, DEPTH, BATCH, LR = 8, 1, 64, 0.1
#: Learning rate of the fine-tuning arm (an inherited child at a fifth of the scratch lr).
FT_LR = 0.02


def make_pair(space: Any, i: int) -> tuple[Any, Any]:
    """Pair ``i``: a random parent and a child ``1 + i % 2`` edges away (not isomorphic)."""
    rng = np.random.default_rng([2026, i])
    while True:
        parent = space.sample(rng)
        child = space.mutate(parent, rng)
        if i % 2:
            child = space.mutate(child, rng)
        n_changed = sum(a != b for a, b in zip(parent.ops, child.ops, strict=True))
        if n_changed == 1 + i % 2 and space.canonical_key(child) != space.canonical_key(parent):
            return parent, child


def first_reach(curve: list[float], target: float) -> int:
    """1-based first epoch with ``curve >= target`` (``len(curve) + 1`` when never)."""
    for e, v in enumerate(curve, start=1):
        if v >= target - 1e-9:
            return e
    return len(curve) + 1


def run_pair(i: int, data: Any, epochs: int) -> dict[str, Any]:
    """Train pair ``i``'s parent, its child from scratch and its child inherited."""
    from predictor_nas.evaluators import TrainEvaluator

    kw = dict(width=WIDTH, depth=DEPTH, epochs=epochs, batch_size=BATCH, lr=LR, num_threads=1)
    inh = TrainEvaluator(data, inherit_weights=2, **kw)
    scratch = TrainEvaluator(data, **kw)
    space = inh.space
    parent, child = make_pair(space, i)
    t0 = time.perf_counter()
    p = inh.evaluate(parent)
    c_s = scratch.evaluate(child)
    c_i = inh.evaluate(child, parent=parent)
    target = c_s.val_curve[-1]
    short = short_arm(data, inh, parent, child, max(1, epochs // 2))
    ft = finetune_arm(data, inh, parent, child, epochs, target)
    return {
        "pair": i,
        "parent": space.format(parent),
        "child": space.format(child),
        "edges_changed": 1 + i % 2,
        "n_inherited": c_i.n_inherited,
        "n_tensors": len(inh.build_network(child).state_dict()),
        "parent_val": list(p.val_curve),
        "scratch_val": list(c_s.val_curve),
        "inherited_val": list(c_i.val_curve),
        "scratch_test": c_s.metrics.get("test_acc"),
        "inherited_test": c_i.metrics.get("test_acc"),
        "e_scratch": first_reach(list(c_s.val_curve), target),
        "e_inherited": first_reach(list(c_i.val_curve), target),
        **short,
        **ft,
        "seconds": time.perf_counter() - t0,
    }


def short_arm(data: Any, inh: Any, parent: Any, child: Any, epochs: int) -> dict[str, Any]:
    """The child trained on a shorter schedule (``epochs``, cosine over them), from scratch and
    inherited from the same parent weights: can inheritance halve a child's epochs?"""
    from predictor_nas.evaluators._inherit import changed_edges, inherit_weights
    from predictor_nas.training import train

    state = inh.find_parent(child)
    assert state is not None and state[0] == parent
    changed = changed_edges(inh.space, child, parent)
    out = {}
    for arm in ("scratch", "inherited"):

        def factory(arm: str = arm) -> Any:
            net = inh.build_network(child)
            if arm == "inherited":
                inherit_weights(net, state[2], changed)
            return net

        r = train(
            factory,
            data,
            epochs=epochs,
            batch_size=BATCH,
            lr=LR,
            seed=inh.arch_seed(child),
            num_threads=1,
        )
        out[f"short_{arm}_val"] = list(r.val_acc)
        out[f"short_{arm}_test"] = r.test_acc
    return out


def finetune_arm(
    data: Any, inh: Any, parent: Any, child: Any, epochs: int, target: float
) -> dict[str, Any]:
    """The inherited child trained with lr ``FT_LR`` instead of ``LR`` (fine-tuning): does a
    gentler restart keep what the parent learned?"""
    from predictor_nas.evaluators._inherit import changed_edges, inherit_weights
    from predictor_nas.training import train

    state = inh.find_parent(child)
    assert state is not None and state[0] == parent
    changed = changed_edges(inh.space, child, parent)

    def factory() -> Any:
        net = inh.build_network(child)
        inherit_weights(net, state[2], changed)
        return net

    r = train(
        factory,
        data,
        epochs=epochs,
        batch_size=BATCH,
        lr=FT_LR,
        seed=inh.arch_seed(child),
        num_threads=1,
    )
    return {
        "finetune_val": list(r.val_acc),
        "finetune_test": r.test_acc,
        "e_finetune": first_reach(list(r.val_acc), target),
    }


def add_finetune(row: dict[str, Any], data: Any, epochs: int) -> None:
    """Add the fine-tuning arm to a row recorded before it existed (the parent is retrained:
    same seed, same weights on CPU)."""
    from predictor_nas.evaluators import TrainEvaluator

    kw = dict(width=WIDTH, depth=DEPTH, epochs=epochs, batch_size=BATCH, lr=LR, num_threads=1)
    inh = TrainEvaluator(data, inherit_weights=2, **kw)
    parent, child = make_pair(inh.space, row["pair"])
    p = inh.evaluate(parent)
    assert list(p.val_curve) == row["parent_val"]  # the same parent weights
    row.update(finetune_arm(data, inh, parent, child, epochs, row["scratch_val"][-1]))


def summarise(rows: list[dict[str, Any]], epochs: int) -> dict[str, Any]:
    """Paired statistics over the pairs."""
    e_s = [r["e_scratch"] for r in rows]
    e_i = [r["e_inherited"] for r in rows]
    fin_s = [r["scratch_val"][-1] for r in rows]
    fin_i = [r["inherited_val"][-1] for r in rows]
    out: dict[str, Any] = {
        "pairs": len(rows),
        "epochs": epochs,
        "e_scratch_mean_ci": t_ci(e_s),
        "e_inherited_mean_ci": t_ci(e_i),
        "epochs_saved": paired(e_s, e_i),
        "censored": int(sum(e > epochs for e in e_i)),
        "final_val_inherited_minus_scratch": paired(fin_i, fin_s),
        "test_inherited_minus_scratch": paired(
            [r["inherited_test"] for r in rows], [r["scratch_test"] for r in rows]
        ),
        "epoch1_val_inherited_minus_scratch": paired(
            [r["inherited_val"][0] for r in rows], [r["scratch_val"][0] for r in rows]
        ),
        "short_epochs": len(rows[0]["short_scratch_val"]),
        "short_inherited_minus_full_scratch_val": paired(
            [r["short_inherited_val"][-1] for r in rows], fin_s
        ),
        "short_inherited_minus_short_scratch_val": paired(
            [r["short_inherited_val"][-1] for r in rows],
            [r["short_scratch_val"][-1] for r in rows],
        ),
        "short_inherited_minus_full_scratch_test": paired(
            [r["short_inherited_test"] for r in rows], [r["scratch_test"] for r in rows]
        ),
        "finetune_lr": FT_LR,
        "epochs_saved_finetune": paired(e_s, [r["e_finetune"] for r in rows]),
        "censored_finetune": int(sum(r["e_finetune"] > epochs for r in rows)),
        "finetune_minus_scratch_val": paired([r["finetune_val"][-1] for r in rows], fin_s),
        "finetune_minus_scratch_test": paired(
            [r["finetune_test"] for r in rows], [r["scratch_test"] for r in rows]
        ),
        "inherited_share": float(np.mean([r["n_inherited"] / r["n_tensors"] for r in rows])),
    }
    for level in (90.0, 95.0):
        out[f"epochs_saved_to_{level:g}"] = paired(
            [first_reach(r["scratch_val"], level) for r in rows],
            [first_reach(r["inherited_val"], level) for r in rows],
        )
    for k in (1, 2):
        sub = [r for r in rows if r["edges_changed"] == k]
        if len(sub) >= 2:
            out[f"epochs_saved_{k}_edge"] = paired(
                [r["e_scratch"] for r in sub], [r["e_inherited"] for r in sub]
            )
    return out


def _fmt(d: dict[str, float]) -> str:
    return f"{d['diff']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}] (p = {d['p']:.3g})"


def markdown(doc: dict[str, Any]) -> str:
    """The Markdown report of ``doc``."""
    s, rows = doc["summary"], doc["rows"]
    e_s, e_i = s["e_scratch_mean_ci"], s["e_inherited_mean_ci"]
    lines = [
        "# Weight inheritance on digits: epochs to reach the scratch run's final accuracy",
        "",
        f"{s['pairs']} parent/child pairs of NB201 cells (width {WIDTH}, depth {DEPTH}; children "
        f"1 edge (even pairs) or 2 edges (odd pairs) from a uniform random parent), every run "
        f"{s['epochs']} epochs, batch {BATCH}, lr {LR}, NB201's cosine recipe, one CPU thread. "
        f"Command: `{doc['command']}` (git {doc['git']}, {doc['platform']}; {doc['cpu']}).",
        "",
        "| measure | value (mean [95% t-interval]) |",
        "|---|---|",
        f"| epochs for the scratch child to reach its own final val acc | {e_s[0]:.2f} "
        f"[{e_s[1]:.2f}, {e_s[2]:.2f}] |",
        f"| epochs for the inherited child to reach it | {e_i[0]:.2f} [{e_i[1]:.2f}, "
        f"{e_i[2]:.2f}] (never reached: {s['censored']} of {s['pairs']}, counted as "
        f"{s['epochs'] + 1}) |",
        f"| **epochs saved** (scratch - inherited, paired) | {_fmt(s['epochs_saved'])} |",
    ]
    for k in (1, 2):
        if f"epochs_saved_{k}_edge" in s:
            lines.append(
                f"| epochs saved, {k} edge(s) changed | {_fmt(s[f'epochs_saved_{k}_edge'])} |"
            )
    for level in (90, 95):
        lines.append(
            f"| epochs saved to reach {level} % val (never: counted as {s['epochs'] + 1}) | "
            f"{_fmt(s[f'epochs_saved_to_{level}'])} |"
        )
    k = s["short_epochs"]
    ft = s["finetune_lr"]
    lines += [
        f"| **epochs saved, inherited child fine-tuned at lr {ft}** (never reached: "
        f"{s['censored_finetune']}) | {_fmt(s['epochs_saved_finetune'])} |",
        f"| final val acc, fine-tuned (lr {ft}) - scratch | "
        f"{_fmt(s['finetune_minus_scratch_val'])} |",
        f"| test acc, fine-tuned (lr {ft}) - scratch | {_fmt(s['finetune_minus_scratch_test'])} |",
    ]
    lines += [
        f"| final val acc, inherited on a {k}-epoch schedule - scratch on {s['epochs']} epochs "
        f"| {_fmt(s['short_inherited_minus_full_scratch_val'])} |",
        f"| test acc, inherited on {k} epochs - scratch on {s['epochs']} epochs "
        f"| {_fmt(s['short_inherited_minus_full_scratch_test'])} |",
        f"| final val acc, inherited - scratch, both on {k} epochs "
        f"| {_fmt(s['short_inherited_minus_short_scratch_val'])} |",
    ]
    lines += [
        f"| val acc after epoch 1, inherited - scratch (points) | "
        f"{_fmt(s['epoch1_val_inherited_minus_scratch'])} |",
        f"| final val acc, inherited - scratch (points) | "
        f"{_fmt(s['final_val_inherited_minus_scratch'])} |",
        f"| test acc, inherited - scratch (points) | {_fmt(s['test_inherited_minus_scratch'])} |",
        f"| share of the child's tensors inherited | {100 * s['inherited_share']:.1f} % |",
        "",
        "| pair | edges | child | scratch val curve | inherited val curve | e scratch | e inh |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cs = " ".join(f"{v:.1f}" for v in r["scratch_val"])
        ci = " ".join(f"{v:.1f}" for v in r["inherited_val"])
        lines.append(
            f"| {r['pair']} | {r['edges_changed']} | `{r['child']}` | {cs} | {ci} | "
            f"{r['e_scratch']} | {r['e_inherited']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run (or resume) the pairs and write ``--out`` (JSON) and its Markdown twin."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--max-seconds", type=float, default=540.0, help="stop between pairs after")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from predictor_nas.training import load_digits_data

    data = load_digits_data(0)
    jsonl = args.out.with_suffix(".pairs.jsonl")
    done: dict[int, dict[str, Any]] = {}
    if jsonl.exists():
        for line in jsonl.read_text().splitlines():
            r = json.loads(line)
            if len(r["scratch_val"]) == args.epochs and "short_scratch_val" in r:
                done[r["pair"]] = r
    t0 = time.perf_counter()
    for i in range(args.pairs):
        if i in done and "finetune_val" not in done[i]:
            if time.perf_counter() - t0 > args.max_seconds:
                log.info("time is up; rerun to continue")
                return 0
            add_finetune(done[i], data, args.epochs)
            jsonl.write_text("".join(json.dumps(done[j]) + "\n" for j in sorted(done)))
            log.info("pair %d: fine-tuning arm added, e_finetune %d", i, done[i]["e_finetune"])
        if i in done:
            continue
        if time.perf_counter() - t0 > args.max_seconds:
            log.info("time is up after %d pairs; rerun to continue", len(done))
            return 0
        done[i] = run_pair(i, data, args.epochs)
        with open(jsonl, "a") as f:
            f.write(json.dumps(done[i]) + "\n")
        log.info(
            "pair %d: e_scratch %d, e_inherited %d (%.0f s)",
            i,
            done[i]["e_scratch"],
            done[i]["e_inherited"],
            done[i]["seconds"],
        )
    rows = [done[i] for i in range(args.pairs)]
    doc = {
        "command": "python benchmarks/inherit_digits.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "git": git_revision(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "summary": summarise(rows, args.epochs),
        "rows": rows,
    }
    doc = jsonable(doc)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(doc))
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
