"""The safe HTML subset allowed in announcements, FAQ answers and policy texts (P10).

Sanitized once, on save; templates then output the stored HTML as-is.
"""

from __future__ import annotations

import html
import re

import nh3

TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "span", "a", "ul", "ol", "li",
    "table", "caption", "thead", "tbody", "tr", "th", "td",
}
ATTRIBUTES = {
    "span": {"style"},
    "a": {"href", "title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
STYLE_PROPERTIES = {"color", "font-size"}
URL_SCHEMES = {"http", "https"}


def clean_html(text: str) -> str:
    """Keep only the allow-listed tags, attributes, styles and http(s) links."""
    return nh3.clean(
        text or "",
        tags=TAGS,
        clean_content_tags={"script", "style"},
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        url_relative="deny",
        filter_style_properties=STYLE_PROPERTIES,
        link_rel="noopener noreferrer",
    )


_SPACE = re.compile(r"\s+")


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment, tags removed and whitespace collapsed."""
    text = nh3.clean(fragment or "", tags=set(), clean_content_tags={"script", "style"})
    return _SPACE.sub(" ", html.unescape(text)).strip()


def shorten(text: str, limit: int) -> tuple[str, bool]:
    """Cut plain text to `limit` characters; also say whether anything was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip() + "…", True
