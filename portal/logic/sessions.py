"""Server-side sessions: idle and absolute expiry, rotation at login, ending a person's sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from peewee import JOIN

from portal.models.authority import Institution, Person
from portal.models.base import utcnow
from portal.models.sessions import UserSession
from portal.prepared import Prepared

# A session's last_seen_at is written at most this often (saves a write per request).
TOUCH_EVERY = timedelta(seconds=30)


def token_hash(token: str) -> str:
    """What the database keeps instead of the cookie's token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start(config, *, institution, person=None, representative=False, card_type: str, login_method="card",
          certificate_serial="", module_no="", ip="", user_agent="", now: datetime | None = None
          ) -> tuple[str, UserSession]:
    """A new session (always a new token: logging in rotates the session id)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = UserSession.create(
        token_hash=token_hash(token), institution=institution, person=person, representative=representative,
        card_type=card_type, login_method=login_method, certificate_serial=certificate_serial,
        module_no=module_no, ip=ip,
        user_agent=user_agent[:250], created_at=now, last_seen_at=now,
        expires_at=now + timedelta(seconds=config["SESSION_ABSOLUTE_SECONDS"]),
    )
    return token, row


# Every request of a logged-in user runs this; the institution and person come
# along because every logged-in page shows them (one query, not three).
_live_session = Prepared(
    lambda hashed: (UserSession.select(UserSession, Institution, Person)
                    .join(Institution).switch(UserSession).join(Person, JOIN.LEFT_OUTER)
                    .where((UserSession.token_hash == hashed) & UserSession.ended_at.is_null())
                    .limit(1)),
    str)


def resume(config, token: str | None, now: datetime | None = None) -> UserSession | None:
    """The live session of a cookie token, touched; None (and the row ended) when it has expired."""
    if not token:
        return None
    now = now or utcnow()
    row = _live_session.first(token_hash(token))
    if row is None:
        return None
    if now >= row.expires_at:
        end(row, "absolute", now)
        return None
    if now >= idle_deadline(config, row):
        end(row, "idle", now)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        UserSession.update(last_seen_at=now).where(UserSession.id == row.id).execute()
        row.last_seen_at = now
    return row


def touch(row: UserSession, now: datetime | None = None) -> None:
    """Record activity now (「繼續使用」), whatever TOUCH_EVERY would have skipped."""
    now = now or utcnow()
    UserSession.update(last_seen_at=now).where(UserSession.id == row.id).execute()
    row.last_seen_at = now


def idle_deadline(config, row: UserSession) -> datetime:
    """When the session ends unless the user does something."""
    return min(row.last_seen_at + timedelta(seconds=config["SESSION_IDLE_SECONDS"]), row.expires_at)


def end(row: UserSession, reason: str, now: datetime | None = None) -> None:
    """End one session (logout, expiry, revoked access)."""
    UserSession.update(ended_at=now or utcnow(), end_reason=reason).where(
        (UserSession.id == row.id) & UserSession.ended_at.is_null()).execute()


def end_for_module(module_no: str, reason: str = "module_revoked") -> int:
    """End every open session a (now revoked) security module signed for."""
    return UserSession.update(ended_at=utcnow(), end_reason=reason).where(
        (UserSession.module_no == module_no) & UserSession.ended_at.is_null()).execute()


def end_for_person(person_id: int, institution_id: int | None, reason: str) -> int:
    """End every open session of a person (at one institution, or everywhere); returns how many."""
    query = UserSession.update(ended_at=utcnow(), end_reason=reason).where(
        (UserSession.person == person_id) & UserSession.ended_at.is_null())
    if institution_id is not None:
        query = query.where(UserSession.institution == institution_id)
    return query.execute()
