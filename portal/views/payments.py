"""E 費用支付資料下載 查詢下載 screens and 申報案件相關檔案下載 (SPEC D4, D5)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, request
from flask_login import current_user, login_required

from portal.htmx import render_page
from portal.identity import deny_access
from portal.logic import file_queries, institution_files, menu
from portal.logic.national_id import mask
from portal.logic.pagination import paginate
from portal.models.base import utcnow

bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.get("/<code>")
@login_required
def query(code: str):
    """A 查詢下載 screen: 費用年月 起迄, 醫事類別, 提供下載日期, 排序欄位; results with 下載 / 加密下載 / 申請."""
    screen = file_queries.SCREENS.get(code)
    if screen is None:
        abort(404)
    services = current_user.access.services
    if screen.service not in services:
        deny_access()
    g.menu_item = menu.find(code)
    now = utcnow()
    q, errors = file_queries.parse_query(request.args, now)
    page = None
    if not errors:
        keep = institution_files.retention(current_app.config)
        page = paginate(file_queries.run(current_user.institution.id, services, screen, q, now),
                        request.args.get("page"), file_queries.PAGE_SIZE)
        person_id = current_user.person.id if current_user.person else None
        page.items = institution_files.with_states(page.items, person_id, now, keep)
    return render_page("payments/query.html", fragment="payments/_results.html", screen=screen, q=q, errors=errors,
                       page=page, item=g.menu_item, fq=file_queries,
                       query={k: v for k, v in q.form.items() if v},
                       masked_id=mask(current_user.person.national_id) if current_user.person else "")
