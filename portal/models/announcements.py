"""Announcements of every kind (即時公告, 業務公告, 系統公告, 資安專區 …) and their attachments."""

from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.base import BaseModel, utcnow
from portal.models.files import StoredFile

# Public kinds (before login) -> zh-TW name.
KINDS = {
    "realtime": "即時公告",
    "business": "業務公告",
    "system": "系統公告",
    "security": "資安專區",
}
# Kinds for logged-in users (SPEC H2): 署本部公告事項 by business category (A–O),
# 分區業務公告事項 by region, with a contact.
MEMBER_KINDS = {
    "hq": "署本部公告事項",
    "regional": "分區業務公告事項",
}
ALL_KINDS = {**KINDS, **MEMBER_KINDS}


class Announcement(BaseModel):
    """A notice. `title` and `content` hold HTML already sanitized on save."""

    kind = CharField()
    department = CharField(default="")
    title = TextField()
    content = TextField(default="")
    keywords = CharField(default="")
    category = CharField(max_length=1, default="")
    region = CharField(max_length=16, default="")
    contact_name = CharField(default="")
    contact_phone = CharField(default="")
    # Title, content, keywords and contact as normalised plain text, kept on save: what keyword
    # search compares; search_grams is its bigram form, the full-text index's input
    # (portal/logic/textsearch.py, migration 0003).
    search_text = TextField(default="")
    search_grams = TextField(default="")
    publish_at = DateTimeField()
    expire_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "publish_at"), False), (("kind", "region", "publish_at"), False),
                   (("kind", "category", "publish_at"), False))


class AnnouncementAttachment(BaseModel):
    """A file attached to an announcement, in display order."""

    announcement = ForeignKeyField(Announcement, backref="attachments", on_delete="CASCADE")
    file = ForeignKeyField(StoredFile, on_delete="RESTRICT")
    position = IntegerField(default=0)


class ReadMark(BaseModel):
    """When a reader last looked at the announcements (for the 「新」 marks, SPEC H2).

    `reader` is "p<person id>@<institution id>", or "rep@<institution id>" for 機構代表.
    Announcements published after `since` are new during session `session_id`;
    the next session's `since` is this one's `seen_at`.
    """

    reader = CharField(unique=True)
    session_id = IntegerField(default=0)
    since = DateTimeField(null=True)
    seen_at = DateTimeField(default=utcnow)
