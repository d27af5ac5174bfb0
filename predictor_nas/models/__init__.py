"""Real PyTorch models for search-space architectures (imports torch).

``predictor_nas`` itself never imports this package, so ``import predictor_nas`` stays light.

============  =========================================================================
name          what
============  =========================================================================
build_nb201   the NAS-Bench-201 network of a cell (stem, 3 stages x N cells, head)
============  =========================================================================
"""

from predictor_nas.models._nb201 import (
    NB201Cell,
    NB201Network,
    ReLUConvBN,
    ResNetBasicBlock,
    build_nb201,
    nb201_num_params,
)

__all__ = [
    "NB201Cell",
    "NB201Network",
    "ReLUConvBN",
    "ResNetBasicBlock",
    "build_nb201",
    "nb201_num_params",
]
