"""Write data/spaces/nas_bench_graph_keys.txt.gz, the architectures NAS-Bench-Graph lists.

Usage::

    pip download --no-deps nas-bench-graph==1.4.0 -d /tmp/nbg
    python scripts/build_nas_bench_graph_keys.py \
        --source /tmp/nbg/nas_bench_graph-1.4.0-py3-none-any.whl

The keys are the sorted union of the keys of the 9 ``light/<dataset>.bench`` files, read with the
importer's restricted unpickler (``predictor_nas.tables.importers._nas_bench_graph``). The file is
gzip with mtime 0, so rebuilding gives the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from predictor_nas.spaces._nas_bench_graph import KEY_FILE, write_key_file
from predictor_nas.tables.importers._nas_bench_graph import benchmark_keys

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Read the benchmark's keys from ``--source`` and write the key file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, help="the wheel, a folder holding it, or its files")
    ap.add_argument("--out", default=str(REPO / "data" / "spaces" / KEY_FILE))
    args = ap.parse_args(argv)
    keys = benchmark_keys(args.source)
    path = write_key_file(keys, args.out)
    sys.stdout.write(f"wrote {path}: {len(keys)} keys, {path.stat().st_size} bytes\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
