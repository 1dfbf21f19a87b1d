"""聯絡窗口 (P4): 類別 → 服務項目 → contacts, with a keyword filter."""

from __future__ import annotations

from collections import defaultdict

from peewee import JOIN

from portal.logic.keywords import Keyword, matches_any
from portal.models.contacts import Contact, ContactGroup


def categories(audience: str = "public") -> list[ContactGroup]:
    """Top-level 類別 of a contact tree."""
    return list(
        ContactGroup.select()
        .where((ContactGroup.audience == audience) & ContactGroup.parent.is_null())
        .order_by(ContactGroup.position, ContactGroup.id)
    )


def find_group(raw_id, audience: str = "public") -> ContactGroup | None:
    """A group of the tree from a query-string value; None when unknown."""
    try:
        return ContactGroup.get_or_none((ContactGroup.id == int(raw_id)) & (ContactGroup.audience == audience))
    except (TypeError, ValueError):
        return None


def services(category: ContactGroup | None, keyword: Keyword, audience: str = "public"):
    """Service items grouped under their category, filtered by category and keyword.

    A keyword matches the item's name, or the unit, name or phone of one of its contacts.
    """
    Parent = ContactGroup.alias()
    query = (
        ContactGroup.select(ContactGroup, Parent)
        .join(Parent, on=(ContactGroup.parent == Parent.id))
        .where(Parent.audience == audience)
        .order_by(Parent.position, Parent.id, ContactGroup.position, ContactGroup.id)
    )
    if category is not None:
        query = query.where(ContactGroup.parent == category)
    if keyword:
        hits = (
            ContactGroup.select(ContactGroup.id)
            .join(Contact, JOIN.LEFT_OUTER)
            .where(matches_any([ContactGroup.name, Contact.unit, Contact.name, Contact.phone], keyword))
        )
        query = query.where(ContactGroup.id.in_(hits))
    grouped = defaultdict(list)
    parents = {}
    for item in query:
        parents[item.parent.id] = item.parent
        grouped[item.parent.id].append(item)
    return [(parents[pid], items) for pid, items in grouped.items()]


def contacts_of(group: ContactGroup) -> list[Contact]:
    """Contacts of one service item in display order."""
    return list(group.contacts.order_by(Contact.position, Contact.id))
