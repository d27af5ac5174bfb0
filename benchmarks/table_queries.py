"""Throughput of ``Table.query_many`` on a whole table vs in-process baselines.

Measured on all rows of a table (15,625 for the embedded ``nb201``), one metric of one dataset:

- ``query_many`` with an int-row array, with a list of ``Arch`` values and with a list of arch
  strings (the table's own strings);
- baseline 1: a Python loop of scalar ``Table.query`` calls on ``--loop-n`` ``Arch`` values;
- baseline 2: a plain numpy fancy index ``mean[rows]`` of the same mean-over-trials array.

Each case is warmed up once, then timed ``--repeats`` times; the report gives medians (and the
minimum) per call and per architecture, and ratios against both baselines. The cost of the first
call on a freshly opened table (which builds the row maps and the mean cache) is reported apart.

Writes ``<out>/table_queries.json`` and ``<out>/table_queries.md``::

    python benchmarks/table_queries.py
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import git_revision, machine_info


def time_calls(fn: Callable[[], Any], repeats: int) -> list[float]:
    """Seconds of ``repeats`` calls of ``fn`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def summary(times: list[float], n: int) -> dict[str, float]:
    """Median/min seconds per call, nanoseconds per arch and archs per second."""
    med = statistics.median(times)
    return {
        "n_archs": n,
        "repeats": len(times),
        "median_s": med,
        "min_s": min(times),
        "median_ns_per_arch": med / n * 1e9,
        "archs_per_s": n / med,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from predictor_nas.spaces import get_space
    from predictor_nas.tables import Table, open_table

    table = open_table(args.table)
    space = get_space(table.space)
    n = len(table)
    rows = np.arange(n, dtype=np.int64)
    archs = [space.parse(a) for a in table.archs]
    strings = list(table.archs)
    kw = dict(dataset=args.dataset, fidelity=args.fidelity)

    # First calls on a freshly opened table (row maps and mean cache are built lazily).
    fresh = Table(table.path)
    first: dict[str, float] = {}
    for name, inp in (("rows", rows), ("strings", strings), ("archs", archs)):
        t0 = time.perf_counter()
        fresh.query_many(inp, args.metric, **kw)
        first[name] = time.perf_counter() - t0

    mean = np.nanmean(table.values(args.metric, **kw), axis=1)
    expected = mean[rows]
    for inp in (rows, archs, strings):
        np.testing.assert_array_equal(table.query_many(inp, args.metric, **kw), expected)

    rng = np.random.default_rng(args.seed)
    loop_rows = rng.choice(n, size=min(args.loop_n, n), replace=False)
    loop_archs = [archs[i] for i in loop_rows]

    def scalar_loop() -> list[float]:
        return [table.query(a, args.metric, **kw) for a in loop_archs]

    assert np.array_equal(np.array(scalar_loop()), mean[loop_rows], equal_nan=True)

    cases = {
        "query_many_rows": (lambda: table.query_many(rows, args.metric, **kw), n),
        "query_many_archs": (lambda: table.query_many(archs, args.metric, **kw), n),
        "query_many_strings": (lambda: table.query_many(strings, args.metric, **kw), n),
        "baseline_scalar_query_loop": (scalar_loop, len(loop_archs)),
        "baseline_numpy_fancy_index": (lambda: mean[rows], n),
    }
    results = {}
    for name, (fn, count) in cases.items():
        reps = max(3, args.repeats // 5) if name == "baseline_scalar_query_loop" else args.repeats
        results[name] = summary(time_calls(fn, reps), count)

    loop_ns = results["baseline_scalar_query_loop"]["median_ns_per_arch"]
    numpy_ns = results["baseline_numpy_fancy_index"]["median_ns_per_arch"]
    ratios = {}
    for name in ("query_many_rows", "query_many_archs", "query_many_strings"):
        ns = results[name]["median_ns_per_arch"]
        ratios[name] = {
            "speedup_vs_scalar_loop": loop_ns / ns,
            "slowdown_vs_numpy_fancy_index": ns / numpy_ns,
        }
    return {
        "benchmark": "table_queries",
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "git_revision": git_revision(),
        "machine": machine_info("h5py"),
        "table": {
            "name": table.name,
            "content_hash": table.content_hash,
            "n_archs": n,
            "dataset": args.dataset,
            "metric": args.metric,
            "fidelity": args.fidelity,
        },
        "repeats": args.repeats,
        "first_call_on_fresh_table_s": first,
        "results": results,
        "ratios": ratios,
    }


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def to_markdown(rep: dict[str, Any]) -> str:
    m, t = rep["machine"], rep["table"]
    lines = [
        "# Table.query_many throughput",
        "",
        f"Table `{t['name']}` ({t['n_archs']:,} archs, {t['content_hash'][:19]}...), "
        f"`{t['dataset']}/{t['metric']}`, mean over trials at the "
        f"{'highest' if t['fidelity'] is None else t['fidelity']} fidelity. "
        f"Medians over {rep['repeats']} timed calls after one warm-up "
        "(the scalar loop: fewer repeats).",
        "",
        "| case | archs/call | median/call | min/call | ns/arch | archs/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rep["results"].items():
        lines.append(
            f"| {name} | {r['n_archs']:,} | {fmt_time(r['median_s'])} | {fmt_time(r['min_s'])} "
            f"| {r['median_ns_per_arch']:,.1f} | {r['archs_per_s']:,.0f} |"
        )
    lines += [
        "",
        "| query_many input | speed-up vs scalar query loop | cost vs numpy fancy index |",
        "|---|---:|---:|",
    ]
    for name, r in rep["ratios"].items():
        lines.append(
            f"| {name.removeprefix('query_many_')} | {r['speedup_vs_scalar_loop']:,.0f}x "
            f"| {r['slowdown_vs_numpy_fancy_index']:,.1f}x |"
        )
    first = ", ".join(f"{k} {fmt_time(v)}" for k, v in rep["first_call_on_fresh_table_s"].items())
    lines += [
        "",
        f"First calls on a freshly opened table (build row maps / mean cache, in order): {first}.",
        "",
        f"- command: `{rep['command']}`",
        f"- git revision: {rep['git_revision']}; date {rep['date']}",
        f"- machine: {m['platform']}; {m['cpu']}; cpu_count {m['cpu_count']} "
        f"(usable {m['cpus_usable']}); Python {m['python']}, numpy {m['numpy']}, "
        f"h5py {m['h5py']}",
        "",
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--table", default="nb201", help="table name or file")
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--metric", default="val_acc")
    p.add_argument("--fidelity", type=int, default=None, help="epochs; default the highest")
    p.add_argument("--repeats", type=int, default=100, help="timed calls per case")
    p.add_argument("--loop-n", type=int, default=1000, help="archs in the scalar-query loop")
    p.add_argument("--seed", type=int, default=0, help="seed choosing the scalar-loop archs")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table_queries.json").write_text(json.dumps(rep, indent=2) + "\n")
    md = to_markdown(rep)
    (args.out / "table_queries.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
