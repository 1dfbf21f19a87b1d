"""友善連結 (P5): other application systems and their contacts."""

from __future__ import annotations

from flask import Blueprint

from portal.htmx import render_page
from portal.logic import links
from portal.pagecache import cached_page

bp = Blueprint("links", __name__, url_prefix="/links")


@bp.get("")
@cached_page
def index():
    """Every link section except the professional one, and the contact table."""
    sections = [v for k, v in links.sections().items() if k != "professional"]
    return render_page("links/index.html", sections=sections, contacts=links.contacts())
