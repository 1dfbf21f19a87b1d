"""Policy pages (隱私權政策, 資訊安全政策, 政府網站資料開放宣告) and their sections."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateField, ForeignKeyField, IntegerField, TextField

from portal.models.base import BaseModel


class PolicyPage(BaseModel):
    """A policy page addressed by slug, with its 更新日期."""

    slug = CharField(unique=True)
    title = CharField()
    updated_on = DateField()


class PolicySection(BaseModel):
    """A section; collapsible ones are shown folded with their heading as a toggle."""

    page = ForeignKeyField(PolicyPage, backref="sections", on_delete="CASCADE")
    heading = CharField()
    body = TextField()
    collapsible = BooleanField(default=False)
    position = IntegerField(default=0)
