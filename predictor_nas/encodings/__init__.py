"""Architecture encodings: one place defines each; predictors ask for the one they need.

=========  ==========================================  ==============================
name       what                                        shape
=========  ==========================================  ==============================
onehot     op one-hot per decision                     (n, n_decisions * n_ops)
path       BANANAS path counts (no ``none`` paths)     (n, 84) for NB201
graph      ``torch_geometric.data.Data`` per arch      x (E + 2, 2 + n_ops), edge_index
table      metrics of a table (zero-cost proxies...)   (n, n_metrics + 1)
=========  ==========================================  ==============================
"""

from predictor_nas.encodings._encoder import ENCODINGS, Encoder
from predictor_nas.encodings._graph import graph_arrays, node_types, to_pyg
from predictor_nas.encodings._onehot import onehot, onehot_names
from predictor_nas.encodings._paths import path_encoding, path_names
from predictor_nas.encodings._table_features import DEFAULT_ZC, TableFeatures

__all__ = [
    "DEFAULT_ZC",
    "ENCODINGS",
    "Encoder",
    "TableFeatures",
    "graph_arrays",
    "node_types",
    "onehot",
    "onehot_names",
    "path_encoding",
    "path_names",
    "to_pyg",
]
