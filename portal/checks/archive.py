"""The package stage: an upload that should be a ZIP holding exactly one XML file (FORMATS §1.1 E9, §4.4 item 5).

Nothing is ever extracted to disk by name: the single entry is read as a stream,
and its inflated size is bounded while inflating, not only by what the central
directory declares (a zip bomb lies there).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
# Magic bytes of archives that must not hide inside the upload's archive.
_NESTED = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ")
_NESTED_SUFFIXES = (".zip", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".cab", ".arj", ".lzh")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_S_IFMT, _S_IFLNK, _S_IFREG = 0o170000, 0o120000, 0o100000


class ArchiveProblem(Exception):  # noqa: N818 - a reason, mapped to a format's code by the caller
    """Why the package is refused: kind is not_zip, entries, name, corrupt or too_big."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """Bounds on what one archive entry may inflate to."""

    max_uncompressed: int = 2 * 1024**3
    max_ratio: int = 200


def is_zip(head: bytes) -> bool:
    """Whether the first bytes of an upload are a ZIP's."""
    return head.startswith(ZIP_MAGIC) or head.startswith(EMPTY_ZIP_MAGIC)


def unsafe_name(name: str) -> bool:
    """Whether a file name carries a path, a drive, a parent reference or control characters."""
    return (not name or "/" in name or "\\" in name or ".." in name or ":" in name
            or bool(_CONTROL.search(name)) or len(name.encode("utf-8", "replace")) > 255)


def open_single_entry(fh: BinaryIO, limits: Limits, suffix: str = ".xml", strict_stem: bool = True
                      ) -> tuple[str, BinaryIO]:
    """The one regular file inside the ZIP `fh`, as a bounded stream, with its name.

    strict_stem: the main file name may hold only letters and digits (claims, APPEAL 五(一)).
    """
    head = fh.read(4)
    fh.seek(0)
    if not head.startswith(ZIP_MAGIC):
        raise ArchiveProblem("entries" if head.startswith(EMPTY_ZIP_MAGIC) else "not_zip")
    try:
        archive = zipfile.ZipFile(fh)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise ArchiveProblem("corrupt", str(exc)) from None
    info = _the_entry(infos, suffix, strict_stem)
    if info.flag_bits & 0x1:
        raise ArchiveProblem("corrupt", "encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ArchiveProblem("corrupt", f"method {info.compress_type}")
    if info.file_size > limits.max_uncompressed:
        raise ArchiveProblem("too_big", "declared size")
    if info.file_size > info.compress_size * limits.max_ratio + 4096:
        raise ArchiveProblem("too_big", "declared ratio")
    try:
        inner = archive.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise ArchiveProblem("corrupt", str(exc)) from None
    stream = BoundedEntry(inner, info, limits)
    if stream.peek(8).startswith(_NESTED):
        raise ArchiveProblem("entries", "nested archive")
    return info.filename, stream


def _the_entry(infos: list[zipfile.ZipInfo], suffix: str, strict_stem: bool) -> zipfile.ZipInfo:
    """Exactly one regular file with an acceptable name, or the reason there is not."""
    names = set()
    for info in infos:
        mode = info.external_attr >> 16
        if info.is_dir() or (mode & _S_IFMT) not in (0, _S_IFREG):
            raise ArchiveProblem("entries", "directory, link or special entry")
        if info.filename in names:
            raise ArchiveProblem("entries", "duplicate name")
        names.add(info.filename)
    if len(infos) != 1:
        raise ArchiveProblem("entries", f"{len(infos)} entries")
    info = infos[0]
    name = info.filename
    if unsafe_name(name):
        raise ArchiveProblem("name", "path or control characters")
    stem, dot, ext = name.rpartition(".")
    if name.lower().endswith(_NESTED_SUFFIXES):
        raise ArchiveProblem("entries", "nested archive")
    if suffix and (not dot or "." + ext.lower() != suffix):
        raise ArchiveProblem("entries", "not an XML file")
    if strict_stem and not re.fullmatch(r"[A-Za-z0-9]+", stem or name):
        raise ArchiveProblem("name", "main name not alphanumeric")
    return info


class BoundedEntry:
    """A read-only stream over one ZIP entry that refuses to inflate past the limits."""

    def __init__(self, inner, info: zipfile.ZipInfo, limits: Limits):
        self.inner = inner
        self.limit = min(limits.max_uncompressed, max(info.compress_size, 1) * limits.max_ratio + 4096)
        self.done = 0
        self._peeked = b""

    def peek(self, n: int) -> bytes:
        """The next n bytes without consuming them."""
        if len(self._peeked) < n:
            self._peeked += self._read(n - len(self._peeked))
        return self._peeked[:n]

    def read(self, n: int = -1) -> bytes:
        """Up to n inflated bytes (ArchiveProblem when the entry is corrupt or too large)."""
        if self._peeked:
            data, self._peeked = self._peeked, b""
            more = n - len(data) if n >= 0 else -1
            return data + self._read(more) if more else data
        return self._read(n)

    def _read(self, n: int) -> bytes:
        """Read from the entry, translating zipfile's and zlib's complaints."""
        try:
            data = self.inner.read(n)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise ArchiveProblem("corrupt", str(exc)) from None
        self.done += len(data)
        if self.done > self.limit:
            raise ArchiveProblem("too_big", "inflated beyond the limit")
        return data

    def close(self) -> None:
        """Release the entry."""
        self.inner.close()
