"""Real PyTorch models for search-space architectures (imports torch).

``predictor_nas`` itself never imports this package, so ``import predictor_nas`` stays light.

===============  ======================================================================
name             what
===============  ======================================================================
build_nb201      the NAS-Bench-201 network of a cell (stem, 3 stages x N cells, head)
build_model      the network of an arch in a declared chain, cell (edges / nodes) or macro
                 space (see ``predictor_nas.models._generic`` for each kind's layout)
count_params     parameter elements of a network
count_flops      multiply-adds of its conv / linear layers for one input (forward hooks)
measure_latency  median ms of timed forward passes (eval, no_grad, warm-up excluded,
                 threads pinned); ``predictor_nas.models._cost`` says what each counts
===============  ======================================================================
"""

from predictor_nas.models._cost import (
    count_flops,
    count_params,
    latency_samples,
    measure_latency,
)
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
    "count_flops",
    "count_params",
    "latency_samples",
    "measure_latency",
    "nb201_num_params",
    "supported_ops",
]
