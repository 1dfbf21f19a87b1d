"""服務項目 pages (SPEC H5–H7): a category's layer-2 page, a group's page, function screens
of subsystems still to come or of NHIA systems elsewhere, and the logged-in 網站地圖."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, request
from flask_login import login_required

from portal.htmx import render_page
from portal.identity import deny_access
from portal.logic import downloads, menu
from portal.logic.keywords import Keyword, parse_keyword
from portal.navigation import item_url, open_codes
from portal.views.news import news_box

bp = Blueprint("services", __name__, url_prefix="/services")

TEMPLATES = {1: "services/category.html", 2: "services/group.html", 3: "services/function.html"}


@bp.get("/<code>")
@login_required
def show(code: str):
    """Layer 2 (a category), a group, or layer 3 (a function); 404 unknown, 403 not permitted."""
    item = menu.find(code)
    if item is None:
        abort(404)
    if item.code not in open_codes():
        deny_access()
    if item.is_leaf and item.endpoint:
        return redirect(item_url(item))
    g.menu_item = item
    keyword = parse_keyword(request.args.get("q"))
    category = menu.path(item)[0]
    box = news_box("hq", request.args.get("page"), keyword=keyword, category=category.code,
                   endpoint="services.show", url_args={"code": item.code}, query={"q": keyword.text})
    return render_page(TEMPLATES[item.level], fragment="news/_table.html", item=item, category=category, box=box,
                       subsystem=menu.menu().subsystems.get(item.subsystem),
                       external_url=_external_url(item.external) if item.external else "")


@bp.get("/<code>/manuals")
@login_required
def manuals(code: str):
    """現行作業區 → 操作手冊 (SPEC H9): the 下載專區 files about this function's group, in the member layout."""
    item = menu.find(code)
    if item is None or not item.is_leaf:
        abort(404)
    if item.code not in open_codes():
        deny_access()
    g.menu_item = item
    path = menu.path(item)
    # Manuals are filed under the business (group) name; a group without any falls back to its category.
    topic, rows = path[1].title, downloads.documents(None, Keyword(path[1].title), newest_first=True)
    if not rows:
        topic, rows = path[0].title, downloads.documents(None, Keyword(path[0].title), newest_first=True)
    return render_page("services/manuals.html", item=item, topic=topic, rows=rows)


@bp.get("/sitemap")
@login_required
def sitemap():
    """網站地圖: every item; those the user may open are green links, the others black text."""
    return render_page("services/sitemap.html", categories=menu.menu().categories, allowed=open_codes())


def _external_url(path: str) -> str:
    """An NHIA system's address: NHIA_SYSTEMS_ORIGIN + the item's path."""
    return current_app.config["NHIA_SYSTEMS_ORIGIN"].rstrip("/") + path
