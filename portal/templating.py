"""Template filters, globals and the context every page needs (header, menu, service block)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import request, url_for

from portal.logic.browsers import browser_line
from portal.logic.national_id import mask
from portal.logic.roc_dates import roc_compact_stamp, roc_date, roc_datetime

# The public left menu (P1): label, endpoint.
PUBLIC_MENU = [
    ("醫事人員專區", "public.professionals"),
    ("醫事機構登入", "auth.login_page"),
    ("下載專區", "downloads.index"),
    ("聯絡窗口", "contacts.index"),
    ("友善連結", "links.index"),
]
POLICY_LINKS = [("隱私權政策", "privacy"), ("資訊安全政策", "security"), ("政府網站資料開放宣告", "open-data")]
FILE_LABELS = {"pdf": "PDF", "odt": "ODT", "ods": "ODS", "doc": "DOC", "docx": "DOCX", "xls": "XLS",
               "xlsx": "XLSX", "zip": "ZIP", "txt": "TXT", "csv": "CSV", "html": "HTML"}


def query_args(**params) -> dict:
    """Query parameters worth keeping in a link: empty and false values are dropped."""
    return {k: v for k, v in params.items() if v not in (None, "", False)}


def init_app(app) -> None:
    """Register filters, globals, the per-request context and long caching of versioned assets."""
    static_root = Path(app.static_folder)

    @cache
    def _version(filename: str) -> str:
        return hashlib.sha256((static_root / filename).read_bytes()).hexdigest()[:10]

    def asset_url(filename: str) -> str:
        """URL of a static file with a content hash, so it can be cached for a year."""
        return url_for("static", filename=filename, v=_version(filename))

    app.jinja_env.filters.update(roc_date=roc_date, roc_datetime=roc_datetime, mask_id=mask,
                                 roc_compact_stamp=roc_compact_stamp)
    app.jinja_env.globals.update(
        asset_url=asset_url, PUBLIC_MENU=PUBLIC_MENU, POLICY_LINKS=POLICY_LINKS,
        query_args=query_args,
        file_label=lambda ext: FILE_LABELS.get((ext or "").lower(), (ext or "檔案").upper()),
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _page_context():
        return {
            "browser_line": browser_line(request.headers.get("User-Agent")),
            "site": {k: app.config[k] for k in (
                "SERVICE_PHONE", "SERVICE_HOURS", "SERVICE_EMAIL", "LINE_CHECK_PROVIDER", "LINE_CHECK_PHONE")},
        }

    @app.after_request
    def _cache_versioned_assets(response):
        if request.endpoint == "static" and "v" in request.args and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
