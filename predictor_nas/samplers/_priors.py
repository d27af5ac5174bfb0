"""Scorers and priors: what is known about an architecture before it is trained.

* ``table_scorer``: a table's metric, or a predictor fitted on part of a table (a proxy warm-up or
  a transfer warm start of ``PredictorGuidedSampler``);
* ``table_proxy_scorer``: the rank average of a table's zero-cost proxies (``guided-zc``);
* ``ScoreFeatures``: a scorer's output as one extra predictor feature;
* ``TablePrior`` / ``ProxyPrior``: the warm-start priors of the ``topk`` real search.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas._lazy import proxies as proxy_measures
from predictor_nas._validation import check_choice, check_int, param_error, scores_of
from predictor_nas.encodings import TableFeatures
from predictor_nas.predictors import make_predictor
from predictor_nas.spaces import Arch, get_space
from predictor_nas.tables import open_table

if TYPE_CHECKING:
    from predictor_nas.tables import Table

__all__ = [
    "TABLE_PROXY_ENSEMBLE",
    "ProxyPrior",
    "ScoreFeatures",
    "Scorer",
    "TablePrior",
    "table_proxy_scorer",
    "table_scorer",
]

#: A scorer maps (n,) architectures to (n,) scores, higher = better (NaN = unknown).
Scorer = Callable[[Sequence[Arch]], np.ndarray]


class ScoreFeatures:
    """A scorer's output as one extra predictor feature (the ``TableFeatures`` interface).

    Used for transfer: the scores of a model of another dataset (see ``table_scorer``) become a
    column the target predictor can split on. ``base`` features, if given, come first.

    Args:
        scorer: Maps (n,) architectures to (n,) scores.
        name: Name of the feature column.
        base: Optional other features (e.g. ``TableFeatures``) to keep in front.
    """

    def __init__(self, scorer: Scorer, name: str = "transfer", base: Any = None) -> None:
        self.scorer = scorer
        self.name = name
        self.base = base

    @property
    def names(self) -> list[str]:
        """Feature names: ``base``'s, then ``name``."""
        return [*(self.base.names if self.base is not None else []), self.name]

    def transform(self, archs: Sequence[Arch]) -> np.ndarray:
        """float32 array of shape (n, len(names)); NaN scores stay NaN (xgb: missing)."""
        s = scores_of(self.scorer, archs, "transfer")
        col = s.reshape(-1, 1).astype(np.float32)
        if self.base is None:
            return col
        return np.concatenate([np.asarray(self.base.transform(archs), np.float32), col], axis=1)


def table_scorer(
    table: Table | str,
    dataset: str,
    metric: str = "val_acc",
    *,
    n_archs: int | None = None,
    predictor: str = "xgb",
    predictor_kwargs: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> Scorer:
    """A scorer ``archs -> (n,)`` from a table: for a proxy warm-up or a transfer warm start.

    With ``n_archs=None`` the scores are the table's (mean) ``metric`` values themselves (e.g. a
    zero-cost proxy like ``"zc_nwot"``, or another dataset's ``"val_acc"`` when the whole source
    table is known). With ``n_archs=N`` a predictor is fitted on ``N`` uniform random archs of the
    table (seeded) and the scores are its predicted means: a model pre-trained on another dataset.
    Scores are negated for a metric where lower is better, so higher is always better. Archs the
    table has no value for score NaN.

    Do not score the search's own objective: ``dataset``/``metric`` must be another dataset's
    accuracy, or a proxy.

    Args:
        table: The table (or its name / path).
        dataset: The (source) dataset.
        metric: The metric scored.
        n_archs: ``None`` to look the metric up, or the number of archs to fit a predictor on.
        predictor: Predictor name (``make_predictor``) for ``n_archs``.
        predictor_kwargs: Its constructor arguments.
        seed: Seeds the archs drawn and the predictor.

    Returns:
        A callable mapping (n,) architectures to a float64 array of shape (n,).
    """

    owner = "table_scorer"
    tbl = open_table(table) if isinstance(table, str) else table
    check_choice(dataset, "dataset", owner, tbl.datasets)
    check_choice(metric, "metric", owner, tbl.metrics(dataset))
    sign = 1.0 if tbl.metric_info(metric, dataset=dataset).higher_is_better else -1.0
    fid = tbl.fidelities(metric, dataset=dataset)[-1]
    values = sign * tbl.query_many(
        np.arange(len(tbl.archs)), metric, dataset=dataset, fidelity=fid
    ).astype(np.float64)
    space = get_space(tbl.space)
    if n_archs is None:
        def lookup(archs: Sequence[Arch]) -> np.ndarray:
            return values[tbl.rows(list(archs))]

        return lookup
    n = check_int(n_archs, "n_archs", owner, minimum=2)

    rng = np.random.default_rng([seed, 0x7472616E])
    known = np.flatnonzero(np.isfinite(values))
    rows = rng.choice(known, size=min(n, len(known)), replace=False)
    model = make_predictor(predictor, seed=seed, space=space, **dict(predictor_kwargs or {}))
    model.fit([tbl.archs[int(r)] for r in rows], values[rows])

    def predicted(archs: Sequence[Arch]) -> np.ndarray:
        return model.predict(list(archs)).mean

    return predicted


#: The table counterparts of ``predictor_nas.proxies.DEFAULT_ENSEMBLE`` (NAS-Bench-Suite-Zero's
#: names in ``nb201-rich``); their rank average has rho ~0.87 with NB201 cifar10 accuracy
#: (benchmarks/results/proxies_nb201.md).
TABLE_PROXY_ENSEMBLE: tuple[str, ...] = ("zc_synflow", "zc_jacov", "zc_nwot", "zc_flops")


def table_proxy_scorer(
    table: Table | str,
    dataset: str | Sequence[str] = ("cifar10", "ImageNet16-120"),
    proxies: Sequence[str] = TABLE_PROXY_ENSEMBLE,
) -> Callable[[Sequence[Arch]], np.ndarray]:
    """A scorer ``archs -> (n,)``: the rank average of zero-cost proxies stored in a table.

    The score of each architecture is the mean, over the proxies (read from every given dataset),
    of its normalised rank among all the table's architectures
    (``predictor_nas.proxies.rank_average``; higher = better, every proxy oriented so that
    higher is better), computed once. Values come through ``TableFeatures`` (an arch without its
    own proxies gets its isomorphism class's mean; one with none at all ranks as 0, the value of
    a cell with no input-output path).

    Proxies describe the untrained network, so a proxy of one dataset may rank archs for any
    target dataset; the defaults read cifar10's and ImageNet16-120's (``nb201-rich`` has no
    ``zc_*`` for cifar100).

    Args:
        table: The table (or its name / path) holding the proxies.
        dataset: Dataset(s) of the table to read the proxies from.
        proxies: Proxy metric names (fidelity 0); not accuracies.

    Returns:
        A callable mapping (n,) architectures to a float64 array of shape (n,) in [0, 1].

    Raises:
        InvalidParameterError: For an unknown dataset or metric, or an accuracy metric.
    """
    if isinstance(proxies, str) or not proxies:
        raise param_error(
            "proxies", "table_proxy_scorer", "a non-empty sequence of metric names", proxies
        )
    tbl = open_table(table) if isinstance(table, str) else table
    features = TableFeatures(tbl, dataset, list(proxies))
    signs = np.array(
        [
            1.0 if tbl.metric_info(m, dataset=ds).higher_is_better else -1.0
            for ds in ([dataset] if isinstance(dataset, str) else dataset)
            for m in proxies
        ]
    )

    # Ranks among all the table's rows: an arch's score does not depend on what it is scored
    # with, so it can also serve as a predictor feature (``PredictorGuidedSampler(transfer=)``).
    every = proxy_measures.rank_average(features.transform(np.arange(len(tbl)))[:, :-1], signs)

    def score(archs: Sequence[Arch]) -> np.ndarray:
        return every[tbl.rows(list(archs))]

    return score


class TablePrior:
    """What a benchmark table knows about each cell, as a prior for a new dataset.

    The feature is the table's mean accuracy of the cell on ``dataset`` (another dataset or
    training setup than the one searched: NB201's 200-epoch CIFAR-10 accuracy for a digits
    search, say), optionally with zero-cost proxies from a table that has them (e.g.
    ``nb201-rich``). Used to rank the first round and as extra predictor inputs afterwards
    (``names`` / ``transform``: the interface ``predictor_nas.encodings.Encoder`` takes).

    Args:
        table: Table (or its name) with the accuracy.
        dataset: Its dataset to read.
        metric: The accuracy metric (highest fidelity, mean over trials).
        proxies: Optional metric names of ``proxy_table`` (log-scaled, class-mean filled).
        proxy_table: Table of the proxies (default: ``table``).
    """

    def __init__(
        self,
        table: Table | str = "nb201",
        dataset: str = "cifar10",
        *,
        metric: str = "val_acc",
        proxies: Sequence[str] = (),
        proxy_table: Table | str | None = None,
    ) -> None:
        self.table = open_table(table) if isinstance(table, str) else table
        self.dataset = check_choice(dataset, "dataset", "TablePrior", self.table.datasets)
        self.metric = check_choice(metric, "metric", "TablePrior", self.table.metrics(dataset))
        self.proxies = tuple(proxies)
        self._proxy = None
        if self.proxies:
            pt = proxy_table if proxy_table is not None else self.table
            pt = open_table(pt) if isinstance(pt, str) else pt
            self._proxy = TableFeatures(pt, dataset, list(self.proxies))
        self._values = self.table.query_many(
            np.arange(len(self.table)), self.metric, dataset=self.dataset
        )
        fill = np.nanmean(self._values) if np.isfinite(self._values).any() else 0.0
        self._values = np.where(np.isfinite(self._values), self._values, fill)

    @property
    def names(self) -> list[str]:
        """Feature names: ``prior_<dataset>_<metric>`` then the proxies' names."""
        own = [f"prior_{self.dataset}_{self.metric}"]
        return own + (self._proxy.names if self._proxy is not None else [])

    def score(self, archs: Sequence[Arch]) -> np.ndarray:
        """Prior accuracy of each arch: float64 (n,)."""
        return self._values[self.table.rows(list(archs))].astype(np.float64)

    def transform(self, archs: Sequence[Arch]) -> np.ndarray:
        """Features of ``archs``: float32 (n, len(names))."""
        cols = self.score(archs)[:, None].astype(np.float32)
        if self._proxy is None:
            return cols
        return np.concatenate([cols, self._proxy.transform(list(archs))], axis=1)

    @property
    def features(self) -> TablePrior:
        """The predictor's extra features in later rounds: this prior itself."""
        return self

    def describe(self) -> str:
        """Short text for configs and reports."""
        text = f"{self.table.name}/{self.dataset}/{self.metric}"
        return text + (f"+{','.join(self.proxies)}" if self.proxies else "")


class ProxyPrior:
    """Zero-cost proxies computed live on the candidates, as the warm-start prior of round 0.

    Round 0 trains the ``n_init`` candidates with the best proxy ensemble score
    (:class:`~predictor_nas.proxies.ProxyEnsemble`: mean normalised rank of its proxies on
    freshly initialised networks, no training); only the first ``max_scored`` archs of the
    (random) round-0 pool are scored, since every new cell costs a few forward/backward passes.
    Unlike :class:`TablePrior` it needs no benchmark table, so it suits any dataset; it is not a
    predictor feature (later rounds would have to score every pool arch).

    Args:
        ensemble: The proxies (default: ``ProxyEnsemble(width=8, depth=1, batch_size=32)``).
        max_scored: Round-0 pool archs scored (>= 1).
    """

    features = None

    def __init__(self, ensemble: Any = None, *, max_scored: int = 100) -> None:
        self.ensemble = (
            proxy_measures.ProxyEnsemble(width=8, depth=1, batch_size=32)
            if ensemble is None
            else ensemble
        )
        if not isinstance(self.ensemble, proxy_measures.ProxyEnsemble):
            raise param_error("ensemble", "ProxyPrior", "None or a ProxyEnsemble", ensemble)
        self.max_scored = check_int(max_scored, "max_scored", "ProxyPrior", minimum=1)

    def score(self, archs: Sequence[Arch]) -> np.ndarray:
        """Ensemble score (n,), higher = better; archs past ``max_scored`` get -inf."""
        out = np.full(len(archs), -np.inf)
        head = list(archs[: self.max_scored])
        if head:
            out[: len(head)] = self.ensemble.scores(head)
        return out

    def describe(self) -> str:
        """Short text for configs and reports."""
        e = self.ensemble
        return (
            f"proxies:{','.join(e._checked()[0])}/seed{e.seed}/w{e.width}d{e.depth}"
            f"/s{e.input_size}b{e.batch_size}/first{self.max_scored}"
        )
