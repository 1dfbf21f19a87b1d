"""下載捷徑專區 and the download, 申請 and package routes every file screen shares (SPEC D1–D3, D5)."""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.htmx import render_page
from portal.logic import audit, institution_files, packaging
from portal.logic.login import safe_next
from portal.logic.national_id import mask
from portal.logic.roc_dates import roc_compact, to_taipei
from portal.models.base import utcnow
from portal.models.institution_files import Package
from portal.models.jobs import Job
from portal.storage import storage_for

bp = Blueprint("files", __name__, url_prefix="/files")
LINK_SALT = "package-download"


def services() -> frozenset[str]:
    """Services whose files this session may list and fetch."""
    return current_user.access.services


def keep():
    """The retention window from the settings."""
    return institution_files.retention(current_app.config)


@bp.get("/")
@login_required
def shortcut():
    """下載捷徑專區: filters 申請重送 / 申請中 / 近期提供, colours with text labels, pages, bulk download."""
    filters, warning = institution_files.parse_filters(request.args)
    now = utcnow()
    page = None
    if filters:
        page = institution_files.shortcut_page(current_user.institution.id, services(), _person_id(), filters,
                                               request.args.get("page"), now, keep())
    bulk = institution_files.new_for_bulk(current_user.institution.id, services(), _person_id(), now, keep()) \
        if current_user.person else []
    query = {"q": "1", **{key: "1" for key in filters}}
    return render_page("files/shortcut.html", fragment="files/_shortcut_results.html", page=page, filters=filters,
                       warning=warning, bulk=bulk, query=query, masked_id=_masked_id(), FILTERS=institution_files.FILTERS)


@bp.post("/<int:file_id>/download")
@login_required
def download(file_id: int):
    """下載 / 加密下載 of one file: the cached package at once, else the worker builds it."""
    row = _visible_or_404(file_id)
    mode = _mode()
    state = institution_files.state_of(row, utcnow(), keep(), downloaded=False)
    if not state.downloadable:
        flash(f"「{row.name}」{state.label}，無法下載。")
        return redirect(_back())
    stem = row.name.rsplit(".", 1)[0] if "." in row.name else row.name
    return _deliver(packaging.order(current_app.config, storage_for(current_app.config), [row], mode,
                                    current_user.person, current_user.institution.id, False,
                                    packaging.safe_arcname(stem) + ".zip"))


@bp.post("/bulk")
@login_required
def bulk():
    """One ZIP of every file in its window this person has not downloaded yet, with manifest.csv."""
    if current_user.person is None:
        abort(404)
    rows = institution_files.new_for_bulk(current_user.institution.id, services(), _person_id(), utcnow(), keep())
    if not rows:
        flash("目前沒有尚未下載的新檔案。")
        return redirect(url_for("files.shortcut"))
    name = f"批次下載_{current_user.institution.code}_{roc_compact(to_taipei(utcnow()).date())}.zip"
    return _deliver(packaging.order(current_app.config, storage_for(current_app.config), rows, _mode(),
                                    current_user.person, current_user.institution.id, True, name))


@bp.post("/<int:file_id>/request")
@login_required
def request_again(file_id: int):
    """申請 an expired file; it is provided again the next day (SPEC D3)."""
    row = _visible_or_404(file_id)
    flash(institution_files.request_again(row, current_user.person, current_user.actor(), utcnow(), keep()))
    return redirect(_back())


@bp.get("/packages/<int:package_id>")
@login_required
def package(package_id: int):
    """Live status of a package being built (htmx polls the fragment; without JS a 重新整理 link)."""
    item = _own_package_or_404(package_id)
    job = Job.get_or_none(Job.id == item.job_id) if item.job_id else None
    if item.state == "building" and job is not None and job.state == "failed":
        item.state, item.message = "failed", "檔案打包失敗，請回上一頁重新點選下載；若仍失敗請洽聯絡窗口。"
    link = _link(item) if item.state == "ready" else ""
    return render_page("files/package.html", fragment="files/_package_status.html", item=item, job=job, link=link,
                       masked_id=_masked_id())


@bp.get("/packages/<int:package_id>/zip")
@login_required
def fetch(package_id: int):
    """Stream a built package; the link is signed for this session and expires (tampered → 404)."""
    item = _own_package_or_404(package_id)
    if not _link_is_current(item):
        flash("下載連結已逾時，請重新點選下載。")
        return redirect(url_for("files.shortcut"))
    rows = institution_files.find_all_visible(item.ids, current_user.institution.id, services())
    if item.state != "ready" or rows is None:
        abort(404)
    storage = storage_for(current_app.config)
    if not storage.exists(item.storage_key or ""):
        abort(404)
    now = utcnow()
    closed = [r.name for r in rows if not institution_files.state_of(r, now, keep(), False).downloadable]
    if closed:  # the window closed (or a 申請 reopened the row) after the package was built
        flash(f"「{closed[0]}」已逾下載期限，請申請後於次日下載。")
        return redirect(url_for("files.shortcut"))
    institution_files.record_download(rows, current_user.person, item.mode, item.bulk, current_user.actor(), now)
    Package.update(used_at=now).where(Package.id == item.id).execute()
    response = send_file(storage.path(item.storage_key), mimetype="application/zip", as_attachment=True,
                         download_name=item.name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_is_current(item: Package) -> bool:
    """False for an expired link; a tampered one, or one of another session, is an audited 404."""
    try:
        data = _serializer().loads(request.args.get("t", ""), max_age=current_app.config["DOWNLOAD_LINK_SECONDS"])
    except SignatureExpired:
        return False
    except BadSignature:
        _deny({"package_id": item.id, "reason": "bad_token"})
    if data != {"p": item.id, "s": current_user.session.id}:
        _deny({"package_id": item.id, "reason": "token_mismatch"})
    return True


def _deliver(item: Package):
    """Straight to the ZIP when it is (or becomes within a moment) ready; else the status page."""
    deadline = time.monotonic() + current_app.config["PACKAGE_WAIT_SECONDS"]
    while item.state == "building" and time.monotonic() < deadline:
        time.sleep(0.1)
        item = Package.get_by_id(item.id)
    if item.state == "ready":
        return redirect(_link(item), code=303)
    return redirect(url_for("files.package", package_id=item.id), code=303)


def _link(item: Package) -> str:
    """The signed, short-lived download link of a ready package for this session."""
    token = _serializer().dumps({"p": item.id, "s": current_user.session.id})
    return url_for("files.fetch", package_id=item.id, t=token)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=LINK_SALT)


def _visible_or_404(file_id: int):
    """The file if this session may see it; otherwise an audited 404 (no hint that it exists)."""
    row = institution_files.find_visible(file_id, current_user.institution.id, services())
    if row is None:
        _deny({"file_id": file_id})
    return row


def _own_package_or_404(package_id: int) -> Package:
    """A package ordered at this institution, for this person when it is encrypted."""
    item = Package.get_or_none(Package.id == package_id)
    if item is None or item.institution_id != current_user.institution.id or (
            item.mode != "plain" and item.person_id != _person_id()):
        _deny({"package_id": package_id})
    return item


def _deny(detail: dict):
    """Audit an attempt at something not this session's, then answer 404."""
    audit.record("access_denied", current_user.actor(), result="denied",
                 detail={"endpoint": request.endpoint, "path": request.path, **detail})
    abort(404)


def _mode() -> str:
    """plain or aes from the form; anything else is refused."""
    mode = request.form.get("mode", "plain")
    if mode not in packaging.MODES:
        abort(400)
    if mode == "aes" and current_user.person is None:
        abort(400)
    return mode


def _person_id():
    return current_user.person.id if current_user.person else None


def _masked_id() -> str:
    return mask(current_user.person.national_id) if current_user.person else ""


def _back() -> str:
    """Where a form came from, if it is a page of this site; 下載捷徑專區 otherwise."""
    return safe_next(request.form.get("next")) or url_for("files.shortcut")
