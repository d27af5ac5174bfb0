"""Weight sharing: a one-shot supernet trained with DARTS, GDAS or SPOS (imports torch).

``predictor_nas`` itself never imports this package, so ``import predictor_nas`` stays light.

=====================  ===================================================================
name                   what
=====================  ===================================================================
build_supernet         the supernet of NB201 or a declared CellEdgesSpace (all ops on edges)
train_supernet         DARTS (1st / 2nd order), GDAS or SPOS training; seeded, checkpointed
inherited_accuracy     val accuracy of a sub-network with shared weights, BN recalibrated
derive_argmax          the argmax cell of the architecture weights (DARTS / GDAS)
run_oneshot_search     supernet -> chosen cell -> stand-alone training, with its test accuracy
SupernetPrior          SPOS inherited-weight accuracy as run_real_search's warm start
=====================  ===================================================================
"""

from predictor_nas.oneshot._evaluate import (
    derive_argmax,
    inherited_accuracy,
    recalibrate_bn,
    subnet_accuracy,
)
from predictor_nas.oneshot._prior import SupernetPrior, supernet_prior
from predictor_nas.oneshot._search import ONESHOT_STRATEGIES, OneShotResult, run_oneshot_search
from predictor_nas.oneshot._supernet import (
    CellEdgesSupernet,
    MixedEdge,
    NB201Supernet,
    SuperCell,
    Supernet,
    build_supernet,
    softmax_rows,
)
from predictor_nas.oneshot._train import (
    SUPERNET_MODES,
    SupernetResult,
    gdas_tau,
    train_supernet,
)

__all__ = [
    "ONESHOT_STRATEGIES",
    "SUPERNET_MODES",
    "CellEdgesSupernet",
    "MixedEdge",
    "NB201Supernet",
    "OneShotResult",
    "SuperCell",
    "Supernet",
    "SupernetPrior",
    "SupernetResult",
    "build_supernet",
    "derive_argmax",
    "gdas_tau",
    "inherited_accuracy",
    "recalibrate_bn",
    "run_oneshot_search",
    "softmax_rows",
    "subnet_accuracy",
    "supernet_prior",
    "train_supernet",
]
