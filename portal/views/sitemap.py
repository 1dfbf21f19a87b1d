"""網站地圖 (P6): every public page."""

from __future__ import annotations

from flask import Blueprint

from portal.htmx import render_page
from portal.logic import cards, links
from portal.pagecache import cached_page

bp = Blueprint("sitemap", __name__, url_prefix="/sitemap")


@bp.get("")
@cached_page
def index():
    """The tree of public pages, including the professional systems and login entries."""
    sections = links.sections()
    return render_page(
        "sitemap/index.html",
        professional=sections.get("professional"),
        link_sections=[v for k, v in sections.items() if k != "professional"],
        cards=cards.card_types(),
    )
