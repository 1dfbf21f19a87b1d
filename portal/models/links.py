"""Link lists of the public site (醫事人員常用連結, 友善連結 …) and other systems' contacts."""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField

from portal.models.base import BaseModel


class LinkSection(BaseModel):
    """A titled list of links; `key` names it for templates (professional, other …)."""

    key = CharField(unique=True)
    title = CharField()
    position = IntegerField(default=0)


class Link(BaseModel):
    """An external link with an optional note such as 需使用醫事人員卡登入."""

    section = ForeignKeyField(LinkSection, backref="links", on_delete="CASCADE")
    title = CharField()
    url = CharField()
    note = CharField(default="")
    position = IntegerField(default=0)


class LinkContact(BaseModel):
    """A row of 其它應用系統聯絡窗口 (應用系統 / 聯絡窗口 / 連絡電話)."""

    system = CharField()
    name = CharField()
    phone = CharField()
    position = IntegerField(default=0)
