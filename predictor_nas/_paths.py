"""Up-front checks of output paths, so that a bad path fails in one line before any work.

Nothing is created here: a folder that does not exist yet passes if its nearest existing
ancestor is a writable folder (the command creates it when it writes).
"""

from __future__ import annotations

import os
from pathlib import Path

from predictor_nas.exceptions import InvalidParameterError


def _problem_with_parent(path: Path) -> str | None:
    """Why files cannot be created under ``path`` (a folder that may not exist), or None."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return f"no part of {str(path)!r} exists"
        if probe.is_symlink():
            return f"{str(probe)!r} is a broken link"
        probe = probe.parent
    if not probe.is_dir():
        return f"{str(probe)!r} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"the folder {str(probe)!r} is not writable"
    return None


def _error(
    option: str, command: str, allowed: str, path: object, why: str
) -> InvalidParameterError:
    return InvalidParameterError(
        f"The {option!r} option of {command} must be {allowed}. Got {str(path)!r} instead ({why})."
    )


def check_output_dir(path: str | os.PathLike[str], option: str, command: str) -> Path:
    """Check that ``path`` is a writable folder or can be created as one.

    Args:
        path: The folder the command will write into.
        option: The option's name for the message, e.g. ``"--out"``.
        command: The command's name for the message, e.g. ``"compare"``.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        InvalidParameterError: ``path`` is a file, lies under a file, or is not writable.
    """
    p = Path(os.fspath(path)).expanduser()
    allowed = "a folder that exists or can be created, and is writable"
    if not str(path).strip():
        raise _error(option, command, allowed, path, "empty")
    if p.exists() and not p.is_dir():
        raise _error(option, command, allowed, path, "it is a file")
    why = _problem_with_parent(p)
    if why is not None:
        raise _error(option, command, allowed, path, why)
    return p


def check_output_file(path: str | os.PathLike[str], option: str, command: str) -> Path:
    """Check that a file can be written at ``path`` (its folder may be created).

    Args:
        path: The file the command will write.
        option: The option's name for the message, e.g. ``"--plot"``.
        command: The command's name for the message.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        InvalidParameterError: ``path`` is a folder (or ends in a separator), its folder lies
            under a file or is not writable, or the file exists and is read-only.
    """
    text = os.fspath(path)
    p = Path(text).expanduser()
    allowed = "a file path in a folder that exists or can be created, and is writable"
    if not str(text).strip():
        raise _error(option, command, allowed, path, "empty")
    if p.is_dir() or str(text).endswith(("/", os.sep)):
        raise _error(option, command, allowed, path, "it is a folder")
    if p.exists() and not os.access(p, os.W_OK):
        raise _error(option, command, allowed, path, "the file is read-only")
    why = _problem_with_parent(p.parent if str(p.parent) else Path("."))
    if why is not None:
        raise _error(option, command, allowed, path, why)
    return p
