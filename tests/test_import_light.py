"""Importing the package and its subpackages stays light; heavy libraries load on first use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from predictor_nas._lazy import LazyModule
from predictor_nas.exceptions import PredictorNASError

PACKAGE = Path(__file__).resolve().parents[1] / "predictor_nas"
HEAVY = ("torch", "torch_geometric", "xgboost", "onnxruntime", "matplotlib", "scipy", "sklearn")
#: Subpackages that are PyTorch code (they subclass ``torch.nn.Module`` at import).
TORCH_PACKAGES = ("models", "oneshot", "proxies")
LIGHT_PACKAGES = (
    "spaces", "tables", "encodings", "predictors", "samplers", "search", "compare", "curves",
    "multifidelity", "distributed", "evaluators", "training", "cli", "config", "testing",
)  # fmt: skip


def test_subpackage_imports_load_no_heavy_library():
    """Importing the package and every light subpackage (together, so each alone is lighter
    still) imports none of torch, PyG, xgboost, onnxruntime, matplotlib, SciPy or scikit-learn."""
    modules = ", ".join(["predictor_nas", *(f"predictor_nas.{p}" for p in LIGHT_PACKAGES)])
    code = (
        f"import sys, json; import {modules}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_lazy_stand_in_imports_on_first_attribute_access():
    """A `LazyModule` imports its module only when an attribute is read, then forwards to it."""
    code = (
        "import sys; from predictor_nas._lazy import scipy_stats;"
        "before = 'scipy.stats' in sys.modules; r = scipy_stats.rankdata([3, 1, 2]).tolist();"
        "print(before, 'scipy.stats' in sys.modules, r)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "[3.0,", "1.0,", "2.0]"]


def test_missing_optional_library_names_the_install_command():
    """A missing optional library raises a one-line PredictorNASError with the pip command."""
    lazy = LazyModule("predictor_nas_no_such_module", install="pip install 'predictor-nas[x]'")
    with pytest.raises(PredictorNASError, match=r"pip install 'predictor-nas\[x\]'"):
        lazy.anything
    assert "not loaded yet" in repr(lazy)


def test_missing_required_library_raises_import_error():
    """A stand-in without an install hint re-raises the ImportError unchanged."""
    with pytest.raises(ImportError):
        LazyModule("predictor_nas_no_such_module").anything


#: The only imports inside functions in the package, each with its reason. Every other import
#: sits at its module's top; heavy libraries are reached through ``predictor_nas._lazy``.
FUNCTION_IMPORTS = {
    # POSIX-only modules: imported where used so that the package still imports elsewhere.
    ("distributed/_pgserver.py", "pwd"): "POSIX only",
    ("search/_journal.py", "fcntl"): "POSIX only",
    # Optional-library probes in a try block: a missing extra becomes one line naming it.
    ("evaluators/_surrogate.py", "onnxruntime"): "optional extra nb301",
    ("search/_storage.py", "psycopg2"): "optional extra postgres",
    ("tables/importers/_import_read.py", "pandas"): "optional, Parquet files only",
    ("tables/importers/_import_read.py", "pyarrow"): "optional, Parquet files only",
}


def _function_imports() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = ["." * node.level + (node.module or "")]
                else:
                    continue
                found += [(rel, n, node.lineno) for n in names]
    return sorted(set(found))


def test_imports_sit_at_module_top_except_the_listed_few():
    """Every import in the package is at its module's top, except the POSIX-only modules and
    the optional-library probes listed in FUNCTION_IMPORTS (no import cycle is broken by
    hiding an import in a function)."""
    left = [
        f"{f}:{line}: {m}" for f, m, line in _function_imports() if (f, m) not in FUNCTION_IMPORTS
    ]
    assert left == []


def test_the_listed_function_imports_still_exist():
    """FUNCTION_IMPORTS lists no import that has gone (the list stays the true exceptions)."""
    present = {(f, m) for f, m, _ in _function_imports()}
    assert set(FUNCTION_IMPORTS) - present == set()


def test_preload_imports_the_module_behind_a_stand_in():
    """`preload` imports a stand-in's module at once (used before a run's clock starts)."""
    code = (
        "import sys; from predictor_nas._lazy import preload, scipy_stats;"
        "before = 'scipy.stats' in sys.modules; preload(scipy_stats);"
        "print(before, 'scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
