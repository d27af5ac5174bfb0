"""Install metadata: every direct import is declared; optional features name their extra."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from predictor_nas.exceptions import PredictorNASError

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    return _normalize(re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0])


def _top_level_imports(root: Path) -> set[str]:
    """Top-level module names imported anywhere under root (absolute imports only)."""
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"predictor_nas"}


def test_every_third_party_import_of_the_package_is_declared():
    """Each module predictor_nas imports comes from a dependency or an extra of pyproject.toml."""
    project = PYPROJECT["project"]
    declared = {_requirement_name(r) for r in project["dependencies"]}
    for reqs in project["optional-dependencies"].values():
        declared |= {_requirement_name(r) for r in reqs}
    dists = packages_distributions()
    missing = {}
    for module in sorted(_top_level_imports(REPO / "predictor_nas")):
        providers = {_normalize(d) for d in dists.get(module, [])}
        if not providers and _normalize(module) in declared:
            continue  # an extra's package that is not installed here (e.g. pandas: parquet)
        assert providers, f"{module} is imported but no installed distribution provides it"
        if not providers & declared:
            missing[module] = sorted(providers)
    assert missing == {}


def test_onnxruntime_is_an_extra_not_a_core_dependency():
    """onnxruntime (NB301 only) is in the nb301 and test extras, not in the core dependencies."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    assert "onnxruntime" not in {_requirement_name(r) for r in project["dependencies"]}
    assert "onnxruntime" in {_requirement_name(r) for r in extras["nb301"]}
    assert "onnxruntime" in {_requirement_name(r) for r in extras["test"]}
    assert "ruff" not in {_requirement_name(r) for r in extras["test"]}


def test_missing_onnxruntime_names_the_extra(monkeypatch, tmp_path):
    """Without onnxruntime the NB301 surrogate raises one line naming predictor-nas[nb301]."""
    from predictor_nas.evaluators import NB301SurrogateEvaluator

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    with pytest.raises(PredictorNASError) as info:
        NB301SurrogateEvaluator(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert "pip install 'predictor-nas[nb301]'" in message


def test_missing_onnxruntime_cli_exits_2_with_one_line(monkeypatch, tmp_path, capsys):
    """`multifidelity --benchmark nb301` without onnxruntime: exit 2, the extra on one line."""
    from predictor_nas.cli import main

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    rc = main(
        [
            "multifidelity",
            "--benchmark",
            "nb301",
            "--surrogate",
            str(tmp_path),
            "--max-evaluations",
            "3",
            "--storage",
            "memory",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1
    assert "pip install 'predictor-nas[nb301]'" in err
