"""Checking uploads (SPEC U1–U4): one job per upload, idempotent, retried when a worker dies."""

from __future__ import annotations

from jobs import context
from jobs.tracking import tracked
from portal.logic import uploads
from portal.models.base import utcnow
from portal.models.uploads import Upload
from portal.storage import storage_for


@tracked
def check_upload(row, upload_id: int):
    """Check one upload and record its result and report.

    Safe to run again: a finished upload is left alone, and a retried one is checked
    from the stored file afresh (its earlier IC keys are replaced, its report made once).
    A failure (e.g. the report cannot be written) leaves the upload in 檢核失敗 with a
    reason, and RQ retries; the last failure stays visible and the user may ask again.
    """
    config = context.config()
    upload = Upload.get_or_none(Upload.id == upload_id)
    if upload is None:
        return "上傳資料已不存在。"
    if upload.state == "done":
        return upload.result_label
    Upload.update(state="checking", started_at=utcnow(), message="").where(Upload.id == upload.id).execute()
    storage = storage_for(config)
    try:
        outcome = uploads.run_check(config, storage, upload)
        uploads.record_result(storage, upload, outcome)
    except Exception:
        Upload.update(state="failed", message="檢核結果無法完成（系統問題），系統將自動重試；"
                                              "若持續失敗，請按「重新檢核」或洽詢聯絡窗口。").where(
            Upload.id == upload.id).execute()
        raise
    return upload.result_label
