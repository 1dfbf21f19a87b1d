"""The audit log: append-only and hash-chained, so a changed or deleted row is detectable."""

from __future__ import annotations

from peewee import CharField, DateTimeField, IntegerField, TextField

from portal.models.base import BaseModel, utcnow


class AuditEvent(BaseModel):
    """Who did what, where from, with what result; `hash` covers the row and the previous hash."""

    at = DateTimeField(default=utcnow, index=True)
    actor = CharField(default="")
    actor_person_id = IntegerField(null=True, index=True)
    institution_id = IntegerField(null=True, index=True)
    ip = CharField(default="")
    user_agent = CharField(default="")
    action = CharField(index=True)
    result = CharField(default="ok")
    detail = TextField(default="{}")
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)


class AuditHead(BaseModel):
    """The single row holding the chain's last hash; writers lock it to append in order."""

    last_id = IntegerField(default=0)
    last_hash = CharField(max_length=64)
