"""scripts/nb301_sample_table.py: a table of random NB301 cells scored by the real surrogate."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from predictor_nas.spaces import get_space
from predictor_nas.tables import Table, open_table

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "nb301_sample_table.py"


@pytest.fixture(scope="module")
def folder(shared_data):
    """Folder of YAHPO's nb301 files (skipped without onnxruntime)."""
    pytest.importorskip("onnxruntime")
    return shared_data / "surrogates" / "yahpo" / "nb301"


@pytest.fixture(scope="module")
def script():
    """The script loaded as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("nb301_sample_table", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(*args, env=None, cwd=None):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_script_writes_a_50_arch_table_into_the_cache(folder, tmp_path, monkeypatch):
    """50 distinct NB301 cells land in $PREDICTOR_NAS_CACHE with surrogate values of 80-95 %."""
    cache = tmp_path / "cache"
    env = {**os.environ, "PREDICTOR_NAS_CACHE": str(cache), "PYTHONPATH": str(REPO)}
    code, _, err = _run("--surrogate", str(folder), "--n", "50", "--seed", "3", env=env)
    assert code == 0, err
    monkeypatch.setenv("PREDICTOR_NAS_CACHE", str(cache))
    t = open_table("nb301-surrogate-sample")
    assert len(t) == 50 and t.space == "nb301" and t.datasets == ["cifar10"]
    assert len(set(t.archs)) == 50
    sp = get_space("nb301")
    for a in t.archs:
        assert sp.format(sp.parse(a)) == a
    val = t.query_many(np.arange(50), "val_acc", dataset="cifar10", fidelity=98)
    assert np.all((val > 80) & (val < 95)) and val.std() > 0.1
    cost = t.query_many(np.arange(50), "train_time", dataset="cifar10", fidelity=98)
    assert np.all(cost > 0)
    assert "NOT a real training" in t.metric_info("val_acc", dataset="cifar10").description


def test_table_values_are_the_surrogates_and_deterministic(folder, script, tmp_path):
    """Each row equals the evaluator's own epoch-98 number; same seed, same content hash."""
    from predictor_nas.evaluators import NB301SurrogateEvaluator

    paths = [tmp_path / d / "t.h5" for d in "abc"]
    for p in paths:
        p.parent.mkdir()
    h1 = script.build_table(folder, paths[0], n=20, seed=1, batch=7)
    h2 = script.build_table(folder, paths[1], n=20, seed=1, batch=20)
    h3 = script.build_table(folder, paths[2], n=20, seed=2)
    assert h1 == h2 != h3
    t = Table(paths[0])
    assert t.archs == script.sample_archs(20, 1)
    ev = NB301SurrogateEvaluator(folder)
    for row in (0, 7, 19):
        want = ev.evaluate(t.archs[row], 98).value
        got = t.query_many(np.array([row]), "val_acc", dataset="cifar10", fidelity=98)[0]
        assert got == pytest.approx(want, abs=1e-9)


def test_script_without_surrogate_exits_2_naming_the_variable(tmp_path):
    """No --surrogate and no $PREDICTOR_NAS_NB301_SURROGATE: exit 2, the message names both."""
    env = {k: v for k, v in os.environ.items() if k != "PREDICTOR_NAS_NB301_SURROGATE"}
    env.update(PREDICTOR_NAS_CACHE=str(tmp_path), PYTHONPATH=str(REPO))
    code, _, err = _run(env=env)
    assert code == 2
    assert "--surrogate" in err and "PREDICTOR_NAS_NB301_SURROGATE" in err
    assert "Traceback" not in err


def test_script_with_a_wrong_folder_exits_2_on_one_line(tmp_path):
    """A folder without the surrogate files: exit 2 with the evaluator's one-line message."""
    pytest.importorskip("onnxruntime")
    env = {**os.environ, "PREDICTOR_NAS_CACHE": str(tmp_path), "PYTHONPATH": str(REPO)}
    code, _, err = _run("--surrogate", str(tmp_path), env=env)
    assert code == 2
    assert "model_v2.onnx" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.h5"))
