"""Base model and time helper shared by every model module."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import Model

from portal.db import database


def utcnow() -> datetime:
    """Current time in UTC as a naive datetime (the form every DateTimeField stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


class BaseModel(Model):
    """All models live in the proxied database and use snake_case table names."""

    class Meta:
        database = database
        legacy_table_names = False
