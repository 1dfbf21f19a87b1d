"""聯絡窗口查詢 after login (SPEC H8): cascading dropdowns, then 機關 / 單位 / 聯絡窗口 / 連絡電話."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import login_required

from portal.htmx import render_page
from portal.logic import contacts
from portal.logic.pagination import paginate

bp = Blueprint("member_contacts", __name__, url_prefix="/home/contacts")

PER_PAGE = 10


@bp.get("")
@login_required
def index():
    """The form with as many dropdowns as the choices so far open; results once 查詢 is pressed.

    htmx swaps the whole lookup (form and results) on every change, so the next
    dropdown appears at once; without JS, 查詢 does the same by reloading the page.
    """
    cascade = contacts.cascade(request.args)
    searched = bool(request.args.get("search") or request.args.get("topic"))
    page = None
    if searched and cascade.deepest is not None and not cascade.mismatch:
        page = paginate(contacts.contacts_below(cascade.deepest), request.args.get("page"), PER_PAGE)
    return render_page("member_contacts/index.html", fragment="member_contacts/_lookup.html",
                       cascade=cascade, searched=searched, page=page)
