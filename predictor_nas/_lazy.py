"""The heavy libraries: the one place where each is imported lazily.

``import predictor_nas`` and each of its subpackages (spaces, tables, samplers, search, ...) stay
light: none of them imports the libraries below, which cost seconds to import (PyTorch about
3 s, scikit-learn and SciPy about 1 s each, matplotlib about 1 s) and which only some features
need (training, the GIN and tree predictors, curve fits, statistics, plots, the NB301
surrogate). A module that uses one of them imports its stand-in from here, at its top::

    from predictor_nas._lazy import torch

    def to_tensor(x):
        return torch.as_tensor(x)  # PyTorch is imported here, at the first attribute access

Each stand-in is a ``LazyModule``: the real import happens at the first attribute access and
Python caches it in ``sys.modules``, so the cost is paid once, by the feature that needs it,
and a missing optional library gives a one-line error that says how to install it. Modules
that are PyTorch code through and through (``predictor_nas.models``, ``predictor_nas.oneshot``,
``predictor_nas.proxies``, which subclass ``torch.nn.Module`` at import) import ``torch``
directly; their packages are imported only by the features that build or score networks.

Every other import in the package sits at its module's top. The only imports inside functions
are the POSIX-only modules (``fcntl`` for the study run lock, ``pwd`` for the test PostgreSQL
server) and three optional-library probes in a try block that turn a missing extra into one
line naming it (onnxruntime, psycopg2, pandas/pyarrow). ``tests/test_import_light.py`` checks
both: importing every subpackage loads none of the libraries below, and no other import hides
in a function.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

from predictor_nas.exceptions import PredictorNASError


class LazyModule(types.ModuleType):
    """A stand-in for the module ``name``, imported at the first attribute access.

    Args:
        name: The dotted module name (``"scipy.stats"``).
        install: What to tell a user who lacks it (``None``: a required dependency).
    """

    def __init__(self, name: str, install: str | None = None) -> None:
        super().__init__(name)
        self._lazy_name = name
        self._lazy_install = install
        self._lazy_module: types.ModuleType | None = None

    def _load(self) -> types.ModuleType:
        """The real module (imported on the first call)."""
        if self._lazy_module is None:
            try:
                self._lazy_module = importlib.import_module(self._lazy_name)
            except ImportError as exc:
                if self._lazy_install is None:
                    raise
                raise PredictorNASError(
                    f"This feature needs {self._lazy_name.split('.')[0]}, which is not "
                    f"installed ({exc}): {self._lazy_install}."
                ) from None
        return self._lazy_module

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_lazy_"):
            raise AttributeError(attr)
        return getattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "loaded" if self._lazy_module is not None else "not loaded yet"
        return f"<lazy module {self._lazy_name!r} ({state})>"


def preload(*stand_ins: LazyModule) -> None:
    """Import the modules behind ``stand_ins`` now, e.g. before a timer starts (a run's
    ``wall_s`` should not be charged seconds of imports)."""
    for stand_in in stand_ins:
        stand_in._load()


#: PyTorch and its parts (training, the GIN predictor, cost measures).
torch = LazyModule("torch")
nn = LazyModule("torch.nn")
F = LazyModule("torch.nn.functional")
torch_func = LazyModule("torch.func")
#: PyTorch Geometric (the GIN predictor's graphs and layers).
torch_geometric_data = LazyModule("torch_geometric.data")
torch_geometric_nn = LazyModule("torch_geometric.nn")
#: XGBoost (the default predictor).
xgboost = LazyModule("xgboost")
#: SciPy (statistics of comparisons, curve fits).
scipy_stats = LazyModule("scipy.stats")
scipy_optimize = LazyModule("scipy.optimize")
#: scikit-learn (tree and Bayesian predictors, the learned curve model, the digits dataset).
sklearn_ensemble = LazyModule("sklearn.ensemble")
sklearn_linear_model = LazyModule("sklearn.linear_model")
sklearn_preprocessing = LazyModule("sklearn.preprocessing")
sklearn_datasets = LazyModule("sklearn.datasets")
#: matplotlib, drawn off-screen (reports and plots).
mpl_figure = LazyModule("matplotlib.figure")
mpl_backend_agg = LazyModule("matplotlib.backends.backend_agg")
mpl_ticker = LazyModule("matplotlib.ticker")
#: Optuna's distributions (spaces describe themselves to Optuna; importing Optuna takes 0.4 s,
#: which the spaces, tables, encodings and predictors packages do not pay).
optuna_distributions = LazyModule("optuna.distributions")
#: h5py (the tables' HDF5 files; 0.2 s, paid when a table is first read or written).
h5py = LazyModule("h5py")
#: Optional: PostgreSQL's driver (studies on a PostgreSQL server).
psycopg2 = LazyModule("psycopg2", install="pip install 'predictor-nas[postgres]'")
#: Optional: the NB301 surrogate's ONNX runtime.
onnxruntime = LazyModule("onnxruntime", install="pip install 'predictor-nas[nb301]'")
#: SQLAlchemy (only for RDB storage URLs; Optuna imports it lazily too).
sqlalchemy_engine = LazyModule("sqlalchemy.engine")
sqlalchemy_exc = LazyModule("sqlalchemy.exc")
#: This package's own PyTorch parts, for the light modules that reach them (the evaluators,
#: the cost metrics of a multi-objective real search, the zero-cost and supernet priors).
models = LazyModule("predictor_nas.models")
proxies = LazyModule("predictor_nas.proxies")
oneshot = LazyModule("predictor_nas.oneshot")
