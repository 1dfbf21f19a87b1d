"""Failure counting: 5 wrong 健保卡 passwords lock the account 15 min; busy addresses are slowed."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.models.base import utcnow
from portal.models.sessions import LoginThrottle


def locked_until(key: str, now: datetime | None = None) -> datetime | None:
    """When a locked key opens again; None when it is not locked."""
    row = LoginThrottle.get_or_none(LoginThrottle.key == key)
    now = now or utcnow()
    if row and row.locked_until and row.locked_until > now:
        return row.locked_until
    return None


def fail(key: str, *, limit: int, window_seconds: int, lock_seconds: int, now: datetime | None = None) -> int:
    """Count a failure; lock the key when `limit` failures fall within the window. Returns failures so far."""
    now = now or utcnow()
    row, _ = LoginThrottle.get_or_create(key=key, defaults={"window_start": now})
    if now - row.window_start > timedelta(seconds=window_seconds) or (row.locked_until and row.locked_until <= now):
        row.failures, row.window_start, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + timedelta(seconds=lock_seconds)
    row.save()
    return row.failures


def clear(key: str) -> None:
    """Forget failures after a success."""
    LoginThrottle.delete().where(LoginThrottle.key == key).execute()
