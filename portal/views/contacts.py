"""聯絡窗口 (P4): service items by category and keyword, then their contacts."""

from __future__ import annotations

from flask import Blueprint, request

from portal.htmx import render_page
from portal.logic import contacts
from portal.logic.keywords import parse_keyword
from portal.pagecache import cached_page

bp = Blueprint("contacts", __name__, url_prefix="/contacts")


@bp.get("")
@cached_page
def index():
    """Filter form and grouped service items, or the contacts of the chosen item."""
    category = contacts.find_group(request.args.get("category"))
    keyword = parse_keyword(request.args.get("q"))
    chosen = contacts.find_group(request.args.get("service"))
    if chosen is not None and chosen.parent_id is None:
        chosen = None
    return render_page(
        "contacts/index.html", fragment="contacts/_results.html",
        categories=contacts.categories(), category=category, keyword=keyword,
        groups=[] if chosen else contacts.services(category, keyword),
        chosen=chosen, people=contacts.contacts_of(chosen) if chosen else [],
        unknown_service=bool(request.args.get("service")) and chosen is None,
    )
