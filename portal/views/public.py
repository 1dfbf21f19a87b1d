"""The public home page (P2) and 醫事人員專區."""

from __future__ import annotations

from flask import Blueprint, current_app, request, send_from_directory

from portal.htmx import render_page
from portal.logic import announcements, cards, links
from portal.logic.pagination import paginate
from portal.pagecache import cached_page

bp = Blueprint("public", __name__)

BUSINESS_PER_PAGE = 10
SYSTEM_CAROUSEL_SIZE = 5


@bp.get("/")
@cached_page
def home():
    """即時公告, common links and logins, paginated 業務公告, newest 系統公告."""
    page = paginate(announcements.visible("business"), request.args.get("page"), BUSINESS_PER_PAGE)
    realtime = list(announcements.visible("realtime"))
    system = list(announcements.visible("system").limit(SYSTEM_CAROUSEL_SIZE))
    # One presentation pass (one attachment query) for the three lists.
    items = announcements.present([*realtime, *page.items, *system])
    business_end = len(realtime) + len(page.items)
    return render_page(
        "public/home.html",
        fragment="public/_business.html",
        realtime=items[:len(realtime)],
        business=items[len(realtime):business_end],
        page=page,
        system=items[business_end:],
        professional=links.sections("professional").get("professional"),
        cards=cards.card_types(),
    )


@bp.get("/professionals")
@cached_page
def professionals():
    """醫事人員專區: the professional systems, each opened with a card login."""
    return render_page("public/professionals.html", professional=links.sections("professional").get("professional"))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own; answer instead of logging a 404 each time."""
    return send_from_directory(current_app.static_folder, "img/favicon.ico", max_age=7 * 24 * 3600)
