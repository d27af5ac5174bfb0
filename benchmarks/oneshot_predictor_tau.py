"""Our predictor on the same budget as a supernet: Kendall tau against stand-alone accuracy.

Companion of ``oneshot_digits.py`` (same 64 NB201 cells on digits, same stand-alone runs, read
from ``results/oneshot_digits.standalone.jsonl``; no new training). A supernet costs a few
stand-alone runs of compute: SPOS's ~31 s and DARTS's ~70 s (``results/oneshot_digits.json``)
buy ~7 and ~15 of the ~4.7 s stand-alone runs. So the predictor the real search uses (``xgb``:
the XGBoost ensemble, 150 trees per member, NB201 one-hot encoding; and ``ridge``) is fitted
on ``n`` stand-alone results (a random subset, ``--repeats`` draws) and ranks the other
``64 - n`` cells; Kendall tau-b of its predicted mean with their stand-alone validation and test
accuracy. ``n`` = the supernets' budgets in stand-alone runs, and more for reference.

Caveat: the supernet's tau is over all 64 cells, the predictor's over the held-out ``64 - n``
(it has seen the others' labels). The Markdown table is also written into
``results/oneshot_digits.md`` between marker comments. CPU, one thread, seconds::

    OMP_NUM_THREADS=1 python benchmarks/oneshot_predictor_tau.py
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
from _common import cpu_name, git_revision, jsonable, t_ci

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BEGIN, END = "<!-- predictor-baseline:begin -->", "<!-- predictor-baseline:end -->"


def tau(a: Any, b: Any) -> float:
    """Kendall tau-b (NaN when undefined)."""
    from scipy.stats import kendalltau

    t = kendalltau(a, b).statistic
    return float(t) if np.isfinite(t) else float("nan")


def run(cells: list[dict[str, Any]], name: str, n: int, repeats: int) -> dict[str, Any]:
    """Fit ``name`` on ``n`` random cells ``repeats`` times; tau on the held-out rest."""
    from predictor_nas.predictors import make_predictor
    from predictor_nas.spaces import get_space

    space = get_space("nb201")
    archs = [space.parse(c["arch"]) for c in cells]
    val = np.array([c["val"] for c in cells])
    test = np.array([c["test"] for c in cells])
    t_val, t_test = [], []
    for r in range(repeats):
        rng = np.random.default_rng([n, r])
        idx = rng.permutation(len(cells))
        fit, held = idx[:n], idx[n:]
        kw = {"n_estimators": 150} if name == "xgb" else {}
        pred = make_predictor(name, seed=r, space=space, **kw)
        pred.fit([archs[i] for i in fit], val[fit])
        mean = pred.predict([archs[i] for i in held]).mean
        t_val.append(tau(mean, val[held]))
        t_test.append(tau(mean, test[held]))
    return {
        "predictor": name,
        "n_train": n,
        "repeats": repeats,
        "tau_val": t_ci(t_val),
        "tau_test": t_ci(t_test),
        "undefined": int(sum(not np.isfinite(v) for v in t_val)),
    }


def markdown(doc: dict[str, Any]) -> str:
    """The Markdown table of ``doc``."""
    lines = [
        "## Baseline: our predictor fitted on the same budget of stand-alone runs",
        "",
        f"Command: `{doc['command']}` (git {doc['git']}; {doc['cpu']}). A stand-alone run took "
        f"{doc['standalone_seconds']:.1f} s on average; the supernets above took "
        f"{doc['spos_seconds']:.0f} s (SPOS) and {doc['darts_seconds']:.0f} s (DARTS), i.e. "
        f"~{doc['spos_runs']} and ~{doc['darts_runs']} stand-alone runs. The predictor is fitted "
        f"on n random cells' stand-alone val acc ({doc['repeats']} draws) and ranks the other "
        "64 - n (the supernet rows rank all 64); mean tau-b [95% t-interval].",
        "",
        "| score | n stand-alone runs fitted | tau vs stand-alone val | tau vs stand-alone test |",
        "|---|---|---|---|",
    ]
    for r in doc["rows"]:
        v, t = r["tau_val"], r["tau_test"]
        lines.append(
            f"| predictor {r['predictor']} | {r['n_train']} | {v[0]:.3f} [{v[1]:.3f}, "
            f"{v[2]:.3f}] | {t[0]:.3f} [{t[1]:.3f}, {t[2]:.3f}] |"
        )
    for mode in ("spos", "darts"):
        s = doc["supernet"][mode]
        lines.append(
            f"| {mode} inherited val acc (3 seeds, above) | ~{doc[f'{mode}_runs']} (compute) | "
            f"{s['tau_val']:.3f} | {s['tau_test']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Compute the table; write JSON, Markdown and the section of oneshot_digits.md."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--predictors", default="xgb,ridge")
    p.add_argument("--out", type=Path, default=RESULTS / "oneshot_predictor_tau.json")
    args = p.parse_args(argv)
    cells = [json.loads(x) for x in (RESULTS / "oneshot_digits.standalone.jsonl").open()]
    base = json.loads((RESULTS / "oneshot_digits.json").read_text())
    sa = (
        float(np.mean([c["seconds"] for c in cells]))
        if "seconds" in cells[0]
        else float(base["standalone_train_seconds"]) / len(cells)
    )
    sup: dict[str, dict[str, float]] = {}
    for mode in ("spos", "darts"):
        rows = [r for r in base["rows"] if r["score"] == f"{mode} inherited val acc"]
        sup[mode] = {
            "seconds": float(np.mean([r["seconds"] for r in rows])),
            "tau_val": float(np.mean([r["tau_sa_val"] for r in rows])),
            "tau_test": float(np.mean([r["tau_sa_test"] for r in rows])),
        }
    spos_runs = max(2, round(sup["spos"]["seconds"] / sa))
    darts_runs = max(2, round(sup["darts"]["seconds"] / sa))
    budgets = sorted({spos_runs, darts_runs, 32})
    rows = [
        run(cells, name, n, args.repeats) for name in args.predictors.split(",") for n in budgets
    ]
    doc = jsonable(
        {
            "command": "python benchmarks/oneshot_predictor_tau.py "
            + shlex.join(sys.argv[1:] if argv is None else argv),
            "git": git_revision(),
            "platform": platform.platform(),
            "cpu": cpu_name(),
            "standalone_seconds": sa,
            "spos_seconds": sup["spos"]["seconds"],
            "darts_seconds": sup["darts"]["seconds"],
            "spos_runs": spos_runs,
            "darts_runs": darts_runs,
            "repeats": args.repeats,
            "supernet": sup,
            "rows": rows,
        }
    )
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    md = markdown(doc)
    args.out.with_suffix(".md").write_text(md)
    target = RESULTS / "oneshot_digits.md"
    text = target.read_text()
    block = f"{BEGIN}\n{md}{END}\n"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) + 1 :]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    target.write_text(text)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
