"""Per-architecture features read from a benchmark table (zero-cost proxies, cost, size)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictor_nas._validation import check_choice, param_error
from predictor_nas.exceptions import InvalidParameterError
from predictor_nas.spaces import Arch, get_space
from predictor_nas.tables import Table

#: The zero-cost proxies of the nb201-rich table used by default (NAS-Bench-Suite-Zero names).
DEFAULT_ZC = (
    "zc_epe_nas",
    "zc_fisher",
    "zc_flops",
    "zc_grad_norm",
    "zc_grasp",
    "zc_jacov",
    "zc_l2_norm",
    "zc_nwot",
    "zc_params",
    "zc_plain",
    "zc_snip",
    "zc_synflow",
    "zc_zen",
)

#: How ``TableFeatures`` fills values the table lacks.
FILLS = ("class_mean", "zero")

#: Isomorphism-class id per table row, by (space name, table content hash): shared by all
#: ``TableFeatures`` of one table (computing it walks every architecture once).
_CLASS_CACHE: dict[tuple[str, str], np.ndarray] = {}


def isomorphism_classes(table: Table) -> np.ndarray:
    """Class id per row of ``table``: rows share an id when ``space.canonical_key`` is equal.

    Returns:
        int64 array of shape (len(table),), ids 0..n_classes-1 in order of first appearance.
    """
    key = (table.space, str(table.content_hash))
    if key not in _CLASS_CACHE:
        space = get_space(table.space)
        ids: dict[str, int] = {}
        _CLASS_CACHE[key] = np.fromiter(
            (ids.setdefault(space.canonical_key(space.parse(a)), len(ids)) for a in table.archs),
            dtype=np.int64,
            count=len(table.archs),
        )
    return _CLASS_CACHE[key]


def class_mean_fill(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Replace every value by the mean over its isomorphism class, NaN ignored.

    Args:
        values: float array (n,) or (n, k), NaN where unknown.
        classes: int array (n,) of class ids.

    Returns:
        float64 array of the shape of ``values``: per column, each row gets the mean of the
        finite values of its class (the same for every member), NaN where no member has one.
    """
    v = np.asarray(values, dtype=np.float64)
    flat = v.reshape(len(v), -1)
    n_cls = int(classes.max()) + 1 if len(classes) else 0
    out = np.empty_like(flat)
    for j in range(flat.shape[1]):
        ok = np.isfinite(flat[:, j])
        total = np.bincount(classes[ok], weights=flat[ok, j], minlength=n_cls)
        count = np.bincount(classes[ok], minlength=n_cls)
        mean = np.full(n_cls, np.nan)
        np.divide(total, count, out=mean, where=count > 0)
        out[:, j] = mean[classes]
    return out.reshape(v.shape)


def _dataset_list(dataset: str | Sequence[str]) -> list[str]:
    """``dataset`` as a non-empty list of names without repeats."""
    items = [dataset] if isinstance(dataset, str) else dataset
    allowed = "a dataset name or a non-empty sequence of names without repeats"
    try:
        out = list(items)
    except TypeError:
        raise param_error("dataset", "TableFeatures", allowed, dataset) from None
    if not out or not all(isinstance(d, str) for d in out) or len(set(out)) != len(out):
        raise param_error("dataset", "TableFeatures", allowed, dataset)
    return out


def zero_cost_metrics(table: Table, dataset: str | Sequence[str]) -> list[str]:
    """Metrics known without training any network: those stored at fidelity 0 (zero-cost
    proxies, hardware cost) in every given dataset of ``table``, sorted.

    For ``nb201-rich`` and cifar10 or ImageNet16-120: the 13 ``zc_*`` proxies, ``naslib_zen`` and
    the 10 ``hw_*`` HW-NAS-Bench metrics (24). Accuracy-like names are never included, nor
    metrics with no value at all at fidelity 0 (NAS-Bench-Graph's ``train_time``, which is
    stored only at 200 epochs there): as features they would be a constant flagged missing.
    """
    datasets = _dataset_list(dataset)
    rows = np.arange(len(table))
    common = None
    for ds in datasets:
        check_choice(ds, "dataset", "zero_cost_metrics", table.datasets)
        names = {
            m
            for m in table.metrics(ds)
            if table.fidelities(m, dataset=ds)[0] == 0
            and not m.startswith(("val_", "test_"))
            and np.isfinite(table.query_many(rows, m, dataset=ds, fidelity=0)).any()
        }
        common = names if common is None else common & names
    return sorted(common or ())


class TableFeatures:
    """Reads metrics of a table as features, with NaN filled and a missing-value flag.

    Zero-cost proxies exist only for some architectures (NAS-Bench-Suite-Zero's NB201 proxies
    skip the ~6,200 cells with a dead operation). Isomorphic cells compute the same function, so
    by default every architecture gets the mean of each metric over its isomorphism class
    (``space.canonical_key``), which fills all but ~900 NB201 cells (those with no path from input
    to output, whose class has no proxies at all); what stays missing is set to 0 and flagged.

    Args:
        table: The table holding the features.
        dataset: Dataset of the table to read them from, or several (every metric is read
            from each). It need not be the dataset of the target: proxies are properties of the
            untrained network (e.g. the cifar10 proxies for a cifar100 target, whose table has
            none; or the cifar10 and ImageNet16-120 proxies together, two noisy measurements).
        metrics: Metric names (at their lowest stored fidelity, which is 0 for proxies).
        log_scale: Apply ``sign(v) * log1p(|v|)`` (proxies span many orders of magnitude).
        fill: ``"class_mean"`` (mean over the isomorphism class; also smooths the proxies' noise
            across isomorphic cells) or ``"zero"`` (the arch's own values, NaN -> 0).
    """

    def __init__(
        self,
        table: Table,
        dataset: str | Sequence[str],
        metrics: Sequence[str],
        *,
        log_scale: bool = True,
        fill: str = "class_mean",
    ) -> None:
        owner = "TableFeatures"
        if isinstance(metrics, str):
            raise param_error("metrics", owner, "a sequence of metric names", metrics)
        if not metrics:
            raise InvalidParameterError("TableFeatures needs at least one metric name.")
        datasets = _dataset_list(dataset)
        for ds in datasets:
            check_choice(ds, "dataset", owner, table.datasets)
            for m in metrics:
                if m not in table.metrics(ds):
                    raise InvalidParameterError(
                        f"The 'metrics' parameter of TableFeatures must name metrics of "
                        f"{table.name}/{ds} (available: {', '.join(table.metrics(ds))}). "
                        f"Got {m!r} instead."
                    )
                if m.startswith(("val_", "test_")):
                    raise InvalidParameterError(
                        f"{m!r} is an accuracy, not a feature: using it would leak the target."
                    )
        check_choice(fill, "fill", owner, FILLS)
        if not isinstance(log_scale, bool):
            raise param_error("log_scale", owner, "a bool", log_scale)
        self.table = table
        self.dataset = dataset
        self.metrics = tuple(metrics)
        self.log_scale = log_scale
        self.fill = fill

    @property
    def names(self) -> list[str]:
        """Feature names: the metrics (``"<dataset>:<metric>"`` when reading several datasets),
        then ``missing`` (1 where any metric is still NaN)."""
        datasets = _dataset_list(self.dataset)
        if len(datasets) == 1:
            return [*self.metrics, "missing"]
        return [*(f"{ds}:{m}" for ds in datasets for m in self.metrics), "missing"]

    def raw(self) -> np.ndarray:
        """Values of every table row after the fill, before scaling: float64 (len(table), k)."""
        n = len(self.table)
        cols = []
        for ds in _dataset_list(self.dataset):
            for m in self.metrics:
                fid = self.table.fidelities(m, dataset=ds)[0]
                cols.append(self.table.query_many(np.arange(n), m, dataset=ds, fidelity=fid))
        x = np.stack(cols, axis=1)
        if self.fill == "class_mean":
            x = class_mean_fill(x, isomorphism_classes(self.table))
        return x

    def _matrix(self) -> np.ndarray:
        """The feature matrix of every table row (built once, then looked up by row)."""
        cached = getattr(self, "_cache", None)
        if cached is None:
            x = self.raw()
            missing = np.isnan(x).any(axis=1, keepdims=True)
            x = np.nan_to_num(x, nan=0.0)
            if self.log_scale:
                x = np.sign(x) * np.log1p(np.abs(x))
            cached = self._cache = np.concatenate([x, missing], axis=1).astype(np.float32)
        return cached

    def transform(self, archs: Sequence[Arch] | np.ndarray) -> np.ndarray:
        """Features of ``archs`` (or table rows): float32 (n, len(metrics) + 1)."""
        return self._matrix()[self.table.rows(archs)]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_cache", None)  # rebuilt from the table on first use
        return state
