"""One helper decides between a full page and its fragment (DESIGN.md §2)."""

from __future__ import annotations

from flask import render_template
from htmx_flask import make_response, request


def wants_fragment() -> bool:
    """True for an htmx swap; false for boosted navigation and history restores, which need pages."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def render_page(page_template: str, /, fragment: str | None = None, status: int = 200, **context):
    """Render the page, or only its fragment for htmx; never cached, varies on HX-Request."""
    template = fragment if fragment and wants_fragment() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    response.headers["Cache-Control"] = "no-store"
    return response
