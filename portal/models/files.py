"""Stored files: metadata of blobs kept by the storage backend under generated keys."""

from __future__ import annotations

from peewee import BigIntegerField, CharField, DateTimeField

from portal.models.base import BaseModel, utcnow


class StoredFile(BaseModel):
    """One blob in storage. `name` is what users see and download it as."""

    key = CharField(unique=True)
    name = CharField()
    content_type = CharField()
    size = BigIntegerField()
    sha256 = CharField(max_length=64, index=True)
    created_at = DateTimeField(default=utcnow)

    @property
    def extension(self) -> str:
        """Lower-case extension of the download name, without the dot ('' if none)."""
        _, dot, ext = self.name.rpartition(".")
        return ext.lower() if dot else ""
