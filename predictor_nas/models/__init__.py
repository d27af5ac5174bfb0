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

# Building blocks shared with the one-shot supernets (predictor_nas.oneshot): the same op
# modules, initialisation and reduction blocks, so a sub-network equals its stand-alone build.
from predictor_nas.models._cell_net import _ZERO_NAMES as ZERO_OP_NAMES
from predictor_nas.models._cell_net import _EdgeCell as EdgeCell
from predictor_nas.models._cell_net import _make_cell_op as make_cell_op
from predictor_nas.models._cell_net import _Reduction as ReductionBlock
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
    takes_cell_sizes,
)
from predictor_nas.models._nb201 import (
    NB201Cell,
    NB201Network,
    ReLUConvBN,
    ResNetBasicBlock,
    build_nb201,
    nb201_num_params,
)
from predictor_nas.models._nb201 import _as_generator as as_generator
from predictor_nas.models._nb201 import _check_sizes as check_sizes
from predictor_nas.models._nb201 import _init_weights as init_weights
from predictor_nas.models._nb201 import _make_op as make_nb201_op

__all__ = [
    "CHAIN_LAYER_TYPES",
    "ZERO_OP_NAMES",
    "CellEdgesNetwork",
    "CellNodesNetwork",
    "ChainNetwork",
    "EdgeCell",
    "MacroNetwork",
    "NB201Cell",
    "NB201Network",
    "ReLUConvBN",
    "ReductionBlock",
    "ResNetBasicBlock",
    "as_generator",
    "build_model",
    "build_nb201",
    "check_sizes",
    "count_flops",
    "count_params",
    "init_weights",
    "latency_samples",
    "make_cell_op",
    "make_nb201_op",
    "measure_latency",
    "nb201_num_params",
    "supported_ops",
    "takes_cell_sizes",
]
