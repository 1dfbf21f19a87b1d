"""ZIP packages of institution files (SPEC D2): plain or AES-256, built by the worker.

A package holds each file and its 資料說明檔; 加密下載 uses the downloading
person's national ID, first letter upper-case, as the password. Packages are
cached under a hash of everything that goes in, written in chunks (memory
stays flat for any size) to a temporary file that only becomes the package
once complete, so a crash or a full disk never leaves a half ZIP to serve.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyzipper
from peewee import IntegrityError

from portal import jobqueue
from portal.db import write_transaction
from portal.logic.roc_dates import roc_datetime, to_taipei
from portal.models.authority import Person
from portal.models.base import utcnow
from portal.models.institution_files import InstitutionFile, Package
from portal.models.jobs import ACTIVE_STATES, Job

CHUNK = 1024 * 1024
# Already-compressed formats gain nothing from deflate; storing them is ~3.5x faster (TOOLING.md §7).
STORED_EXTENSIONS = {"pdf", "zip", "gz", "7z", "rar", "png", "jpg", "jpeg", "docx", "xlsx", "odt", "ods"}
MODES = {"plain": "一般下載", "aes": "加密下載"}
MANIFEST = "manifest.csv"
DISK_FULL_MESSAGE = "伺服器儲存空間暫時不足，檔案無法打包，請稍後再試；已存檔案不受影響。"


@dataclass(frozen=True)
class Member:
    """One entry of a package: its name inside the ZIP and the stored blob behind it."""

    arcname: str
    key: str
    sha256: str
    size: int


def safe_arcname(name: str) -> str:
    """A name that stays one entry at the ZIP's top level (no folders, drive letters or control bytes)."""
    cleaned = re.sub(r"[\x00-\x1f\x7f/\\:]+", "_", name or "").strip(" .")
    return cleaned or "file"


def members_of(rows: list[InstitutionFile]) -> list[Member]:
    """Each file then its 資料說明檔, with clashing names numbered (seed lists repeat names)."""
    members, taken = [], set()
    for row in rows:
        for stored in filter(None, (row.stored_file, row.description_file)):
            name = _unique(safe_arcname(stored.name), taken)
            members.append(Member(name, stored.key, stored.sha256, stored.size))
    return members


def _unique(name: str, taken: set) -> str:
    """name, or 'stem (2).ext' … when an earlier entry has it."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in taken or candidate == MANIFEST:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    taken.add(candidate.lower())
    return candidate


def package_key(mode: str, person_id: int | None, rows: list[InstitutionFile], bulk: bool) -> str:
    """Cache key: what goes in (content hashes, names, windows for a manifest), the mode and whose ID."""
    parts = [mode, str(person_id if mode != "plain" else ""), "bulk" if bulk else "single"]
    for row in rows:
        parts += [str(row.id), row.stored_file.sha256, row.stored_file.name,
                  row.description_file.sha256 if row.description_file else "",
                  row.available_from.isoformat() if bulk else ""]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def password_for(person: Person) -> bytes:
    """The national ID with its first letter upper-case (seed 003 參四)."""
    value = person.national_id.strip()
    return (value[:1].upper() + value[1:]).encode("ascii")


def manifest_csv(rows: list[InstitutionFile], members: list[Member], keep: timedelta) -> bytes:
    """manifest.csv of a bulk package (UTF-8 with BOM so Excel reads the Chinese)."""
    by_key = {m.key: m.arcname for m in members}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序號", "檔案名稱", "ZIP內檔名", "資料說明", "提供下載日期(民國)", "提供下載日期(ISO)",
                     "SHA-256", "下載期限(民國)", "下載期限(ISO)"])
    for n, row in enumerate(rows, 1):
        expires = row.available_from + keep
        writer.writerow([n, row.name, by_key[row.stored_file.key], row.description,
                         roc_datetime(row.available_from), _iso(row.available_from), row.stored_file.sha256,
                         roc_datetime(expires), _iso(expires)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _iso(moment: datetime) -> str:
    """ISO 8601 in Taipei time with its offset."""
    return to_taipei(moment).isoformat(timespec="seconds")


def write_zip(path, members: list[Member], storage, password: bytes | None, extra: dict | None = None,
              progress=None) -> None:
    """Write the ZIP to path, streaming each blob in CHUNK pieces; AES-256 when a password is given."""
    options = {"encryption": pyzipper.WZ_AES} if password else {}
    with open(path, "wb") as fh:
        zf = pyzipper.AESZipFile(fh, "w", compression=pyzipper.ZIP_DEFLATED, **options)
        try:
            _fill(zf, members, storage, password, extra or {}, progress)
        except BaseException:
            # Abandon the half-written archive (the caller removes the file): closing it would
            # write a central directory to a full disk, or raise again over the open member.
            zf.fp = None
            raise
        zf.close()


def _fill(zf, members: list[Member], storage, password: bytes | None, extra: dict, progress) -> None:
    """Add each member in CHUNK pieces, then the extra entries (manifest.csv)."""
    if password:
        zf.setpassword(password)
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
    total = sum(m.size for m in members) or 1
    done = 0
    now = to_taipei(utcnow()).timetuple()[:6]
    for member in members:
        info = zf.zipinfo_cls(member.arcname, date_time=now)
        info.compress_type = _method(member.arcname)
        info.external_attr = 0o644 << 16
        with storage.open(member.key) as src, zf.open(info, "w", force_zip64=member.size > 2**31) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    for name, data in extra.items():
        info = zf.zipinfo_cls(name, date_time=now)
        info.compress_type = pyzipper.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        zf.writestr(info, data)


def _method(name: str) -> int:
    """Stored for already-compressed formats, deflate otherwise."""
    ext = name.rpartition(".")[2].lower()
    return pyzipper.ZIP_STORED if ext in STORED_EXTENSIONS else pyzipper.ZIP_DEFLATED


def build(package: Package, storage, keep: timedelta, progress=None) -> Package:
    """Build (or confirm) a package; idempotent, so a retried job just finishes the work.

    A full disk marks the package failed with a zh-TW message and leaves no file.
    """
    if package.state == "ready" and package.storage_key and storage.exists(package.storage_key):
        return package
    ids = package.ids
    by_id = {r.id: r for r in InstitutionFile.select().where(InstitutionFile.id.in_(ids))}
    rows = [by_id[i] for i in ids if i in by_id]
    members = members_of(rows)
    password = password_for(package.person) if package.mode == "aes" else None
    extra = {MANIFEST: manifest_csv(rows, members, keep)} if package.bulk else {}
    key = storage.new_key("packages", "zip")
    try:
        with storage.writing(key) as tmp:
            write_zip(tmp, members, storage, password, extra, progress)
    except (OSError, ValueError) as exc:
        if not _disk_full(exc):
            raise
        _update(package, state="failed", message=DISK_FULL_MESSAGE)
        return package
    size, digest = _digest(storage.path(key))
    _update(package, state="ready", storage_key=key, size=size, sha256=digest, built_at=utcnow(), message="")
    return package


def _disk_full(exc: BaseException | None) -> bool:
    """Whether a full disk (or quota) caused this error, even when closing the ZIP raised a later one."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _digest(path) -> tuple[int, str]:
    """Size and SHA-256 of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _update(package: Package, **changes) -> None:
    """Write changes to the row and the object."""
    Package.update(**changes).where(Package.id == package.id).execute()
    for key, value in changes.items():
        setattr(package, key, value)


def prune(storage, now: datetime, keep_for: timedelta) -> int:
    """Remove packages unused for keep_for, and temporary files a killed worker left behind."""
    removed = 0
    for package in Package.select().where(Package.used_at < now - keep_for):
        if package.storage_key:
            storage.delete(package.storage_key)
        package.delete_instance()
        removed += 1
    root = storage.root / "packages"
    if root.is_dir():
        cutoff = time.time() - 3600  # older than any build still running
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                if name.endswith(".part") and os.path.getmtime(path) < cutoff:
                    os.unlink(path)
    return removed



def order(config, storage, rows: list[InstitutionFile], mode: str, person: Person | None, institution_id: int,
          bulk: bool, name: str) -> Package:
    """The package for these files: the cached one if built, else a row and a worker job building it."""
    key = package_key(mode, person.id if person else None, rows, bulk)
    now = utcnow()
    package = Package.get_or_none(Package.key == key)
    if package is not None and package.state == "ready" and storage.exists(package.storage_key or ""):
        _update(package, used_at=now)
        return package
    if package is not None and package.state == "building" and _job_active(package.job_id):
        return package
    with write_transaction():
        if package is None:
            try:
                with write_transaction():
                    package = Package.create(key=key, mode=mode, institution=institution_id, person=person,
                                             file_ids=json.dumps([r.id for r in rows]), bulk=bulk, name=name,
                                             used_at=now)
            except IntegrityError:  # another request created it a moment ago
                return Package.get(Package.key == key)
        job = jobqueue.enqueue(config, "jobs.files.build_package", package.id, kind="package",
                               owner_id=person.id if person else None, institution_id=institution_id)
        _update(package, state="building", job_id=job.id, message="", used_at=now)
    return package


def _job_active(job_id: int | None) -> bool:
    """Whether the package's job may still finish (queued, running or about to be retried)."""
    job = Job.get_or_none(Job.id == job_id) if job_id else None
    return job is not None and job.state in ACTIVE_STATES
