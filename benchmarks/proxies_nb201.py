"""Zero-cost proxies on real NB201 networks vs NAS-Bench-Suite-Zero's precomputed values.

A seeded sample of NAS-Bench-201 cells (``default_rng(seed).choice`` without replacement among
the 9,445 cells that have NAS-Bench-Suite-Zero proxies, i.e. no dead operation) is scored on the
library's NB201 network (``build_nb201``: C = 16, N = 5, 10 classes, PyTorch-default weights
from ``proxy_seeds(seed)``) with CIFAR-10-shaped input: one seeded batch of 64 Gaussian-noise
images N(0, 1) of 3 x 32 x 32 with uniform random labels 0..9, the same batch for every cell
(there is no CIFAR-10 here). The cheap shape-only proxies params / flops / synflow are computed
for all ``--n-archs`` cells, every proxy for the first ``--n-full`` draws (a uniform subsample).
params / flops / synflow / zen only read the input's shape (synflow uses an all-ones image, zen
its own Gaussian batches), so they compute what NAS-Bench-Suite-Zero computed up to the random
weights; snip / grasp / fisher / grad_norm / jacov / nwot see noise instead of the CIFAR-10
batch NAS-Bench-Suite-Zero used.

Compared with the ``nb201-rich`` table imported from ``../shared/data/nb201`` (cifar10):
``zc_<proxy>`` per proxy (Spearman rho; for params / flops / synflow also the absolute and
relative differences), and the Spearman rho of each proxy, ours and the table's on the same
cells, with the 200-epoch CIFAR-10 validation accuracy (``val_acc``, mean over trials); also the
rank-average ensembles (``ProxyEnsemble``'s score) of ``DEFAULT_ENSEMBLE`` and of all proxies.
CPU and wall seconds per proxy and cell are recorded in one-thread worker processes.

Writes ``<out>/<name>.json`` (per-cell values and times) and ``<out>/<name>.md``. On the shared
2-core machine run it niced; the default is the committed run::

    nice -n 10 python benchmarks/proxies_nb201.py
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import multiprocessing as mp
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import git_revision, machine_info, shared_data

RICH_SOURCE = shared_data("nb201")

log = logging.getLogger("benchmarks.proxies_nb201")

DATASET = "cifar10"
#: Proxies whose value depends on the data (they see Gaussian noise here, CIFAR-10 in the table).
CLOSE = ("params", "flops", "synflow")


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


#: Computed for every sampled cell; the rest only for the first ``--n-full`` cells.
SHAPE_ONLY = ("params", "flops", "synflow")
#: Timed as one unit: ``loss_gradient_proxies`` shares one backward pass among them.
GROUP = ("snip", "grad_norm", "fisher")


def _score_cell(job: tuple[int, str, int, int, bool]) -> dict[str, Any]:
    """Proxies of one cell with wall and CPU seconds per proxy (runs in a worker process)."""
    from predictor_nas.models import build_nb201
    from predictor_nas.proxies import PROXIES, loss_gradient_proxies, noise_batch, proxy_seeds

    index, arch, seed, batch_size, full = job
    w_seed, d_seed, p_seed = proxy_seeds(seed)
    model = build_nb201(arch, seed=w_seed)
    x, y = noise_batch(batch_size, 3, 32, 10, d_seed)
    values: dict[str, float] = {}
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    names = list(PROXIES) if full else list(SHAPE_ONLY)
    for name in names:
        if name in values:
            continue
        t, c = time.perf_counter(), time.process_time()
        if name in GROUP:
            values.update(loss_gradient_proxies(model, x, y, GROUP))
            key = "+".join(GROUP)
        else:
            values[name] = float(PROXIES[name].compute(model, x, y, p_seed))
            key = name
        wall[key], cpu[key] = time.perf_counter() - t, time.process_time() - c
    return {
        "index": index,
        "arch": arch,
        "full": full,
        "values": values,
        "wall_s": wall,
        "cpu_s": cpu,
    }


def _spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    from scipy.stats import spearmanr

    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan"), int(ok.sum())
    return float(spearmanr(a[ok], b[ok]).statistic), int(ok.sum())


def _stats(ours: np.ndarray, theirs: np.ndarray, acc: np.ndarray) -> dict[str, Any]:
    rho_tab, n = _spearman(ours, theirs)
    both = np.isfinite(ours) & np.isfinite(theirs)
    diff = np.abs(ours[both] - theirs[both])
    rel = diff / np.maximum(np.abs(theirs[both]), 1e-12)
    return {
        "n_cells": int(ours.size),
        "n_compared": n,
        "spearman_vs_table": rho_tab,
        "median_abs_diff": float(np.median(diff)) if diff.size else None,
        "max_abs_diff": float(diff.max()) if diff.size else None,
        "max_rel_diff": float(rel.max()) if rel.size else None,
        "spearman_val_acc_ours": _spearman(ours, acc)[0],
        "spearman_val_acc_table": _spearman(theirs, acc)[0],
        "non_finite_ours": int((~np.isfinite(ours)).sum()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the JSON and Markdown reports."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-archs", type=int, default=300, help="cells for params/flops/synflow")
    p.add_argument("--n-full", type=int, default=50, help="of those, cells for all proxies")
    p.add_argument("--seed", type=int, default=0, help="sample and proxy seed")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    p.add_argument("--source", default=RICH_SOURCE, help="folder holding nb201.csv.gz")
    p.add_argument("--out", default=str(Path(__file__).parent / "results"))
    p.add_argument("--name", default="proxies_nb201")
    args = p.parse_args(argv)
    if not 3 <= args.n_full <= args.n_archs:
        p.error("need 3 <= --n-full <= --n-archs")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from predictor_nas.proxies import DEFAULT_ENSEMBLE, PROXIES, rank_average
    from predictor_nas.spaces import get_space
    from predictor_nas.tables import open_table
    from predictor_nas.tables.importers import import_nb201_rich

    t_start = time.perf_counter()
    names = list(PROXIES)
    space = get_space("nb201")
    archs = [space.from_index(i) for i in range(space.size)]
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = import_nb201_rich(args.source, out=Path(tmp) / "nb201-rich.h5")
        table = open_table(path)
        rows = table.rows(archs)

        def col(metric: str) -> np.ndarray:
            fid = table.fidelities(metric, dataset=DATASET)[-1]
            return table.query_many(rows, metric, dataset=DATASET, fidelity=fid)

        table_cols = {n: col(PROXIES[n].table_metric) for n in names}
        val = col("val_acc")
        content_hash = table.info().get("content_hash")
    eligible = np.flatnonzero(np.isfinite(table_cols["snip"]))
    drawn = np.random.default_rng(args.seed).choice(eligible, size=args.n_archs, replace=False)
    full = set(int(i) for i in drawn[: args.n_full])  # the first n_full draws: a uniform subsample
    jobs = [
        (int(i), space.format(archs[i]), args.seed, args.batch_size, int(i) in full)
        for i in np.sort(drawn)
    ]
    log.info("%d eligible; %d cells, %d with all proxies", eligible.size, len(jobs), len(full))

    t_run = time.perf_counter()
    records: list[dict[str, Any]] = []
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.workers, initializer=_worker_init, initargs=(args.threads,)) as pool:
        for k, rec in enumerate(pool.imap(_score_cell, jobs, chunksize=1), start=1):
            records.append(rec)
            if k % 20 == 0 or k == len(jobs):
                log.info("%d/%d cells (%.0f s)", k, len(jobs), time.perf_counter() - t_run)
    run_s = time.perf_counter() - t_run

    acc_all = val[[r["index"] for r in records]]
    proxies_out = []
    for n in names:
        sel = [k for k, r in enumerate(records) if n in r["values"]]
        idx = np.array([records[k]["index"] for k in sel])
        ours = np.array([records[k]["values"][n] for k in sel])
        row = {"proxy": n, "uses_data": PROXIES[n].uses_data, "table": PROXIES[n].table_metric}
        row.update(_stats(ours, table_cols[n][idx], acc_all[sel]))
        proxies_out.append(row)
    timing = {}
    for key in dict.fromkeys(k for r in records if r["full"] for k in r["cpu_s"]):
        cpu = np.array([r["cpu_s"][key] for r in records if r["full"]])
        wall = np.array([r["wall_s"][key] for r in records if r["full"]])
        timing[key] = {"cpu_s_mean": float(cpu.mean()), "wall_s_mean": float(wall.mean())}

    sel = [k for k, r in enumerate(records) if r["full"]]
    idx = np.array([records[k]["index"] for k in sel])
    acc = acc_all[sel]
    ensembles = {}
    for label, members in (("default", DEFAULT_ENSEMBLE), ("all", tuple(names))):
        signs = np.array([1.0 if PROXIES[m].higher_is_better else -1.0 for m in members])
        mine = rank_average(
            np.array([[records[k]["values"][m] for m in members] for k in sel]), signs
        )
        tab = rank_average(np.stack([table_cols[m][idx] for m in members], axis=1), signs)
        ensembles[label] = {
            "members": list(members),
            "n_cells": len(sel),
            "spearman_val_acc_ours": _spearman(mine, acc)[0],
            "spearman_val_acc_table": _spearman(tab, acc)[0],
            "spearman_vs_table": _spearman(mine, tab)[0],
        }

    extra = "" if argv is None and len(sys.argv) == 1 else " " + shlex.join(sys.argv[1:])
    meta = {
        "command": "nice -n 10 python benchmarks/proxies_nb201.py" + extra,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "git": git_revision(),
        "machine": machine_info("torch", niceness=os.nice(0)),
        "settings": {
            "n_archs": args.n_archs,
            "n_full": args.n_full,
            "seed": args.seed,
            "batch_size": args.batch_size,
            "workers": args.workers,
            "threads_per_worker": args.threads,
            "input": f"{args.batch_size} x 3 x 32 x 32 Gaussian noise N(0,1), uniform labels 0..9",
            "network": "build_nb201(arch, width=16, depth=5, num_classes=10)",
            "table": f"nb201-rich from {args.source}, content hash {content_hash}",
            "eligible_cells": int(eligible.size),
        },
        "scoring_seconds": run_s,
        "total_seconds": time.perf_counter() - t_start,
    }
    result = {
        "meta": meta,
        "proxies": proxies_out,
        "timing": timing,
        "ensembles": ensembles,
        "cells": records,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / f"{args.name}.md").write_text(_markdown(result))
    log.info("wrote %s (%.0f s)", out / f"{args.name}.md", meta["total_seconds"])
    return 0


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}"


def _markdown(result: dict[str, Any]) -> str:
    meta, rows, ens, timing = (result[k] for k in ("meta", "proxies", "ensembles", "timing"))
    s, m = meta["settings"], meta["machine"]
    lines = [
        "# Zero-cost proxies on real NB201 networks vs NAS-Bench-Suite-Zero",
        "",
        f"{s['n_archs']} NAS-Bench-201 cells drawn with `default_rng({s['seed']})` among the "
        f"{s['eligible_cells']} cells with NAS-Bench-Suite-Zero proxies (no dead operation); "
        f"params, flops and synflow on all of them, every proxy on the first {s['n_full']} draws. "
        f"Network: `{s['network']}`, PyTorch-default weights from `proxy_seeds({s['seed']})`. "
        f"Input: {s['input']}, one batch for all cells (there is no CIFAR-10 here). "
        "NAS-Bench-Suite-Zero computed its data-dependent proxies (snip, grasp, fisher, "
        "grad_norm, jacov, nwot) on a CIFAR-10 batch, ours see noise; params, flops, synflow and "
        "zen only read the input shape. Accuracy: 200-epoch CIFAR-10 validation accuracy "
        "(`val_acc`, mean over trials). Table values: `zc_<proxy>` (cifar10) of `nb201-rich`.",
        "",
        "```",
        meta["command"],
        "```",
        "",
        f"- date {meta['date']}; scoring {meta['scoring_seconds']:.0f} s, total "
        f"{meta['total_seconds']:.0f} s; {s['workers']} worker processes x "
        f"{s['threads_per_worker']} torch thread, niceness {m['niceness']}",
        f"- {s['table']}",
        f"- machine: {m['platform']}; {m['cpu']}; cpu_count {m['cpu_count']} (shared with "
        f"other jobs while this ran); Python {m['python']}, torch {m['torch']}, numpy "
        f"{m['numpy']}; git {meta['git']}",
        "",
        "## Agreement with the table and with accuracy",
        "",
        "rho = Spearman rank correlation; diffs only for the proxies that should agree closely.",
        "",
        "| proxy | input | cells | rho vs table | median abs diff | max rel diff "
        "| rho val_acc (ours) | rho val_acc (table, same cells) | non-finite (ours) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        close = r["proxy"] in SHAPE_ONLY
        lines.append(
            f"| {r['proxy']} | {'noise batch' if r['uses_data'] else 'shape only'} "
            f"| {r['n_cells']} | {_fmt(r['spearman_vs_table'])} "
            f"| {_fmt(r['median_abs_diff'], 4) if close else '-'} "
            f"| {_fmt(r['max_rel_diff'], 4) if close else '-'} "
            f"| {_fmt(r['spearman_val_acc_ours'])} | {_fmt(r['spearman_val_acc_table'])} "
            f"| {r['non_finite_ours']} |"
        )
    lines += [
        "",
        "## Cost per cell",
        "",
        f"Mean over the {s['n_full']} all-proxy cells; CPU seconds of the one-thread worker "
        "process (`time.process_time`, robust to the machine being shared) and wall seconds. "
        "snip, grad_norm and fisher share one backward pass (`loss_gradient_proxies`, as "
        "`compute_proxies` does) and are timed together.",
        "",
        "| proxy | CPU s / cell | wall s / cell |",
        "|---|---|---|",
    ]
    for key, t in timing.items():
        lines.append(f"| {key} | {t['cpu_s_mean']:.3f} | {t['wall_s_mean']:.3f} |")
    cpu_total = sum(t["cpu_s_mean"] for t in timing.values())
    wall_total = sum(t["wall_s_mean"] for t in timing.values())
    run_cpu = sum(v for r in result["cells"] for v in r["cpu_s"].values())
    lines += [
        f"| **all** | {cpu_total:.3f} | {wall_total:.3f} |",
        "",
        f"The whole scoring used {run_cpu:.0f} CPU seconds in the workers against "
        f"{meta['scoring_seconds']:.0f} s of wall time with {s['workers']} workers: the niced "
        "run got a small share of the two cores, so wall seconds measure the machine's load "
        "more than the proxies.",
        "",
        "## Rank-average ensembles (`ProxyEnsemble` score) as accuracy rankers",
        "",
        "| ensemble | members | cells | rho val_acc (ours) | rho val_acc (table) "
        "| rho ours vs table |",
        "|---|---|---|---|---|---|",
    ]
    for label, e in ens.items():
        lines.append(
            f"| {label} | {', '.join(e['members'])} | {e['n_cells']} "
            f"| {_fmt(e['spearman_val_acc_ours'])} | {_fmt(e['spearman_val_acc_table'])} "
            f"| {_fmt(e['spearman_vs_table'])} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
