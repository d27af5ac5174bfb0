"""Checksums of table files: the whole-file digest in the HDF5 user block and the content hash."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np

from predictor_nas.exceptions import TableCorruptedError, TableFormatError
from predictor_nas.tables._schema import MAGIC, USERBLOCK_SIZE

_HEADER_PREFIX = MAGIC + b" sha256:"


def _digest_after_userblock(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(USERBLOCK_SIZE)
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def seal_file(path: str | os.PathLike) -> str:
    """Write the SHA-256 of everything after the user block into the user block; return it."""
    digest = _digest_after_userblock(path)
    header = _HEADER_PREFIX + digest.encode("ascii") + b"\n"
    with open(path, "r+b") as f:
        f.write(header.ljust(USERBLOCK_SIZE, b"\0"))
    return digest


def check_file(path: str | os.PathLike) -> str:
    """Verify the user-block digest of a table file; return the digest.

    Raises:
        TableFormatError: the file has no predictor_nas header (not a table, or another format).
        TableCorruptedError: the stored digest does not match the bytes (flipped bytes, truncation).
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(USERBLOCK_SIZE)
    if len(head) < USERBLOCK_SIZE and not head.startswith(MAGIC):
        raise TableFormatError(
            f"{os.fspath(path)!r} is not a predictor_nas table: it is only {size} bytes long."
        )
    if not head.startswith(MAGIC):
        if head.startswith(b"\x89HDF"):
            raise TableFormatError(
                f"{os.fspath(path)!r} is a plain HDF5 file, not a predictor_nas table; convert it "
                "with an importer (see `predictor-nas tables --help`)."
            )
        raise TableCorruptedError(
            f"Table file {os.fspath(path)!r} is corrupted: its header does not start with "
            f"{MAGIC.decode()!r}. Rebuild or re-import the table."
        )
    if len(head) < USERBLOCK_SIZE:
        raise TableCorruptedError(
            f"Table file {os.fspath(path)!r} is corrupted: truncated to {size} bytes. Rebuild or "
            "re-import the table."
        )
    if not head.startswith(_HEADER_PREFIX):
        raise TableCorruptedError(f"Table file {os.fspath(path)!r} is corrupted: damaged header.")
    stored = head[len(_HEADER_PREFIX) : len(_HEADER_PREFIX) + 64].decode("ascii", "replace")
    actual = _digest_after_userblock(path)
    expected_head = (_HEADER_PREFIX + stored.encode("ascii", "replace") + b"\n").ljust(
        USERBLOCK_SIZE, b"\0"
    )
    if head != expected_head:
        raise TableCorruptedError(
            f"Table file {os.fspath(path)!r} is corrupted: bytes in its 512-byte header were "
            "changed. Rebuild or re-import the table; nothing was read from it."
        )
    if stored != actual:
        raise TableCorruptedError(
            f"Table file {os.fspath(path)!r} is corrupted: its SHA-256 is {actual[:16]}... but the "
            f"file records {stored[:16]}... (bytes were changed or the file was truncated; "
            f"{size} bytes on disk). Rebuild or re-import the table; nothing was read from it."
        )
    return actual


def _canon_attr(value: Any) -> bytes:
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return b"A" + value.dtype.str.encode() + repr(value.shape).encode() + value.tobytes()
    if isinstance(value, np.generic):
        value = value.item()
    return b"V" + repr((type(value).__name__, value)).encode("utf-8")


def content_hash(tree: dict[str, tuple[dict[str, Any], np.ndarray | None]]) -> str:
    """SHA-256 over a table's logical content.

    Args:
        tree: path -> (attrs, data) for every group (data ``None``) and dataset in the file. The
            root's ``content_hash`` attribute is ignored.

    Returns:
        ``"sha256:<hex>"``.
    """
    h = hashlib.sha256()
    for path in sorted(tree):
        attrs, data = tree[path]
        h.update(b"P" + path.encode("utf-8") + b"\0")
        for key in sorted(attrs):
            if path == "/" and key == "content_hash":
                continue
            h.update(b"K" + key.encode("utf-8") + b"\0" + _canon_attr(attrs[key]))
        if data is not None:
            arr = np.ascontiguousarray(data)
            h.update(b"D" + arr.dtype.str.encode() + repr(arr.shape).encode() + arr.tobytes())
    return "sha256:" + h.hexdigest()
