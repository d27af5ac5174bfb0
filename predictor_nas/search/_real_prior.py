"""The warm-start prior of a real-training search: a table, zero-cost proxies or a supernet."""

from __future__ import annotations

from types import SimpleNamespace

from predictor_nas._lazy import oneshot, proxies
from predictor_nas._validation import param_error
from predictor_nas.samplers import (
    ProxyPrior,
    TablePrior,
)
from predictor_nas.spaces import SearchSpace
from predictor_nas.training import ImageData

_OWNER = "real search"
#: Benchmark-table dataset used as the warm-start prior when the searched dataset has none.
PRIOR_DATASET = {"digits": "cifar10", "cifar10": "cifar10"}


def make_prior(
    a: SimpleNamespace, data: ImageData, space: SearchSpace
) -> TablePrior | ProxyPrior | None:
    """The warm-start prior ``a.warm_start`` names (``run_real_search``) for ``space``."""
    warm_start = a.warm_start
    if warm_start == "supernet" or type(warm_start).__name__ == "SupernetPrior":
        return oneshot.supernet_prior(warm_start, data, a)
    if warm_start == "proxies":
        side = int(data.x_train.shape[-1])
        return ProxyPrior(
            proxies.ProxyEnsemble(
                space=space,
                width=a.width,
                depth=a.depth,
                num_classes=data.num_classes,
                input_size=side,
                batch_size=32,
                seed=a.seed,
            )
        )
    if isinstance(warm_start, str):
        warm_start = TablePrior(warm_start, PRIOR_DATASET.get(data.name, "cifar10"))
    if isinstance(warm_start, TablePrior) and warm_start.table.space != space.name:
        raise param_error(
            "warm_start",
            _OWNER,
            f"a table of the searched space {space.name!r} (or 'proxies')",
            f"{warm_start.table.name} (space {warm_start.table.space!r})",
        )
    if warm_start is None or isinstance(warm_start, (TablePrior, ProxyPrior)):
        return warm_start
    raise param_error(
        "warm_start",
        _OWNER,
        "None, a table name, 'proxies', 'supernet', a TablePrior, a ProxyPrior or a SupernetPrior",
        warm_start,
    )
