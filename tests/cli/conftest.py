"""Shared helpers of the command-line tests."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest


def _run_cli(*args, cwd=None):
    """Run the installed console script in a subprocess; return (code, stdout, stderr)."""
    exe = shutil.which("predictor-nas") or sys.executable
    cmd = [exe, *args] if exe != sys.executable else [exe, "-m", "predictor_nas.cli", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def run_cli():
    """The console script in a subprocess: ``run_cli(*args, cwd=None) -> (code, out, err)``."""
    return _run_cli
