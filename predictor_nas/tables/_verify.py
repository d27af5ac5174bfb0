"""``verify_table``: open a table with every check, including the slow per-row ones."""

from __future__ import annotations

import os
from typing import Any

from predictor_nas.exceptions import PredictorNASError, TableFormatError
from predictor_nas.spaces import available_spaces, get_space
from predictor_nas.tables._reader import Table


def verify_table(path: str | os.PathLike) -> Any:
    """Open a table with every check, including those too slow for each open; return it.

    Opening (``Table``) checks the file digest, the content hash and the schema. This also parses
    every row in the table's search space and requires it to be that space's standard string of a
    distinct architecture (NB201: 0.4 s for 15,625 rows, about 4x the cost of opening, so it is
    done here and by ``predictor-nas tables verify``, not on every open).

    Args:
        path: The table file.

    Returns:
        The opened ``Table``.

    Raises:
        TableNotFoundError: no file at ``path``.
        TableCorruptedError: a checksum or content-hash mismatch.
        TableFormatError: a schema violation, an unknown space, or a row that is not the
            standard string of a distinct architecture; the message names the file and the row.
    """
    table = Table(path)

    def fail(problem: str) -> TableFormatError:
        return TableFormatError(
            f"Table file {table.path!r} does not follow the table schema: {problem}. Rebuild or "
            "re-import the table."
        )

    if table.space not in available_spaces():
        raise fail(
            f"root attribute 'space' is {table.space!r}, not a known space "
            f"({', '.join(available_spaces())})"
        )
    space = get_space(table.space)
    seen: dict[Any, int] = {}
    for row, text in enumerate(table.archs):
        try:
            arch = space.parse(text)
        except PredictorNASError as exc:
            raise fail(
                f"/archs row {row} {text!r} is not a {table.space} architecture ({exc})"
            ) from None
        standard = space.format(arch)
        if standard != text:
            raise fail(
                f"/archs row {row} {text!r} is not the standard string of its architecture "
                f"({standard!r})"
            )
        if arch.ops in seen:
            raise fail(f"/archs rows {seen[arch.ops]} and {row} are the same architecture")
        seen[arch.ops] = row
    return table
