"""Trials per second of a distributed search against the number of workers, on one machine.

For each storage (a throwaway PostgreSQL server on 127.0.0.1 with its default durable settings,
and a journal file) and each number of workers (default 1, 2, 4, 8), a fresh study is run
exactly as a user would: one ``predictor-nas coordinate`` process (strategy ``random``, so that
proposing costs next to nothing and the distributed machinery is what is measured; queue of
2 x workers) and N ``predictor-nas worker`` processes, on the embedded NB201 table (cifar10).
Two workloads:

- ``lookup``: a trial is a table lookup (``--time-scale 0``), so the numbers are the overhead
  of the queue: pop, heartbeat, attrs, result;
- ``simulated``: each trial also sleeps ``time_scale x`` the table's training seconds (default
  5e-5: 91 ms on average), standing in for real training; with perfect scaling N workers give
  N / 0.091 trials/s.

Throughput is measured on the trials' own completion times: (completed - 1) / (last - first)
over the trials after the first 10 % (process start-up excluded); the wall time from launching
the processes to the coordinator's exit is reported as well. Baseline in the same run: the
single-process ``run_search`` (ask, look up, tell) on a journal file, same budget.

The machine is shared: its 1-minute load average before each run is recorded.

Writes ``<out>/distributed_throughput.{json,md,png}``::

    python benchmarks/distributed_throughput.py            # ~10-20 min on 2 cores
    python benchmarks/distributed_throughput.py --workers 1,2 --budget 60 --storages journal
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from _common import cpu_name, git_revision
from optuna.trial import TrialState


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def machine_info() -> dict[str, Any]:
    """Platform, CPU, CPU count, library versions and the PostgreSQL server used."""
    import sqlalchemy

    from predictor_nas.distributed import find_postgres_bin

    pg = find_postgres_bin()
    pg_version = None
    if pg is not None:
        out = subprocess.run([str(pg / "postgres"), "--version"], capture_output=True, text=True)
        pg_version = out.stdout.strip() or None
    return {
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "optuna": optuna.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "postgresql": pg_version,
    }


def _launch(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "w") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "predictor_nas.cli", *args], stdout=f, stderr=subprocess.STDOUT
        )


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _server_cpu(pg: Any) -> float:
    """CPU seconds of the PostgreSQL server so far: the postmaster and its reaped backends."""
    if pg is None or pg.root_ is None:
        return 0.0
    pid = int((pg.root_ / "data" / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _last_json(log: Path) -> dict:
    for line in reversed(log.read_text().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def run_one(
    spec: str, n_workers: int, budget: int, time_scale: float, work: Path, pg: Any = None
) -> dict:
    """One coordinator + ``n_workers`` workers on a fresh study; their timings and CPU."""
    load = os.getloadavg()[0]
    cpu0, server0 = _children_cpu(), _server_cpu(pg)
    t0 = time.perf_counter()
    coord = _launch(
        ["coordinate", "--storage", spec, "--strategy", "random", "--budget", str(budget),
         "--queue-size", str(2 * n_workers), "--no-progress", "--json",
         "--poll-interval", "0.05"],
        work / "coordinator.log",
    )  # fmt: skip
    workers = [
        _launch(
            [
                "worker",
                "--storage",
                spec,
                "--poll-interval",
                "0.05",
                "--json",
                "--time-scale",
                str(time_scale),
            ],
            work / f"worker{i}.log",
        )
        for i in range(n_workers)
    ]
    if coord.wait(3600) != 0:
        raise RuntimeError((work / "coordinator.log").read_text()[-3000:])
    wall = time.perf_counter() - t0
    for i, w in enumerate(workers):
        if w.wait(300) != 0:
            raise RuntimeError((work / f"worker{i}.log").read_text()[-3000:])
    cpu = _children_cpu() - cpu0
    server = _server_cpu(pg) - server0 if spec.startswith("postgresql") else 0.0
    idle = [_last_json(work / f"worker{i}.log").get("idle_seconds", 0.0) for i in range(n_workers)]
    from predictor_nas.distributed import HeartbeatSettings, open_storage

    store = open_storage(spec, HeartbeatSettings())
    (name,) = [s.study_name for s in store.get_all_studies()]
    trials = optuna.load_study(study_name=name, storage=store).get_trials(
        deepcopy=False, states=(TrialState.COMPLETE,)
    )
    done = sorted(t.datetime_complete.timestamp() for t in trials)
    keys = {t.user_attrs["canonical_key"] for t in trials}
    skip = len(done) // 10
    steady = done[skip:]
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else float("nan")
    return {
        "workers": n_workers,
        "budget": budget,
        "n_complete": len(trials),
        "n_unique_archs": len(keys),
        "trials_per_s": rate,
        "wall_s": wall,
        "wall_trials_per_s": len(trials) / wall,
        "load_avg_1min_before": load,
        # Process start-up (imports, opening the table: ~2.5 s of CPU per process) included.
        "cpu_ms_per_trial": 1000 * cpu / len(trials),
        "server_cpu_ms_per_trial": 1000 * server / len(trials),
        "worker_idle_fraction": float(np.mean(idle)) / wall,
    }


def baseline(budget: int, work: Path) -> dict:
    """Single-process ``run_search`` (random, journal file): trials/s of plain ask/tell."""
    from predictor_nas.search import run_search

    t0, c0 = time.perf_counter(), time.process_time()
    r = run_search(strategy="random", budget=budget, seed=0, storage=str(work / "base.journal"))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "budget": budget,
        "trials_per_s": r.n_queries / r.wall_seconds,
        "wall_s": wall,
        "cpu_ms_per_trial": 1000 * cpu / r.n_queries,
    }


def plot(results: dict, path: Path) -> None:
    """Trials/s against workers, one line per storage and workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, mode in zip(axes, ("lookup", "simulated")):
        for storage, runs in results["runs"].get(mode, {}).items():
            xs = [r["workers"] for r in runs]
            ax.plot(xs, [r["trials_per_s"] for r in runs], marker="o", label=storage)
        if mode == "simulated" and results["runs"].get(mode):
            xs = sorted({r["workers"] for rs in results["runs"][mode].values() for r in rs})
            ideal = [x / results["mean_simulated_seconds"] for x in xs]
            ax.plot(xs, ideal, ls="--", color="grey", label="perfect scaling")
        if mode == "lookup":
            ax.axhline(
                results["baseline"]["trials_per_s"], ls=":", color="black",
                label="single process run_search",
            )  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_xlabel("workers")
        ax.set_ylabel("trials / s")
        ax.set_title(f"{mode}")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_markdown(results: dict, path: Path) -> None:
    """The Markdown report."""
    m = results["machine"]
    lines = [
        "# Distributed search throughput (trials/s vs workers, one machine)",
        "",
        f"Command: `{results['command']}`  ",
        f"Date: {results['date']}, revision {results['revision']}  ",
        f"Machine: {m['cpu']}, {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}, "
        f"Optuna {m['optuna']}, SQLAlchemy {m['sqlalchemy']}, {m['postgresql']}",
        "",
        "One `predictor-nas coordinate` process (strategy random, queue 2 x workers) and N "
        "`predictor-nas worker` processes per run, fresh study, NB201 cifar10 table. "
        "Steady throughput = completions after the first 10 % over their time span; wall = "
        "launch to coordinator exit (includes ~2 s of process start-up). PostgreSQL: "
        "throwaway server on 127.0.0.1 with default (durable) settings. Load = the machine's "
        "1-minute load average before the run (other jobs were running on it).",
        "",
        f"Baseline, single process `run_search` (random, journal file, {results['budget']} "
        f"trials): **{results['baseline']['trials_per_s']:.1f} trials/s**, "
        f"{results['baseline']['cpu_ms_per_trial']:.0f} ms CPU per trial.",
        "",
        "CPU ms/trial = CPU seconds of the coordinator and worker processes (start-up, about "
        "0.7 s per process, included) "
        "plus, in parentheses, of the PostgreSQL server, per completed trial: unlike trials/s it "
        "does not depend on what else the machine runs; 2,000 / (CPU ms/trial) is the ceiling "
        "of trials/s on 2 idle cores. Workers idle = mean share of a worker's time spent waiting "
        "on an empty queue (the coordinator did not keep up).",
        "",
    ]
    for mode, desc in (
        ("lookup", "table lookup only (overhead of the queue)"),
        (
            "simulated",
            f"lookup + sleep {results['time_scale']:g} x training seconds "
            f"(mean {results['mean_simulated_seconds'] * 1000:.0f} ms per trial)",
        ),
    ):
        runs = results["runs"].get(mode)
        if not runs:
            continue
        lines += [f"## {mode}: {desc}", ""]
        head = "| storage | workers | steady trials/s | x vs 1 worker | wall s | wall trials/s |"
        if mode == "simulated":
            head += " perfect scaling |"
        head += " CPU ms/trial (server) | workers idle | unique archs | load |"
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        for storage, rs in runs.items():
            one = rs[0]["trials_per_s"]
            for r in rs:
                row = (
                    f"| {storage} | {r['workers']} | {r['trials_per_s']:.1f} | "
                    f"{r['trials_per_s'] / one:.2f} | {r['wall_s']:.1f} | "
                    f"{r['wall_trials_per_s']:.1f} |"
                )
                if mode == "simulated":
                    row += f" {r['workers'] / results['mean_simulated_seconds']:.1f} |"
                row += (
                    f" {r['cpu_ms_per_trial']:.0f} ({r['server_cpu_ms_per_trial']:.0f}) |"
                    f" {100 * r['worker_idle_fraction']:.0f} % |"
                    f" {r['n_unique_archs']}/{r['n_complete']} | {r['load_avg_1min_before']:.1f} |"
                )
                lines.append(row)
        lines.append("")
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the reports."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=_int_list, default=[1, 2, 4, 8])
    p.add_argument("--budget", type=int, default=200, help="trials per run (default 200)")
    p.add_argument("--storages", default="postgresql,journal")
    p.add_argument("--modes", default="lookup,simulated")
    p.add_argument("--time-scale", type=float, default=5e-5, help="simulated mode (default 5e-5)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = p.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storages = [s.strip() for s in args.storages.split(",") if s.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    from predictor_nas.distributed import TemporaryPostgres
    from predictor_nas.tables import open_table

    table = open_table("nb201")
    cost = table.query_many(np.arange(len(table)), "train_time", dataset="cifar10")
    results: dict[str, Any] = {
        "command": shlex.join(["python", "benchmarks/distributed_throughput.py", *sys.argv[1:]]),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "revision": git_revision(),
        "machine": machine_info(),
        "budget": args.budget,
        "time_scale": args.time_scale,
        "mean_simulated_seconds": float(np.nanmean(cost)) * args.time_scale,
        "runs": {},
    }
    pg = TemporaryPostgres(durable=True).start() if "postgresql" in storages else None
    try:
        with tempfile.TemporaryDirectory(prefix="pnas-bench-") as tmp:
            work = Path(tmp)
            results["baseline"] = baseline(args.budget, work)
            for mode in modes:
                scale = 0.0 if mode == "lookup" else args.time_scale
                for storage in storages:
                    runs = []
                    for n in args.workers:
                        d = work / f"{mode}-{storage}-{n}"
                        d.mkdir()
                        spec = (
                            pg.create_database()
                            if storage == "postgresql"
                            else str(d / "study.journal")
                        )
                        r = run_one(spec, n, args.budget, scale, d, pg)
                        print(
                            f"{mode:9s} {storage:10s} workers={n}: {r['trials_per_s']:.1f} "
                            f"trials/s steady, wall {r['wall_s']:.1f} s, load "
                            f"{r['load_avg_1min_before']:.1f}",
                            file=sys.stderr,
                        )
                        runs.append(r)
                    results["runs"].setdefault(mode, {})[storage] = runs
    finally:
        if pg is not None:
            pg.stop()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "distributed_throughput.json").write_text(json.dumps(results, indent=2))
    write_markdown(results, out / "distributed_throughput.md")
    plot(results, out / "distributed_throughput.png")
    print(f"wrote {out}/distributed_throughput.{{json,md,png}}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
