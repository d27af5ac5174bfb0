"""Search spaces: architectures as values, sampling, mutation and the mapping to Optuna params."""

from predictor_nas.spaces._base import Arch, SearchSpace, as_rng
from predictor_nas.spaces._nb201 import NB201_EDGES, NB201_OPS, NB201Space
from predictor_nas.spaces._nb301 import NB301_EDGES, NB301_OPS, NB301Space, read_config_space
from predictor_nas.spaces._registry import available_spaces, get_space

__all__ = [
    "NB201_EDGES",
    "NB201_OPS",
    "NB301_EDGES",
    "NB301_OPS",
    "Arch",
    "NB201Space",
    "NB301Space",
    "SearchSpace",
    "as_rng",
    "available_spaces",
    "get_space",
    "read_config_space",
]
