"""Search spaces: architectures as values, sampling, mutation and the mapping to Optuna params."""

from predictor_nas.spaces._base import Arch, SearchSpace, as_rng
from predictor_nas.spaces._nb201 import NB201_EDGES, NB201_OPS, NB201Space
from predictor_nas.spaces._registry import available_spaces, get_space

__all__ = [
    "NB201_EDGES",
    "NB201_OPS",
    "Arch",
    "NB201Space",
    "SearchSpace",
    "as_rng",
    "available_spaces",
    "get_space",
]
