"""Accuracy predictors on NAS-Bench-201: Kendall tau vs training-set size, with and without
zero-cost proxies, plus fit / predict wall times for all 15,625 architectures.

Protocol (as ``predictor_nas.predictors.evaluate_predictors``): for every dataset, seed and train
size ``n``, ``n`` architectures are drawn uniformly without replacement with
``numpy.random.default_rng([seed, n])`` (so every configuration sees the same training set),
the target is the mean 200-epoch ``val_acc`` of the embedded table ``nb201``, each configuration
is fitted and then predicts all 15,625 architectures in one call (that call is the predict time);
the metrics are computed on the 15,625 - n architectures not trained on.

Why the loop is written here instead of calling ``evaluate_predictors``: that function reads
the zero-cost features from the *target's* dataset of the feature table, and the imported
``nb201-rich`` table has ``zc_*`` proxies for cifar10 and ImageNet16-120 only. For cifar100 this
benchmark uses the cifar10 proxies of the same architecture (they are properties of the
untrained network evaluated on CIFAR-10 inputs) plus cifar100's own ``naslib_zen``, which needs a
feature object spanning two datasets of the table.

Configurations: the library predictors with their defaults (``ridge`` = Bayesian ridge on the
one-hot encoding, ``xgb`` one-hot and path encodings, ``gin`` with MSE and pairwise loss), each
without and with the 13 ``DEFAULT_ZC`` proxies (``TableFeatures``: ``sign*log1p``, NaN -> 0 plus
a missing flag). Additional "@canon" configurations (benchmark-only, no library change) feed every
architecture as its dead-op-pruned isomorphic representative (every op that cannot change the
cell's function, per ``space.canonical_key``, set to ``none``) and give each architecture the
proxies averaged over its isomorphism class (the NAS-Bench-Suite-Zero proxies exist only for the
9,445 cells without dead ops; an isomorphic cell computes the same function, so its proxies
apply). Those were chosen on sample seeds >= 100, never on the reported seeds 0-9.

Writes ``<out>/<name>.json`` (per-seed numbers), ``<out>/<name>.md`` (tables, command, machine)
and ``<out>/<name>.png`` (Kendall tau vs n, one panel per dataset). Default = the full run::

    python benchmarks/predictors_nb201.py
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import math
import multiprocessing as mp
import os
import platform
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import cpu_name, git_revision, parse_seeds, seeds_text

log = logging.getLogger("benchmarks.predictors_nb201")

ALL_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
TRAIN_SIZES = (20, 50, 100, 200, 500, 1000)
RICH_SOURCE = "/work/shared/data/nb201"
GOAL_TAU = 0.80
GOAL_N = 100
TOP_K = (50, 156)  # top-50 and top-1 % (156 of 15,625)
#: Proxies' dataset in the rich table, per target dataset (cifar100 has no zc_* of its own).
ZC_DATASET = {"cifar10": "cifar10", "cifar100": "cifar10", "ImageNet16-120": "ImageNet16-120"}
#: Extra per-dataset proxies (dataset of the rich table, metric) appended to DEFAULT_ZC.
ZC_EXTRA = {"cifar100": [("cifar100", "naslib_zen")]}

#: Base predictors: name -> (registry name, constructor kwargs, description).
BASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "ridge": ("ridge", {"encoding": "onehot"}, "Bayesian ridge, one-hot encoding"),
    "xgb-onehot": ("xgb", {"encoding": "onehot"}, "XGBoost ensemble (5), one-hot encoding"),
    "xgb-path": ("xgb", {"encoding": "path"}, "XGBoost ensemble (5), path encoding"),
    "gin-mse": ("gin", {"loss": "mse"}, "GIN deep ensemble (3), MSE loss"),
    "gin-pairwise": ("gin", {"loss": "pairwise"}, "GIN deep ensemble (3), pairwise loss"),
}
#: Benchmark-only canonical variants run by default (configuration names).
CANON_CONFIGS = ("xgb-onehot@canon", "xgb-onehot@canon+zc", "gin-pairwise@canon")
#: Reference configuration of the time ratios.
TIME_REF = "ridge"


# --------------------------------------------------------------------------- helpers
def t_ci(x: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t-interval of the mean over independent seeds (NaN-free input)."""
    from scipy import stats

    a = np.asarray([v for v in x if v is not None and math.isfinite(v)], dtype=np.float64)
    if a.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(a.mean())
    if a.size < 2:
        return m, float("nan"), float("nan")
    se = float(a.std(ddof=1)) / math.sqrt(a.size)
    if se == 0.0:
        return m, m, m
    h = float(stats.t.ppf(0.5 + level / 2, a.size - 1)) * se
    return m, m - h, m + h


def config_names(bases: Sequence[str], canon: Sequence[str], with_zc: bool) -> list[str]:
    """Configuration names in report order: each base, then its +zc twin; then the @canon ones
    (``+zc`` ones dropped without proxies)."""
    out = []
    for b in bases:
        out += [b, f"{b}+zc"] if with_zc else [b]
    for c in canon:
        base, is_canon, zc = split_config(c)
        if base not in BASES or not is_canon:
            raise SystemExit(f"--canon takes names like 'gin-mse@canon' or 'xgb-path@canon+zc', "
                             f"got {c!r}")
        if with_zc or not zc:
            out.append(c)
    return out


def split_config(name: str) -> tuple[str, bool, bool]:
    """``"gin-mse@canon+zc"`` -> (``"gin-mse"``, canon=True, zc=True)."""
    zc = name.endswith("+zc")
    core = name[: -len("+zc")] if zc else name
    canon = core.endswith("@canon")
    return (core[: -len("@canon")] if canon else core), canon, zc


def machine_info() -> dict[str, Any]:
    """Platform, CPU and library versions for the report."""
    import scipy
    import sklearn
    import torch
    import xgboost

    cpu = cpu_name()
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "xgboost": xgboost.__version__,
        "torch": torch.__version__,
    }


# --------------------------------------------------------------------------- features
class JoinedFeatures:
    """Several ``TableFeatures`` side by side (e.g. proxies read from two datasets of a table).

    Duck-types ``TableFeatures`` (``names`` and ``transform``), which is all the predictors use.
    """

    def __init__(self, parts: Sequence[Any], prefixes: Sequence[str]) -> None:
        self.parts = list(parts)
        self.prefixes = list(prefixes)

    @property
    def names(self) -> list[str]:
        return [f"{p}{n}" for f, p in zip(self.parts, self.prefixes) for n in f.names]

    def transform(self, archs: Sequence[Any]) -> np.ndarray:
        return np.concatenate([f.transform(archs) for f in self.parts], axis=1)


class ClassMeanFeatures:
    """Proxies averaged over each architecture's isomorphism class, looked up by table row.

    ``values`` is the (rows, k) raw proxy matrix; per column, every arch gets the mean over the
    members of its class where that column is defined (NaN if none is). Then, as
    ``TableFeatures``: ``sign * log1p(|v|)``, NaN -> 0 and a ``missing`` flag column.
    """

    def __init__(self, table: Any, values: np.ndarray, classes: np.ndarray, names: Sequence[str]):
        k = values.shape[1]
        filled = np.full_like(values, np.nan)
        n_cls = int(classes.max()) + 1
        for j in range(k):
            ok = np.isfinite(values[:, j])
            s = np.bincount(classes[ok], weights=values[ok, j], minlength=n_cls)
            c = np.bincount(classes[ok], minlength=n_cls)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(c > 0, s / np.maximum(c, 1), np.nan)
            filled[:, j] = mean[classes]
        missing = np.isnan(filled).any(axis=1, keepdims=True)
        x = np.nan_to_num(filled, nan=0.0)
        x = np.sign(x) * np.log1p(np.abs(x))
        self.matrix = np.concatenate([x, missing], axis=1).astype(np.float32)
        self.table = table
        self._names = [*names, "missing"]
        self.n_missing_before = int((~np.isfinite(values)).any(axis=1).sum())
        self.n_missing_after = int(missing.sum())

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def transform(self, archs: Sequence[Any]) -> np.ndarray:
        return self.matrix[self.table.rows(archs)]


def canonical_rows(space: Any, archs: Sequence[Any], table: Any) -> tuple[np.ndarray, np.ndarray]:
    """Row of each arch's dead-op-pruned representative, and an isomorphism-class id per row."""
    pruned = [space.prune(a) for a in archs]
    rows = np.asarray(table.rows(pruned), dtype=np.int64)
    keys: dict[str, int] = {}
    classes = np.array([keys.setdefault(space.canonical_key(a), len(keys)) for a in archs])
    return rows, classes


# --------------------------------------------------------------------------- worker state
_STATE: dict[str, Any] = {}


def _raw_proxies(rich: Any, dataset: str) -> tuple[np.ndarray, list[str]]:
    """Raw (rows, k) proxy matrix used for ``dataset`` (NaN where undefined) and the names."""
    from predictor_nas.encodings import DEFAULT_ZC

    n = len(rich)
    cols, names = [], []
    zds = ZC_DATASET[dataset]
    for m in DEFAULT_ZC:
        cols.append(rich.query_many(np.arange(n), m, dataset=zds, fidelity=0))
        names.append(m if zds == dataset else f"{zds}:{m}")
    for ds, m in ZC_EXTRA.get(dataset, []):
        cols.append(rich.query_many(np.arange(n), m, dataset=ds, fidelity=0))
        names.append(m if ds == dataset else f"{ds}:{m}")
    return np.stack(cols, axis=1), names


def _features(rich: Any, dataset: str) -> Any:
    """The library ``TableFeatures`` used for ``dataset`` (joined for cifar100)."""
    from predictor_nas.encodings import DEFAULT_ZC, TableFeatures

    zds = ZC_DATASET[dataset]
    base = TableFeatures(rich, zds, DEFAULT_ZC)
    extra = ZC_EXTRA.get(dataset)
    if not extra and zds == dataset:
        return base
    parts, prefixes = [base], [f"{zds}:" if zds != dataset else ""]
    for ds, m in extra or []:
        parts.append(TableFeatures(rich, ds, [m]))
        prefixes.append(f"{ds}:" if ds != dataset else "")
    return JoinedFeatures(parts, prefixes)


def _init_worker(state: dict[str, Any]) -> None:
    """Load the tables once per process, build the feature objects, warm every predictor up."""
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
    canon_rows = state["canon_rows"]
    classes = state["classes"]
    feats: dict[tuple[str, bool], Any] = {}
    zc_mask: dict[str, np.ndarray] = {}
    if rich is not None:
        assert list(rich.archs) == list(base.archs), "nb201-rich rows differ from nb201"
        for ds in state["datasets"]:
            feats[(ds, False)] = _features(rich, ds)
            raw, names = _raw_proxies(rich, ds)
            feats[(ds, True)] = ClassMeanFeatures(rich, raw, classes, names)
            zc_mask[ds] = np.isfinite(raw[:, : len(names) - len(ZC_EXTRA.get(ds, []))]).all(1)
    y = {
        ds: base.query_many(np.arange(len(base)), "val_acc", dataset=ds)
        for ds in state["datasets"]
    }
    _STATE.update(
        space=space, archs=archs, canon_archs=[archs[r] for r in canon_rows], feats=feats,
        y=y, zc_mask=zc_mask, make=make_predictor,
    )
    # Untimed warm-up: lazy imports, graph cache of the GIN (the first predict of 15,625 archs
    # builds it; its cold time is recorded once per process), feature caches.
    cold: dict[str, float] = {}
    warm = list(range(0, len(archs), len(archs) // 16))[:16]
    first = state["datasets"][0]
    for name in state["configs"]:
        model, all_archs = _build(name, first, 0)
        model.fit([all_archs[r] for r in warm], y[first][warm])
        t0 = time.perf_counter()
        model.predict(all_archs)
        cold[name] = time.perf_counter() - t0
    for (_ds, canon), f in feats.items():  # the other datasets' feature lookups
        f.transform(_STATE["canon_archs"] if canon else archs)
    _STATE["cold_predict_s"] = cold


def _build(name: str, dataset: str, seed: int) -> tuple[Any, list[Any]]:
    """A fresh predictor for configuration ``name``, and the arch list it is trained on."""
    base, canon, zc = split_config(name)
    reg, kwargs, _ = BASES[base]
    extra = _STATE["feats"][(dataset, canon)] if zc else None
    model = _STATE["make"](reg, seed=seed, extra=extra, space=_STATE["space"], **kwargs)
    return model, _STATE["canon_archs"] if canon else _STATE["archs"]


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
    for name in task["configs"]:
        model, all_archs = _build(name, ds, seed)
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
    *, gin_seeds_at: dict[int, int], canon_gin_max_n: int,
) -> list[dict[str, Any]]:
    """One task per (dataset, seed, n) with all configurations (same training set, same process,
    interleaved, so their times are measured under the same load). GIN configurations are left
    out of a (n, seed) pair beyond ``gin_seeds_at[n]`` seeds, @canon GIN ones above
    ``canon_gin_max_n``. Largest n first (load balance)."""
    tasks = []
    for n in sorted(sizes, reverse=True):
        for k, seed in enumerate(seeds):
            for ds in datasets:
                cut = k >= gin_seeds_at.get(n, len(seeds))
                cfgs = []
                for c in configs:
                    base, canon, _ = split_config(c)
                    gin = BASES[base][0] == "gin"
                    if gin and (cut or (canon and n > canon_gin_max_n)):
                        continue
                    cfgs.append(c)
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
def zero_shot(rich: Any, base: Any, classes: np.ndarray, datasets: Sequence[str]) -> dict:
    """Kendall tau of each proxy (and a rank-average of them) with val_acc, no training."""
    from scipy.stats import kendalltau, rankdata

    out: dict[str, Any] = {}
    for ds in datasets:
        y = base.query_many(np.arange(len(base)), "val_acc", dataset=ds)
        raw, names = _raw_proxies(rich, ds)
        zds = ZC_DATASET[ds]
        hib = []
        for nm in names:
            d_, m_ = (nm.split(":", 1) if ":" in nm else (ds, nm))
            hib.append(rich.metric_info(m_, dataset=d_).higher_is_better)
        res: dict[str, Any] = {"proxy_dataset": zds, "proxies": {}}
        for j, nm in enumerate(names):
            v = raw[:, j] if hib[j] else -raw[:, j]
            ok = np.isfinite(v) & np.isfinite(y)
            res["proxies"][nm] = {"kendall_tau": float(kendalltau(y[ok], v[ok]).statistic),
                                  "n_archs": int(ok.sum()), "higher_is_better": bool(hib[j])}
        k = len(names) - len(ZC_EXTRA.get(ds, []))  # the 13 DEFAULT_ZC columns
        signed = raw[:, :k] * np.where(hib[:k], 1.0, -1.0)
        ok = np.isfinite(signed).all(1) & np.isfinite(y)
        ens = np.mean([rankdata(signed[ok, j]) for j in range(k)], axis=0)
        res["rank_average"] = {"kendall_tau": float(kendalltau(y[ok], ens).statistic),
                               "n_archs": int(ok.sum())}
        # Same ensemble with each arch given its isomorphism class's mean proxies.
        cm = ClassMeanFeatures(rich, raw[:, :k], classes, names[:k])
        filled = np.where(cm.matrix[:, -1:] > 0, np.nan, 1.0) * cm.matrix[:, :k]
        signed = filled * np.where(hib[:k], 1.0, -1.0)
        ok = np.isfinite(signed).all(1) & np.isfinite(y)
        ens = np.mean([rankdata(signed[ok, j]) for j in range(k)], axis=0)
        res["rank_average_class_mean"] = {"kendall_tau": float(kendalltau(y[ok], ens).statistic),
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
        lib = [x for x in cands if "@canon" not in x[1]]
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


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    """The human-readable report."""
    meta, a = report["meta"], report["meta"]["args"]
    res, configs, sizes = report["results"], report["configs"], a["train_sizes"]
    datasets = a["datasets"]
    mi = meta["machine"]
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
        f"- machine: {mi['platform']}; {mi['cpu']}; cpu_count {mi['cpu_count']} (shared with "
        f"other jobs while this ran); Python {mi['python']}, numpy {mi['numpy']}, "
        f"scipy {mi['scipy']}, scikit-learn {mi['sklearn']}, xgboost {mi['xgboost']}, "
        f"torch {mi['torch']}; git {meta['git']}",
        "",
        f"![Kendall tau vs n]({path.with_suffix('.png').name})",
        "",
        "## Configurations",
        "",
    ]
    for b, (reg, kw, desc) in BASES.items():
        lines.append(f"- `{b}`: {desc} (`make_predictor({reg!r}, "
                     + ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")`, library defaults)")
    if zc_on:
        lines += [
            "- `+zc`: the 13 `DEFAULT_ZC` proxies as extra inputs via the library's "
            "`TableFeatures` (`sign*log1p`, NaN -> 0 plus a missing flag). They exist for the "
            "9,445 cells without dead ops (9,444 for the proxies with one failed arch); the other "
            "~6,180 archs get zeros and the flag. **cifar100 has no `zc_*` proxies of its own**: "
            "it uses the *cifar10* proxies of the same architecture (properties of the untrained "
            "network on CIFAR-10 inputs) plus cifar100's own `naslib_zen` (defined for 15,284 "
            "archs), joined in the benchmark (`JoinedFeatures`), since `evaluate_predictors` "
            "reads features from the target's own dataset only. cifar10 and ImageNet16-120 use "
            "their own 13 proxies.",
        ]
    lines += [
        "- `@canon` (benchmark-only, no library change; chosen on sample seeds 100-103 at n = 100 "
        "on cifar10 and ImageNet16-120, never on the reported seeds): every architecture is "
        "encoded as its dead-op-pruned isomorphic representative (ops that cannot change the "
        "cell's function per `space.canonical_key` set to `none`), and `+zc` there gives each "
        "architecture the proxies averaged over its isomorphism class (an isomorphic cell "
        f"computes the same function). That leaves {meta.get('canon_missing_after', '?')} archs "
        f"without proxies instead of {meta.get('canon_missing_before', '?')}. Canonicalising all "
        f"15,625 archs took {meta.get('canon_seconds', float('nan')):.1f} s once (not in the "
        "predict times).",
        "",
    ]

    # --- goal
    lines += [f"## Goal: Kendall tau >= {GOAL_TAU:.2f} at n = {GOAL_N}", ""]
    lines += ["| dataset | best configuration | tau [95% CI] | goal met | best library default "
              "| its tau |", "|---|---|---|---|---|---|"]
    for ds, g in report["goal"].items():
        lo, hi = g["ci95"]
        lines.append(f"| {ds} | `{g['best']}` | {g['kendall_tau']:.3f} [{lo:.3f}, {hi:.3f}] | "
                     f"{'yes' if g['met'] else '**no**'} | `{g['best_library_default']}` | "
                     f"{_f(g['library_default_tau'])} |")
    lines += ["", report["goal_text"], ""]

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
        b, canon, zc = split_config(c)
        if zc:
            pairs.append((c, c[: -len("+zc")], "adding zc"))
        if canon:
            lib_twin = f"{b}+zc" if zc else b
            if lib_twin in configs:
                pairs.append((c, lib_twin, "@canon vs library"))
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
    "gin-mse": "tab:orange", "gin-pairwise": "tab:red",
}
CANON_STYLE = {"xgb-onehot": "tab:purple", "gin-pairwise": "tab:brown", "gin-mse": "tab:pink",
               "xgb-path": "tab:olive", "ridge": "tab:cyan"}


def plot(path: Path, report: dict[str, Any]) -> None:
    """Top row: library configurations; bottom row: @canon variants (+ the best library one);
    one column per dataset; solid = without zc, dashed = with zc; 95% CI bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    res, configs = report["results"], report["configs"]
    datasets = report["meta"]["args"]["datasets"]
    sizes = report["meta"]["args"]["train_sizes"]
    lib = [c for c in configs if "@canon" not in c]
    can = [c for c in configs if "@canon" in c]
    rows = 2 if can else 1
    fig, axes = plt.subplots(rows, len(datasets), figsize=(5.4 * len(datasets), 4.6 * rows),
                             squeeze=False, sharey=True)
    zs = report.get("zero_shot") or {}

    def draw(ax, ds, names, title):
        for c in names:
            base, canon, zc = split_config(c)
            color = (CANON_STYLE if canon else STYLE).get(base, "black")
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
        draw(axes[0, j], ds, lib, f"{ds}: library predictors")
        if can:
            g = report["goal"].get(ds, {})
            ref = [g["best_library_default"]] if g.get("best_library_default") else []
            title = f"{ds}: @canon variants"
            if ref:
                title += f"\n+ best library config at n={GOAL_N}: {ref[0]}"
            draw(axes[1, j], ds, [*can, *ref], title)
    for i in range(rows):
        axes[i, 0].set_ylabel("Kendall τ on held-out archs")
        keep = lib if i == 0 else can
        handles = [h for h in axes[i, -1].get_lines()
                   if h.get_label() in keep or h.get_label().startswith("zero-shot")]
        axes[i, -1].legend(handles=handles, fontsize=8, loc="center left",
                           bbox_to_anchor=(1.01, 0.5), title="solid: no zc, dashed: +zc",
                           title_fontsize=8)
    lo = min(
        (e["kendall_tau"] for ds in datasets for c in configs for e in res[ds][c].values()
         if e["kendall_tau"] is not None), default=0.0)
    axes[0, 0].set_ylim(max(-0.1, min(0.2, lo - 0.05)), 0.9)
    seeds = report["meta"]["args"]["seeds"]
    fig.suptitle(f"NAS-Bench-201 val_acc: Kendall τ vs n ({len(seeds)} seeds, 95% CI bands; "
                 f"dotted = goal {GOAL_TAU})", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=list(ALL_DATASETS))
    p.add_argument("--train-sizes", nargs="+", type=int, default=list(TRAIN_SIZES))
    p.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"))
    p.add_argument("--predictors", nargs="+", default=list(BASES), choices=list(BASES))
    p.add_argument("--canon", nargs="*", default=list(CANON_CONFIGS),
                   help="@canon configurations to add, e.g. gin-mse@canon+zc (none: skip)")
    p.add_argument("--gin-seeds-at", nargs="*", default=["1000:5"],
                   help="N:K = run GIN configurations on only the first K seeds at n=N")
    p.add_argument("--canon-gin-max-n", type=int, default=500,
                   help="run @canon GIN configurations only for n <= this")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rich-source", default=RICH_SOURCE,
                   help="folder with nb201.csv.gz for the zero-cost proxies ('' to skip)")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    p.add_argument("--name", default="predictors_nb201", help="stem of the output files")
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
    from predictor_nas.spaces import get_space
    from predictor_nas.tables import open_table

    t_start = time.perf_counter()
    gin_seeds_at = {int(k): int(v) for k, v in (s.split(":") for s in args.gin_seeds_at)}
    git = git_revision()
    space = get_space("nb201")
    base = open_table("nb201")
    archs = [space.parse(a) for a in base.archs]
    t0 = time.perf_counter()
    canon_rows, classes = canonical_rows(space, archs, base)
    canon_seconds = time.perf_counter() - t0
    log.info("canonicalised %d archs (%d classes, %d changed) in %.1f s", len(archs),
             classes.max() + 1, int(np.sum(canon_rows != np.arange(len(archs)))), canon_seconds)
    with tempfile.TemporaryDirectory(prefix="nb201-rich-") as tmp:
        rich, rich_info = load_rich_table(args.rich_source or None, tmp)
        if rich is None:
            log.warning("no zero-cost proxies: %s; running without the +zc rows",
                        rich_info["reason"])
        configs = config_names(args.predictors, args.canon, rich is not None)
        if TIME_REF not in configs:
            log.warning("%s not run: no time ratios", TIME_REF)
        state = {"rich_path": rich_info.get("path"), "canon_rows": canon_rows,
                 "classes": classes, "datasets": list(args.datasets), "configs": configs}
        tasks = make_tasks(args.datasets, args.seeds, args.train_sizes, configs,
                           gin_seeds_at=gin_seeds_at, canon_gin_max_n=args.canon_gin_max_n)
        log.info("%d configurations, %d tasks, %d fits on %d workers", len(configs), len(tasks),
                 sum(len(t["configs"]) for t in tasks), args.workers)
        t_fit = time.perf_counter()
        rows, cold = run_tasks(tasks, state, args.workers)
        fit_seconds = time.perf_counter() - t_fit
        zs = zero_shot(rich, base, classes, args.datasets) if rich is not None else None
        canon_missing = {}
        if rich is not None:
            raw, names = _raw_proxies(rich, "cifar10")
            cm = ClassMeanFeatures(rich, raw, classes, names)
            canon_missing = {"canon_missing_before": cm.n_missing_before,
                             "canon_missing_after": cm.n_missing_after}
    res = summarise(rows, args.datasets, configs, args.train_sizes)
    goal = goal_check(res, args.datasets, configs)
    met = [ds for ds, g in goal.items() if g["met"]]
    if len(met) == len(goal):
        goal_text = (f"**The goal is met on every dataset** (best mean tau >= {GOAL_TAU} at "
                     f"n = {GOAL_N}).")
    else:
        miss = [ds for ds in goal if ds not in met]
        goal_text = (f"**The goal is NOT met** on {', '.join(miss)}"
                     + (f" (met on {', '.join(met)})" if met else "") + ": no configuration "
                     f"reaches a mean Kendall tau of {GOAL_TAU} at n = {GOAL_N} there. Best per "
                     "dataset: " + "; ".join(f"{ds} `{g['best']}` {g['kendall_tau']:.3f}"
                                             for ds, g in goal.items()) + ".")
    cut_parts = [f"GIN configurations at n={n} on the first {k} seeds only "
                 f"({seeds_text(args.seeds[:k])})" for n, k in sorted(gin_seeds_at.items())
                 if n in args.train_sizes and k < len(args.seeds)]
    big = [n for n in args.train_sizes if n > args.canon_gin_max_n]
    canon_gin = [c for c in configs if "@canon" in c and BASES[split_config(c)[0]][0] == "gin"]
    if big and canon_gin:
        cut_parts.append(f"{', '.join(canon_gin)} not run at n = {', '.join(map(str, big))}")
    cut = ("; ".join(cut_parts) + "; every other cell: all seeds") if cut_parts \
        else "nothing (full grid)"
    notes = []
    run_seconds = time.perf_counter() - t_start
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
            "machine": machine_info(),
            "git": git,
            "table": {"name": base.name, "content_hash": base.content_hash},
            "rich": rich_meta,
            "target": "val_acc, fidelity 200, mean over training trials (table nb201)",
            "zc_dataset": {ds: ZC_DATASET[ds] for ds in args.datasets},
            "zc_extra": {ds: ZC_EXTRA.get(ds, []) for ds in args.datasets},
            "cut": cut,
            "gin_seeds_at": gin_seeds_at,
            "canon_seconds": canon_seconds,
            **canon_missing,
            "fit_loop_seconds": fit_seconds,
            "run_seconds": run_seconds,
            "n_fits": len(rows),
            "top_k": list(TOP_K),
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
    report["meta"]["args"]["train_sizes"] = sorted(args.train_sizes)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / args.name
    stem.with_suffix(".json").write_text(json.dumps(_jsonable(report), indent=1) + "\n")
    write_markdown(stem.with_suffix(".md"), report)
    plot(stem.with_suffix(".png"), report)
    log.info("wrote %s.{json,md,png}; %d fits in %.1f s", stem, len(rows), run_seconds)
    for ds, g in goal.items():
        log.info("%-15s best at n=%d: %s tau %.3f (goal %s)", ds, GOAL_N, g["best"],
                 g["kendall_tau"], "met" if g["met"] else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
