"""網站使用說明 (P7) with its five tabs; 資安專區 (P8) is the second tab."""

from __future__ import annotations

from flask import Blueprint, abort, request

from portal.htmx import render_page
from portal.logic import announcements, cards, downloads, faq
from portal.logic.keywords import parse_keyword
from portal.logic.pagination import paginate
from portal.pagecache import cached_page

bp = Blueprint("guide", __name__, url_prefix="/guide")

TABS = [
    ("system", "系統公告", "guide.system"),
    ("security", "資安專區", "guide.security"),
    ("setup", "電腦設定", "guide.setup"),
    ("faq", "常見問答", "guide.faq_index"),
    ("manuals", "使用指南", "guide.manuals"),
]
SETUP_DOCUMENTS = ("dns-setting", "card-reader-driver", "login-component", "ie-setting", "prepare", "cloud-sam-guide")
MANUAL_DOCUMENTS = ("site-intro", "prepare", "login-component", "cloud-sam-guide", "ie-setting", "dns-setting")
PER_PAGE = 10


@bp.get("")
@bp.get("/system")
@cached_page
def system():
    """系統公告 tab: every system announcement, newest first."""
    return _announcement_tab("system", "guide.system")


@bp.get("/security")
@cached_page
def security():
    """資安專區 tab: security notices."""
    return _announcement_tab("security", "guide.security")


def _announcement_tab(kind: str, endpoint: str):
    """A tab listing one announcement kind with keyword search and paging."""
    keyword = parse_keyword(request.args.get("q"))
    page = paginate(announcements.search(kind, keyword), request.args.get("page"), PER_PAGE)
    return render_page(
        "guide/announcements.html", fragment="announcements/_list.html",
        tab=kind, kind=kind, keyword=keyword, page=page, items=announcements.present(page.items),
        list_endpoint=endpoint, list_args={},
    )


@bp.get("/setup")
@cached_page
def setup():
    """電腦設定: STEP 1–3, with the documents to download."""
    return render_page("guide/setup.html", tab="setup", docs=downloads.by_slug(*SETUP_DOCUMENTS),
                       readers=cards.readers(), cards={c["code"]: c["name"] for c in cards.card_types()})


@bp.get("/faq")
@cached_page
def faq_index():
    """常見問答 filtered by category and keyword; ?open=<id> unfolds one answer without JavaScript."""
    category = faq.find_category(request.args.get("category"))
    keyword = parse_keyword(request.args.get("q"))
    return render_page(
        "guide/faq.html", fragment="guide/_faq_list.html", tab="faq",
        categories=faq.categories(), category=category, keyword=keyword,
        groups=faq.grouped(faq.questions(category, keyword)), open_id=request.args.get("open", ""),
        unknown_category=bool(request.args.get("category")) and category is None,
    )


@bp.get("/faq/<int:faq_id>")
@cached_page
def faq_item(faq_id: int):
    """One question with its answer; htmx swaps it open (or closed with ?collapsed=1) in the list."""
    question = faq.find_question(faq_id)
    if question is None:
        abort(404)
    return render_page("guide/faq_item.html", fragment="guide/_faq_item.html", tab="faq",
                       q=question, expanded=request.args.get("collapsed") != "1")


@bp.get("/manuals")
@cached_page
def manuals():
    """使用指南: the manuals of this site."""
    return render_page("guide/manuals.html", tab="manuals", docs=downloads.by_slug(*MANUAL_DOCUMENTS),
                       order=MANUAL_DOCUMENTS)




@bp.context_processor
def _tabs():
    """The tab bar of every guide page."""
    return {"TABS": TABS}
