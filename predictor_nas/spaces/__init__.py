"""Search spaces: architectures as values with a graph, declared in Python or YAML.

Built in: NAS-Bench-201 (``nb201``), NAS-Bench-301 / DARTS (``nb301``) and NAS-Bench-Graph
(``nas_bench_graph``, the 26,206 GNNs the benchmark lists). Declared kinds
(``CellEdgesSpace``, ``CellNodesSpace``, ``ChainSpace``, ``MacroSpace``), from Python or a YAML
file (``load_space``; format in ``predictor_nas.spaces._yaml``), are registered with
``register_space`` and found by ``get_space(name or path)``.
"""

from predictor_nas.spaces._base import Arch, SearchSpace, as_rng
from predictor_nas.spaces._cells import CellEdgesSpace, CellNodesSpace
from predictor_nas.spaces._chains import ChainSpace, MacroSpace
from predictor_nas.spaces._declared import (
    INACTIVE,
    Constraint,
    Decision,
    DeclaredSpace,
    forbid,
)
from predictor_nas.spaces._graph import INPUT, LABEL_SEP, OUTPUT, ArchGraph
from predictor_nas.spaces._nas_bench_graph import (
    NBG_LINK_NAMES,
    NBG_LINKS,
    NBG_OPS,
    NASBenchGraphSpace,
    key_decisions,
)
from predictor_nas.spaces._nb201 import NB201_EDGES, NB201_OPS, NB201Space
from predictor_nas.spaces._nb301 import INACTIVE as NB301_INACTIVE
from predictor_nas.spaces._nb301 import NB301_EDGES, NB301_OPS, NB301Space
from predictor_nas.spaces._nb301_yahpo import YAHPO_PREFIX, read_config_space
from predictor_nas.spaces._registry import (
    DEFAULT_SPACE,
    available_spaces,
    get_space,
    register_space,
    unregister_space,
)
from predictor_nas.spaces._yaml import (
    KINDS,
    is_space_file,
    load_space,
    shipped_spaces_dir,
    space_from_spec,
)

__all__ = [
    "DEFAULT_SPACE",
    "INACTIVE",
    "INPUT",
    "KINDS",
    "LABEL_SEP",
    "NB201_EDGES",
    "NB201_OPS",
    "NB301_EDGES",
    "NB301_INACTIVE",
    "NB301_OPS",
    "NBG_LINKS",
    "NBG_LINK_NAMES",
    "NBG_OPS",
    "OUTPUT",
    "YAHPO_PREFIX",
    "Arch",
    "ArchGraph",
    "CellEdgesSpace",
    "CellNodesSpace",
    "ChainSpace",
    "Constraint",
    "Decision",
    "DeclaredSpace",
    "MacroSpace",
    "NASBenchGraphSpace",
    "NB201Space",
    "NB301Space",
    "SearchSpace",
    "as_rng",
    "available_spaces",
    "forbid",
    "get_space",
    "is_space_file",
    "key_decisions",
    "load_space",
    "read_config_space",
    "register_space",
    "shipped_spaces_dir",
    "space_from_spec",
    "unregister_space",
]
