"""What the upload screens share: receiving a form's file, the live status, the report's actions."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, request
from flask_login import current_user

from portal import jobqueue
from portal.identity import deny_access
from portal.logic import audit, institution_files, uploads
from portal.logic.national_id import mask
from portal.logic.roc_dates import DateInputError, parse_date, roc_date, to_taipei
from portal.models.base import utcnow
from portal.models.jobs import Job
from portal.models.uploads import Upload
from portal.storage import storage_for


def require_service(code: str) -> None:
    """403 (audited) unless this session was granted the service."""
    if code not in current_user.access.services:
        deny_access()


def sender() -> uploads.Sender:
    """The logged-in user as the sender of an upload."""
    person = current_user.person
    return uploads.Sender(current_user.institution.id, current_user.institution.code,
                          person.id if person else None, current_user.actor())


def receive(kind: str, file, form: dict) -> Upload:
    """Store the posted file and queue its check (TooLarge propagates)."""
    return uploads.receive(current_app.config, storage_for(current_app.config), sender(), kind, file.stream,
                           file.filename or "", form)


def own_upload_or_404(kind: str, receipt: str) -> Upload:
    """An upload of this institution by 收件序號; another institution's or junk → 404 (audited)."""
    upload = uploads.find(current_user.institution.id, kind, receipt)
    if upload is None:
        audit.record("upload_view", current_user.actor(), result="denied",
                     detail={"receipt_no": str(receipt)[:40], "path": request.path})
        abort(404)
    return upload


def status_context(upload: Upload) -> dict:
    """Live state for the status fragment: queue position, estimate, job, the report's actions."""
    job = Job.get_or_none(Job.id == upload.job_id) if upload.job_id else None
    position = uploads.queue_position(upload)
    report = None
    if upload.report_id:
        person_id = current_user.person.id if current_user.person else None
        report = institution_files.with_states([upload.report], person_id, utcnow(),
                                               institution_files.retention(current_app.config))[0]
    failed = upload.state == "failed" or (upload.active and job is not None and job.state == "failed")
    return {"upload": upload, "job": job, "position": position, "failed": failed,
            "eta": uploads.expected_seconds(upload, position) if upload.active else 0, "report": report,
            "maintenance": uploads.maintenance_text(current_app.config),
            "masked_id": mask(current_user.person.national_id) if current_user.person else ""}


def retry(upload: Upload) -> bool:
    """Queue the check again after it failed for good (the button on a failed status)."""
    job = Job.get_or_none(Job.id == upload.job_id) if upload.job_id else None
    if upload.state == "done" or (upload.state != "failed" and not (job and job.state == "failed")):
        return False
    new_job = jobqueue.enqueue(current_app.config, "jobs.uploads.check_upload", upload.id, kind="upload_check",
                               owner_id=current_user.person.id if current_user.person else None,
                               institution_id=upload.institution_id)
    Upload.update(job=new_job, state="received", message="").where(Upload.id == upload.id).execute()
    return True


def date_range(args, default_days: int, label: str = "") -> tuple[dict, dict, dict]:
    """A ROC (or AD) start/end pair from a query: (dates, zh-TW errors, values to echo). Defaults: the last days."""
    today = to_taipei(utcnow()).date()
    raw = {"start": (args.get("start") or "").strip(), "end": (args.get("end") or "").strip()}
    errors, days = {}, {}
    for key, default in (("start", today - timedelta(days=default_days)), ("end", today)):
        try:
            days[key] = parse_date(raw[key]) if raw[key] else default
        except DateInputError as exc:
            errors[key] = str(exc)
    if not errors and days["start"] > days["end"]:
        errors["end"] = f"{label}起日不可晚於迄日，請重新輸入。"
    shown = {k: raw[k] or roc_date(days.get(k)) for k in raw}
    return days, errors, shown


def uploads_between(kind: str, days: dict, limit: int) -> list[Upload]:
    """This institution's uploads of a kind received on those Taipei days, newest first."""
    start, stop = uploads.local_day_bounds(days["start"], days["end"])
    return list(uploads.between(current_user.institution.id, kind, start, stop).limit(limit))
