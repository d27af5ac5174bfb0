"""Thread limits per process: ``--threads`` of search and compare, compare's workers, torch.

Each check runs in a fresh Python process (limits and the environment are process-wide).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (no OMP_* inherited) and parse its last stdout line."""
    base = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    base.pop("PREDICTOR_NAS_THREADS", None)
    base["PYTHONPATH"] = str(REPO)
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**base, **env},
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_import_stays_light_and_default_is_one_or_omp_env():
    """import predictor_nas loads no torch; the default is $OMP_NUM_THREADS, else 1."""
    code = (
        "import json, sys, predictor_nas\n"
        "from predictor_nas._threads import default_threads\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'n': default_threads()}))"
    )
    assert _python(code) == {"torch": False, "n": 1}
    assert _python(code, OMP_NUM_THREADS="3") == {"torch": False, "n": 3}


@pytest.mark.parametrize("torch_first", [False, True])
def test_limits_reach_loaded_pools_and_torch_imported_before_or_after(torch_first):
    """set_thread_limits(1) limits OpenBLAS and torch, whether torch loads before or after."""
    code = (
        "import json\n"
        + ("import torch\n" if torch_first else "")
        + "from predictor_nas._threads import set_thread_limits, thread_counts\n"
        "set_thread_limits(1)\n"
        "import torch, xgboost\n"
        "print(json.dumps(thread_counts()))"
    )
    counts = _python(code)
    assert counts["torch"] == 1 and counts["openblas"] == 1
    assert set(counts.values()) == {1}


def test_search_cli_applies_threads_once_per_process():
    """search --threads 2 and the default (1) set the process's pools and the OMP environment."""
    code = (
        "import json, os\n"
        "from predictor_nas.cli import main\n"
        "from predictor_nas._threads import thread_counts\n"
        "args = ['search', '--strategy', 'random', '--budget', '3', '--storage', 'memory',"
        " '--json', '--no-progress'] + {extra!r}\n"
        "rc = main(args)\n"
        "print(json.dumps({{'rc': rc, 'omp': os.environ.get('OMP_NUM_THREADS'),"
        " 'openblas': thread_counts()['openblas']}}))"
    )
    assert _python(code.format(extra=["--threads", "2"])) == {"rc": 0, "omp": "2", "openblas": 2}
    assert _python(code.format(extra=[])) == {"rc": 0, "omp": "1", "openblas": 1}


@pytest.mark.parametrize("command", ["search", "compare"])
def test_bad_threads_is_one_line_and_exit_2(command, capsys):
    """--threads 0 is refused with the standard one-line message, exit 2, before any work."""
    from predictor_nas.cli import main

    before = os.environ.get("OMP_NUM_THREADS")
    assert main([command, "--threads", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        f"The --threads option of {command} must be an int in [1, 4096]. Got 0 instead."
    )
    assert "\n" not in err and "Traceback" not in err
    assert os.environ.get("OMP_NUM_THREADS") == before


def test_compare_workers_inherit_the_limit():
    """A spawned compare worker (its real initializer) runs with the parent's --threads."""
    code = (
        "import json, logging, multiprocessing as mp\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from predictor_nas._threads import set_thread_limits, thread_counts\n"
        "from predictor_nas.compare._run import _init_worker\n"
        "if __name__ == '__main__':\n"
        "    set_thread_limits(1, 'compare')\n"
        "    with ProcessPoolExecutor(1, mp_context=mp.get_context('spawn'),"
        " initializer=_init_worker, initargs=(logging.WARNING, 30)) as pool:\n"
        "        print(json.dumps(pool.submit(thread_counts).result()))"
    )
    counts = _python(code)
    assert counts["openblas"] == 1 and set(counts.values()) == {1}
