"""Load NAS-Bench-NLP learning curves and score curve models on them by k-fold cross-validation."""

from __future__ import annotations

import copy
import gzip
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from predictor_nas._lazy import scipy_stats
from predictor_nas._validation import check_int, param_error
from predictor_nas.curves._base import CurveModel, check_corpus, check_extra
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.predictors import Prediction

log = logging.getLogger(__name__)

ModelSpec = CurveModel | Callable[[int], CurveModel]
METRICS = ("mae", "rmse", "loglik", "spearman", "coverage_2sd")


def load_nlp_curves(
    path: str | Path, *, metric: str = "val_losses", with_info: bool = False
) -> np.ndarray | tuple[np.ndarray, dict[str, Any]]:
    """Per-epoch curves of the OK runs in a NAS-Bench-NLP ``wikitext2_logs.jsonl(.gz)`` file.

    Failed runs (status other than ``"OK"``, a ``null`` loss, or fewer epochs than the longest
    run) are skipped; how many is logged at INFO level (and returned with ``with_info``).

    Args:
        path: The JSON-lines file (gzip if the name ends in ``.gz``).
        metric: ``"val_losses"`` (default), ``"test_losses"`` or ``"train_losses"`` (natural-log
            cross-entropy per token; lower is better).
        with_info: Also return a dict with ``recepie_id`` (n,), ``num_params`` (n,) and
            ``skipped`` (number of runs left out).

    Returns:
        float64 array (n, E) (E = 50 epochs for the released logs), or ``(curves, info)``.
    """
    allowed = ("val_losses", "test_losses", "train_losses")
    if metric not in allowed:
        raise param_error("metric", "load_nlp_curves", f"one of {allowed}", metric)
    p = Path(path)
    opener = gzip.open if p.name.endswith(".gz") else open
    with opener(p, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    width = max((len(r.get(metric) or []) for r in records), default=0)
    kept, ids, params = [], [], []
    for r in records:
        vals = r.get(metric) or []
        ok = (
            r.get("status") == "OK"
            and len(vals) == width
            and all(v is not None and math.isfinite(v) for v in vals)
        )
        if ok:
            kept.append(vals)
            ids.append(r.get("recepie_id", -1))
            params.append(r.get("num_params", -1))
    skipped = len(records) - len(kept)
    log.info(
        "load_nlp_curves: %d runs with %d epochs of %s from %s; skipped %d failed runs",
        len(kept),
        width,
        metric,
        p.name,
        skipped,
    )
    if not kept:
        raise InvalidParameterError(f"load_nlp_curves: no complete OK run in {p}.")
    curves = np.asarray(kept, dtype=np.float64)
    if not with_info:
        return curves
    info = {
        "recepie_id": np.asarray(ids, dtype=np.int64),
        "num_params": np.asarray(params, dtype=np.int64),
        "skipped": skipped,
        "records": len(records),
    }
    return curves, info


def gaussian_loglik(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Log density of ``y`` under N(mean, std^2), elementwise; arrays (n,) -> (n,)."""
    var = np.asarray(std, dtype=np.float64) ** 2
    return -0.5 * (np.log(2 * np.pi * var) + (y - mean) ** 2 / var)


def score(y: np.ndarray, pred: Prediction) -> dict[str, float]:
    """MAE, RMSE, mean Gaussian log-likelihood, Spearman and +-2 std coverage of (n,) arrays."""

    err = pred.mean - y
    sp = scipy_stats.spearmanr(pred.mean, y).statistic if len(y) > 2 else float("nan")
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "loglik": float(np.mean(gaussian_loglik(y, pred.mean, pred.std))),
        "spearman": float(sp),
        "coverage_2sd": float(np.mean(np.abs(err) <= 2 * pred.std)),
    }


@dataclass(frozen=True)
class CurveEvaluation:
    """Result of :func:`evaluate_curve_models`.

    Attributes:
        table: One dict per (model, cut): ``model``, ``cut``, ``observed_epochs``,
            ``final_epoch``, ``n_curves``, ``n_seeds``, the mean over seeds of each metric in
            ``METRICS`` and its std over seeds (``<metric>_sd``), ``curves_per_s`` (predict_final
            on the whole batch of curves, best of ``timing_repeats``) and ``fit_s`` (mean fit time
            per fold).
        per_seed: One dict per (seed, model, cut) with the metrics of that seed.
        predictions: Out-of-fold predictions of the first seed: ``{model: {cut: Prediction}}``.
        final: The true final values (n,).
    """

    table: list[dict[str, Any]]
    per_seed: list[dict[str, Any]]
    predictions: dict[str, dict[float, Prediction]] = field(repr=False)
    final: np.ndarray = field(repr=False)


def _make(spec: ModelSpec, seed: int) -> CurveModel:
    model = copy.deepcopy(spec) if isinstance(spec, CurveModel) else spec(seed)
    if not isinstance(model, CurveModel):
        raise InvalidParameterError(
            f"evaluate_curve_models: a model factory returned {type(model).__name__}, "
            "not a CurveModel."
        )
    return model


def _cut_epochs(cuts: Sequence[float], length: int, owner: str) -> dict[float, int]:
    """Cut fraction -> observed epochs ``round(cut * length)``, clipped to [1, length - 1]."""
    cut_epochs: dict[float, int] = {}
    for cut in cuts:
        if not (isinstance(cut, (int, float)) and 0 < cut < 1):
            raise param_error("cuts", owner, "fractions in (0, 1)", cut)
        cut_epochs[float(cut)] = int(min(max(round(cut * length), 1), length - 1))
    return cut_epochs


def _throughput(
    fitted: dict[str, CurveModel],
    cut_epochs: dict[float, int],
    c: np.ndarray,
    x: np.ndarray | None,
    reps: int,
) -> dict[tuple[str, float], float]:
    """(model, cut) -> curves predicted per second, best of ``reps`` batch predictions.

    Args:
        fitted: Name -> a fitted model.
        cut_epochs: Cut fraction -> observed epochs.
        c: (n, L) the curves, all predicted in one batch.
        x: (n, d) architecture features or None.
        reps: Repetitions (the fastest is kept).
    """
    n, length = c.shape
    speed: dict[tuple[str, float], float] = {}
    for name, model in fitted.items():
        use_x = x is not None and model.accepts_extra
        for cut, t in cut_epochs.items():
            best = math.inf
            for _ in range(reps):
                t0 = time.perf_counter()
                model.predict_final(c[:, :t], final_epoch=length, extra=x if use_x else None)
                best = min(best, time.perf_counter() - t0)
            speed[name, cut] = n / max(best, 1e-12)
    return speed


def evaluate_curve_models(
    curves: np.ndarray,
    models: Mapping[str, ModelSpec],
    *,
    cuts: Sequence[float] = (0.1, 0.2, 0.5),
    seeds: Sequence[int] = (0,),
    n_folds: int = 5,
    extra: np.ndarray | None = None,
    timing_repeats: int = 3,
) -> CurveEvaluation:
    """Cross-validate curve models on full curves: predict the last epoch from each cut.

    For every seed the curves are split into ``n_folds`` folds by a permutation drawn from that
    seed; every model is fitted on the other folds (so learned models never see a test curve,
    and corpus-calibrated ones calibrate on training curves only) and predicts the held-out
    curves cut after ``round(cut * L)`` epochs. Metrics are computed over all out-of-fold
    predictions of a seed, then averaged over seeds. Throughput is timed separately: a model
    fitted on the first training split predicts all n curves in one batch.

    Args:
        curves: Finite array (n, L) of full curves; the target is column L - 1 (epoch L).
        models: Name -> a ``CurveModel`` (deep-copied for each fold) or a factory
            ``seed -> CurveModel``.
        cuts: Fractions of L observed (each in (0, 1), giving 1 <= t < L epochs).
        seeds: Seeds of the fold permutations (and of the model factories).
        n_folds: Number of folds (>= 2).
        extra: Optional architecture features (n, d), passed to models with ``accepts_extra``.
        timing_repeats: Repetitions of the throughput timing (best is kept).

    Returns:
        :class:`CurveEvaluation`.
    """
    owner = "evaluate_curve_models"
    c = check_corpus(curves, owner)
    n, length = c.shape
    k = check_int(n_folds, "n_folds", owner, minimum=2)
    if k > n:
        raise param_error("n_folds", owner, f"an int <= the number of curves ({n})", n_folds)
    reps = check_int(timing_repeats, "timing_repeats", owner, minimum=1)
    seed_list = [check_int(s, "seeds", owner, minimum=0) for s in seeds]
    if not seed_list:
        raise param_error("seeds", owner, "a non-empty sequence of ints >= 0", seeds)
    if not models:
        raise param_error("models", owner, "a non-empty mapping name -> model", models)
    cut_epochs = _cut_epochs(cuts, length, owner)
    x = None if extra is None else check_extra(extra, n, owner)
    y = c[:, -1]

    per_seed: list[dict[str, Any]] = []
    first_preds: dict[str, dict[float, Prediction]] = {}
    fit_times: dict[str, list[float]] = {name: [] for name in models}
    timing_fit: dict[str, CurveModel] = {}
    for si, seed in enumerate(seed_list):
        perm = np.random.default_rng(seed).permutation(n)
        folds = np.array_split(perm, k)
        oof = {
            (name, cut): (np.full(n, np.nan), np.full(n, np.nan))
            for name in models
            for cut in cut_epochs
        }
        for fi, test in enumerate(folds):
            train = np.setdiff1d(perm, test)
            for name, spec in models.items():
                model = _make(spec, seed)
                use_x = x is not None and model.accepts_extra
                t0 = time.perf_counter()
                model.fit(c[train], extra=x[train] if use_x else None)
                fit_times[name].append(time.perf_counter() - t0)
                if si == 0 and fi == 0:
                    timing_fit[name] = model
                for cut, t in cut_epochs.items():
                    p = model.predict_final(
                        c[test, :t], final_epoch=length, extra=x[test] if use_x else None
                    )
                    oof[name, cut][0][test] = p.mean
                    oof[name, cut][1][test] = p.std
        for (name, cut), (mean, std) in oof.items():
            pred = Prediction(mean, std)
            if si == 0:
                first_preds.setdefault(name, {})[cut] = pred
            per_seed.append({"seed": seed, "model": name, "cut": cut, **score(y, pred)})
        log.info("evaluate_curve_models: seed %d done", seed)

    speed = _throughput(timing_fit, cut_epochs, c, x, reps)

    table = []
    for name in models:
        for cut, t in cut_epochs.items():
            rows = [r for r in per_seed if r["model"] == name and r["cut"] == cut]
            row: dict[str, Any] = {
                "model": name,
                "cut": cut,
                "observed_epochs": t,
                "final_epoch": length,
                "n_curves": n,
                "n_seeds": len(seed_list),
            }
            for met in METRICS:
                vals = np.array([r[met] for r in rows])
                row[met] = float(vals.mean())
                row[f"{met}_sd"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
            row["curves_per_s"] = speed[name, cut]
            row["fit_s"] = float(np.mean(fit_times[name]))
            table.append(row)
    return CurveEvaluation(table=table, per_seed=per_seed, predictions=first_preds, final=y)
