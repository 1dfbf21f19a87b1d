"""下載專區 (P3): browse, search, sort and download public files."""

from __future__ import annotations

from flask import Blueprint, abort, request

from portal.htmx import render_page
from portal.logic import downloads
from portal.logic.keywords import parse_keyword
from portal.pagecache import cached_page
from portal.views.files import send_stored

bp = Blueprint("downloads", __name__, url_prefix="/downloads")


@bp.get("")
@cached_page
def index():
    """Service items by category; choosing one, 全部, or a keyword lists the files."""
    raw_service = request.args.get("service", "").strip()
    service = downloads.find_service(raw_service)
    keyword = parse_keyword(request.args.get("q"))
    newest_first = request.args.get("sort") == "date"
    listing = bool(raw_service or keyword)
    known = service is not None or raw_service in ("", "all")
    rows = downloads.documents(service, keyword, newest_first) if listing and known else []
    return render_page(
        "downloads/index.html", fragment="downloads/_results.html",
        tree=downloads.tree(), service=service, raw_service=raw_service, keyword=keyword,
        newest_first=newest_first, listing=listing, rows=rows,
    )


@bp.get("/<int:document_id>/<fmt>")
def download(document_id: int, fmt: str):
    """One document in one format."""
    stored = downloads.variant_file(document_id, fmt.lower())
    if stored is None:
        abort(404)
    return send_stored(stored)
