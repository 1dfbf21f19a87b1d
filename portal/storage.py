"""File storage behind one small interface; local disk by default.

Files are kept under generated keys, never under a name a user chose. Writes
stream in chunks to a temporary file and are renamed into place, so a reader
never sees half a file and a crash leaves no corrupt blob behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
_KEY = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_-]+)*(\.[a-z0-9]+)?$")


@dataclass(frozen=True)
class Blob:
    """What a write produced: its key, size and SHA-256."""

    key: str
    size: int
    sha256: str


class StorageError(OSError):
    """A key that cannot name a stored file."""


class LocalStorage:
    """Blobs as files under one root folder."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def new_key(self, prefix: str, extension: str = "") -> str:
        """A fresh key like 'downloads/2026/11/3f2a….pdf'."""
        now = datetime.now(UTC)
        ext = "." + extension.lower() if extension else ""
        return f"{prefix}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}{ext}"

    def path(self, key: str) -> Path:
        """The file behind a key (validated: no traversal, no odd characters)."""
        if not _KEY.match(key) or ".." in key:
            raise StorageError(f"invalid storage key {key!r}")
        return self.root / key

    def write(self, key: str, source: BinaryIO | bytes) -> Blob:
        """Store bytes or a readable stream under key, replacing any previous blob."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        digest, size = hashlib.sha256(), 0
        try:
            with open(tmp, "wb") as out:
                for chunk in _chunks(source):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return Blob(key, size, digest.hexdigest())

    @contextmanager
    def writing(self, key: str):
        """A temporary path to write key's blob to (e.g. by a ZIP writer that needs to seek).

        On success the file is synced and renamed into place; on any error it is
        removed, so a reader never sees a half-written blob.
        """
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            yield tmp
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under key."""
        return self.path(key).is_file()

    def open(self, key: str) -> BinaryIO:
        """Open a stored blob for reading."""
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        """Remove a blob if present."""
        self.path(key).unlink(missing_ok=True)


def _chunks(source: BinaryIO | bytes):
    """Yield a bytes object whole, or a stream in CHUNK-sized pieces."""
    if isinstance(source, (bytes, bytearray)):
        yield bytes(source)
        return
    while chunk := source.read(CHUNK):
        yield chunk


def storage_for(config: dict) -> LocalStorage:
    """The storage backend the configuration asks for."""
    return LocalStorage(config["STORAGE_DIR"])
