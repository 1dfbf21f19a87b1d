"""聯絡窗口: a tree of groups (類別 → 服務項目 …) with contacts on its leaves."""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField

from portal.models.base import BaseModel

# Who sees a tree: the public site (P4) or logged-in users (H8, issue 4).
AUDIENCES = ("public", "member")


class ContactGroup(BaseModel):
    """A node of a contact tree; roots are 類別, their children 服務項目."""

    parent = ForeignKeyField("self", null=True, backref="children", on_delete="CASCADE")
    audience = CharField(default="public")
    name = CharField()
    position = IntegerField(default=0)
    # What this node's children are called in 聯絡窗口查詢's dropdowns (機關, 單位 …; H8).
    child_label = CharField(default="")

    class Meta:
        indexes = ((("audience", "parent", "name"), True),)


class Contact(BaseModel):
    """A person or desk to call about one service item."""

    group = ForeignKeyField(ContactGroup, backref="contacts", on_delete="CASCADE")
    agency = CharField(default="")
    unit = CharField(default="")
    name = CharField()
    phone = CharField(default="")
    email = CharField(default="")
    position = IntegerField(default=0)
