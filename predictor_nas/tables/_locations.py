"""Where tables live: the embedded ones shipped in data/ and the user's import cache."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def embedded_dir() -> Path:
    """Folder of the tables shipped with the package.

    A wheel carries them in ``predictor_nas/_data``; a source checkout (editable install) reads the
    repository's ``data/``. ``PREDICTOR_NAS_DATA`` overrides both.
    """
    env = os.environ.get("PREDICTOR_NAS_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_data"
    if packaged.is_dir():
        return packaged
    return here.parent / "data"


def cache_dir() -> Path:
    """Folder of imported tables: ``PREDICTOR_NAS_CACHE`` or ``~/.cache/predictor_nas/tables``."""
    env = os.environ.get("PREDICTOR_NAS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "predictor_nas" / "tables"


def table_paths() -> dict[str, Path]:
    """Name -> path of every table found (cache entries shadow embedded ones of the same name)."""
    found: dict[str, Path] = {}
    for folder in (embedded_dir(), cache_dir()):
        try:
            if folder.is_dir():
                for p in sorted(folder.glob("*.h5")):
                    found[p.stem] = p
        except PermissionError:  # an unreadable cache holds no table we can open
            log.warning("Cannot read the table folder %s (permission denied); skipped.", folder)
    return found
