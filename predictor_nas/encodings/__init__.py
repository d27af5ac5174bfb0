"""Architecture encodings: one place defines each; predictors ask for the one they need.

=========  ==========================================  ==============================
name       what                                        shape
=========  ==========================================  ==============================
onehot     op one-hot per decision                     (n, n_decisions * n_ops)
path       BANANAS path counts (no ``none`` paths)     (n, 84) for NB201
counts     how often each op occurs                    (n, n_ops)
pathstats  paths, min/max length per op subset         (n, 3 * (2**k - 1)), 45 NB201
graph      ``torch_geometric.data.Data`` per arch      x (E + 2, 2 + n_ops), edge_index
table      metrics of a table (zero-cost proxies...)   (n, n_metrics + 1)
=========  ==========================================  ==============================

``Encoder(..., prune=True)`` (and the predictors' ``prune=True``) encodes each cell's
dead-op-pruned representative ``space.prune(arch)``; ``TableFeatures`` fills proxies a cell lacks
from its isomorphism class.
"""

from predictor_nas.encodings._encoder import (
    ENCODINGS,
    Encoder,
    op_count_names,
    op_counts,
    prune_archs,
)
from predictor_nas.encodings._graph import graph_arrays, node_types, to_pyg
from predictor_nas.encodings._onehot import onehot, onehot_names
from predictor_nas.encodings._paths import (
    path_encoding,
    path_names,
    path_stats,
    path_stats_names,
)
from predictor_nas.encodings._table_features import (
    DEFAULT_ZC,
    FILLS,
    TableFeatures,
    class_mean_fill,
    isomorphism_classes,
    zero_cost_metrics,
)

__all__ = [
    "DEFAULT_ZC",
    "ENCODINGS",
    "FILLS",
    "Encoder",
    "TableFeatures",
    "class_mean_fill",
    "graph_arrays",
    "isomorphism_classes",
    "node_types",
    "onehot",
    "onehot_names",
    "op_count_names",
    "op_counts",
    "path_encoding",
    "path_names",
    "path_stats",
    "path_stats_names",
    "prune_archs",
    "to_pyg",
    "zero_cost_metrics",
]
