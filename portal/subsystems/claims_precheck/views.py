"""A.02.01 預檢醫療費用申報資料上傳 and A.02.02 收件狀況查詢 (SPEC U1, U4)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_login import current_user, login_required

from portal.checks import icd
from portal.htmx import render_page
from portal.logic import menu, uploads
from portal.models.base import utcnow
from portal.subsystems import upload_pages
from portal.subsystems.claims_precheck import forms
from portal.upload_limits import large_upload

bp = Blueprint("claims_precheck", __name__, url_prefix="/precheck")
SERVICE = "RWP"
RECEIPTS_DAYS = 7


def _form_page(parsed: forms.PrecheckForm, status: int = 200):
    """The A.02.01 page with the form (and its errors)."""
    g.menu_item = menu.find("A.02.01")
    recent = list(uploads.between(current_user.institution.id, "claims", utcnow() - timedelta(days=30),
                                  utcnow() + timedelta(minutes=1)).limit(5))
    return render_page("precheck/upload.html", item=g.menu_item, form=parsed, errors=parsed.errors, recent=recent,
                       visit_kinds=forms.VISIT_KINDS, categories=forms.medical_categories(),
                       maintenance=uploads.maintenance_text(current_app.config),
                       limit_mb=current_app.config["CLAIMS_UPLOAD_MAX_BYTES"] // 2**20), status


@bp.get("/upload")
@login_required
def upload_form():
    """A.02.01: the form, as the seed shows it."""
    upload_pages.require_service(SERVICE)
    default = forms.PrecheckForm({"fee_month": "", "visit_kind": "op", "medical_category": "", "review": False,
                                  "month_mark": "3"})
    return _form_page(default)


@bp.post("/upload")
@login_required
@large_upload("CLAIMS_UPLOAD_MAX_BYTES")
def upload():
    """Receive the ZIP: stored, recorded, queued; then its live status page (303)."""
    upload_pages.require_service(SERVICE)
    parsed = forms.parse(request.form, utcnow())
    file = request.files.get("file")
    if file is None or not file.filename:
        parsed.errors["file"] = "請選擇申報資料檔案（ZIP 壓縮檔）。"
    if parsed.errors:
        return _form_page(parsed, 400)
    try:
        received = upload_pages.receive("claims", file, parsed.as_upload_form())
    except uploads.TooLarge:
        parsed.errors["file"] = (f"上傳檔案超過 {current_app.config['CLAIMS_UPLOAD_MAX_BYTES'] // 2**20} MB 上限，"
                                 "系統未接收此檔案。")
        return _form_page(parsed, 413)
    return redirect(url_for(".receipt", receipt=received.receipt_no), 303)


@bp.get("/receipts/<receipt>")
@login_required
def receipt(receipt: str):
    """One upload's live status: 收件 → 檢核中 → 檢核完成 (htmx polls the fragment; JS off: 重新整理)."""
    upload_pages.require_service(SERVICE)
    upload = upload_pages.own_upload_or_404("claims", receipt)
    g.menu_item = menu.find("A.02.01")
    return render_page("precheck/receipt.html", fragment="precheck/_status.html", item=g.menu_item,
                       **upload_pages.status_context(upload))


@bp.post("/receipts/<receipt>/retry")
@login_required
def retry(receipt: str):
    """重新檢核 after the check failed for good."""
    upload_pages.require_service(SERVICE)
    upload = upload_pages.own_upload_or_404("claims", receipt)
    if upload_pages.retry(upload):
        flash("已重新排入檢核。")
    return redirect(url_for(".receipt", receipt=upload.receipt_no), 303)


@bp.get("/receipts")
@login_required
def receipts():
    """A.02.02 收件狀況查詢: uploads in a ROC date range with their states and counts."""
    upload_pages.require_service(SERVICE)
    g.menu_item = menu.find("A.02.02")
    days, errors, shown = upload_pages.date_range(request.args, RECEIPTS_DAYS)
    rows = [] if errors else upload_pages.uploads_between("claims", days, 200)
    return render_page("precheck/receipts.html", fragment="precheck/_receipts.html", item=g.menu_item, rows=rows,
                       errors=errors, shown=shown)


@bp.get("/icd")
@login_required
def icd_form():
    """A.02.04 ICD-10-CM/PCS 有效碼檢測: paste or upload codes."""
    upload_pages.require_service(SERVICE)
    return _icd_page({"codes": "", "kind": "auto"}, None, None)


@bp.post("/icd")
@login_required
def icd_check():
    """The verdict per code (a query, not a change: answered directly; htmx swaps the results)."""
    upload_pages.require_service(SERVICE)
    form = {"codes": request.form.get("codes", "")[:ICD_TEXT_LIMIT], "kind": request.form.get("kind", "auto")}
    text, error = form["codes"], None
    file = request.files.get("file")
    if file is not None and file.filename:
        data = file.stream.read(ICD_TEXT_LIMIT + 1)
        if len(data) > ICD_TEXT_LIMIT:
            error = "代碼檔案過大（上限 64 KB），請分批檢測。"
        else:
            text = "\n".join((text, _decode_list(data)))
    results = None
    if error is None:
        results, error = icd.check_codes(text, form["kind"])
    return _icd_page(form, results, error, 400 if error else 200)


ICD_TEXT_LIMIT = 64 * 1024


def _decode_list(data: bytes) -> str:
    """A code list file in UTF-8 (with or without BOM) or Big5, as clinics save them."""
    for encoding in ("utf-8-sig", "cp950"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("ascii", errors="replace")


def _icd_page(form: dict, results, error: str | None, status: int = 200):
    """The A.02.04 page (or its results fragment)."""
    g.menu_item = menu.find("A.02.04")
    return render_page("precheck/icd.html", fragment="precheck/_icd_results.html", item=g.menu_item, form=form,
                       results=results, error=error, kinds=icd.KINDS, max_codes=icd.MAX_CODES), status
