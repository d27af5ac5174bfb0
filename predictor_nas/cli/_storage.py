"""``predictor-nas storage``: check and repair study storages (journal files)."""

from __future__ import annotations

import argparse
from typing import Any

from predictor_nas.cli._options import _command
from predictor_nas.cli._render import _out
from predictor_nas.search import repair_journal


def _cmd_storage_repair(args: argparse.Namespace) -> int:
    r = repair_journal(args.file)
    if not r.moved_bytes:
        _out(f"{r.path} is intact: {r.kept_records} records, {r.kept_bytes} bytes; nothing to do")
        return 0
    _out(f"{r.path}: {r.problem}")
    _out(f"kept {r.kept_records} intact records (bytes 0-{r.kept_bytes})")
    _out(f"moved {r.moved_bytes} bytes (from byte offset {r.kept_bytes} on) to {r.backup}")
    _out("rerun the same command to resume the study")
    return 0


def register(sub: Any) -> None:
    """Add the ``storage`` subcommand and its actions."""
    _add_storage_parser(sub)


def _add_storage_parser(sub: Any) -> None:
    st = sub.add_parser("storage", help="check and repair study storages (journal files)")
    stsub = st.add_subparsers(dest="storage_command", required=True, metavar="ACTION")
    sr = stsub.add_parser(
        "repair",
        help="keep the intact records of a damaged journal, move the rest to a backup file",
        description="Keep the longest prefix of complete journal records and move everything "
        "from the first torn or garbled byte on to FILE.damaged-<time> next to it (nothing is "
        "deleted). An intact journal is left as it is.",
    )
    sr.add_argument("file", metavar="FILE", help="the journal file")
    _command(sr, _cmd_storage_repair)
