"""A short-lived cache of public pages, per web process.

Public pages are the same for every visitor and change only when NHIA staff
edit content, yet every clinic opens the home page at the start of the day.
A response is kept for PAGE_CACHE_SECONDS (edits show up within that time;
saves in the same process clear it at once). The key holds everything a public
response depends on: path and query, page or htmx fragment (and the page the
fragment is for), and the browser line of the header.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict

from flask import current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.htmx import wants_fragment
from portal.logic.browsers import browser_line

MAX_ENTRIES = 512
MAX_BODY_BYTES = 256 * 1024


class PageCache:
    """Thread-safe LRU of (expiry, status, headers, body) by key."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """A fresh entry or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key, response: Response) -> None:
        """Keep a response (only plain, complete, cookie-free 200s)."""
        if response.status_code != 200 or response.direct_passthrough or "Set-Cookie" in response.headers:
            return
        body = response.get_data()
        if len(body) > MAX_BODY_BYTES:
            return
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, list(response.headers.items()), body)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (after content changes)."""
        with self._lock:
            self._entries.clear()


def init_app(app) -> None:
    """Give the app its own cache (tests run several apps in one process)."""
    app.extensions["pagecache"] = PageCache(app.config["PAGE_CACHE_SECONDS"])


def clear(app=None) -> None:
    """Clear the cache of the current (or given) app, if there is one."""
    app = app or current_app._get_current_object()
    cache = app.extensions.get("pagecache")
    if cache is not None:
        cache.clear()


def cached_page(view):
    """Serve a public GET view from the cache for anonymous visitors."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache: PageCache | None = current_app.extensions.get("pagecache")
        if cache is None or cache.seconds <= 0 or request.method != "GET" or current_user.is_authenticated:
            return view(*args, **kwargs)
        key = _key()
        entry = cache.get(key)
        if entry is not None:
            return Response(entry[2], headers=entry[1])
        response = current_app.make_response(view(*args, **kwargs))
        cache.put(key, response)
        return response

    return wrapper


def _key() -> tuple:
    """What a public response depends on."""
    fragment = wants_fragment()
    return (
        request.full_path,
        fragment,
        request.headers.get("HX-Current-URL") if fragment else None,
        browser_line(request.headers.get("User-Agent")),
    )
