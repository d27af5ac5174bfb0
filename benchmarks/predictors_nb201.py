"""Accuracy predictors on NAS-Bench-201: Kendall tau vs training-set size, with and without
zero-cost features, plus fit / predict wall times for all 15,625 architectures.

Protocol (as ``predictor_nas.predictors.evaluate_predictors``): for every dataset, seed and train
size ``n``, ``n`` architectures are drawn uniformly without replacement with
``numpy.random.default_rng([seed, n])`` (so every configuration sees the same training set),
the target is the mean 200-epoch ``val_acc`` of the embedded table ``nb201``, each configuration
is fitted and then predicts all 15,625 architectures in one call (that call is the predict time);
the metrics are computed on the 15,625 - n architectures not trained on.

Every configuration is a library predictor built by ``make_predictor`` (no benchmark-only model
code): ``ridge``, ``xgb`` (one-hot and path encodings), ``gin`` (pairwise loss), ``xgb`` and ``et``
with ``prune=True`` (dead-op-pruned cells), the same with the ``pathstats`` encoding (path count,
shortest and longest path per op subset), ``ensemble-onehot`` (extra trees + XGBoost + GIN on
one-hot pruned cells, the library's default ensemble until 2026-11-23) and ``ensemble`` (the
default now: extra trees on counts + path statistics, weight 3, and a GIN with the path statistics
at its readout, weight 1; the library's best configuration). ``+zc`` gives the predictor the
library's ``TableFeatures`` of ``nb201-rich``: every zero-cost metric (``zero_cost_metrics``: 13
``zc_*`` proxies, ``naslib_zen``, 10 ``hw_*`` hardware metrics) read from both cifar10 and
ImageNet16-120 (proxies are properties of the untrained network; cifar100 has none of its own),
each arch given the mean over its isomorphism class. ``+cal`` turns on ``calibrate=True`` (std
widened by a scale and floor fitted on 5-fold cross-validated residuals). What the library's
defaults and the ensemble are was chosen on sample seeds >= 100, never on the reported seeds 0-9.
The same run is available as ``predictor-nas predictors evaluate --zc all --zc-table nb201-rich
--proxy-dataset cifar10,ImageNet16-120`` (one dataset per call, no worker pool).

Writes ``<out>/<name>.json`` (per-seed numbers), ``<out>/<name>.md`` (tables, command, machine)
and ``<out>/<name>.png`` (Kendall tau vs n, one panel per dataset). Default = the full run::

    python benchmarks/predictors_nb201.py

The configurations new with the path statistics (with ``ridge`` for the time ratios and
``et-pruned+zc`` for paired effects) ran on their own, on 16 cores, as::

    python benchmarks/predictors_nb201.py --workers 16 --name predictors_nb201_pathstats \
        --configs ridge et-pruned+zc xgb-pathstats+zc gin-pathstats+zc et-pathstats \
        et-pathstats+zc ensemble ensemble+zc
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import math
import multiprocessing as mp
import os
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    git_revision,
    jsonable,
    machine_info,
    parse_seeds,
    seeds_text,
    shared_data,
    t_ci,
)

RICH_SOURCE = shared_data("nb201")

log = logging.getLogger("benchmarks.predictors_nb201")

ALL_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
TRAIN_SIZES = (20, 50, 100, 200, 500, 1000)
GOAL_TAU = 0.80
GOAL_N = 100
TOP_K = (50, 156)  # top-50 and top-1 % (156 of 15,625)
#: Datasets of the rich table the ``+zc`` features are read from (the same for every target).
PROXY_DATASETS = ("cifar10", "ImageNet16-120")
#: Proxies' dataset per target for the zero-shot reference and the "zc subset" metric.
ZC_DATASET = {"cifar10": "cifar10", "cifar100": "cifar10", "ImageNet16-120": "ImageNet16-120"}

#: Base predictors: name -> (registry name, constructor kwargs, description).
BASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "ridge": ("ridge", {"encoding": "onehot"}, "Bayesian ridge, one-hot encoding"),
    "xgb-onehot": ("xgb", {"encoding": "onehot"}, "XGBoost ensemble (5), one-hot encoding"),
    "xgb-path": ("xgb", {"encoding": "path"}, "XGBoost ensemble (5), path encoding"),
    "gin-mse": ("gin", {"loss": "mse"}, "GIN deep ensemble (3), MSE loss"),
    "gin-pairwise": ("gin", {"loss": "pairwise"}, "GIN deep ensemble (3), pairwise loss"),
    "xgb-pruned": ("xgb", {"prune": True}, "XGBoost ensemble (5), one-hot of pruned cells"),
    "et-pruned": ("et", {"prune": True}, "extra trees (500), one-hot + op counts of pruned cells"),
    "ensemble-onehot": (
        "ensemble", {"members": [("et", {}), ("xgb", {}), ("gin", {"loss": "mse"})]},
        "extra trees + XGBoost + GIN (MSE) on one-hot pruned cells, equal weights (the default "
        "ensemble until 2026-11-23)"),
    "xgb-pathstats": ("xgb", {"prune": True, "encoding": "counts+pathstats"},
                      "XGBoost ensemble (5), op counts + path statistics of pruned cells"),
    "et-pathstats": ("et", {"prune": True, "encoding": "counts+pathstats"},
                     "extra trees (500), op counts + path statistics of pruned cells"),
    "gin-pathstats": ("gin", {"loss": "mse", "prune": True, "readout_encoding": "pathstats"},
                      "GIN deep ensemble (3), MSE loss, pruned cells, path statistics at the "
                      "readout"),
    "ensemble": ("ensemble", {}, "extra trees on counts + path statistics (weight 3) + GIN "
                 "(MSE, path statistics at the readout; weight 1) on pruned cells"),
}
#: Configurations run by default (see ``config_names`` for the suffixes).
DEFAULT_CONFIGS = (
    "ridge", "ridge+zc", "xgb-onehot", "xgb-onehot+zc", "xgb-onehot+cal", "xgb-path",
    "xgb-path+zc", "gin-pairwise", "gin-pairwise+zc", "xgb-pruned", "xgb-pruned+zc",
    "et-pruned", "et-pruned+zc", "et-pruned+zc+cal", "ensemble-onehot", "ensemble-onehot+zc",
    "xgb-pathstats+zc", "gin-pathstats+zc", "et-pathstats", "et-pathstats+zc", "ensemble",
    "ensemble+zc",
)
#: Reference configuration of the time ratios.
TIME_REF = "ridge"
#: Bases that were the library's predictors before pruning and the ensemble (for the goal table).
PREVIOUS_DEFAULTS = ("ridge", "xgb-onehot", "xgb-path", "gin-mse", "gin-pairwise")
#: Registry names whose fit trains a GIN (cut at large n by --gin-seeds-at).
GIN_REGISTRY = ("gin", "ensemble")


# --------------------------------------------------------------------------- helpers
def split_config(name: str) -> tuple[str, bool, bool]:
    """``"et-pruned+zc+cal"`` -> (``"et-pruned"``, zc=True, cal=True)."""
    base, *suffixes = name.split("+")
    if base not in BASES or any(x not in ("zc", "cal") for x in suffixes) or len(
        set(suffixes)
    ) != len(suffixes):
        raise SystemExit(f"unknown configuration {name!r}: BASE[+zc][+cal] with BASE one of "
                         f"{', '.join(BASES)}")
    return base, "zc" in suffixes, "cal" in suffixes


def config_names(configs: Sequence[str], with_zc: bool) -> list[str]:
    """Validated configuration names (``+zc`` ones dropped without proxies)."""
    out = []
    for c in configs:
        _, zc, _ = split_config(c)
        if with_zc or not zc:
            out.append(c)
    return out


def uses_gin(name: str) -> bool:
    """Whether fitting configuration ``name`` trains a GIN."""
    return BASES[split_config(name)[0]][0] in GIN_REGISTRY


# --------------------------------------------------------------------------- worker state
_STATE: dict[str, Any] = {}


def zc_features(rich: Any) -> Any:
    """The ``+zc`` features: every zero-cost metric of both PROXY_DATASETS, class-mean filled."""
    from predictor_nas.encodings import TableFeatures, zero_cost_metrics

    return TableFeatures(rich, list(PROXY_DATASETS), zero_cost_metrics(rich, PROXY_DATASETS))


def _raw_proxies(rich: Any, dataset: str, fill: str = "zero") -> tuple[np.ndarray, list[str]]:
    """(rows, 13) ``DEFAULT_ZC`` values of the target's proxy dataset (NaN where undefined)."""
    from predictor_nas.encodings import DEFAULT_ZC, TableFeatures

    return TableFeatures(rich, ZC_DATASET[dataset], DEFAULT_ZC, fill=fill).raw(), list(DEFAULT_ZC)


def _init_worker(state: dict[str, Any]) -> None:
    """Load the tables once per process, build the features, warm every predictor up."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    import torch

    torch.set_num_threads(1)
    from predictor_nas.predictors import make_predictor
    from predictor_nas.spaces import get_space
    from predictor_nas.tables import Table, open_table

    space = get_space("nb201")
    base = open_table("nb201")
    archs = [space.parse(a) for a in base.archs]
    rich = Table(state["rich_path"]) if state["rich_path"] else None
    zc_mask: dict[str, np.ndarray] = {}
    feats = None
    if rich is not None:
        assert list(rich.archs) == list(base.archs), "nb201-rich rows differ from nb201"
        feats = zc_features(rich)
        for ds in state["datasets"]:
            zc_mask[ds] = np.isfinite(_raw_proxies(rich, ds)[0]).all(1)
    y = {
        ds: base.query_many(np.arange(len(base)), "val_acc", dataset=ds)
        for ds in state["datasets"]
    }
    _STATE.update(space=space, archs=archs, feats=feats, y=y, zc_mask=zc_mask,
                  make=make_predictor)
    # Untimed warm-up: lazy imports, the prune / graph caches and the feature matrix (the first
    # predict of 15,625 archs builds them; its cold time is recorded once per process).
    cold: dict[str, float] = {}
    warm = list(range(0, len(archs), len(archs) // 16))[:16]
    first = state["datasets"][0]
    for name in state["configs"]:
        model = _build(name, 0)
        model.fit([archs[r] for r in warm], y[first][warm])
        t0 = time.perf_counter()
        model.predict(archs)
        cold[name] = time.perf_counter() - t0
    _STATE["cold_predict_s"] = cold


def _build(name: str, seed: int) -> Any:
    """A fresh predictor for configuration ``name``."""
    base, zc, cal = split_config(name)
    reg, kwargs, _ = BASES[base]
    extra = _STATE["feats"] if zc else None
    kw = {**kwargs, **({"calibrate": True} if cal else {})}
    return _STATE["make"](reg, seed=seed, extra=extra, space=_STATE["space"], **kw)


def _run_task(task: dict[str, Any]) -> list[dict[str, Any]]:
    """Fit every configuration of the task on one (dataset, seed, n) training set."""
    from predictor_nas.predictors import ranking_metrics

    ds, seed, n = task["dataset"], task["seed"], task["n"]
    y = _STATE["y"][ds]
    pool = np.flatnonzero(np.isfinite(y))
    rng = np.random.default_rng([seed, n])
    train = np.sort(rng.choice(pool, size=n, replace=False))
    test = np.setdiff1d(pool, train, assume_unique=True)
    mask = _STATE["zc_mask"].get(ds)
    sub = None if mask is None else np.flatnonzero(mask[test])
    out = []
    all_archs = _STATE["archs"]
    for name in task["configs"]:
        model = _build(name, seed)
        t0 = time.perf_counter()
        model.fit([all_archs[r] for r in train], y[train])
        t1 = time.perf_counter()
        pred = model.predict(all_archs)
        t2 = time.perf_counter()
        mean = pred.mean[test]
        std = None if pred.std is None else pred.std[test]
        m = ranking_metrics(y[test], mean, std, top_k=TOP_K)
        if sub is not None:
            m["kendall_tau_zc_subset"] = ranking_metrics(y[test][sub], mean[sub])["kendall_tau"]
        out.append({
            "dataset": ds, "seed": seed, "n": n, "config": name,
            **{k: (float(v) if math.isfinite(v) else None) for k, v in m.items()},
            "fit_seconds": t1 - t0, "predict_seconds": t2 - t1, "n_test": len(test),
            "n_predicted": len(all_archs), "pid": os.getpid(),
        })
    return out


def _cold_times(_: Any) -> dict[str, Any]:
    return {"pid": os.getpid(), "cold_predict_s": _STATE["cold_predict_s"]}


def make_tasks(
    datasets: Sequence[str], seeds: Sequence[int], sizes: Sequence[int], configs: Sequence[str],
    *, gin_seeds_at: dict[int, int],
) -> list[dict[str, Any]]:
    """One task per (dataset, seed, n) with all configurations (same training set, same process,
    interleaved, so their times are measured under the same load). Configurations that train a
    GIN are left out of a (n, seed) pair beyond ``gin_seeds_at[n]`` seeds. Largest n first
    (load balance)."""
    tasks = []
    for n in sorted(sizes, reverse=True):
        for k, seed in enumerate(seeds):
            for ds in datasets:
                cut = k >= gin_seeds_at.get(n, len(seeds))
                cfgs = [c for c in configs if not (cut and uses_gin(c))]
                tasks.append({"dataset": ds, "seed": seed, "n": n, "configs": cfgs})
    return tasks


def run_tasks(
    tasks: list[dict[str, Any]], state: dict[str, Any], workers: int
) -> tuple[list, list]:
    """Run the tasks over ``workers`` spawned processes with a tqdm bar (fits) on stderr."""
    from tqdm.auto import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    total = sum(len(t["configs"]) for t in tasks)
    rows: list[dict[str, Any]] = []
    with logging_redirect_tqdm(), tqdm(total=total, desc="fits", unit="fit", file=sys.stderr,
                                       dynamic_ncols=True) as bar:
        if workers <= 1:
            _init_worker(state)
            cold = [_cold_times(None)]
            for t in tasks:
                res = _run_task(t)
                rows += res
                bar.update(len(res))
                bar.set_postfix_str(f"{t['dataset']} n={t['n']} seed={t['seed']}")
        else:
            ctx = mp.get_context("spawn")
            with ctx.Pool(workers, initializer=_init_worker, initargs=(state,)) as pool:
                for res in pool.imap_unordered(_run_task, tasks, chunksize=1):
                    rows += res
                    bar.update(len(res))
                    r = res[0]
                    bar.set_postfix_str(f"{r['dataset']} n={r['n']} seed={r['seed']}")
                cold = pool.map(_cold_times, range(workers), chunksize=1)
    return rows, cold


def merge_rows(files: Sequence[Path], tasks: list[dict[str, Any]]) -> tuple[list, list, float,
                                                                            list]:
    """Rows, cold times and summed fit-loop seconds of ``--rows-out`` files, checked against
    ``tasks``: every planned fit exactly once (a missing or repeated one is an error)."""
    rows: list[dict[str, Any]] = []
    cold: list[Any] = []
    fit_seconds = 0.0
    parts = []
    for f in files:
        part = json.loads(Path(f).read_text())
        rows += part["rows"]
        cold += part["cold"]
        fit_seconds += float(part["fit_seconds"])
        parts.append({"file": Path(f).name, "fits": len(part["rows"]),
                      "fit_loop_seconds": part["fit_seconds"], "machine": part.get("machine"),
                      "git": part.get("git"), "date": part.get("date")})
    want = sorted((t["dataset"], t["seed"], t["n"], c) for t in tasks for c in t["configs"])
    have = sorted((r["dataset"], r["seed"], r["n"], r["config"]) for r in rows)
    if want != have:
        missing = sorted(set(want) - set(have))[:5]
        extra = sorted(set(have) - set(want))[:5]
        raise SystemExit(f"--from-rows: the rows do not match the planned fits exactly "
                         f"({len(have)} rows for {len(want)} fits); missing e.g. {missing}, "
                         f"unplanned or repeated e.g. {extra}")
    return rows, cold, fit_seconds, parts


# --------------------------------------------------------------------------- rich table
def load_rich_table(source_dir: str | None, tmpdir: str) -> tuple[Any, dict[str, Any]]:
    """Import "nb201-rich" into ``tmpdir`` (workers re-open the file), or say why not."""
    info: dict[str, Any] = {"source_dir": source_dir, "available": False}
    if not source_dir:
        info["reason"] = "disabled (--rich-source '')"
        return None, info
    if not (Path(source_dir) / "nb201.csv.gz").is_file():
        info["reason"] = f"{source_dir}/nb201.csv.gz not found"
        return None, info
    from predictor_nas.tables import Table
    from predictor_nas.tables.importers import import_nb201_rich

    t0 = time.perf_counter()
    path, chash = import_nb201_rich(source_dir, out=Path(tmpdir) / "nb201-rich.h5")
    table = Table(path)
    info.update(available=True, path=str(path), content_hash=chash, name=table.name,
                import_seconds=round(time.perf_counter() - t0, 2))
    log.info("imported %s (%s) in %.1f s", table.name, chash, info["import_seconds"])
    return table, info


# --------------------------------------------------------------------------- zero-shot
def zero_shot(rich: Any, base: Any, datasets: Sequence[str]) -> dict:
    """Kendall tau of each proxy (and a rank-average of them) with val_acc, no training."""
    from scipy.stats import kendalltau, rankdata

    out: dict[str, Any] = {}
    for ds in datasets:
        y = base.query_many(np.arange(len(base)), "val_acc", dataset=ds)
        raw, names = _raw_proxies(rich, ds)
        zds = ZC_DATASET[ds]
        hib = [rich.metric_info(m, dataset=zds).higher_is_better for m in names]
        sign = np.where(hib, 1.0, -1.0)
        res: dict[str, Any] = {"proxy_dataset": zds, "proxies": {}}
        for j, nm in enumerate(names):
            v = raw[:, j] * sign[j]
            ok = np.isfinite(v) & np.isfinite(y)
            res["proxies"][nm] = {"kendall_tau": float(kendalltau(y[ok], v[ok]).statistic),
                                  "n_archs": int(ok.sum()), "higher_is_better": bool(hib[j])}
        for key, fill in (("rank_average", "zero"), ("rank_average_class_mean", "class_mean")):
            signed = _raw_proxies(rich, ds, fill)[0] * sign
            ok = np.isfinite(signed).all(1) & np.isfinite(y)
            ens = np.mean([rankdata(signed[ok, j]) for j in range(len(names))], axis=0)
            res[key] = {"kendall_tau": float(kendalltau(y[ok], ens).statistic),
                        "n_archs": int(ok.sum())}
        out[ds] = res
    return out


# --------------------------------------------------------------------------- summaries
METRICS = ("kendall_tau", "spearman", *(f"precision_at_{k}" for k in TOP_K),
           "coverage_1sigma", "coverage_2sigma", "log_likelihood", "kendall_tau_zc_subset")


def summarise(rows: list[dict[str, Any]], datasets, configs, sizes) -> dict[str, Any]:
    """Per dataset x configuration x n: means, tau CI and per-seed lists."""
    by: dict[tuple, list] = defaultdict(list)
    for r in rows:
        by[(r["dataset"], r["config"], r["n"])].append(r)
    res: dict[str, Any] = {}
    for ds in datasets:
        res[ds] = {}
        for c in configs:
            res[ds][c] = {}
            for n in sizes:
                rs = sorted(by.get((ds, c, n), []), key=lambda r: r["seed"])
                if not rs:
                    continue
                e: dict[str, Any] = {"n_seeds": len(rs), "n_test": rs[0]["n_test"]}
                for k in METRICS:
                    vals = [r.get(k) for r in rs]
                    vals = [v for v in vals if v is not None]
                    e[k] = float(np.mean(vals)) if vals else None
                _, lo, hi = t_ci([r["kendall_tau"] for r in rs])
                e["kendall_tau_ci95"] = [lo, hi]
                e["fit_seconds"] = float(np.mean([r["fit_seconds"] for r in rs]))
                e["predict_seconds"] = float(np.mean([r["predict_seconds"] for r in rs]))
                e["per_seed"] = {k: [r.get(k) for r in rs]
                                 for k in ("seed", *METRICS, "fit_seconds", "predict_seconds")}
                res[ds][c][str(n)] = e
    return res


def timing(rows: list[dict[str, Any]], configs, sizes) -> dict[str, Any]:
    """Mean fit / predict seconds per configuration and n over datasets and seeds, with the
    ratio to ``TIME_REF`` taken over the same tasks (same process, same training set)."""
    by_task: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in rows:
        by_task[(r["dataset"], r["seed"], r["n"])][r["config"]] = r
    out: dict[str, Any] = {}
    for c in configs:
        out[c] = {}
        for n in sizes:
            rs = [t[c] for k, t in by_task.items() if k[2] == n and c in t]
            if not rs:
                continue
            refs = [by_task[(r["dataset"], r["seed"], n)].get(TIME_REF) for r in rs]
            fit = np.array([r["fit_seconds"] for r in rs])
            pred = np.array([r["predict_seconds"] for r in rs])
            e = {"fit_seconds": float(fit.mean()), "predict_seconds": float(pred.mean()),
                 "fit_seconds_median": float(np.median(fit)),
                 "predict_seconds_median": float(np.median(pred)), "n_fits": len(rs)}
            if all(x is not None for x in refs):
                rf = np.array([x["fit_seconds"] for x in refs])
                rp = np.array([x["predict_seconds"] for x in refs])
                e["fit_ratio_vs_ref"] = float(fit.mean() / rf.mean())
                e["predict_ratio_vs_ref"] = float(pred.mean() / rp.mean())
            out[c][str(n)] = e
    return out


def goal_check(res: dict[str, Any], datasets, configs) -> dict[str, Any]:
    """Best configuration at n = GOAL_N per dataset and whether its mean tau reaches GOAL_TAU."""
    out: dict[str, Any] = {}
    for ds in datasets:
        cands = [(res[ds][c][str(GOAL_N)]["kendall_tau"], c) for c in configs
                 if str(GOAL_N) in res[ds][c]]
        if not cands:
            continue
        tau, best = max(cands)
        lib = [x for x in cands if split_config(x[1])[0] in PREVIOUS_DEFAULTS]
        lib_tau, lib_best = max(lib) if lib else (None, None)
        out[ds] = {"best": best, "kendall_tau": tau,
                   "ci95": res[ds][best][str(GOAL_N)]["kendall_tau_ci95"],
                   "met": bool(tau >= GOAL_TAU),
                   "best_library_default": lib_best, "library_default_tau": lib_tau}
    return out


# --------------------------------------------------------------------------- outputs
def _f(x: float | None, nd: int = 3) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.{nd}f}"


def _ci(e: dict[str, Any]) -> str:
    lo, hi = e["kendall_tau_ci95"]
    if lo is None or not math.isfinite(lo):
        return _f(e["kendall_tau"])
    return f"{e['kendall_tau']:.3f} [{lo:.3f}, {hi:.3f}]"


def sizes_str(sizes: Sequence[int]) -> list[str]:
    return [str(n) for n in sizes]


def _sec(x: float) -> str:
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def _machine_line(mi: dict[str, Any], git: str, shared: bool = True) -> str:
    return (f"{mi['platform']}; {mi['cpu']}; cpu_count {mi['cpu_count']}"
            + (" (shared with other jobs while this ran)" if shared else "")
            + f"; Python {mi['python']}, numpy {mi['numpy']}, scipy {mi['scipy']}, scikit-learn "
            f"{mi['sklearn']}, xgboost {mi['xgboost']}, torch {mi['torch']}; git {git}")


def _machine_lines(meta: dict[str, Any]) -> list[str]:
    """Where the fits ran: this machine, or each ``--rows-out`` part of a merged report."""
    parts = meta.get("merged_from") or []
    if not parts:
        return [f"- machine: {_machine_line(meta['machine'], meta['git'])}"]
    lines = [f"- fits merged (`--from-rows`) from {len(parts)} runs; the run time above is their "
             "summed fit loops; fit/predict times compare configurations within a run (every "
             "part ran every configuration)"]
    for p in parts:
        lines.append(f"  - `{p['file']}`: {p['fits']} fits, fit loop {p['fit_loop_seconds']:.0f} s,"
                     f" {p['date']}; {_machine_line(p['machine'], p['git'], shared=False)}")
    return lines


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    """The human-readable report."""
    meta, a = report["meta"], report["meta"]["args"]
    res, configs, sizes = report["results"], report["configs"], a["train_sizes"]
    datasets = a["datasets"]
    zc_on = meta["rich"]["available"]
    lines = [
        "# Accuracy predictors on NAS-Bench-201: Kendall tau vs training-set size",
        "",
        "Target: mean 200-epoch validation accuracy (`val_acc`) of the embedded table `nb201`. "
        "For each dataset, seed and train size n, n architectures are drawn uniformly "
        "(`default_rng([seed, n])`, the `evaluate_predictors` protocol; every configuration gets "
        "the same set), each configuration is fitted on them and predicts all 15,625 "
        "architectures in one call; metrics are on the 15,625 - n others. 95% CIs are "
        "t-intervals over seeds.",
        "",
        "```",
        meta["command"],
        "```",
        "",
        f"- date: {meta['date']}; run time {meta['run_seconds']:.0f} s "
        f"({meta['run_seconds'] / 60:.1f} min) with {a['workers']} worker processes (spawn, "
        "1 torch thread each; XGBoost `n_jobs=1`)",
        f"- seeds: {seeds_text(a['seeds'])} ({len(a['seeds'])}); train sizes "
        f"{', '.join(map(str, sizes))}; datasets {', '.join(datasets)}; "
        f"{meta['n_fits']} fits",
        f"- cut to fit the time budget: {meta['cut']}",
        f"- table `{meta['table']['name']}` content hash `{meta['table']['content_hash']}`; "
        "zero-cost proxies: " + (
            f"`{meta['rich']['name']}` content hash `{meta['rich']['content_hash']}`, imported "
            f"from `{meta['rich']['source_dir']}`" if zc_on else
            f"NOT USED ({meta['rich']['reason']}): no +zc rows and no zero-shot reference"),
        *_machine_lines(meta),
        "",
        f"![Kendall tau vs n]({path.with_suffix('.png').name})",
        "",
        "## Configurations",
        "",
    ]
    used = list(dict.fromkeys(split_config(c)[0] for c in configs))
    for b in used:
        reg, kw, desc = BASES[b]
        args_ = ", ".join([repr(reg), *(f"{k}={v!r}" for k, v in kw.items())])
        lines.append(f"- `{b}`: {desc} (`make_predictor({args_})`, library defaults)")
    if zc_on:
        zc_meta = meta.get("zc_features", {})
        lines.append(
            "- `+zc`: extra inputs `TableFeatures(nb201-rich, "
            f"{list(PROXY_DATASETS)}, zero_cost_metrics(...))`: the "
            f"{len(zc_meta.get('metrics', []))} zero-cost metrics of `nb201-rich` (13 `zc_*` "
            "NAS-Bench-Suite-Zero proxies, `naslib_zen`, 10 `hw_*` HW-NAS-Bench metrics), each "
            "read from both cifar10 and ImageNet16-120 (proxies describe the untrained network, "
            "so they are valid for any target; cifar100 has no `zc_*` of its own), "
            f"{zc_meta.get('n_features', '?')} columns with the `missing` flag; `sign*log1p`; "
            "every arch gets the mean over its isomorphism class (`canonical_key`), which fills "
            f"the cells whose own proxies are missing: {zc_meta.get('missing_zero_fill', '?')} "
            f"archs lack some metric with the arch's own values, {zc_meta.get('missing', '?')} "
            "after the class-mean fill (cells with no input-output path)."
        )
    if any(split_config(c)[2] for c in configs):
        lines.append("- `+cal`: `calibrate=True`: the std is widened to `sqrt((a*std)^2 + b^2)` "
                     "with `a`, `b` fitted on 5-fold cross-validated residuals of the training "
                     "set (1σ coverage 68.27 % there, best Gaussian likelihood among floors `b`); "
                     "costs 5 extra fits.")
    lines += ["- pruned = `prune=True`: each cell is encoded as `NB201Space.prune(arch)` (ops "
              "that cannot change the cell's function set to `none`).",
              "- `pathstats`: per subset of the 4 non-`none` ops, the number of input-output "
              "paths using only those ops and the shortest and longest such path (45 columns).",
              "- The ensembles' members and weights, the extra-trees settings, the `pathstats` "
              "encoding and the `+zc` feature set were chosen on sample seeds 100-111 at "
              "n = 100 (all three datasets); the reported seeds were never used for choices.",
              ""]

    # --- goal
    lines += [f"## Goal: Kendall tau >= {GOAL_TAU:.2f} at n = {GOAL_N}", ""]
    lines += ["| dataset | best configuration | tau [95% CI] | goal met | best library default "
              "| its tau |", "|---|---|---|---|---|---|"]
    for ds, g in report["goal"].items():
        lo, hi = g["ci95"]
        lines.append(f"| {ds} | `{g['best']}` | {g['kendall_tau']:.3f} [{lo:.3f}, {hi:.3f}] | "
                     f"{'yes' if g['met'] else '**no**'} | `{g['best_library_default']}` | "
                     f"{_f(g['library_default_tau'])} |")
    lines += ["", report["goal_text"] + (" See the notes at the end." if report.get("notes")
                                         else ""), ""]

    # --- compact tau table
    show = [n for n in (20, 100, 500) if n in sizes] or sizes
    lines += ["## Kendall tau at a glance (mean over seeds)", ""]
    head = ["configuration"] + [f"{ds} n={n}" for ds in datasets for n in show]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in configs:
        row = [f"`{c}`"]
        for ds in datasets:
            for n in show:
                e = res[ds][c].get(str(n))
                row.append(_f(e["kendall_tau"]) if e else "—")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")

    # --- paired effects at n = GOAL_N
    pairs = []
    for c in configs:
        b, zc, cal = split_config(c)
        if zc and not cal and b in configs:
            pairs.append((c, b, "adding zc"))
        if cal:
            twin = c[: -len("+cal")]
            if twin in configs:
                pairs.append((c, twin, "calibrating the std"))
    for new, old in (("xgb-pruned", "xgb-onehot"), ("et-pruned", "xgb-pruned"),
                     ("ensemble-onehot", "et-pruned"), ("xgb-pathstats", "xgb-pruned"),
                     ("et-pathstats", "et-pruned"), ("ensemble", "et-pathstats"),
                     ("ensemble", "ensemble-onehot"), ("ensemble", "et-pruned")):
        for suffix in ("", "+zc"):
            if new + suffix in configs and old + suffix in configs:
                pairs.append((new + suffix, old + suffix, "vs"))
    if pairs and str(GOAL_N) in sizes_str(sizes):
        lines += [f"## Paired effects at n = {GOAL_N}", "",
                  "Kendall tau difference on the same training sets (paired by seed; mean "
                  "[95% t-interval]).", ""]
        head = ["effect", "configuration", "vs", *datasets]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for c, ref, what in pairs:
            row = [what, f"`{c}`", f"`{ref}`"]
            for ds in datasets:
                a_ = res[ds][c].get(str(GOAL_N))
                b_ = res[ds][ref].get(str(GOAL_N))
                if not a_ or not b_ or a_["per_seed"]["seed"] != b_["per_seed"]["seed"]:
                    row.append("—")
                    continue
                d = [x - y for x, y in zip(a_["per_seed"]["kendall_tau"],
                                           b_["per_seed"]["kendall_tau"])]
                m, lo, hi = t_ci(d)
                row.append(f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")

    # --- zero-shot
    zs = report.get("zero_shot")
    if zs:
        lines += ["## Zero-shot reference: proxies alone (no training)", "",
                  "Kendall tau of each proxy with `val_acc` over the archs where it is defined "
                  "(sign by the table's `higher_is_better`), and of the rank average of the 13 "
                  "`DEFAULT_ZC` proxies (on the archs where all 13 are defined; and with "
                  "isomorphism-class-mean proxies, on the archs that then have all 13). These are "
                  "subsets, so compare with the predictors' `tau (zc subset)` column below.", ""]
        head = ["proxy"] + [f"{ds} (proxies of {zs[ds]['proxy_dataset']})" for ds in zs]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        all_names = list(
            dict.fromkeys(n_.split(":")[-1] for d in zs.values() for n_ in d["proxies"])
        )
        for pn in all_names:
            row = [f"`{pn}`"]
            for d in zs.values():
                hit = [v for k, v in d["proxies"].items() if k.split(":")[-1] == pn]
                row.append(f"{hit[0]['kendall_tau']:.3f} (n={hit[0]['n_archs']})" if hit else "—")
            lines.append("| " + " | ".join(row) + " |")
        for key, label in (("rank_average", "rank average of the 13"),
                           ("rank_average_class_mean", "rank average, class-mean proxies")):
            row = [f"**{label}**"] + [f"{d[key]['kendall_tau']:.3f} (n={d[key]['n_archs']})"
                                      for d in zs.values()]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")

    # --- full tables
    for ds in datasets:
        lines += [f"## {ds}", "",
                  "| config | n | seeds | Kendall tau [95% CI] | Spearman | prec@50 | "
                  "prec@top-1% (156) | cov 1σ | cov 2σ | tau (zc subset) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for c in configs:
            for n in sizes:
                e = res[ds][c].get(str(n))
                if not e:
                    continue
                lines.append(
                    f"| `{c}` | {n} | {e['n_seeds']} | {_ci(e)} | {_f(e['spearman'])} | "
                    f"{_f(e['precision_at_50'], 2)} | {_f(e['precision_at_156'], 2)} | "
                    f"{_f(e['coverage_1sigma'], 2)} | {_f(e['coverage_2sigma'], 2)} | "
                    f"{_f(e['kendall_tau_zc_subset'])} |")
        lines.append("")
    lines += ["Coverage = share of held-out archs whose true value lies within the predicted mean "
              "± 1σ / 2σ (ideal 0.68 / 0.95). `tau (zc subset)`: Kendall tau on the held-out "
              "archs that have all 13 proxies of the dataset used (the zero-shot rows' subset).",
              ""]

    # --- timing
    tm = report["timing"]
    lines += ["## Fit and predict time", "",
              "Wall seconds, mean over datasets and seeds: fit on n archs; predict = one "
              "`predict` call on all 15,625 archs (GIN's per-arch graph cache warm; the cold "
              "first call is listed below). Measured in the worker processes with all "
              "configurations of a (dataset, seed, n) run back to back in one process; ratio = "
              f"mean time / mean time of `{TIME_REF}` over the same tasks.", ""]
    head = ["config"] + [f"fit n={n}" for n in sizes] + ["predict 15,625 (n=100)",
                                                         "fit ratio n=100", "predict ratio"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in configs:
        row = [f"`{c}`"]
        for n in sizes:
            e = tm[c].get(str(n))
            row.append(_sec(e["fit_seconds"]) if e else "—")
        e = tm[c].get(str(GOAL_N)) or next(iter(tm[c].values()))
        row += [_sec(e["predict_seconds"]),
                f"{e.get('fit_ratio_vs_ref', float('nan')):.1f}x",
                f"{e.get('predict_ratio_vs_ref', float('nan')):.1f}x"]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    cold = report.get("cold_predict_seconds") or []
    if cold:
        parts = []
        for c in configs:
            vals = [w["cold_predict_s"][c] for w in cold if c in w["cold_predict_s"]]
            if vals:
                parts.append(f"`{c}` {max(vals):.2f}")
        lines += ["First (cold) predict of 15,625 archs per worker process, seconds (max over "
                  "workers): " + ", ".join(parts) + ".", ""]
    if report.get("notes"):
        lines += ["## Notes", ""] + [f"- {n_}" for n_ in report["notes"]] + [""]
    path.write_text("\n".join(lines))


STYLE = {
    "ridge": "tab:gray", "xgb-onehot": "tab:blue", "xgb-path": "tab:green",
    "gin-mse": "tab:orange", "gin-pairwise": "tab:red", "xgb-pruned": "tab:purple",
    "et-pruned": "tab:brown", "ensemble-onehot": "tab:olive", "xgb-pathstats": "tab:purple",
    "et-pathstats": "tab:brown", "gin-pathstats": "tab:orange", "ensemble": "black",
}
#: Plot rows after the first (which has every other base): title and bases.
ROWS = (
    ("pruned cells", ("xgb-pruned", "et-pruned", "ensemble-onehot")),
    ("path statistics and the ensemble",
     ("xgb-pathstats", "et-pathstats", "gin-pathstats", "ensemble")),
)
NEW_BASES = tuple(b for _, bases in ROWS for b in bases)


def plot(path: Path, report: dict[str, Any]) -> None:
    """First row: the earlier library configurations; then one row per ``ROWS`` entry (pruned
    cells; path statistics and the ensemble), each with the best first-row configuration at
    n = GOAL_N; one column per dataset; solid = without zc, dashed = with zc; 95% CI bands.
    Empty rows are left out, and so are ``+cal`` configurations (same means as their twins)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    res = report["results"]
    configs = [c for c in report["configs"] if not split_config(c)[2]]
    datasets = report["meta"]["args"]["datasets"]
    sizes = report["meta"]["args"]["train_sizes"]
    top = [c for c in configs if split_config(c)[0] not in NEW_BASES]
    groups = [(name, [c for c in configs if split_config(c)[0] in bases]) for name, bases in ROWS]
    groups = [g for g in [("earlier library predictors", top), *groups] if g[1]]
    rows = len(groups)
    fig, axes = plt.subplots(rows, len(datasets), figsize=(5.4 * len(datasets), 4.6 * rows),
                             squeeze=False, sharey=True)
    zs = report.get("zero_shot") or {}

    def draw(ax, ds, names, title):
        for c in names:
            base, zc, _ = split_config(c)
            color = STYLE.get(base, "black")
            es = [(n, res[ds][c][str(n)]) for n in sizes if str(n) in res[ds][c]]
            if not es:
                continue
            x = [n for n, _ in es]
            ax.plot(x, [e["kendall_tau"] for _, e in es], color=color, ls="--" if zc else "-",
                    marker="o" if not zc else "s", ms=3.5, lw=1.6, label=c)
            lo = [e["kendall_tau_ci95"][0] for _, e in es]
            hi = [e["kendall_tau_ci95"][1] for _, e in es]
            if all(v is not None and math.isfinite(v) for v in lo + hi):
                ax.fill_between(x, lo, hi, color=color, alpha=0.13, lw=0)
        ax.axhline(GOAL_TAU, color="black", lw=0.8, ls=":")
        if ds in zs:
            ax.axhline(zs[ds]["rank_average"]["kendall_tau"], color="tab:cyan", lw=1.0, ls="-.",
                       label="zero-shot: rank avg of 13 proxies\n(on the archs that have them)")
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("training set size n")
        ax.grid(True, which="major", alpha=0.35)

    for j, ds in enumerate(datasets):
        for i, (name, names) in enumerate(groups):
            title = f"{ds}: {name}"
            extra = []
            if names is not top and top:
                g = report["goal"].get(ds, {})
                if g.get("best_library_default") in top:
                    extra = [g["best_library_default"]]
                    title += f"\n+ best earlier config at n={GOAL_N}: {extra[0]}"
            draw(axes[i, j], ds, [*names, *extra], title)
    for i, (_, names) in enumerate(groups):
        axes[i, 0].set_ylabel("Kendall τ on held-out archs")
        handles = [h for h in axes[i, -1].get_lines()
                   if h.get_label() in names or h.get_label().startswith("zero-shot")]
        axes[i, -1].legend(handles=handles, fontsize=8, loc="center left",
                           bbox_to_anchor=(1.01, 0.5), title="solid: no zc, dashed: +zc",
                           title_fontsize=8)
    taus = [e["kendall_tau"] for ds in datasets for c in configs for e in res[ds][c].values()
            if e["kendall_tau"] is not None]
    lo, hi = min(taus, default=0.0), max(taus, default=0.9)
    axes[0, 0].set_ylim(max(-0.1, min(0.2, lo - 0.05)), max(0.92, hi + 0.02))
    seeds = report["meta"]["args"]["seeds"]
    fig.suptitle(f"NAS-Bench-201 val_acc: Kendall τ vs n ({len(seeds)} seeds, 95% CI bands; "
                 f"dotted = goal {GOAL_TAU})", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=list(ALL_DATASETS))
    p.add_argument("--train-sizes", nargs="+", type=int, default=list(TRAIN_SIZES))
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"))
    p.add_argument("--configs", nargs="+", default=list(DEFAULT_CONFIGS),
                   help=f"BASE[+zc][+cal] with BASE one of {', '.join(BASES)}")
    p.add_argument("--gin-seeds-at", nargs="*", default=["1000:5"],
                   help="N:K = run configurations that train a GIN on only the first K seeds "
                        "at n=N")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rich-source", default=RICH_SOURCE,
                   help="folder with nb201.csv.gz for the zero-cost proxies ('' to skip)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    p.add_argument("--name", default="predictors_nb201", help="stem of the output files")
    p.add_argument("--rows-out", type=Path, default=None,
                   help="also write the per-fit rows (and cold predict times) to this JSON file, "
                        "to merge runs split over machines with --from-rows")
    p.add_argument("--from-rows", type=Path, nargs="+", default=None,
                   help="fit nothing: build the report from --rows-out files of earlier runs "
                        "(give the union of their --datasets and --configs)")
    p.add_argument("--replot", action="store_true",
                   help="only rewrite <name>.md and <name>.png from an existing <name>.json")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.replot:
        stem = args.out / args.name
        report = json.loads(stem.with_suffix(".json").read_text())
        write_markdown(stem.with_suffix(".md"), report)
        plot(stem.with_suffix(".png"), report)
        log.info("rewrote %s.{md,png}", stem)
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the spawned workers
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    from predictor_nas.tables import open_table

    t_start = time.perf_counter()
    gin_seeds_at = {int(k): int(v) for k, v in (s.split(":") for s in args.gin_seeds_at)}
    git = git_revision()
    base = open_table("nb201")
    for c in args.configs:
        split_config(c)
    with tempfile.TemporaryDirectory(prefix="nb201-rich-") as tmp:
        rich, rich_info = load_rich_table(args.rich_source or None, tmp)
        if rich is None:
            log.warning("no zero-cost proxies: %s; running without the +zc rows",
                        rich_info["reason"])
        configs = config_names(args.configs, rich is not None)
        if TIME_REF not in configs:
            log.warning("%s not run: no time ratios", TIME_REF)
        state = {"rich_path": rich_info.get("path"), "datasets": list(args.datasets),
                 "configs": configs}
        tasks = make_tasks(args.datasets, args.seeds, args.train_sizes, configs,
                           gin_seeds_at=gin_seeds_at)
        log.info("%d configurations, %d tasks, %d fits on %d workers", len(configs), len(tasks),
                 sum(len(t["configs"]) for t in tasks), args.workers)
        t_fit = time.perf_counter()
        parts: list[dict[str, Any]] = []
        if args.from_rows:
            rows, cold, fit_seconds, parts = merge_rows(args.from_rows, tasks)
        else:
            rows, cold = run_tasks(tasks, state, args.workers)
            fit_seconds = time.perf_counter() - t_fit
            if args.rows_out:
                args.rows_out.write_text(json.dumps(jsonable(
                    {"rows": rows, "cold": cold, "fit_seconds": fit_seconds,
                     "machine": machine_info("scipy", "scikit-learn", "xgboost", "torch"),
                     "git": git,
                     "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")})) + "\n")
        zs = zero_shot(rich, base, args.datasets) if rich is not None else None
        zc_meta: dict[str, Any] = {}
        if rich is not None:
            from predictor_nas.encodings import TableFeatures

            feats = zc_features(rich)
            zero = TableFeatures(rich, feats.dataset, feats.metrics, fill="zero")
            zc_meta = {"datasets": list(PROXY_DATASETS), "metrics": list(feats.metrics),
                       "n_features": len(feats.names),
                       "missing": int(np.isnan(feats.raw()).any(1).sum()),
                       "missing_zero_fill": int(np.isnan(zero.raw()).any(1).sum())}
    res = summarise(rows, args.datasets, configs, args.train_sizes)
    goal = goal_check(res, args.datasets, configs)
    met = [ds for ds, g in goal.items() if g["met"]]
    if not goal:
        goal_text = f"n = {GOAL_N} was not in this run: no goal check."
    elif len(met) == len(goal):
        goal_text = (f"**The goal is met on every dataset** (best mean tau >= {GOAL_TAU} at "
                     f"n = {GOAL_N}).")
    else:
        miss = [ds for ds in goal if ds not in met]
        goal_text = (f"**The goal is NOT met** on {', '.join(miss)}"
                     + (f" (met on {', '.join(met)})" if met else "") + ": no configuration "
                     f"reaches a mean Kendall tau of {GOAL_TAU} at n = {GOAL_N} there. Best per "
                     "dataset: " + "; ".join(f"{ds} `{g['best']}` {g['kendall_tau']:.3f}"
                                             for ds, g in goal.items()) + ".")
    cut_parts = [f"configurations that train a GIN at n={n} on the first {k} seeds only "
                 f"({seeds_text(args.seeds[:k])})" for n, k in sorted(gin_seeds_at.items())
                 if n in args.train_sizes and k < len(args.seeds)]
    cut = ("; ".join(cut_parts) + "; every other cell: all seeds") if cut_parts \
        else "nothing (full grid)"
    notes: list[str] = []
    run_seconds = time.perf_counter() - t_start + (fit_seconds if args.from_rows else 0.0)
    cmd = "python " + " ".join(
        shlex.quote(a) for a in [os.path.relpath(sys.argv[0]), *(argv or sys.argv[1:])]
    )
    rich_meta = {k: v for k, v in rich_info.items() if k != "path"}
    report = {
        "meta": {
            "command": cmd,
            "args": {**{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                     "train_sizes": sorted(args.train_sizes)},
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "machine": machine_info("scipy", "scikit-learn", "xgboost", "torch"),
            "git": git,
            "table": {"name": base.name, "content_hash": base.content_hash},
            "rich": rich_meta,
            "target": "val_acc, fidelity 200, mean over training trials (table nb201)",
            "zc_features": zc_meta,
            "zc_dataset_zero_shot": {ds: ZC_DATASET[ds] for ds in args.datasets},
            "cut": cut,
            "gin_seeds_at": gin_seeds_at,
            "fit_loop_seconds": fit_seconds,
            "run_seconds": run_seconds,
            "n_fits": len(rows),
            "top_k": list(TOP_K),
            "merged_from": parts,
        },
        "configs": configs,
        "goal": goal,
        "goal_text": goal_text,
        "results": res,
        "timing": timing(rows, configs, sorted(args.train_sizes)),
        "cold_predict_seconds": cold,
        "zero_shot": zs,
        "notes": notes,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / args.name
    stem.with_suffix(".json").write_text(json.dumps(jsonable(report), indent=1) + "\n")
    write_markdown(stem.with_suffix(".md"), report)
    plot(stem.with_suffix(".png"), report)
    log.info("wrote %s.{json,md,png}; %d fits in %.1f s", stem, len(rows), run_seconds)
    for ds, g in goal.items():
        log.info("%-15s best at n=%d: %s tau %.3f (goal %s)", ds, GOAL_N, g["best"],
                 g["kendall_tau"], "met" if g["met"] else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
