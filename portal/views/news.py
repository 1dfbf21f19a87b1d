"""公告事項 after login (SPEC H2, H3, H5): 查看全部 with search, one announcement, attachments.

The lists on 我的首頁 and on the layer-2 pages are built here too (news_box), so
every list of announcements after login pages, searches and expands the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from portal.htmx import render_page, wants_fragment
from portal.logic import announcements, member_news, menu
from portal.logic.keywords import Keyword, parse_keyword
from portal.logic.pagination import Page, paginate, parse_page
from portal.memo import memo
from portal.models.announcements import MEMBER_KINDS
from portal.views.files import send_stored

bp = Blueprint("news", __name__, url_prefix="/news")

PER_PAGE = 10
# More results than this are not counted (a keyword over a large archive; see paginate()).
COUNT_CAP = 1000
# A keyword search counts at most this many results (20 pages): past that, 「共 200 筆以上」
# asks for a narrower keyword, and a common word over a million notices stays cheap.
SEARCH_COUNT_CAP = 200
# Characters of the title a table row shows before 詳細資料 (seed 000 第二章).
ROW_SUMMARY_CHARS = 40


@dataclass
class NewsBox:
    """One table of announcements with its pager, as a template draws it."""

    box_id: str
    scope: str
    page: Page
    items: list
    since: datetime
    endpoint: str
    url_args: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    page_param: str = "page"
    keyword: Keyword = Keyword("")

    @property
    def title(self) -> str:
        """署本部公告事項 or 分區業務公告事項."""
        return MEMBER_KINDS[self.scope]

    @property
    def here(self) -> str:
        """This page of the list as a URL (where 收合 returns to without JS)."""
        query = {k: v for k, v in self.query.items() if v}
        return url_for(self.endpoint, **self.url_args, **query, **{self.page_param: self.page.number})


def news_since() -> datetime:
    """The 「新」 cut-off of this session (see member_news.new_since)."""
    person = current_user.person
    reader = member_news.reader_key(current_user.institution.id, person.id if person else None)
    session_id = current_user.session.id
    # Fixed for the whole session; the memo only skips re-reading it (seen_at moves on the next miss).
    return memo(("since", reader, session_id), lambda: member_news.new_since(reader, session_id))


def news_box(scope: str, raw_page, *, per_page: int = PER_PAGE, keyword: Keyword | None = None,
             category: str = "", endpoint: str, url_args: dict | None = None, query: dict | None = None,
             page_param: str = "page", box_id: str = "", since: datetime | None = None) -> NewsBox:
    """One page of the announcements of a scope the current user may see."""
    keyword = keyword or Keyword("")
    region = current_user.institution.region

    def one_page():
        found = member_news.search(scope, region, keyword, category=category,
                                   enough=SEARCH_COUNT_CAP + 1)
        page = paginate(found, raw_page, per_page, cap=SEARCH_COUNT_CAP if keyword else COUNT_CAP)
        return page, announcements.present(page.items, ROW_SUMMARY_CHARS)

    # Lists without a keyword are the same for every reader of a region (我的首頁, layer 2).
    page, items = one_page() if keyword else memo(
        ("news", scope, region, category, parse_page(raw_page), per_page), one_page)
    return NewsBox(box_id or f"news-{scope}", scope, page, items,
                   since or news_since(), endpoint, url_args or {}, query or {}, page_param, keyword)


@bp.app_template_global()
def news_table(box: NewsBox) -> Markup:
    """The rendered news/_table.html of a box.

    A list without a keyword renders the same for every reader of the region on
    that page with the same 「新」 marks (most of a day's readers have none or
    the same ones), so that HTML is kept like the list itself; the key names
    the rows shown, so a changed list never meets an old table.
    """
    if box.keyword:
        return Markup(render_template("news/_table.html", box=box))
    marked = tuple(item.id for item in box.items if box.since and item.published_at > box.since)
    key = ("news-table", box.box_id, box.scope, current_user.institution.region, box.endpoint, box.page_param,
           tuple(sorted(box.url_args.items())), tuple(sorted((k, v) for k, v in box.query.items() if v)),
           box.page.number, box.page.total, box.page.capped, tuple(item.id for item in box.items), marked)
    return memo(key, lambda: Markup(render_template("news/_table.html", box=box)))


@bp.get("/<scope>")
@login_required
def index(scope: str):
    """公告事項查詢: every announcement of a scope the user may see, one keyword, 10 per page."""
    if scope not in MEMBER_KINDS:
        abort(404)
    category = _category(scope)
    keyword = parse_keyword(request.args.get("q"))
    args = {"scope": scope}
    box = news_box(scope, request.args.get("page"), keyword=keyword, category=category.code if category else "",
                   endpoint="news.index", url_args=args,
                   query={"q": keyword.text, "category": category.code if category else ""})
    return render_page("news/index.html", fragment="news/_table.html", box=box, category=category)


@bp.get("/item/<int:announcement_id>")
@login_required
def show(announcement_id: int):
    """One announcement: a page without JS; for htmx the table row, expanded or (?collapsed=1) not."""
    found = member_news.get_readable(announcement_id, current_user.institution.region)
    if found is None:
        abort(404)
    item = announcements.present([found], ROW_SUMMARY_CHARS)[0]
    # Back to where the reader came from (我的首頁, a layer-2 page, a search), else the full list.
    came_from = request.htmx.current_url if wants_fragment() else request.referrer
    list_url = url_for(".index", scope=found.kind)
    back = _same_site(came_from) or list_url
    return render_page("news/show.html", fragment="news/_row.html", item=item, scope=found.kind,
                       expanded=request.args.get("collapsed") != "1", since=news_since(), back_url=back,
                       list_url=list_url)


@bp.get("/item/<int:announcement_id>/attachments/<int:attachment_id>")
@login_required
def attachment(announcement_id: int, attachment_id: int):
    """Download an attachment of an announcement the user may see (404 otherwise, whoever asks)."""
    stored = member_news.attachment_file(announcement_id, attachment_id, current_user.institution.region)
    if stored is None:
        abort(404)
    return send_stored(stored)


def _category(scope: str) -> menu.Item | None:
    """?category=A narrows 署本部公告事項 to one business; anything else is a 404."""
    code = request.args.get("category", "")
    if not code:
        return None
    item = menu.find(code)
    if scope != "hq" or item is None or item.level != 1:
        abort(404)
    return item


def _same_site(url: str | None) -> str | None:
    """A URL from HX-Current-URL or Referer, kept only if it points into this site."""
    if url and url.startswith(request.host_url):
        return url
    return None
