"""Storage faults: torn and garbled journals, repair, read-only studies, one process per study,
and output paths checked before any work (issue 19, items 2, 4 and 6)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from predictor_nas.cli import main
from predictor_nas.exceptions import SearchError, StorageCorruptedError
from predictor_nas.search import make_storage
from predictor_nas.search._journal import repair_journal, scan_journal

REPO = Path(__file__).resolve().parents[2]
STUDY = "nb201-nb201-cifar10-rea-seed0"


def _search(journal: Path, budget: int = 20, *extra: str) -> list[str]:
    return [
        "search",
        "--storage",
        str(journal),
        "--budget",
        str(budget),
        "--seed",
        "0",
        "--no-progress",
        *extra,
    ]


def _run_json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _complete_archs(journal: Path) -> list[str]:
    study = optuna.load_study(study_name=STUDY, storage=make_storage(str(journal)))
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [t.user_attrs["arch"] for t in sorted(trials, key=lambda t: t.number)]


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture()
def finished(tmp_path, capsys):
    """A journal holding a finished 20-query search, and that search's JSON result."""
    journal = tmp_path / "r.journal"
    result = _run_json(capsys, _search(journal))
    assert result["n_queries"] == 20
    return journal, result


# --------------------------------------------------------------------------- torn / garbled
def test_torn_tail_is_refused_before_anything_is_written(finished, capsys):
    """A truncated journal: exit 2 naming file, byte offset and the repair command; no write."""
    journal, _ = finished
    os.truncate(journal, journal.stat().st_size - 20)
    torn = journal.read_bytes()
    offset = torn.rindex(b"\n") + 1
    assert main(_search(journal)) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"'{journal}'" in line and f"byte offset {offset} of {len(torn)}" in line
    assert f"predictor-nas storage repair {journal}" in line and "torn write" in line
    assert journal.read_bytes() == torn  # nothing appended (Optuna glued a record onto it)


def test_repair_keeps_intact_trials_and_the_study_resumes(finished, capsys):
    """truncate, repair, rerun: the 19 intact trials are kept and the study ends as if never torn."""
    journal, first = finished
    archs = _complete_archs(journal)
    os.truncate(journal, journal.stat().st_size - 20)
    torn = journal.read_bytes()
    offset = torn.rindex(b"\n") + 1
    capsys.readouterr()
    assert main(["storage", "repair", str(journal)]) == 0
    out = capsys.readouterr().out
    backups = list(journal.parent.glob("r.journal.damaged-*"))
    assert len(backups) == 1
    n_kept = torn[:offset].count(b"\n")
    assert f"kept {n_kept} intact records (bytes 0-{offset})" in out
    assert f"moved {len(torn) - offset} bytes (from byte offset {offset} on) to {backups[0]}" in out
    assert journal.read_bytes() + backups[0].read_bytes() == torn  # nothing lost
    assert _complete_archs(journal) == archs[:19]  # the torn record was trial 19's result
    again = _run_json(capsys, _search(journal))
    assert again["resumed_from"] == 19 and again["n_queries"] == 20
    assert _complete_archs(journal) == archs
    for key in ("best_arch", "best_val", "regret_val", "simulated_seconds"):
        assert again[key] == first[key]
    capsys.readouterr()
    assert main(["storage", "repair", str(journal)]) == 0
    assert "is intact" in capsys.readouterr().out
    assert len(list(journal.parent.glob("r.journal.damaged-*"))) == 1


@pytest.mark.parametrize(
    "garbage",
    [
        b"not json at all\n",
        b"\x00\x00\x00\x00\n",
        b"[1, 2]\n",
        b'{"op_code": 99, "worker_id": "w"}\n',
        b'{"op_code": 4}\n',
    ],
    ids=["text", "nul-bytes", "json-array", "unknown-op", "no-worker"],
)
def test_garbage_in_the_middle_is_refused_and_repaired(finished, capsys, garbage):
    """A bad line mid-file: exit 2 with its offset; repair keeps the records before it only."""
    journal, _ = finished
    data = journal.read_bytes()
    lines = data.splitlines(keepends=True)
    k = len(lines) // 2  # mid-file (a buffered search writes one record per trial)
    offset = sum(len(x) for x in lines[:k])
    journal.write_bytes(data[:offset] + garbage + data[offset:])
    capsys.readouterr()
    assert main(_search(journal)) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"byte offset {offset} " in line and f"line {k + 1} is " in line
    assert f"{len(lines) - k} more line(s) follow it" in line
    r = repair_journal(str(journal))
    assert (r.kept_records, r.kept_bytes) == (k, offset)
    assert Path(r.backup).read_bytes() == garbage + data[offset:]
    assert scan_journal(str(journal)).intact


def test_garbage_last_line_is_refused(finished, capsys):
    """A complete but garbled last line (which Optuna's reader skips silently) is refused too."""
    journal, _ = finished
    size = journal.stat().st_size
    with open(journal, "ab") as f:
        f.write(b'{"op_code":6,"worker_id"\n')
    assert main(_search(journal, 25)) == 2
    assert f"byte offset {size} " in _one_error_line(capsys.readouterr().err)
    assert journal.stat().st_size == size + 25


def test_damage_by_another_process_during_a_run_is_never_built_upon(tmp_path):
    """Torn or garbled records appearing mid-run: appends and reads raise, the file is kept."""
    journal = tmp_path / "live.journal"
    study = optuna.create_study(storage=make_storage(str(journal)), study_name="live")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    for damage in (b'{"op_code":4,"worker_id":"a', b'{"op_code":4,"wor\n'):
        good = journal.read_bytes()
        journal.write_bytes(good + damage)
        with pytest.raises(StorageCorruptedError, match=f"byte offset {len(good)} "):
            study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
        assert journal.read_bytes() == good + damage
        journal.write_bytes(good)
    with open(journal, "ab") as f:  # garbage followed by a valid record: Optuna's reader raises
        f.write(b"garbage\n" + good.splitlines(keepends=True)[-1])
    with pytest.raises(StorageCorruptedError, match=f"byte offset {len(good)} "):
        study.trials


def test_open_time_check_is_cheap(tmp_path):
    """Checking a 1,000-trial-sized journal (13,000 records) takes well under a second."""
    journal = tmp_path / "big.journal"
    record = {
        "op_code": 8,
        "worker_id": "w" * 60,
        "trial_id": 1,
        "user_attr": {"metrics": {"val_acc": 91.5, "train_time": 2060.7}, "cost_s": 2060.7},
    }
    line = json.dumps(record, separators=(",", ":")) + "\n"
    journal.write_text(line * 13_000)
    t0 = time.perf_counter()
    scan = scan_journal(str(journal))
    elapsed = time.perf_counter() - t0
    assert scan.intact and scan.n_records == 13_000 and scan.size == len(line) * 13_000
    assert elapsed < 1.0, elapsed


# --------------------------------------------------------------------------- read-only
def _run_as_unprivileged(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``main(argv)`` in a forked child that cannot bypass file modes (root drops to nobody)."""
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    pid = os.fork()
    if pid == 0:  # child
        rc = 99
        try:
            os.chdir(cwd)
            sys.stdout, sys.stderr = out, err
            if os.geteuid() == 0:  # nobody cannot read root's ~/.cache (the table cache)
                os.environ["PREDICTOR_NAS_CACHE"] = str(cwd / "no-cache")
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            rc = main(argv)
        except BaseException as exc:  # report anything, never return into pytest
            err.write(f"Traceback: {type(exc).__name__}: {exc}\n")
        finally:
            out.flush()
            err.flush()
            os._exit(rc)
    _, status = os.waitpid(pid, 0)
    out.seek(0)
    err.seek(0)
    return os.waitstatus_to_exitcode(status), out.read(), err.read()


def test_read_only_finished_study_is_read_and_never_written(capsys):
    """chmod a-w on a finished study: search reports it and writes nothing; a longer budget is
    refused in one line naming the file."""
    folder = Path(tempfile.mkdtemp(prefix="pnas-ro-"))
    try:
        folder.chmod(0o755)
        journal = folder / "r.journal"
        first = _run_json(capsys, _search(journal))  # also imports all that the child needs
        data, names = journal.read_bytes(), sorted(os.listdir(folder))
        journal.chmod(0o444)
        folder.chmod(0o555)
        rc, out, err = _run_as_unprivileged([*_search(journal), "--json"], folder)
        assert (rc, err) == (0, "")
        again = json.loads(out)
        assert again["n_queries"] == 20 and again["resumed_from"] == 20
        assert again["best_arch"] == first["best_arch"]
        rc, out, err = _run_as_unprivileged(_search(journal, 25), folder)
        assert rc == 2 and out == ""
        line = _one_error_line(err)
        assert f"The journal file '{journal}'" in line and "read-only" in line
        assert journal.read_bytes() == data and sorted(os.listdir(folder)) == names
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def test_read_only_error_is_a_search_error(tmp_path):
    """The backend's refusal to write into a read-only journal is a SearchError, not OSError."""
    if os.geteuid() == 0:
        pytest.skip("root writes read-only files; covered by the forked test above")
    journal = tmp_path / "ro.journal"
    optuna.create_study(storage=make_storage(str(journal)), study_name="ro")
    journal.chmod(stat.S_IRUSR)
    study = optuna.load_study(storage=make_storage(str(journal)), study_name="ro")
    with pytest.raises(SearchError, match="read-only"):
        study.ask()


# --------------------------------------------------------------------------- one process
@pytest.mark.slow
def test_second_process_on_the_same_study_is_refused(tmp_path):
    """Two real processes on one study: the second exits 2 naming the first; a SIGKILLed
    holder leaves no lock behind that blocks the rerun."""
    journal = tmp_path / "r.journal"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "predictor_nas.cli"]
    first = subprocess.Popen(
        [*cmd, *_search(journal, 100_000)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("r.journal.*.run-lock")) or not journal.exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # let it write a few trials
        second = subprocess.run(
            [*cmd, *_search(journal, 3)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2 and second.stdout == ""
        line = _one_error_line(second.stderr)
        assert f"Study '{STUDY}' in '{journal}' is being searched by another process" in line
        assert f"pid {first.pid}" in line
    finally:
        first.kill()
        first.wait()
    assert first.returncode == -9
    rerun = subprocess.run(
        [*cmd, *_search(journal, 3), "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["n_queries"] > 3  # the killed run's trials are all there
    assert not list(tmp_path.glob("r.journal.*.run-lock"))


def test_other_studies_in_the_same_journal_are_not_blocked(tmp_path, capsys):
    """The run lock is per study: a search of another seed shares the journal freely."""
    from predictor_nas.search._journal import StudyRunLock

    journal = tmp_path / "r.journal"
    held = StudyRunLock.acquire(str(journal), STUDY)
    try:
        assert main(_search(journal, 3)) == 2
        assert "being searched by another process" in capsys.readouterr().err
        assert main([*_search(journal, 3)[:-2], "1", "--no-progress"]) == 0
    finally:
        held.release()
    assert main(_search(journal, 3)) == 0


# --------------------------------------------------------------------------- output paths
@pytest.fixture()
def paths(tmp_path):
    """A file, a read-only folder and a folder named like a journal, in a temp folder."""
    (tmp_path / "afile").write_text("x")
    (tmp_path / "dir.journal").mkdir()
    (tmp_path / "dir.db").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["compare", "--out", "{p}/afile", "--budget", "100000", "--seeds", "1000"],
            "The '--out' option of compare must be a folder that exists or can be created, and is "
            "writable. Got '{p}/afile' instead (it is a file).",
        ),
        (
            ["compare", "--out", "{p}/afile/sub", "--budget", "100000"],
            "Got '{p}/afile/sub' instead ('{p}/afile' is a file, not a folder).",
        ),
        (
            ["predictors", "evaluate", "--plot", "{p}", "--seeds", "1000"],
            "The '--plot' option of predictors evaluate must be a file path in a folder that exists "
            "or can be created, and is writable. Got '{p}' instead (it is a folder).",
        ),
        (
            ["predictors", "evaluate", "--plot", "{p}/afile/k.png", "--seeds", "1000"],
            "('{p}/afile' is a file, not a folder)",
        ),
        (
            ["tables", "import", "nb201-rich", "--source", "{p}", "--out", "{p}"],
            "The '--out' option of tables import must be a file path",
        ),
        (
            ["tables", "import", "nb201-rich", "--source", "{p}", "--out", "{p}/afile/t.h5"],
            "('{p}/afile' is a file, not a folder)",
        ),
        (
            ["search", "--evaluator", "train", "--checkpoint-dir", "{p}/afile", "--budget", "1"],
            "The '--checkpoint-dir' option of search must be a folder that exists or can be "
            "created, and is writable. Got '{p}/afile' instead (it is a file).",
        ),
        (
            ["search", "--storage", "{p}/dir.journal", "--budget", "1"],
            "The journal file '{p}/dir.journal' is a folder; give a file path such as "
            "'{p}/dir.journal/search.journal'.",
        ),
        (
            ["search", "--storage", "{p}/missing/x.journal", "--budget", "1"],
            "The folder of the journal file '{p}/missing/x.journal' does not exist",
        ),
        (
            ["search", "--storage", "sqlite:///{p}/missing/dir/x.db", "--budget", "1"],
            "The folder of the SQLite database '{p}/missing/dir/x.db' does not exist; create "
            "'{p}/missing/dir' first.",
        ),
        (
            ["search", "--storage", "sqlite:///{p}/dir.db", "--budget", "1"],
            "The SQLite database '{p}/dir.db' is a folder",
        ),
        (
            ["worker", "--storage", "{p}/dir.journal"],
            "The journal file '{p}/dir.journal' is a folder",
        ),
        (
            ["coordinate", "--storage", "{p}/dir.journal", "--budget", "1"],
            "The journal file '{p}/dir.journal' is a folder",
        ),
    ],
    ids=[
        "compare-out-file",
        "compare-out-under-file",
        "plot-folder",
        "plot-under-file",
        "import-out-folder",
        "import-out-under-file",
        "checkpoint-file",
        "journal-folder",
        "journal-missing-folder",
        "sqlite-missing-folder",
        "sqlite-folder",
        "worker-journal-folder",
        "coordinate-journal-folder",
    ],
)
def test_bad_output_paths_exit_2_before_any_work(paths, capsys, argv, message):
    """A bad output or storage path: one line, exit 2, within seconds (before the work)."""
    argv = [a.replace("{p}", str(paths)) for a in argv]
    t0 = time.perf_counter()
    assert main(argv) == 2
    assert time.perf_counter() - t0 < 10
    captured = capsys.readouterr()
    assert message.replace("{p}", str(paths)) in _one_error_line(captured.err)
    assert sorted(os.listdir(paths)) == ["afile", "dir.db", "dir.journal"]


def test_output_folder_that_can_be_created_passes(tmp_path):
    """A folder that does not exist yet under a writable one is accepted and not created."""
    from predictor_nas._paths import check_output_dir, check_output_file

    assert check_output_dir(tmp_path / "a" / "b", "--out", "compare") == tmp_path / "a" / "b"
    assert check_output_file(tmp_path / "c" / "k.png", "--plot", "x") == tmp_path / "c" / "k.png"
    assert os.listdir(tmp_path) == []
