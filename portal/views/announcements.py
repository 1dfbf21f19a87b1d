"""Announcement lists, one announcement (expand/collapse in place), attachments."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for

from portal.htmx import render_page
from portal.logic import announcements
from portal.logic.keywords import parse_keyword
from portal.logic.pagination import paginate
from portal.models.announcements import KINDS
from portal.pagecache import cached_page
from portal.views.files import send_stored

bp = Blueprint("announcements", __name__, url_prefix="/announcements")

PER_PAGE = 10


@bp.get("/<kind>")
@cached_page
def index(kind: str):
    """All visible announcements of a kind, with keyword search, 10 per page."""
    if kind not in KINDS:
        abort(404)
    keyword = parse_keyword(request.args.get("q"))
    page = paginate(announcements.search(kind, keyword), request.args.get("page"), PER_PAGE)
    return render_page(
        "announcements/index.html", fragment="announcements/_list.html",
        kind=kind, kind_name=KINDS[kind], keyword=keyword, page=page,
        items=announcements.present(page.items),
        list_endpoint="announcements.index", list_args={"kind": kind},
    )


@bp.get("/<int:announcement_id>")
@cached_page
def show(announcement_id: int):
    """The full announcement; htmx gets the list item expanded (or collapsed with ?collapsed=1)."""
    found = announcements.get_visible(announcement_id)
    if found is None:
        abort(404)
    item = announcements.present([found])[0]
    return render_page(
        "announcements/show.html", fragment="announcements/_item.html",
        item=item, expanded=request.args.get("collapsed") != "1",
        back_url=_same_site(request.htmx.current_url) or url_for(".index", kind=item.kind),
        kind_name=KINDS[item.kind],
    )


@bp.get("/<int:announcement_id>/attachments/<int:attachment_id>")
def attachment(announcement_id: int, attachment_id: int):
    """Download an attachment of a visible announcement."""
    stored = announcements.attachment_file(announcement_id, attachment_id)
    if stored is None:
        abort(404)
    return send_stored(stored)


def _same_site(url: str | None) -> str | None:
    """A URL from HX-Current-URL, kept only if it points into this site."""
    if url and url.startswith(request.host_url):
        return url
    return None
