"""Sign requests waiting for their PIN, in memory under a random token, for 120 s."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from portal.cardagent.checks import SignRequest

TTL_SECONDS = 120.0
LIMIT = 100  # a page flooding /v1/sign cannot grow the agent's memory without bound


@dataclass
class Pending:
    """What the PIN page was shown for: the request and the card that was in the reader."""

    request: SignRequest
    identity: str
    holder: str
    tries_left: int | None
    choice: str | None = None
    expires: float = 0.0


class PendingStore:
    """Tokens → pending requests; taking one removes it, so a token is used once per PIN post."""

    def __init__(self, ttl: float = TTL_SECONDS, clock=time.monotonic):
        self.ttl, self.clock = ttl, clock
        self._items: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def add(self, pending: Pending) -> str:
        """Keep pending for ttl seconds; the token for the PIN form."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sweep()
            if len(self._items) >= LIMIT:
                self._items.pop(next(iter(self._items)))
            pending.expires = self.clock() + self.ttl
            self._items[token] = pending
        return token

    def take(self, token: str) -> Pending | None:
        """Remove and return the pending request; None when unknown, used or expired."""
        with self._lock:
            self._sweep()
            return self._items.pop(token, None)

    def put_back(self, token: str, pending: Pending) -> None:
        """After a wrong PIN: the same token, the same deadline."""
        with self._lock:
            if pending.expires > self.clock():
                self._items[token] = pending

    def __len__(self) -> int:
        """How many requests are waiting."""
        with self._lock:
            self._sweep()
            return len(self._items)

    def _sweep(self) -> None:
        """Forget expired requests (the lock is held)."""
        now = self.clock()
        for token in [t for t, p in self._items.items() if p.expires <= now]:
            del self._items[token]
