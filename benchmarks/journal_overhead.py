"""Cost of the journal storage for a table search, against the in-memory storage.

One process, the same search four ways (random strategy on the embedded ``nb201`` table,
``run_search`` with ``--trials`` queries, seed 0, a fresh storage each repeat):

- ``memory``: Optuna's in-memory storage (no file);
- ``journal_default``: what ``run_search`` uses by default (``BufferedJournalStorage`` with
  ``JOURNAL_FSYNC_INTERVAL = 1``): each trial written as one record at its tell (so a SIGKILL
  loses at most the trial in flight), fsync'd at most once a second and at the end of the
  search (a power loss may lose the trials finished within the last second);
- ``journal_buffered_fsync_every_trial``: the same storage with ``JOURNAL_FSYNC_INTERVAL = 0``:
  one write and one fsync per trial (the default before the interval became 1 s);
- ``journal_per_record``: the journal as ``make_storage`` built it before issue 19 (and still
  builds it for distributed workers): Optuna's record per operation, each appended under the
  lock file and fsync'd (about 13 records per trial).

Wall and CPU (process) seconds, medians over ``--repeats``; the ratios are against ``memory``.
The file's size, record count and fsyncs per trial are reported too, and the default journal
is checked to hold the same trials (params, values, user attrs, states) as the per-record one.

Writes ``<out>/journal_overhead.json`` and ``<out>/journal_overhead.md``::

    python benchmarks/journal_overhead.py            # --trials 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
from _common import git_revision

import predictor_nas.search._run as run_module

CASES = ("memory", "journal_default", "journal_buffered_fsync_every_trial", "journal_per_record")
#: ``run_search``'s defaults, as imported (the ``journal_default`` case runs with them).
DEFAULTS = {
    "JOURNAL_BUFFERED": run_module.JOURNAL_BUFFERED,
    "JOURNAL_FSYNC_INTERVAL": run_module.JOURNAL_FSYNC_INTERVAL,
}
#: Settings of the other journal cases.
SETTINGS = {
    "journal_default": DEFAULTS,
    "journal_buffered_fsync_every_trial": {
        "JOURNAL_BUFFERED": True,
        "JOURNAL_FSYNC_INTERVAL": 0.0,
    },
    "journal_per_record": {"JOURNAL_BUFFERED": False, "JOURNAL_FSYNC_INTERVAL": 0.0},
}


def _one_run(case: str, trials: int, folder: str, repeat: int) -> dict[str, Any]:
    """Run the search once in ``case``; wall and CPU seconds, file size, records and fsyncs."""
    path = None if case == "memory" else os.path.join(folder, f"{case}-{repeat}.journal")
    for name, value in SETTINGS.get(case, DEFAULTS).items():
        setattr(run_module, name, value)
    fsyncs = [0]
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        fsyncs[0] += 1
        real_fsync(fd)

    os.fsync = counting_fsync
    try:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = run_module.run_search(strategy="random", budget=trials, seed=0, storage=path)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        os.fsync = real_fsync
        for name, value in DEFAULTS.items():
            setattr(run_module, name, value)
    assert result.n_queries == trials
    out: dict[str, Any] = {"wall_s": wall, "cpu_s": cpu, "path": path, "fsyncs": fsyncs[0]}
    if path is not None:
        data = Path(path).read_bytes()
        out["bytes"] = len(data)
        out["records"] = data.count(b"\n")
    return out


def _ledger(path: str) -> list[tuple]:
    """The trials of the search in ``path`` read by plain Optuna (no predictor_nas classes)."""
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    return [(t.number, t.state, t.params, t.values, t.user_attrs) for t in study.trials]


def measure(trials: int, repeats: int) -> dict[str, Any]:
    """Medians over ``repeats`` of each case, run in turn (memory, default, ...)."""
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in CASES}
    with tempfile.TemporaryDirectory() as folder:
        _one_run("memory", min(trials, 20), folder, -1)  # warm-up: table open, imports
        for r in range(repeats):
            for case in CASES:
                runs[case].append(_one_run(case, trials, folder, r))
                logging.info("%s repeat %d: %.2f s", case, r, runs[case][-1]["wall_s"])
        same = _ledger(runs["journal_per_record"][0]["path"]) == _ledger(
            runs["journal_default"][0]["path"]
        )
    cases: dict[str, Any] = {}
    for case in CASES:
        rs = runs[case]
        d: dict[str, Any] = {
            "wall_s_median": statistics.median(r["wall_s"] for r in rs),
            "cpu_s_median": statistics.median(r["cpu_s"] for r in rs),
            "wall_s": [r["wall_s"] for r in rs],
            "cpu_s": [r["cpu_s"] for r in rs],
        }
        if "bytes" in rs[0]:
            d["bytes_per_trial"] = rs[0]["bytes"] / trials
            d["records_per_trial"] = rs[0]["records"] / trials
            d["fsyncs_per_trial"] = statistics.median(r["fsyncs"] for r in rs) / trials
        cases[case] = d
    mem = cases["memory"]
    for case in CASES:
        cases[case]["wall_ratio_vs_memory"] = cases[case]["wall_s_median"] / mem["wall_s_median"]
        cases[case]["cpu_ratio_vs_memory"] = cases[case]["cpu_s_median"] / mem["cpu_s_median"]
    return {"cases": cases, "same_ledger": same, "defaults": DEFAULTS}


def write_markdown(report: dict[str, Any], path: Path) -> None:
    """The human-readable summary."""
    c = report["cases"]
    interval = report["defaults"]["JOURNAL_FSYNC_INTERVAL"]
    labels = {
        "memory": "memory (no file)",
        "journal_default": f"**journal, default** (buffered, fsync every {interval:g} s)",
        "journal_buffered_fsync_every_trial": "journal, buffered, fsync every trial",
        "journal_per_record": "journal, Optuna's record per operation (before issue 19)",
    }
    lines = [
        "# Journal storage overhead of a table search",
        "",
        f"`run_search`, random strategy, embedded `nb201` table, {report['trials']:,} queries, "
        f"seed 0; medians over {report['repeats']} repeats in one process (fresh storage each).",
        "",
        "| storage | wall s | CPU s | wall / memory | CPU / memory | records / trial "
        "| fsyncs / trial | bytes / trial |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in CASES:
        d = c[case]
        rec = f"{d['records_per_trial']:.2f}" if "records_per_trial" in d else "-"
        fsyncs = f"{d['fsyncs_per_trial']:.3f}" if "fsyncs_per_trial" in d else "-"
        size = f"{d['bytes_per_trial']:,.0f}" if "bytes_per_trial" in d else "-"
        lines.append(
            f"| {labels[case]} | {d['wall_s_median']:.2f} | {d['cpu_s_median']:.2f} "
            f"| {d['wall_ratio_vs_memory']:.2f}x | {d['cpu_ratio_vs_memory']:.2f}x "
            f"| {rec} | {fsyncs} | {size} |"
        )
    fsync = report["fsync_ms"]
    lines += [
        "",
        "Crash safety of the default: every finished trial is written to the file (one record, "
        "one write under the lock file) before its `tell` returns, so a SIGKILL loses at most "
        "the trial in flight (the write is in the kernel's page cache, which outlives the "
        f"process). fsync, which only matters for a power loss or an OS crash, runs at most once "
        f"every {interval:g} s and always when the search ends: a power loss may lose the trials "
        f"finished within the last {interval:g} s.",
        "",
        f"Same ledger (params, values, user attrs, states, read by plain Optuna) in the default "
        f"and the per-record journals: {report['same_ledger']}.",
        "",
        f"One fsync of a small append on this disk: {fsync:.2f} ms (median of 50).",
        "",
        f"- command: `{report['command']}`",
        f"- git revision: {report['git_revision']}; date {report['date']}",
        f"- machine: {report['machine']['cpu_count']} CPUs (shared with other jobs; wall times "
        f"vary with the load, CPU times less); Python {report['machine']['python']}, "
        f"Optuna {report['machine']['optuna']}",
        "",
    ]
    path.write_text("\n".join(lines))


def fsync_ms(folder: str, n: int = 50) -> float:
    """Median milliseconds of ``os.write`` + ``os.fsync`` of a 1 KB append in ``folder``."""
    path = os.path.join(folder, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    times = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, b"x" * 1023 + b"\n")
            os.fsync(fd)
            times.append(time.perf_counter() - t)
    finally:
        os.close(fd)
    return statistics.median(times) * 1e3


def main() -> None:
    """Parse the arguments, measure, write the JSON and markdown reports."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000, help="queries per search")
    parser.add_argument("--repeats", type=int, default=3, help="searches per storage")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results", help="folder"
    )
    args = parser.parse_args()
    if args.trials < 1 or args.repeats < 1:
        parser.error("--trials and --repeats must be >= 1")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    report: dict[str, Any] = {"trials": args.trials, "repeats": args.repeats}
    report.update(measure(args.trials, args.repeats))
    with tempfile.TemporaryDirectory() as folder:
        report["fsync_ms"] = fsync_ms(folder)
    report["command"] = "python benchmarks/journal_overhead.py " + shlex.join(sys.argv[1:])
    report["command"] = report["command"].strip()
    report["git_revision"] = git_revision()
    report["date"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    report["machine"] = {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "optuna": optuna.__version__,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "journal_overhead.json").write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(report, args.out / "journal_overhead.md")
    print((args.out / "journal_overhead.md").read_text())


if __name__ == "__main__":
    main()
