"""H.01.01 檢核結果查詢 (with the manual daily upload), H.01.02 預檢結果查詢, H.01.03 預檢資料上傳 (SPEC U2–U4)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_login import current_user, login_required

from portal.htmx import render_page
from portal.logic import institution_files, menu, uploads
from portal.models.base import utcnow
from portal.models.institution_files import InstitutionFile
from portal.subsystems import upload_pages
from portal.upload_limits import large_upload

bp = Blueprint("ic_upload", __name__, url_prefix="/ic-upload")
SERVICE = "IPA"
DEFAULT_DAYS = 7
SCREENS = {"ic": "H.01.01", "ic_precheck": "H.01.02"}


def _range(kind: str):
    """上傳日期範圍 (ROC, both ends inclusive) from the query: rows, their reports' states, errors, echo."""
    days, errors, shown = upload_pages.date_range(request.args, DEFAULT_DAYS, "上傳日期")
    rows = [] if errors else upload_pages.uploads_between(kind, days, 500)
    person_id = current_user.person.id if current_user.person else None
    keep = institution_files.retention(current_app.config)
    # the reports in one query (r.report would ask once per row)
    files = InstitutionFile.select().where(InstitutionFile.id.in_([r.report_id for r in rows if r.report_id]))
    reports = {listed.file.id: listed for listed in institution_files.with_states(files, person_id, utcnow(), keep)}
    return rows, reports, errors, shown


@bp.get("/results")
@login_required
def results():
    """H.01.01 健保卡就醫資料上傳檢核結果查詢 (SEED 003 圖貳-10), plus the manual daily upload."""
    upload_pages.require_service(SERVICE)
    g.menu_item = menu.find("H.01.01")
    rows, reports, errors, shown = _range("ic")
    return render_page("ic_upload/results.html", fragment="ic_upload/_results.html", item=g.menu_item, rows=rows,
                       reports=reports, errors=errors, shown=shown,
                       limit_mb=current_app.config["IC_UPLOAD_MAX_BYTES"] // 2**20,
                       maintenance=uploads.maintenance_text(current_app.config))


@bp.get("/prechecks")
@login_required
def prechecks():
    """H.01.02 健保卡就醫資料上傳預檢結果查詢: 序 / 檔名 / 執行註記 / 下載報表."""
    upload_pages.require_service(SERVICE)
    g.menu_item = menu.find("H.01.02")
    rows, reports, errors, shown = _range("ic_precheck")
    return render_page("ic_upload/prechecks.html", fragment="ic_upload/_prechecks.html", item=g.menu_item,
                       rows=rows, reports=reports, errors=errors, shown=shown)


@bp.get("/precheck")
@login_required
def precheck_form():
    """H.01.03 健保卡就醫資料上傳預檢資料上傳."""
    upload_pages.require_service(SERVICE)
    g.menu_item = menu.find("H.01.03")
    return render_page("ic_upload/precheck.html", item=g.menu_item, errors={},
                       limit_mb=current_app.config["IC_UPLOAD_MAX_BYTES"] // 2**20)


@bp.post("/precheck")
@login_required
@large_upload("IC_UPLOAD_MAX_BYTES")
def precheck():
    """Receive a pre-check file: 「上傳檔案成功!!」 and its live status."""
    return _receive("ic_precheck", "H.01.03", "ic_upload/precheck.html")


@bp.post("/daily")
@login_required
@large_upload("IC_UPLOAD_MAX_BYTES")
def daily():
    """The manual daily upload (the same check as the HIS API's)."""
    return _receive("ic", "H.01.01", None)


def _receive(kind: str, code: str, form_template: str | None):
    """Store the posted file and go to its status (303); form errors re-render the page."""
    upload_pages.require_service(SERVICE)
    file = request.files.get("file")
    limit_mb = current_app.config["IC_UPLOAD_MAX_BYTES"] // 2**20
    error = None
    if file is None or not file.filename:
        error = "請選擇要上傳的檔案。"
    else:
        try:
            received = upload_pages.receive(kind, file, {})
        except uploads.TooLarge:
            error = f"上傳檔案超過 {limit_mb} MB 上限，系統未接收此檔案。"
    if error:
        if form_template is None:
            flash(error)
            return redirect(url_for(".results"), 303)
        g.menu_item = menu.find(code)
        return render_page(form_template, item=g.menu_item, errors={"file": error}, limit_mb=limit_mb), 400
    if kind == "ic_precheck":
        flash("上傳檔案成功!!")
    return redirect(url_for(".upload_status", receipt=received.receipt_no), 303)


@bp.get("/uploads/<receipt>")
@login_required
def upload_status(receipt: str):
    """One upload's live status (htmx polls; JS off: 重新整理 and a self-refresh)."""
    upload_pages.require_service(SERVICE)
    upload = upload_pages.own_upload_or_404(("ic_precheck" if receipt.startswith("P") else "ic"), receipt)
    g.menu_item = menu.find("H.01.03" if upload.kind == "ic_precheck" else "H.01.01")
    return render_page("ic_upload/upload.html", fragment="ic_upload/_status.html", item=g.menu_item,
                       **upload_pages.status_context(upload))


@bp.post("/uploads/<receipt>/retry")
@login_required
def retry(receipt: str):
    """重新檢核 after the check failed for good."""
    upload_pages.require_service(SERVICE)
    upload = upload_pages.own_upload_or_404(("ic_precheck" if receipt.startswith("P") else "ic"), receipt)
    if upload_pages.retry(upload):
        flash("已重新排入檢核。")
    return redirect(url_for(".upload_status", receipt=upload.receipt_no), 303)
