"""Finding and reading an importer's source file (shared by the benchmark importers)."""

from __future__ import annotations

import json
import os
from os import PathLike
from pathlib import Path
from typing import Any

from predictor_nas.exceptions import TableFormatError, TableNotFoundError


def source_file(source: str | PathLike, file_name: str, table: str, example: str) -> Path:
    """``source`` itself if it is a file, else ``source / file_name``.

    Raises:
        TableNotFoundError: Neither exists; the message names the table, the file expected and
            an example folder.
    """
    src = Path(os.fspath(source)).expanduser()
    path = src if src.is_file() else src / file_name
    if not path.is_file():
        raise TableNotFoundError(
            f"Cannot import {table!r} from {os.fspath(source)!r}: no {file_name} there. "
            f"Expected the folder holding it (e.g. {example}) or the file."
        )
    return path


def read_json(path: Path) -> Any:
    """The parsed JSON of ``path``; ``TableFormatError`` naming the file if it is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TableFormatError(f"{os.fspath(path)!r} is not valid JSON: {exc}") from exc
