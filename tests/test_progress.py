"""Issue 19 item 14: one progress display; bars only on a terminal, status lines in logs."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from predictor_nas import _progress
from predictor_nas._progress import StatusLines, format_seconds, progress_bar, status
from predictor_nas.cli import main

SHARED = Path(
    os.environ.get("PREDICTOR_NAS_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data")
)


class _Log:
    """What was written to stderr, captured by pytest in a plain (non-terminal) stream, as in
    `cmd 2> run.log`."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.text = ""

    def getvalue(self) -> str:
        self.text += self.capsys.readouterr().err
        return self.text


@pytest.fixture
def log_stderr(capsys, monkeypatch):
    """stderr as a log file sees it (pytest's capture is not a terminal)."""
    monkeypatch.delenv(_progress.ENV_VAR, raising=False)
    return _Log(capsys)


def _no_bar(text: str) -> None:
    assert "\r" not in text and "\x1b" not in text  # no redraws, no cursor codes
    assert "%|" not in text and "it/s" not in text  # no tqdm bar


def test_log_gets_start_periodic_and_final_lines_without_bars(log_stderr):
    """On a non-terminal stderr: a start line, at most one line per interval, a final line."""
    bar = progress_bar(4, desc="search random cifar10", unit="query", interval=0.2)
    assert isinstance(bar, StatusLines)
    bar.update(1)  # within the interval: no line
    time.sleep(0.25)
    bar.set_postfix(best="91.20")
    bar.update(1)  # interval passed: a line
    bar.update(2)
    bar.close()
    bar.close()  # idempotent
    lines = log_stderr.getvalue().splitlines()
    assert lines[0] == "search random cifar10: starting, 0/4 query (0%)"
    assert lines[1].startswith("search random cifar10: 2/4 query (50%), best=91.20, 0s")
    assert lines[2].startswith("search random cifar10: 4/4 query (100%), best=91.20, done in 0s")
    assert len(lines) == 3
    _no_bar(log_stderr.getvalue())


def test_terminal_gets_a_tqdm_bar(monkeypatch):
    """On a real terminal (a pty) the display is a tqdm bar on that terminal."""
    from tqdm.auto import tqdm

    monkeypatch.delenv(_progress.ENV_VAR, raising=False)
    leader, follower = os.openpty()
    try:
        with open(follower, "w", closefd=True) as tty:
            monkeypatch.setattr(sys, "stderr", tty)
            assert _progress.display_mode() == "bar"
            bar = progress_bar(3, desc="compare", unit="search")
            assert isinstance(bar, tqdm) and not bar.disable
            assert bar.total == 3 and bar.desc.startswith("compare")
            bar.update(3)
            bar.close()
    finally:
        os.close(leader)


def test_env_switch_forces_lines_or_silence(log_stderr, monkeypatch):
    """PREDICTOR_NAS_PROGRESS=off writes nothing; =lines forces lines."""
    monkeypatch.setenv(_progress.ENV_VAR, "off")
    bar = progress_bar(2, desc="x", unit="it")
    bar.update(2)
    bar.close()
    status("quiet")
    assert log_stderr.getvalue() == ""
    monkeypatch.setenv(_progress.ENV_VAR, "lines")
    items = list(progress_bar(iterable=[1, 2, 3], desc="proxies", unit="arch"))
    assert items == [1, 2, 3]
    lines = log_stderr.getvalue().splitlines()
    assert lines[0] == "proxies: starting, 0/3 arch (0%)"
    assert lines[-1].startswith("proxies: 3/3 arch (100%), done in")


def test_format_seconds():
    """Elapsed times read as 5s, 1m15s, 1h01m."""
    assert [format_seconds(s) for s in (5.9, 75.2, 3700)] == ["5s", "1m15s", "1h01m"]


def test_search_writes_status_lines_not_bars_into_a_log(log_stderr):
    """`search` with stderr in a log: start and end lines, no bar (it was silent before)."""
    assert main(["search", "--strategy", "random", "--storage", "memory", "--budget", "3"]) == 0
    err = log_stderr.getvalue()
    _no_bar(err)
    assert "random cifar10: starting, 0/3 query (0%)" in err
    assert "random cifar10: 3/3 query (100%)" in err and "done in" in err


def test_coordinator_writes_no_bar_into_a_log(log_stderr, tmp_path):
    """`coordinate` wrote a tqdm bar (carriage returns) into redirected stderr; now lines."""
    spec = str(tmp_path / "c.journal")
    assert main(["coordinate", "--storage", spec, "--budget", "2", "--max-seconds", "0.3"]) == 0
    err = log_stderr.getvalue()
    _no_bar(err)
    assert ": starting, 0/2 trial (0%)" in err


def test_compare_shows_runs_in_flight_from_the_start(log_stderr, tmp_path):
    """`compare` says how many runs are running before the first one finishes."""
    argv = [
        "compare",
        "--strategies",
        "random",
        "--budget",
        "2",
        "--seeds",
        "1,2",
        "--datasets",
        "cifar10",
        "--out",
        str(tmp_path / "cmp"),
    ]
    assert main(argv) == 0
    lines = log_stderr.getvalue().splitlines()
    _no_bar(log_stderr.getvalue())
    assert "compare: starting, 0/2 search (0%), 1 running" in lines
    assert any(ln.startswith("compare: 2/2 search (100%), 0 running, done in") for ln in lines)


def test_tables_import_announces_each_step(log_stderr, tmp_path):
    """`tables import` says what it reads, each dataset and the write (it was silent)."""
    source = SHARED / "nas-bench-macro"
    if not (source / "nas-bench-macro_cifar10.json").is_file():
        pytest.skip(f"shared benchmark data not found at {source}")
    out = tmp_path / "macro.h5"
    assert (
        main(["tables", "import", "nas-bench-macro", "--source", str(source), "--out", str(out)])
        == 0
    )
    lines = [ln for ln in log_stderr.getvalue().splitlines() if "tables import" in ln]
    assert lines[0].startswith("predictor-nas: tables import nas-bench-macro: reading ")
    assert "predictor-nas: tables import nas-bench-macro: dataset cifar10 (6561 archs) ..." in lines
    assert lines[-1] == f"predictor-nas: tables import nas-bench-macro: writing {out} ..."


def test_real_search_announces_the_first_architecture(log_stderr):
    """A real-training search says it is building and training the first architecture."""
    from predictor_nas.search import run_real_search

    run_real_search(
        max_trials=2,
        n_init=2,
        top_k=1,
        seed=0,
        progress=True,
        prune=False,
        width=4,
        depth=1,
        epochs=1,
        batch_size=128,
        num_threads=1,
        pool_size=10,
    )
    err = log_stderr.getvalue()
    _no_bar(err)
    first = err.index("building and training the first architecture on digits")
    assert first < err.index("2/2 arch (100%)")
