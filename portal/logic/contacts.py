"""聯絡窗口: the public tree (P4: 類別 → 服務項目 → contacts, keyword filter) and the
logged-in 聯絡窗口查詢 (H8: 服務類別 → up to three cascading levels → contacts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

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


# Ids beyond a 64-bit integer cannot exist; the databases would raise on them.
MAX_ROW_ID = 2**63 - 1


def find_group(raw_id, audience: str = "public") -> ContactGroup | None:
    """A group of the tree from a query-string value; None when unknown."""
    try:
        group_id = int(raw_id)
    except (TypeError, ValueError):
        return None
    if not 0 < group_id <= MAX_ROW_ID:
        return None
    return ContactGroup.get_or_none((ContactGroup.id == group_id) & (ContactGroup.audience == audience))


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


# ── 聯絡窗口查詢 after login (SPEC H8): 服務類別 → up to three classification levels ──

MAX_LEVELS = 3
# Query parameter of each dropdown: the 服務類別, then one per classification level.
LEVEL_PARAMS = ("type", "l1", "l2", "l3")


@dataclass
class Level:
    """One dropdown of the cascade: its parameter, label, choices and the choice made."""

    param: str
    label: str
    options: list
    chosen: ContactGroup | None = None
    parent_id: int | None = None


@dataclass
class Cascade:
    """The dropdowns to show; `mismatch` when a choice did not belong to the one above it."""

    levels: list
    mismatch: bool = False

    @property
    def deepest(self) -> ContactGroup | None:
        """The most specific group chosen (None before a 服務類別 is chosen)."""
        chosen = [level.chosen for level in self.levels if level.chosen is not None]
        return chosen[-1] if chosen else None


def _children(parent_id: int) -> list[ContactGroup]:
    return list(ContactGroup.select().where(ContactGroup.parent == parent_id)
                .order_by(ContactGroup.position, ContactGroup.id))


def cascade(args, audience: str = "member") -> Cascade:
    """Dropdowns from query arguments: `type`, then `l1`…`l3`, each with `p1`…`p3` naming the
    group its dropdown was drawn under.

    A choice drawn under an earlier parent (the user changed a dropdown above it) is
    dropped quietly; a choice that claims the current parent but is not its child
    (an edited URL) is dropped and reported as a mismatch.
    """
    roots = categories(audience)
    chosen = _pick(roots, args.get(LEVEL_PARAMS[0]))
    if chosen is None and args.get("topic"):
        chosen = next((r for r in roots if r.name == args.get("topic")), None)
    levels = [Level(LEVEL_PARAMS[0], "服務類別", roots, chosen)]
    mismatch = bool(args.get(LEVEL_PARAMS[0])) and chosen is None
    for depth in range(1, MAX_LEVELS + 1):
        parent = levels[-1].chosen
        if parent is None:
            break
        options = _children(parent.id)
        if not options:
            break
        param = LEVEL_PARAMS[depth]
        pick = None
        if str(args.get(f"p{depth}", "")) == str(parent.id):
            pick = _pick(options, args.get(param))
            mismatch = mismatch or (bool(args.get(param)) and pick is None)
        levels.append(Level(param, parent.child_label or "分類項目", options, pick, parent.id))
    return Cascade(levels, mismatch)


def _pick(options: list[ContactGroup], raw) -> ContactGroup | None:
    """The option whose id the raw value names; None for anything else."""
    return next((o for o in options if str(o.id) == str(raw or "").strip()), None)


def contacts_below(group: ContactGroup):
    """Contacts of a group and every group under it (a query, in tree order)."""
    ids, frontier = [group.id], [group.id]
    for _ in range(MAX_LEVELS):
        frontier = [g.id for g in ContactGroup.select(ContactGroup.id).where(ContactGroup.parent.in_(frontier))]
        if not frontier:
            break
        ids += frontier
    return (Contact.select().join(ContactGroup).where(Contact.group.in_(ids))
            .order_by(Contact.agency, Contact.unit, ContactGroup.position, Contact.position, Contact.id))
