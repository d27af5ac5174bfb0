"""Warm-start priors of the real-training search's first round: what a benchmark table knows
about each cell (``TablePrior``), or zero-cost proxies computed live (``ProxyPrior``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from predictor_nas._validation import check_choice, check_int, param_error
from predictor_nas.spaces import Arch

if TYPE_CHECKING:
    from predictor_nas.tables import Table


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
        from predictor_nas.tables import open_table

        self.table = open_table(table) if isinstance(table, str) else table
        self.dataset = check_choice(dataset, "dataset", "TablePrior", self.table.datasets)
        self.metric = check_choice(metric, "metric", "TablePrior", self.table.metrics(dataset))
        self.proxies = tuple(proxies)
        self._proxy = None
        if self.proxies:
            from predictor_nas.encodings import TableFeatures

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
        from predictor_nas.proxies import ProxyEnsemble

        self.ensemble = (
            ProxyEnsemble(width=8, depth=1, batch_size=32) if ensemble is None else ensemble
        )
        if not isinstance(self.ensemble, ProxyEnsemble):
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
