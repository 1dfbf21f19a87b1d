"""The three-level service menu A–O (SPEC H4–H7), from portal/data/menu.toml.

A leaf opens a screen of this portal (an endpoint), a screen a later subsystem
builds, or an NHIA system elsewhere; a 機構使用者 may open it when granted its
業務代號, managers and representatives the items of their roles. A group or
category is open when any leaf below it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

from portal import refdata
from portal.logic.authority import Access


@dataclass
class Item:
    """One menu entry: a category (A), a group (A.02) or a function (A.02.01)."""

    code: str
    title: str
    parent: str | None
    service: str = ""
    roles: tuple[str, ...] = ()
    endpoint: str = ""
    subsystem: str = ""
    external: str = ""
    contacts: str = ""
    children: list[Item] = field(default_factory=list)

    @property
    def level(self) -> int:
        """1 for categories, 2 for groups, 3 for functions."""
        return self.code.count(".") + 1

    @property
    def is_leaf(self) -> bool:
        """A function screen (作業畫面)."""
        return not self.children

    @property
    def label(self) -> str:
        """How menus show it: 'A費用申報及資料登錄', 'A.02 預檢醫療費用申報'."""
        return f"{self.code}{self.title}" if self.level == 1 else f"{self.code} {self.title}"

    def leaves(self) -> list[Item]:
        """Every function at or below this item."""
        if self.is_leaf:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


@dataclass(frozen=True)
class Menu:
    """The whole tree, indexed."""

    categories: tuple[Item, ...]
    by_code: dict
    by_endpoint: dict
    subsystems: dict


@cache
def menu() -> Menu:
    """Parse portal/data/menu.toml once per process."""
    data = refdata.load("menu")
    by_code: dict[str, Item] = {}
    categories = []
    for row in data["item"]:
        parent = row["code"].rsplit(".", 1)[0] if "." in row["code"] else None
        item = Item(row["code"], row["title"], parent, row.get("service", ""), tuple(row.get("roles", ())),
                    row.get("endpoint", ""), row.get("subsystem", ""), row.get("external", ""),
                    row.get("contacts", ""))
        by_code[item.code] = item
        if parent is None:
            categories.append(item)
        else:
            by_code[parent].children.append(item)
    by_endpoint = {i.endpoint: i for i in by_code.values() if i.endpoint}
    subsystems = {s["key"]: s for s in data.get("subsystem", [])}
    return Menu(tuple(categories), by_code, by_endpoint, subsystems)


def find(code: str | None) -> Item | None:
    """An item by code; None for unknown or malformed codes."""
    return menu().by_code.get(code or "")


def for_endpoint(endpoint: str | None) -> Item | None:
    """The function whose screen is this endpoint (so its page shows its place in the menu)."""
    return menu().by_endpoint.get(endpoint or "")


def path(item: Item) -> list[Item]:
    """The item and its ancestors, category first (the breadcrumb)."""
    chain = [item]
    while chain[0].parent:
        chain.insert(0, find(chain[0].parent))
    return chain


def contact_category(item: Item) -> str:
    """The 聯絡窗口 服務類別 of an item: its own, or its nearest ancestor's."""
    return next((i.contacts for i in reversed(path(item)) if i.contacts), "")


def siblings(item: Item) -> list[Item]:
    """Items under the same parent (a function screen's left menu)."""
    return find(item.parent).children if item.parent else list(menu().categories)


def may_open(item: Item, access: Access) -> bool:
    """Whether this access may use the item (for groups and categories: any leaf below)."""
    return any(_leaf_allowed(leaf, access.representative, access.manager is not None, access.services)
               for leaf in item.leaves())


def _leaf_allowed(leaf: Item, representative: bool, manager: bool, services: frozenset[str]) -> bool:
    """A function: by role (representative / manager) or by a granted 業務代號."""
    if leaf.roles:
        return (representative and "representative" in leaf.roles) or (manager and "manager" in leaf.roles)
    return bool(leaf.service) and leaf.service in services


def open_codes(access: Access) -> frozenset[str]:
    """Codes of every item this access may open (for menus and maps)."""
    # Only these three facts of an Access decide a leaf, and few distinct sets of them exist.
    return _open_codes(access.representative, access.manager is not None, access.services)


@lru_cache(maxsize=512)
def _open_codes(representative: bool, manager: bool, services: frozenset[str]) -> frozenset[str]:
    allowed = set()
    for item in menu().by_code.values():
        if item.is_leaf and _leaf_allowed(item, representative, manager, services):
            allowed.update(i.code for i in path(item))
    return frozenset(allowed)
