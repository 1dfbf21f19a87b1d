"""Short-lived per-process memos for what every logged-in page repeats.

我的首頁 is the first page of every clinic's day and it is never the same
for two users, so it cannot be cached whole like the public pages. Its parts
can: the announcement lists of a region, the unread count of a cut-off, the
rendered 服務項目 menu of a set of grants. Keys always hold what the value
depends on (the region, the grants …), so nothing crosses from one user to
another that they could not see themselves; values live PAGE_CACHE_SECONDS,
as public pages do.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")


class Memo:
    """A thread-safe LRU of values that expire `seconds` after they were computed."""

    def __init__(self, max_entries: int = 1024):
        self.max_entries = max_entries
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, seconds: float, compute: Callable[[], T]) -> T:
        """The fresh value of key, computing (outside the lock) and keeping it when there is none."""
        if seconds <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now + seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (content was just saved in this process)."""
        with self._lock:
            self._entries.clear()


def init_app(app) -> None:
    """Each app has its own memo (tests run several apps in one process)."""
    app.extensions["memo"] = Memo()


def memo(key: Hashable, compute: Callable[[], T]) -> T:
    """The current app's memo of key, kept PAGE_CACHE_SECONDS (0: always computed)."""
    app = current_app._get_current_object()  # one trip through the proxy, not two
    return app.extensions["memo"].get(key, app.config["PAGE_CACHE_SECONDS"], compute)
