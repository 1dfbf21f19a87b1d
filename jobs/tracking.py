"""Keep each Job row in step with what RQ does to the job."""

from __future__ import annotations

import functools
import logging

from rq import get_current_job

from jobs.context import job_database
from portal.models.base import utcnow
from portal.models.jobs import Job

log = logging.getLogger(__name__)


def tracked(fn):
    """Run fn(row, *args) for the Job row whose id RQ passes first, recording each state.

    Safe to run twice: a row already done is left alone, and fn itself must be
    idempotent (RQ retries after a crash, or after a worker's death).
    """

    @functools.wraps(fn)
    def run(job_id: int, *args):
        with job_database():
            row = Job.get_or_none(Job.id == job_id)
            if row is None:
                log.warning("job row %s is gone; nothing to do", job_id)
                return None
            if row.state == "done":
                return row.message
            _mark(row, state="running", attempts=row.attempts + 1, started_at=utcnow(), error="")
            try:
                message = fn(row, *args) or ""
            except Exception as exc:
                _record_failure(row, f"{type(exc).__name__}: {exc}", _will_retry(get_current_job()))
                raise
            _mark(row, state="done", progress=100, message=message, finished_at=utcnow())
            return message

    return run


def on_failure(job, connection, exc_type, exc_value, tb):
    """RQ failure callback; also called for jobs abandoned by a dead worker."""
    try:
        job_id = int(job.id.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return
    with job_database():
        row = Job.get_or_none(Job.id == job_id)
        if row is not None and row.state != "done":
            _record_failure(row, f"{getattr(exc_type, '__name__', exc_type)}: {exc_value}", _will_retry(job))


def _will_retry(rq_job) -> bool:
    """Whether RQ will run the job again after this failure."""
    return bool(rq_job is not None and rq_job.retries_left and rq_job.retries_left > 0)


def _record_failure(row: Job, error: str, retrying: bool) -> None:
    """Mark a row 重試中 or 失敗 with a zh-TW message; the detail goes to `error` and the log."""
    log.error("job %s (%s) failed%s: %s", row.id, row.kind, ", will retry" if retrying else "", error)
    if retrying:
        _mark(row, state="retrying", message="執行時發生問題，系統將自動重試。", error=error)
    else:
        _mark(row, state="failed", message="執行失敗，請稍後再試或洽詢聯絡窗口。", error=error,
              finished_at=utcnow())


def _mark(row: Job, **changes) -> None:
    """Write changes to the row (and the in-memory object)."""
    changes["updated_at"] = utcnow()
    Job.update(**changes).where(Job.id == row.id).execute()
    for key, value in changes.items():
        setattr(row, key, value)
