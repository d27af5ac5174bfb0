"""A zero-cost-proxy ranker read from a table: the proxy warm-up of a guided search on tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from predictor_nas._validation import param_error

if TYPE_CHECKING:
    from predictor_nas.spaces import Arch
    from predictor_nas.tables import Table

__all__ = ["TABLE_PROXY_ENSEMBLE", "table_proxy_scorer"]

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
    from predictor_nas.encodings import TableFeatures
    from predictor_nas.proxies import rank_average
    from predictor_nas.tables import open_table

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
    every = rank_average(features.transform(np.arange(len(tbl)))[:, :-1], signs)

    def score(archs: Sequence[Arch]) -> np.ndarray:
        return every[tbl.rows(list(archs))]

    return score
