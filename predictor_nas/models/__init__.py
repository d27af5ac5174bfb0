"""Real PyTorch models for search-space architectures (imports torch).

``predictor_nas`` itself never imports this package, so ``import predictor_nas`` stays light.

============  =========================================================================
name          what
============  =========================================================================
build_nb201   the NAS-Bench-201 network of a cell (stem, 3 stages x N cells, head)
build_model   the network of an arch in a declared chain, cell (edges / nodes) or macro
              space (see ``predictor_nas.models._generic`` for each kind's layout)
============  =========================================================================
"""

from predictor_nas.models._generic import (
    CHAIN_LAYER_TYPES,
    CellEdgesNetwork,
    CellNodesNetwork,
    ChainNetwork,
    MacroNetwork,
    build_model,
    supported_ops,
)
from predictor_nas.models._nb201 import (
    NB201Cell,
    NB201Network,
    ReLUConvBN,
    ResNetBasicBlock,
    build_nb201,
    nb201_num_params,
)

__all__ = [
    "CHAIN_LAYER_TYPES",
    "CellEdgesNetwork",
    "CellNodesNetwork",
    "ChainNetwork",
    "MacroNetwork",
    "NB201Cell",
    "NB201Network",
    "ReLUConvBN",
    "ResNetBasicBlock",
    "build_model",
    "build_nb201",
    "nb201_num_params",
    "supported_ops",
]
