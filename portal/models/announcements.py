"""Announcements of every kind (即時公告, 業務公告, 系統公告, 資安專區 …) and their attachments."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.base import BaseModel, utcnow
from portal.models.files import StoredFile

# kind -> zh-TW name. Later issues add 署本部公告 and 分區業務公告 kinds.
KINDS = {
    "realtime": "即時公告",
    "business": "業務公告",
    "system": "系統公告",
    "security": "資安專區",
}


class Announcement(BaseModel):
    """A notice. `title` and `content` hold HTML already sanitized on save."""

    kind = CharField()
    department = CharField(default="")
    title = TextField()
    content = TextField(default="")
    keywords = CharField(default="")
    publish_at = DateTimeField()
    expire_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "publish_at"), False),)


class AnnouncementAttachment(BaseModel):
    """A file attached to an announcement, in display order."""

    announcement = ForeignKeyField(Announcement, backref="attachments", on_delete="CASCADE")
    file = ForeignKeyField(StoredFile, on_delete="RESTRICT")
    position = IntegerField(default=0)
