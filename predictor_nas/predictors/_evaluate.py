"""Evaluate accuracy predictors on a table: ranking quality and calibration vs. train size.

The protocol (as in NAS-Bench-Suite / "How powerful are performance predictors in NAS?"): for each
seed and train size ``n``, draw ``n`` architectures uniformly without replacement from the table,
fit every predictor on their mean validation metric, predict all other architectures of the table,
and score the predicted ranking against the true one.
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from predictor_nas._lazy import mpl_backend_agg, mpl_figure, mpl_ticker, scipy_stats
from predictor_nas._progress import progress_bar
from predictor_nas._validation import check_choice, param_error
from predictor_nas.encodings import DEFAULT_ZC, TableFeatures, zero_cost_metrics
from predictor_nas.predictors._ranking import IDEAL_COVERAGE, ranking_metrics
from predictor_nas.predictors._registry import PREDICTORS, make_predictor
from predictor_nas.spaces import get_space
from predictor_nas.tables import open_table

_OWNER = "evaluate_predictors"


def _names(value: object, name: str, owner: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        raise param_error(name, owner, "a name or a non-empty sequence of names", value)
    out = list(items)
    if not out or not all(isinstance(v, str) and v for v in out):
        raise param_error(name, owner, "a name or a non-empty sequence of names", value)
    return out


def _ints(value: object, name: str, owner: str, allowed: str, lo: int, hi: float) -> list[int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise param_error(name, owner, allowed, value)
    out = list(value)
    if not out:
        raise param_error(name, owner, allowed, out)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not lo <= v <= hi:
            raise param_error(name, owner, allowed, v)
    if len(set(out)) != len(out):
        raise param_error(name, owner, f"{allowed} without repeats", out)
    return [int(v) for v in out]


def _looks_like_accuracy(name: str) -> bool:
    """Whether a metric name reads as an accuracy (``val_acc``, ``naslib_val``, ``test_*``)."""
    parts = name.lower().replace("-", "_").split("_")
    return any(p in ("val", "valid", "test", "acc", "accuracy") for p in parts)


def _ci95(values: np.ndarray) -> list[float] | None:
    """Student-t 95 % interval of the mean; ``None`` with fewer than two values."""
    v = values[np.isfinite(values)]
    if len(v) < 2:
        return None

    half = float(scipy_stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    mu = float(v.mean())
    return [mu - half, mu + half]


def _mean_or_none(values: list[float | None]) -> float | None:
    v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else None


def _clean(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# --------------------------------------------------------------------------- evaluation
def _check_names_seeds_metric(
    predictors: str | Sequence[str], seeds: Iterable[int], metric: object
) -> tuple[list[str], list[int]]:
    """Registered predictor names without repeats, the seeds, and a validation metric."""
    owner = _OWNER
    names = _names(predictors, "predictors", owner)
    registry = dict(PREDICTORS)
    for n in names:
        check_choice(n, "predictors", owner, sorted(registry))
    if len(set(names)) != len(names):
        raise param_error("predictors", owner, "names without repeats", names)
    seed_list = _ints(seeds, "seeds", owner, "a non-empty sequence of ints >= 0", 0, math.inf)
    if not isinstance(metric, str) or metric.lower().startswith("test"):
        raise param_error(
            "metric",
            owner,
            "a validation metric (test metrics are never a training target)",
            metric,
        )
    return names, seed_list


def _zc_features(
    tbl: Any,
    sp: Any,
    dataset: str,
    zc: str | Sequence[str] | None,
    zc_table: str | os.PathLike | None,
    proxy_dataset: str | Sequence[str] | None,
) -> tuple[list[str] | None, Any, list[str], Any]:
    """Check the zero-cost feature options; ``(names, their table, datasets, TableFeatures)``."""

    owner = _OWNER
    zc_names: list[str] | None
    if zc is None:
        zc_names = None
    elif isinstance(zc, str) and zc in ("default", "all"):
        zc_names = [] if zc == "all" else list(DEFAULT_ZC)  # "all": filled in below
    else:
        zc_names = _names(zc, "zc", owner)
    ztbl = None
    features = None
    zds: list[str] = []
    if zc_names is not None:
        for z in zc_names:
            if _looks_like_accuracy(z):
                raise param_error(
                    "zc", owner, "feature metrics, not accuracies (they would leak the target)", z
                )
        ztbl = tbl if zc_table is None else open_table(zc_table)
        if ztbl.space != sp.name:
            raise param_error(
                "zc_table", owner, f"a table of space {sp.name!r}", f"{zc_table} ({ztbl.space})"
            )
        if proxy_dataset is None:
            check_choice(dataset, "dataset", f"{owner} (zc_table {ztbl.name!r})", ztbl.datasets)
            zds = [dataset]
        else:
            zds = _names(proxy_dataset, "proxy_dataset", owner)
            if len(set(zds)) != len(zds):
                raise param_error("proxy_dataset", owner, "names without repeats", proxy_dataset)
            for d in zds:
                check_choice(d, "proxy_dataset", f"{owner} (zc_table {ztbl.name!r})", ztbl.datasets)
        if not zc_names:
            zc_names = zero_cost_metrics(ztbl, zds)
            if not zc_names:
                raise param_error(
                    "zc", owner, f"'all' only with zero-cost metrics in {ztbl.name}/{zds}", zc
                )
        for d in zds:
            for z in zc_names:
                if z not in ztbl.metrics(d):
                    raise param_error(
                        "zc",
                        owner,
                        f"metrics of {ztbl.name}/{d} (available: {', '.join(ztbl.metrics(d))})",
                        z,
                    )
        features = TableFeatures(ztbl, zds[0] if len(zds) == 1 else zds, zc_names)
    elif proxy_dataset is not None:
        raise param_error("proxy_dataset", owner, "None when zc is None", proxy_dataset)
    return zc_names, ztbl, zds, features


def _fit_all(
    tbl: Any,
    sp: Any,
    names: Sequence[str],
    y_all: np.ndarray,
    pool: np.ndarray,
    seed_list: Sequence[int],
    size_list: Sequence[int],
    features: Any,
    scoring: tuple[Sequence[int], bool],
    bar_desc: str | None,
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """Fit every predictor on every (seed, train size) draw; one row of scores per fit."""
    top_list, hib = scoring
    progress = bar_desc is not None
    archs = [sp.parse(a) for a in tbl.archs]
    # One untimed fit per predictor first, so lazy imports and one-off set-up do not land in the
    # first timed fit.
    warm = pool[:10]
    for name in names:
        make_predictor(name, seed=0, extra=features, space=sp.name).fit(
            [archs[r] for r in warm], y_all[warm]
        ).predict([archs[r] for r in warm])
    keys = [(p, n) for p in names for n in size_list]
    per: dict[tuple[str, int], list[dict[str, Any]]] = {k: [] for k in keys}
    bar = None
    if progress:
        bar = progress_bar(len(seed_list) * len(keys), desc=bar_desc, unit="fit")
    try:
        for seed in seed_list:
            for n in size_list:
                rng = np.random.default_rng([seed, n])
                train_rows = np.sort(rng.choice(pool, size=n, replace=False))
                test_rows = np.setdiff1d(pool, train_rows, assume_unique=True)
                x_train = [archs[r] for r in train_rows]
                x_test = [archs[r] for r in test_rows]
                y_train, y_test = y_all[train_rows], y_all[test_rows]
                for name in names:
                    if bar is not None:
                        bar.set_postfix_str(f"{name} n={n} seed={seed}")
                    model = make_predictor(name, seed=seed, extra=features, space=sp.name)
                    t0 = time.perf_counter()
                    model.fit(x_train, y_train)
                    t1 = time.perf_counter()
                    pred = model.predict(x_test)
                    t2 = time.perf_counter()
                    m = ranking_metrics(
                        y_test, pred.mean, pred.std, top_k=top_list, higher_is_better=hib
                    )
                    row: dict[str, Any] = {k: _clean(v) for k, v in m.items()}
                    row.update(
                        seed=seed,
                        n_test=len(test_rows),
                        fit_seconds=t1 - t0,
                        predict_seconds=t2 - t1,
                    )
                    per[(name, n)].append(row)
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    return per


def _summarise(
    per: dict[tuple[str, int], list[dict[str, Any]]], top_list: Sequence[int]
) -> list[dict[str, Any]]:
    """Means over seeds, the tau CI and the per-seed lists of each (predictor, train size)."""
    keys = list(per)
    metric_keys = [
        "kendall_tau",
        "spearman",
        *(f"precision_at_{k}" for k in top_list),
        "coverage_1sigma",
        "coverage_2sigma",
        "log_likelihood",
    ]
    results = []
    for name, n in keys:
        rows = per[(name, n)]
        taus = np.array([np.nan if r["kendall_tau"] is None else r["kendall_tau"] for r in rows])
        entry: dict[str, Any] = {"predictor": name, "train_size": n}
        for k in metric_keys:
            entry[k] = _mean_or_none([r.get(k) for r in rows])
        entry["kendall_tau_ci95"] = _ci95(taus)
        entry["fit_seconds"] = float(np.mean([r["fit_seconds"] for r in rows]))
        entry["predict_seconds"] = float(np.mean([r["predict_seconds"] for r in rows]))
        entry["n_seeds"] = len(rows)
        entry["n_test"] = rows[0]["n_test"]
        entry["per_seed"] = {
            k: [r.get(k) for r in rows]
            for k in ["seed", *metric_keys, "fit_seconds", "predict_seconds"]
        }
        results.append(entry)
    return results


def evaluate_predictors(
    *,
    space: str | None = None,
    table: str | os.PathLike = "nb201",
    dataset: str = "cifar10",
    metric: str = "val_acc",
    predictors: str | Sequence[str] = ("ridge",),
    train_sizes: Iterable[int] = (20, 50, 100, 200, 500, 1000),
    seeds: Iterable[int] = range(10),
    zc: str | Sequence[str] | None = None,
    zc_table: str | os.PathLike | None = None,
    proxy_dataset: str | Sequence[str] | None = None,
    top_k: Sequence[int] = (10, 50, 100),
    progress: bool = False,
) -> dict[str, Any]:
    """Train each predictor on random samples of a table and score its ranking of the rest.

    For every seed and train size ``n``, ``n`` architectures are drawn uniformly without
    replacement (``numpy.random.default_rng([seed, n])``, so one (seed, n) draws the same set
    whatever other sizes are listed, and every predictor sees the same set). The target is the
    mean over training trials of ``metric`` at the table's highest fidelity; architectures without
    a value are left out of both sides. Each predictor (built with ``seed=seed``) is fitted and
    predicts all other architectures, scored by ``ranking_metrics``. Wall times are taken after one
    untimed warm-up fit per predictor (lazy imports excluded).

    Args:
        space: Search-space name or YAML declaration; must be the table's (``None``: the
            table's).
        table: Table name or file holding the target.
        dataset: Dataset of the table.
        metric: Target metric; validation metrics only (names starting with ``test`` are refused).
        predictors: Registered predictor names (see ``predictor_nas.predictors.PREDICTORS``).
        train_sizes: Train-set sizes, each in [2, number of archs - 1].
        seeds: Seeds (ints >= 0), at least one.
        zc: Table metrics given to every predictor as extra features (``TableFeatures`` via
            ``extra=``, isomorphism-class-mean fill), e.g. zero-cost proxies; ``"default"`` =
            ``DEFAULT_ZC``; ``"all"`` = every zero-cost metric (``zero_cost_metrics``: stored at
            fidelity 0, e.g. proxies and hardware cost); ``None`` = none.
            Accuracy-like names (a ``val``/``test``/``acc`` word, e.g. ``naslib_val``) are refused.
        zc_table: Table holding the ``zc`` metrics (default: ``table``), e.g. ``"nb201-rich"``.
        proxy_dataset: Dataset(s) of ``zc_table`` the ``zc`` metrics are read from (default:
            ``dataset``). Proxies are properties of the untrained network, so another dataset's
            proxies are valid features, e.g. ``"cifar10"`` for a cifar100 target (``nb201-rich``
            has ``zc_*`` proxies for cifar10 and ImageNet16-120 only); with several datasets
            every metric is read from each.
        top_k: Sizes for precision@k.
        progress: Show progress on stderr (``predictor_nas._progress``: a bar on a terminal,
            status lines in a log).

    Returns:
        A JSON-able dict: the configuration and ``results``, one entry per (predictor, train size)
        with means over seeds (``kendall_tau``, ``spearman``, ``precision_at_{k}``,
        ``coverage_1sigma``, ``coverage_2sigma``, ``log_likelihood`` - the last three ``None`` for
        predictors without std), ``kendall_tau_ci95`` ([low, high], ``None`` for one seed),
        ``fit_seconds`` / ``predict_seconds`` (mean wall time), ``n_seeds``, ``n_test`` and
        ``per_seed`` (metric name -> list aligned with ``seed``). Undefined values (e.g. tau of a
        constant prediction) are ``None`` and left out of the means.
    """

    owner = _OWNER
    names, seed_list = _check_names_seeds_metric(predictors, seeds, metric)
    tbl = open_table(table)
    sp = get_space(tbl.space if space is None else space)
    if tbl.space != sp.name:
        raise param_error("table", owner, f"a table of space {sp.name!r}", f"{table} ({tbl.space})")
    check_choice(dataset, "dataset", owner, tbl.datasets)
    check_choice(metric, "metric", owner, tbl.metrics(dataset))
    fidelity = tbl.fidelities(metric, dataset=dataset)[-1]
    y_all = tbl.query_many(np.arange(len(tbl)), metric, dataset=dataset, fidelity=fidelity)
    pool = np.flatnonzero(np.isfinite(y_all))
    size_list = _ints(
        train_sizes,
        "train_sizes",
        owner,
        f"a non-empty sequence of ints in [2, {len(pool) - 1}] (archs with a value - 1)",
        2,
        len(pool) - 1,
    )
    top_list = [int(k) for k in top_k]
    hib = tbl.metric_info(metric, dataset=dataset).higher_is_better

    zc_names, ztbl, zds, features = _zc_features(tbl, sp, dataset, zc, zc_table, proxy_dataset)
    per = _fit_all(
        tbl,
        sp,
        names,
        y_all,
        pool,
        seed_list,
        size_list,
        features,
        (top_list, hib),
        f"predictors {dataset}" if progress else None,
    )
    results = _summarise(per, top_list)
    return {
        "space": sp.name,
        "table": tbl.name,
        "table_content_hash": tbl.content_hash,
        "dataset": dataset,
        "metric": metric,
        "fidelity": int(fidelity),
        "higher_is_better": hib,
        "n_archs": len(pool),
        "predictors": names,
        "train_sizes": size_list,
        "seeds": seed_list,
        "top_k": top_list,
        "zc": zc_names,
        "zc_table": None if ztbl is None else ztbl.name,
        "proxy_dataset": None if ztbl is None else (zds[0] if len(zds) == 1 else zds),
        "ideal_coverage": dict(IDEAL_COVERAGE),
        "results": results,
    }


# --------------------------------------------------------------------------- plot
def draw_kendall(ax: Any, entries: Sequence[dict[str, Any]]) -> None:
    """Draw Kendall tau vs. train size on the matplotlib axes ``ax``: one line per predictor
    with its 95 % CI band, log x with a tick at each train size, labels and grid.

    Args:
        ax: A matplotlib ``Axes``.
        entries: The ``"results"`` rows of ``evaluate_predictors``.
    """
    by_name: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        by_name.setdefault(e["predictor"], []).append(e)
    for name, es in by_name.items():
        es = sorted((e for e in es if e["kendall_tau"] is not None), key=lambda e: e["train_size"])
        if not es:
            continue
        x = [e["train_size"] for e in es]
        (line,) = ax.plot(x, [e["kendall_tau"] for e in es], marker="o", label=name)
        band = [(e["train_size"], *e["kendall_tau_ci95"]) for e in es if e["kendall_tau_ci95"]]
        if band:
            bx, lo, hi = zip(*band)
            ax.fill_between(bx, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    sizes = sorted({e["train_size"] for e in entries})
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.xaxis.set_minor_formatter(mpl_ticker.NullFormatter())
    ax.set_xlabel("training set size n")
    ax.set_ylabel("Kendall τ (held-out archs)")
    ax.grid(True, which="both", alpha=0.3)


def plot_kendall(results: dict[str, Any], path: str | os.PathLike) -> str:
    """Write a PNG of Kendall tau vs. train size (log x) per predictor, with 95 % CI bands.

    Args:
        results: What ``evaluate_predictors`` returned.
        path: Output file (PNG).

    Returns:
        The path written.
    """

    entries = results.get("results") if isinstance(results, dict) else None
    if not entries:
        raise param_error(
            "results",
            "plot_kendall",
            "the dict returned by evaluate_predictors",
            type(results).__name__,
        )
    fig = mpl_figure.Figure(figsize=(6.4, 4.2), dpi=120)
    mpl_backend_agg.FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw_kendall(ax, entries)
    title = " / ".join(str(results.get(k, "")) for k in ("table", "dataset", "metric"))
    seeds = results.get("seeds")
    if seeds:
        title += f" ({len(seeds)} seeds, 95 % CI)"
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, format="png")
    return out
