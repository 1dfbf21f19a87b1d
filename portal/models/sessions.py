"""Login transactions, server-side sessions and failure throttles (SPEC L1, L8; DESIGN.md §6)."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.authority import Institution, Person
from portal.models.base import BaseModel, utcnow


class LoginTransaction(BaseModel):
    """One login attempt in flight: a nonce the card signs, bound to a cookie, single use."""

    nonce = CharField(max_length=64, unique=True)
    cookie_hash = CharField(max_length=64)
    card_type = CharField(max_length=16)
    reader_type = CharField(max_length=16)
    state = CharField(default="started")
    person = ForeignKeyField(Person, null=True, on_delete="CASCADE")
    institution = ForeignKeyField(Institution, null=True, on_delete="CASCADE")
    detail = TextField(default="{}")
    ip = CharField(default="")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()


class UserSession(BaseModel):
    """A logged-in session; the browser holds a random token, the row holds its hash."""

    token_hash = CharField(max_length=64, unique=True)
    institution = ForeignKeyField(Institution, backref="sessions", on_delete="CASCADE")
    person = ForeignKeyField(Person, null=True, backref="sessions", on_delete="CASCADE")
    representative = BooleanField(default=False)
    card_type = CharField(max_length=16)
    login_method = CharField(max_length=16, default="card")
    certificate_serial = CharField(default="")
    module_no = CharField(default="", index=True)
    ip = CharField(default="")
    user_agent = CharField(default="")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    ended_at = DateTimeField(null=True, index=True)
    end_reason = CharField(default="")


class LoginThrottle(BaseModel):
    """Failure counters per account or per client address, with a lock time."""

    key = CharField(unique=True)
    failures = IntegerField(default=0)
    window_start = DateTimeField(default=utcnow)
    locked_until = DateTimeField(null=True)
