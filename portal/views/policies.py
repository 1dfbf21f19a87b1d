"""Policy pages (P9) with expandable sections."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for

from portal.htmx import render_page
from portal.logic import policies
from portal.pagecache import cached_page

bp = Blueprint("policies", __name__, url_prefix="/policies")


@bp.get("/<slug>")
@cached_page
def show(slug: str):
    """A policy page; ?open=<section id> unfolds a collapsible section without JavaScript."""
    found = policies.page(slug)
    if found is None:
        abort(404)
    page, sections = found
    return render_page("policies/show.html", page=page, sections=sections, open_id=request.args.get("open", ""))


@bp.get("/<slug>/sections/<int:section_id>")
@cached_page
def section(slug: str, section_id: int):
    """One section unfolded (or folded with ?collapsed=1); htmx swaps it in place."""
    found = policies.page(slug)
    if found is None:
        abort(404)
    page, sections = found
    match = next((s for s in sections if s.id == section_id), None)
    if match is None:
        abort(404)
    expanded = request.args.get("collapsed") != "1"
    return render_page(
        "policies/show.html", fragment="policies/_section.html",
        page=page, sections=sections, section=match, expanded=expanded,
        open_id=str(section_id) if expanded else "",
        page_url=url_for(".show", slug=slug),
    )
