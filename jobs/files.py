"""Work on institution files (SPEC D2, D3, D5): packaging, next-day re-issue, e-delivery mail, pruning."""

from __future__ import annotations

from datetime import timedelta

from jobs import context
from jobs.tracking import tracked
from portal import mail
from portal.logic import institution_files, notices, packaging
from portal.models.base import utcnow
from portal.models.institution_files import Package
from portal.models.jobs import Job
from portal.storage import storage_for

# Progress is written at most this often (every percent of a 1 GB file would be 100 writes).
PROGRESS_STEP = 5


@tracked
def build_package(row, package_id: int):
    """Build one ZIP package (idempotent: a retried or repeated job finds it built)."""
    config = context.config()
    package = Package.get_or_none(Package.id == package_id)
    if package is None:
        return "檔案包已不存在。"
    last = [0]

    def progress(done: int, total: int) -> None:
        percent = min(99, done * 100 // total)
        if percent >= last[0] + PROGRESS_STEP:
            last[0] = percent
            Job.update(progress=percent, updated_at=utcnow()).where(Job.id == row.id).execute()

    packaging.build(package, storage_for(config), institution_files.retention(config), progress)
    return package.message or "檔案已打包完成。"


@tracked
def serve_requests(row):
    """Serve every 申請 made before today (Taipei): the file is back in 下載捷徑專區."""
    config = context.config()
    counts = institution_files.serve_requests(
        utcnow(), timedelta(days=config["FILE_REISSUE_LIMIT_DAYS"]), storage_for(config))
    return f"已重新提供 {counts['served']} 個申請檔案，{counts['refused']} 個需洽轄區承辦同仁。"


@tracked
def send_notices(row):
    """E-delivery (SPEC D5): notify, then remind daily, until the institution first views the notice."""
    config = context.config()
    sent = notices.send_due(config, mail.sender(config), utcnow())
    return f"已寄出 {sent} 封電子送達通知信。"


@tracked
def prune_packages(row):
    """Remove packages nobody fetched lately and leftovers of interrupted builds."""
    config = context.config()
    removed = packaging.prune(storage_for(config), utcnow(), timedelta(hours=config["PACKAGE_KEEP_HOURS"]))
    return f"已清除 {removed} 個過期檔案包。"
