"""``predictor-nas tables``: list, describe, verify and import benchmark tables."""

from __future__ import annotations

import argparse
import os
from typing import Any

from predictor_nas._paths import check_output_file
from predictor_nas.cli._options import _add_json, _command
from predictor_nas.cli._render import _err, _out, _out_json
from predictor_nas.exceptions import InvalidParameterError, PredictorNASError
from predictor_nas.tables import (
    DEFAULT_TABLE,
    cache_dir,
    embedded_dir,
    importers,
    open_table,
    table_paths,
    verify_table,
)
from predictor_nas.tables.importers import import_file


# --------------------------------------------------------------------------- tables
def _cmd_tables_list(args: argparse.Namespace) -> int:
    items: list[dict[str, Any]] = []
    for name, path in table_paths().items():
        entry: dict[str, Any] = {"name": name, "path": str(path)}
        try:
            t = open_table(path)
            entry.update(space=t.space, n_archs=len(t), datasets=t.datasets, ok=True)
        except PredictorNASError as exc:
            entry.update(ok=False, error=str(exc))
        items.append(entry)
    if args.json:
        _out_json({"tables": items})
        return 0
    if not items:
        _out(f"No tables found in {embedded_dir()} or {cache_dir()}.")
    for e in items:
        if e["ok"]:
            _out(
                f"{e['name']:<12} {e['space']:<7} {e['n_archs']:>6} archs  "
                f"{', '.join(e['datasets'])}  ({e['path']})"
            )
        else:
            _out(f"{e['name']:<12} DAMAGED: {e['error']}")
    return 0


def _cmd_tables_info(args: argparse.Namespace) -> int:
    info = open_table(args.table).info()
    if args.json:
        _out_json(info)
        return 0
    for key in ("name", "path", "space", "n_archs", "content_hash", "license", "source"):
        _out(f"{key:<13} {info[key]}")
    _out(f"{'description':<13} {info['description']}")
    for ds, metrics in info["datasets"].items():
        _out(f"dataset {ds}:")
        for m, mi in metrics.items():
            seeds = ", ".join(
                f"{f} ep: {n}" + ("" if mi["per_seed"][f] else " (mean)")
                for f, n in mi["n_seeds"].items()
            )
            curve = ", curves" if mi["has_curve"] else ""
            _out(
                f"  {m:<12} [{mi['unit']}] {'max' if mi['higher_is_better'] else 'min'}  "
                f"fidelities/seeds: {seeds}{curve}"
            )
    return 0


def _cmd_tables_verify(args: argparse.Namespace) -> int:
    targets = args.tables or list(table_paths())
    if not targets:
        _err("No tables to verify.")
        return 1
    for t in targets:  # a name that is no table is a usage error (exit 2), not a failed check
        if t not in table_paths() and not os.path.isfile(t):
            open_table(t)  # raises TableNotFoundError naming the known tables
    bad = 0
    for t in targets:
        path = table_paths().get(t, t)
        try:
            table = verify_table(path)
            _out(f"OK       {t}  {table.content_hash}")
        except PredictorNASError as exc:
            bad += 1
            _out(f"FAILED   {t}  {exc}")
    return 1 if bad else 0


def _cmd_tables_import(args: argparse.Namespace) -> int:
    file_only = ("space", "name", "metric", "dataset", "dataset_column", "fidelity")
    if args.kind == "file":
        missing = [f"--{k}" for k in ("space", "name", "metric") if not getattr(args, k)]
        if missing:
            raise InvalidParameterError(
                f"`tables import file` needs {', '.join(missing)} (see --help)."
            )
        path, chash = import_file(
            args.source,
            fmt=args.format,
            space=args.space,
            name=args.name,
            metrics=args.metric,
            arch_column=args.arch_column,
            dataset=args.dataset if args.dataset_column is None else None,
            dataset_column=args.dataset_column,
            fidelity=args.fidelity,
            fidelity_column=args.fidelity_column,
            seed_column=args.seed_column,
            cost_column=args.cost_column,
            curves=args.curve or (),
            out=args.out,
            overwrite=args.overwrite,
            progress=True,
        )
        _out(f"wrote {path}\ncontent hash {chash}")
        return 0
    extra = [f"--{k.replace('_', '-')}" for k in file_only if getattr(args, k, None)]
    if extra:
        raise InvalidParameterError(
            f"{', '.join(extra)} only apply to `tables import file`, not to {args.kind!r}."
        )
    importer = importers.IMPORTERS[args.kind]
    if args.out is not None:
        check_output_file(args.out, "--out", "tables import")
    path, chash = importer(args.source, out=args.out, overwrite=args.overwrite, progress=True)
    _out(f"wrote {path}\ncontent hash {chash}")
    return 0


def register(sub: Any) -> None:
    """Add the ``tables`` subcommand and its actions."""

    t = sub.add_parser("tables", help="list, describe, verify and import benchmark tables")
    tsub = t.add_subparsers(dest="tables_command", required=True, metavar="ACTION")
    tl = tsub.add_parser("list", help="tables found (embedded and imported)")
    _add_json(tl)
    _command(tl, _cmd_tables_list)
    ti = tsub.add_parser("info", help="datasets, metrics, fidelities and seeds of a table")
    ti.add_argument("table", nargs="?", default=DEFAULT_TABLE)
    _add_json(ti)
    _command(ti, _cmd_tables_info)
    tv = tsub.add_parser(
        "verify", help="check file checksums, content hashes, the schema and every arch string"
    )
    tv.add_argument("tables", nargs="*", help="names or paths (default: all known tables)")
    _command(tv, _cmd_tables_verify)
    _add_import_parser(tsub)


def _add_import_parser(tsub: Any) -> None:
    """``tables import KIND``: the registered importers and ``file`` (a user's own file)."""
    tim = tsub.add_parser("import", help="import richer benchmark data into the table cache")
    tim.add_argument(
        "kind",
        choices=["file", *importers.IMPORTERS],
        help="what to import: 'file' = your own CSV / JSON / JSON-lines / Parquet file",
    )
    tim.add_argument("--source", required=True, help="folder holding the source files")
    tfile = tim.add_argument_group("file", "options of `tables import file`")
    tfile.add_argument("--space", default=None, help="space name or .yaml declaration")
    tfile.add_argument("--name", default=None, help="table name (file <name>.h5 in the cache)")
    tfile.add_argument(
        "--metric",
        action="append",
        metavar="NAME[=COLUMN]:max|min[:UNIT][@EPOCHS]",
        help="a metric column (repeat), e.g. val_acc:max:%% or params:min:M@0",
    )
    tfile.add_argument("--arch-column", default="arch", help="column of arch strings (arch)")
    tfile.add_argument("--dataset", default=None, help="fixed dataset name of every row")
    tfile.add_argument("--dataset-column", default=None, help="column naming each row's dataset")
    tfile.add_argument("--fidelity", type=int, default=None, help="training epochs of the values")
    tfile.add_argument("--fidelity-column", default=None, help="column of the epochs per row")
    tfile.add_argument("--seed-column", default=None, help="column of the training seed")
    tfile.add_argument(
        "--cost-column", default=None, help="column of training seconds (-> train_time)"
    )
    tfile.add_argument(
        "--curve", action="append", metavar="NAME[=COLUMN]", help="a column of per-epoch lists"
    )
    tfile.add_argument(
        "--format",
        default=None,
        choices=list(importers.FORMATS),
        help="file format (default: from the suffix)",
    )
    tim.add_argument("--out", default=None, help="output file (default: the table cache)")
    tim.add_argument("--overwrite", action="store_true", help="replace an existing table")
    _command(tim, _cmd_tables_import)
