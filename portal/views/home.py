"""我的首頁 after login: the layer-1 announcement page of seed 000 第二章 (SPEC H2)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from portal.htmx import render_page, wants_fragment
from portal.identity import today
from portal.logic import catalogue, institution_files, member_news, menu, reminders
from portal.memo import memo
from portal.models.base import utcnow
from portal.navigation import open_codes
from portal.views.news import news_box, news_since

bp = Blueprint("home", __name__, url_prefix="/home")

# Announcements per page in each list of 我的首頁 (seed 000: 「每頁顯示 3 筆」).
LAYER1_PER_PAGE = 3


def unread(region: str, since) -> int:
    """How many announcements are new to this reader (the same for every reader of a region and cut-off)."""
    return memo(("unread", region, since), lambda: member_news.unread_count(region, since))


def _reminders():
    """The same for every session of an institution with the same roles, on the same day."""
    institution, access, day = current_user.institution, current_user.access, today()
    days = current_app.config["APPOINTMENT_REMINDER_DAYS"]
    key = ("reminders", institution.id, access.representative, access.manager is not None, day, days)
    found = memo(key, lambda: reminders.for_session(institution, access, day, days))
    person = current_user.person
    if person is None or not access.services:
        return found
    config = current_app.config
    # Per person (what they downloaded differs); stale for at most the memo's lifetime.
    files_key = ("expiring-files", institution.id, person.id, access.services)
    return found + memo(files_key, lambda: reminders.expiring_files(institution_files.expiring_unread(
        institution.id, access.services, person.id, utcnow(), institution_files.retention(config),
        config["FILE_EXPIRY_WARNING_DAYS"])))


def _services_html() -> Markup:
    """服務項目 and 您可使用的健保服務, rendered once per set of grants (they depend on nothing else)."""
    access = current_user.access
    key = ("home-services", open_codes(), access.services, access.user is not None)

    def render():
        services = catalogue.by_code()
        return Markup(render_template(
            "home/_services.html", categories=menu.menu().categories, is_user=access.user is not None,
            granted=[services[c] for c in sorted(access.services) if c in services]))

    return memo(key, render)


@bp.get("")
@login_required
def index():
    """分區業務公告事項 and 署本部公告事項 (3 per page each, own pagers), unread count, the 15-icon grid."""
    since = news_since()

    def box(scope: str):
        own, other = ("rpage", "hpage") if scope == "regional" else ("hpage", "rpage")
        return news_box(scope, request.args.get(own), per_page=LAYER1_PER_PAGE, endpoint="home.index",
                        query={other: request.args.get(other)}, page_param=own, since=since)

    # Each list pages on its own: htmx asks for one table, named by its element id.
    target = request.htmx.target if wants_fragment() else None
    if target in ("news-regional", "news-hq"):
        return render_page("home/index.html", fragment="news/_table.html", box=box(target[len("news-"):]))
    return render_page(
        "home/index.html",
        regional=box("regional"), hq=box("hq"),
        unread=unread(current_user.institution.region, since),
        services_html=_services_html(),
        reminders=_reminders(),
    )
