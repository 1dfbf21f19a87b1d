"""Receiving uploads and running their checks (SPEC U1–U4); no Flask here.

An upload is streamed to storage under a generated key, recorded, and handed to
a job through the outbox, so an upload accepted while Redis is down is checked
when it returns. Inside the maintenance window (05:00–08:00 by default) the job
waits in the outbox until the window ends.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import BinaryIO

from peewee import IntegrityError

from portal import jobqueue
from portal.checks import archive
from portal.checks.claims import ClaimsForm, check_claims
from portal.checks.fields import roc_datetime
from portal.checks.ic import IcForm, RecKey, check_ic
from portal.checks.outcome import Outcome, Spool
from portal.checks.report import ReportMeta, claims_text, findings_csv, ic_text
from portal.db import database, write_transaction
from portal.logic import audit, institution_files
from portal.logic.audit import Actor
from portal.logic.roc_dates import taipei_to_utc, to_taipei
from portal.models.base import utcnow
from portal.models.files import StoredFile
from portal.models.jobs import Job
from portal.models.uploads import ClaimCase, IcRecord, Upload

CHUNK = 1024 * 1024
ON_TIME = timedelta(hours=24)  # daily uploads must reach NHIA within 24 hours of the visit (FORMATS §3.1)
RECEIPT_PREFIX = {"claims": "A", "ic": "I", "ic_precheck": "P"}
SERVICE = {"claims": "RWP", "ic": "IPA", "ic_precheck": "IPA"}
# InstitutionFile.category of each kind's reports (A.02.03 lists "precheck")
REPORT_CATEGORY = {"claims": "precheck", "ic": "ic_result", "ic_precheck": "ic_precheck"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TooLarge(Exception):  # noqa: N818 - reads as "raise TooLarge"
    """The upload is over the configured size."""


@dataclass(frozen=True)
class Sender:
    """Who uploads: the institution, the person (web) or the security module (HIS API)."""

    institution_id: int
    institution_code: str
    person_id: int | None = None
    actor: Actor | None = None
    module_no: str = ""


# -- names, sizes, the window ---------------------------------------------------------------------------

def name_problem(name: str) -> str | None:
    """A zh-TW reason to refuse an uploaded file's name (path separators or control characters)."""
    if "/" in name or "\\" in name or _CONTROL.search(name) or ".." in name:
        return "檔案名稱不可包含路徑或控制字元，請更名後重新上傳。"
    if len(name) > 200:
        return "檔案名稱過長（上限 200 字），請更名後重新上傳。"
    return None


def display_name(name: str) -> str:
    """A name safe to show: normalized, without path or control characters, at most 100 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    return _CONTROL.sub("", name)[:100] or "（未命名）"


def max_bytes(config, kind: str) -> int:
    """The size limit of an upload kind."""
    return config["CLAIMS_UPLOAD_MAX_BYTES"] if kind == "claims" else config["IC_UPLOAD_MAX_BYTES"]


def limits(config) -> archive.Limits:
    """Archive limits from the settings."""
    return archive.Limits(config["CHECK_MAX_UNCOMPRESSED_BYTES"], config["CHECK_MAX_RATIO"])


def _clock(text: str) -> time:
    """'05:00' -> time(5, 0)."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def window_end(config, now: datetime) -> datetime | None:
    """When `now` (naive UTC) falls in the daily maintenance window: the window's end (naive UTC)."""
    start, stop = _clock(config["UPLOAD_MAINTENANCE_START"]), _clock(config["UPLOAD_MAINTENANCE_END"])
    local = to_taipei(now)
    if start <= local.time() < stop:
        return taipei_to_utc(local.date(), stop)
    return None


def maintenance_text(config) -> str:
    """每日 05:00 至 08:00 …, as the pages state it."""
    return (f"每日 {config['UPLOAD_MAINTENANCE_START']} 至 {config['UPLOAD_MAINTENANCE_END']} 為系統維護時段，"
            f"仍可正常收件，檔案於 {config['UPLOAD_MAINTENANCE_END']} 起依收件順序檢核；請勿刪除已上傳之檔案。")


# -- receiving ---------------------------------------------------------------------------------------------

def receipt_no(kind: str, now: datetime) -> str:
    """收件序號 like A113080512345: kind letter, ROC date (Taipei), five random digits (unique index backs it)."""
    local = to_taipei(now)
    return f"{RECEIPT_PREFIX[kind]}{local.year - 1911:03d}{local:%m%d}{secrets.randbelow(100000):05d}"


def store_stream(storage, source: BinaryIO, limit: int):
    """Stream an upload into storage under a generated key; TooLarge past the limit (nothing kept)."""
    key = storage.new_key("uploads", "bin")
    digest, size = hashlib.sha256(), 0
    with storage.writing(key) as path, open(path, "wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge()
            digest.update(chunk)
            out.write(chunk)
    return key, size, digest.hexdigest()


def receive(config, storage, sender: Sender, kind: str, source: BinaryIO, original_name: str, form: dict,
            channel: str = "web", now: datetime | None = None) -> Upload:
    """Accept an upload: store it, record it, queue its check (TooLarge when over the limit).

    A name with a path or control characters, or an empty file, is refused at once: the
    upload's record says why and nothing is stored.
    """
    now = now or utcnow()
    refusal = name_problem(original_name or "")
    key = size = sha = None
    if refusal is None:
        key, size, sha = store_stream(storage, source, max_bytes(config, kind))
        if size == 0:
            storage.delete(key)
            key, refusal = None, "上傳檔案為空檔（0 位元組），請確認檔案後重新上傳。"
    wait_until = window_end(config, now)
    try:
        with write_transaction():
            stored = StoredFile.create(key=key, name=display_name(original_name), content_type="application/octet-stream",
                                       size=size, sha256=sha) if key else None
            upload = _create(sender, kind, channel, stored, original_name, form, now, wait_until)
            if refusal:
                _finish_refused(upload, refusal, now)
            else:
                job = jobqueue.enqueue(config, "jobs.uploads.check_upload", upload.id, kind="upload_check",
                                       owner_id=sender.person_id, institution_id=sender.institution_id,
                                       not_before=wait_until)
                upload.job = job
                upload.save(only=[Upload.job])
            if sender.actor is not None:
                audit.record("upload", sender.actor, institution_id=sender.institution_id,
                             detail={"kind": kind, "receipt_no": upload.receipt_no, "size": size or 0,
                                     "sha256": sha or "", "refused": bool(refusal)})
    except BaseException:
        if key:
            storage.delete(key)
        raise
    return upload


def _create(sender: Sender, kind: str, channel: str, stored, original_name: str, form: dict, now: datetime,
            wait_until: datetime | None) -> Upload:
    """The upload's row, under a fresh 收件序號 (retried on the rare clash)."""
    for _ in range(5):
        try:
            with database.atomic():
                return Upload.create(
                    institution=sender.institution_id, person=sender.person_id, kind=kind, channel=channel,
                    module_no=sender.module_no, receipt_no=receipt_no(kind, now),
                    original_name=display_name(original_name), stored_file=stored,
                    size=stored.size if stored else 0, sha256=stored.sha256 if stored else "",
                    form=json.dumps(form, ensure_ascii=False), received_at=now, check_from=wait_until or now,
                    state="waiting" if wait_until else "received")
        except IntegrityError:
            continue
    raise RuntimeError("no free receipt number")


def _finish_refused(upload: Upload, message: str, now: datetime) -> None:
    """An upload refused before any check: done, 退件, with the reason."""
    upload.state, upload.result, upload.message, upload.checked_at = "done", "rejected", message, now
    upload.rejected_code = "FILE"
    upload.save()


# -- checking (called by the job) ----------------------------------------------------------------------------

def run_check(config, storage, upload: Upload, now: datetime | None = None) -> Outcome:
    """Run the right checker over the stored upload."""
    received = to_taipei(upload.received_at).replace(tzinfo=None)
    form = upload.form_values
    code = upload.institution.code
    with storage.open(upload.stored_file.key) as fh:
        if upload.kind == "claims":
            claims_form = ClaimsForm(kind=form.get("visit_kind", "op"), institution=code,
                                     fee_month=form.get("fee_month", ""),
                                     medical_category=form.get("medical_category", ""), today=received.date(),
                                     review=bool(form.get("review")))
            cases = Spool() if claims_form.kind == "op" else None
            try:
                outcome = check_claims(fh, claims_form, limits(config), config["REPORT_MAX_ROWS"],
                                       cases.append if cases is not None else None)
            except BaseException:
                if cases is not None:
                    cases.close()
                raise
            outcome.cases = cases
            return outcome
        history = ic_history(upload.institution_id, upload.id) if upload.kind == "ic" else _no_history
        return check_ic(fh, IcForm(code, received), limits(config), history, config["REPORT_MAX_ROWS"])


def _no_history(keys):
    """Pre-checks do not compare with earlier uploads."""
    return {}


def ic_history(institution_id: int, upload_id: int):
    """history(keys) for the IC checker: earlier RECs of this institution with those keys (not this upload's)."""

    def lookup(keys: list[RecKey]) -> dict:
        found: dict[RecKey, list[tuple[str, bool]]] = {}
        if not keys:
            return found
        wanted = set(keys)
        rows = (IcRecord.select(IcRecord.pid, IcRecord.visit, IcRecord.category, IcRecord.format, IcRecord.valid)
                .where((IcRecord.institution == institution_id) & (IcRecord.upload != upload_id)
                       & IcRecord.pid.in_(sorted({k.pid for k in keys}))
                       & IcRecord.visit.in_(sorted({k.visit for k in keys})))
                .tuples())
        for pid, visit, category, fmt, valid in rows:
            key = RecKey(pid, visit, category)
            if key in wanted:
                found.setdefault(key, []).append((fmt, bool(valid)))
        return found

    return lookup


def report_files(upload: Upload, outcome: Outcome, finished: datetime) -> tuple[str, bytes, str, bytes]:
    """(text name, Big5 text, csv name, CSV) of an upload's result report."""
    form = upload.form_values
    meta = ReportMeta(
        institution=upload.institution.code, receipt_no=upload.receipt_no,
        received_at=to_taipei(upload.received_at).replace(tzinfo=None),
        finished_at=to_taipei(finished).replace(tzinfo=None), file_size=upload.size,
        file_name=upload.original_name, fee_month=form.get("fee_month", ""),
        claim_type=form.get("claim_type_label", ""), medical_category=form.get("medical_category_label", ""),
        module_no=upload.module_no)
    local = to_taipei(finished)
    stamp = f"{local.year - 1911:03d}{local:%m%d%H%M%S}"
    if upload.kind == "claims":
        base = f"{upload.institution.code}_{form.get('fee_month', '')}_{upload.receipt_no}_{stamp}_precheck"
        return f"{base}.txt", claims_text(outcome, meta), f"{base}_errors.csv", findings_csv(outcome, "claims")
    base = f"{upload.institution.code}_{upload.receipt_no}_{stamp}_idc"
    return f"{base}.txt", ic_text(outcome, meta), f"{base}_errors.csv", findings_csv(outcome, "ic")


def record_result(storage, upload: Upload, outcome: Outcome, finished: datetime | None = None) -> Upload:
    """Store the outcome: counters, IC records, claim cases, the report (handed to the institution); all or nothing.

    The outcome's case spool is consumed (closed) either way.
    """
    try:
        return _record(storage, upload, outcome, finished or utcnow())
    finally:
        if outcome.cases is not None:
            outcome.cases.close()


def _record(storage, upload: Upload, outcome: Outcome, finished: datetime) -> Upload:
    needs_report = outcome.rejected is not None or outcome.total_findings > 0
    with write_transaction():
        if needs_report and upload.report_id is None:
            text_name, text, csv_name, csv_bytes = report_files(upload, outcome, finished)
            upload.report = institution_files.provide(
                storage, upload.institution_id, SERVICE[upload.kind], REPORT_CATEGORY[upload.kind], text_name, text,
                description=_report_description(upload, outcome), description_file=(csv_name, csv_bytes),
                fee_month=_fee_month_ad(upload.form_values.get("fee_month", "")),
                medical_category=upload.form_values.get("medical_category", ""), content_type="text/plain", at=finished)
        if upload.kind == "ic":
            IcRecord.delete().where(IcRecord.upload == upload.id).execute()
            received = to_taipei(upload.received_at).replace(tzinfo=None)
            rows = (ic_record_row(upload, received, key) for key in dict.fromkeys(outcome.keys))
            _insert(IcRecord, rows)
        elif upload.kind == "claims" and outcome.cases is not None:
            ClaimCase.delete().where(ClaimCase.upload == upload.id).execute()
            if outcome.rejected is None:
                fee_month = upload.form_values.get("fee_month", "")[:5]
                _insert(ClaimCase, (claim_case_row(upload, fee_month, facts) for facts in outcome.cases))
        _apply(upload, outcome, finished)
        upload.save()
    return upload


def _insert(model, rows: Iterable[dict], batch: int = 500) -> None:
    """insert_many in batches (SQLite caps the variables of one statement)."""
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            model.insert_many(chunk).on_conflict_ignore().execute()
            chunk = []
    if chunk:
        model.insert_many(chunk).on_conflict_ignore().execute()


def ic_record_row(upload: Upload, received: datetime, key: tuple) -> dict:
    """The IcRecord of one REC: its key, validity, whether it came within 24 hours, and its compared fields."""
    pid, visit, category, fmt, valid, doctor, diagnosis, fee, copay, codes = key
    visited = roc_datetime(visit)
    return {"institution": upload.institution_id, "upload": upload.id, "pid": pid[:10], "visit": visit[:13],
            "category": category[:2], "format": fmt[:1], "valid": valid,
            "on_time": None if visited is None else received - visited <= ON_TIME,
            "doctor": doctor[:10], "diagnosis": diagnosis.replace(".", "")[:9], "fee": _whole(fee),
            "copay": _whole(copay), "order_codes": codes}


def claim_case_row(upload: Upload, fee_month: str, facts: tuple) -> dict:
    """The ClaimCase of one 門診 case (facts as check_claims hands them)."""
    pid, visit, case_type, doctor, diagnosis, fee, copay, codes, serial = facts
    return {"institution": upload.institution_id, "upload": upload.id, "fee_month": fee_month, "pid": pid[:10],
            "visit": visit[:7], "case_type": case_type[:2], "doctor": doctor[:10],
            "diagnosis": diagnosis.replace(".", "")[:9], "fee": _whole(fee) or 0, "copay": _whole(copay) or 0,
            "order_codes": codes, "serial": serial[:4]}


def _whole(text) -> int | None:
    """An amount as an int; None when it is not a whole number (the check reported that)."""
    text = str(text).strip()
    if text.lstrip("-").isdigit() and len(text) <= 10:
        return int(text)
    return None


def _apply(upload: Upload, outcome: Outcome, finished: datetime) -> None:
    """Copy the outcome's counters and verdict onto the row."""
    upload.state = "done"
    upload.result = "rejected" if outcome.rejected else ("ok" if outcome.ok else "errors")
    upload.records, upload.invalid_records = outcome.records, outcome.invalid_records
    upload.orders, upload.invalid_orders = outcome.orders, outcome.invalid_orders
    upload.declared_records, upload.declared_points = outcome.declared_records, outcome.declared_points
    upload.errors, upload.warnings = outcome.errors, outcome.warnings
    upload.rejected_code = outcome.rejected.code if outcome.rejected else ""
    upload.message = outcome.rejected.message if outcome.rejected else ""
    upload.summary = json.dumps(outcome.summary(), ensure_ascii=False)
    upload.checked_at = finished


def _report_description(upload: Upload, outcome: Outcome) -> str:
    """The 檔案說明 of a report in 下載捷徑專區."""
    if upload.kind == "claims":
        what = "預檢醫療費用申報檢核錯誤明細表"
    elif upload.kind == "ic":
        what = "健保卡就醫資料上傳檢核結果"
    else:
        what = "健保卡就醫資料預檢結果"
    verdict = "退件" if outcome.rejected else f"錯誤 {outcome.errors} 筆、警告 {outcome.warnings} 筆"
    return f"{what}（收件序號 {upload.receipt_no}，{verdict}）"


def _fee_month_ad(text: str) -> int | None:
    """11307 -> 202407 (the files index keeps AD months)."""
    if len(text) == 5 and text.isdigit():
        return (int(text[:3]) + 1911) * 100 + int(text[3:])
    return None


# -- reading ---------------------------------------------------------------------------------------------------

def find(institution_id: int, kind: str, receipt: str) -> Upload | None:
    """One upload of this institution by 收件序號; None for another institution's or junk."""
    return Upload.get_or_none((Upload.institution == institution_id) & (Upload.kind == kind)
                              & (Upload.receipt_no == str(receipt)[:20]))


def queue_position(upload: Upload) -> int:
    """How many checks wait before this one (0 when it is next or running)."""
    if not upload.active or upload.job_id is None:
        return 0
    return (Job.select().where((Job.kind == "upload_check") & (Job.id < upload.job_id)
                               & Job.state.in_(("outbox", "queued", "retrying"))).count())


def expected_seconds(upload: Upload, position: int) -> int:
    """A plain estimate of the wait: queue × recent average, plus this file at ~3 MB/s."""
    recent = (Upload.select(Upload.started_at, Upload.checked_at)
              .where(Upload.checked_at.is_null(False) & Upload.started_at.is_null(False))
              .order_by(Upload.id.desc()).limit(20))
    spans = [(r.checked_at - r.started_at).total_seconds() for r in recent]
    average = sum(spans) / len(spans) if spans else 2.0
    return int(position * average + upload.size / 3_000_000 + 2)


def between(institution_id: int, kind: str, start: datetime, stop: datetime):
    """Uploads received in [start, stop) (naive UTC), newest first."""
    return (Upload.select().where((Upload.institution == institution_id) & (Upload.kind == kind)
                                  & (Upload.received_at >= start) & (Upload.received_at < stop))
            .order_by(Upload.received_at.desc(), Upload.id.desc()))


def local_day_bounds(first, last) -> tuple[datetime, datetime]:
    """Naive-UTC bounds of Taipei days first … last inclusive."""
    return taipei_to_utc(first), taipei_to_utc(last + timedelta(days=1))

