"""Zero-cost proxies computed on real (untrained) PyTorch models (imports torch).

``predictor_nas`` itself never imports this package, so ``import predictor_nas`` stays light.

=========  ===============================================  ===========
name       what                                             input used
=========  ===============================================  ===========
params     trainable parameters (M)                         none
flops      FLOPs per image (MFLOPs, torchstat convention)   shape
synflow    log synaptic flow, all-ones input, |weights|     shape
zen        Zen-score, Gaussian weights and inputs           shape
snip       sum |w * dL/dw|                                  x, y
grasp      sum -w * (H dL/dw)                               x, y
fisher     activation Fisher information                    x, y
grad_norm  sum of per-layer ||dL/dw||                       x, y
jacov      Jacobian covariance score                        x
nwot       NASWOT log|det K| of ReLU patterns               x
=========  ===============================================  ===========

``compute_proxies(arch, names, ...)`` builds the NB201 network and returns ``{name: value}``;
``ProxyEnsemble`` turns a set of proxies into predictor features and a warm-up ranker.
"""

from predictor_nas.proxies._ensemble import (
    DEFAULT_ENSEMBLE,
    ProxyEnsemble,
    canonical_representative,
    rank_average,
)
from predictor_nas.proxies._measures import (
    LOSS_GRADIENT_PROXIES,
    fisher,
    flops,
    grad_norm,
    grasp,
    jacov,
    loss_gradient_proxies,
    num_params,
    nwot,
    snip,
    synflow,
    zen,
)
from predictor_nas.proxies._registry import (
    PROXIES,
    ProxyInfo,
    compute_proxies,
    noise_batch,
    proxy_seeds,
)

__all__ = [
    "DEFAULT_ENSEMBLE",
    "LOSS_GRADIENT_PROXIES",
    "PROXIES",
    "ProxyEnsemble",
    "ProxyInfo",
    "canonical_representative",
    "compute_proxies",
    "fisher",
    "flops",
    "grad_norm",
    "grasp",
    "jacov",
    "loss_gradient_proxies",
    "noise_batch",
    "num_params",
    "nwot",
    "proxy_seeds",
    "rank_average",
    "snip",
    "synflow",
    "zen",
]
