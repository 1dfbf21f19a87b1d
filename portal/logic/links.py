"""Link lists of the public site and the 其它應用系統聯絡窗口 table."""

from __future__ import annotations

from collections import defaultdict

from portal.models.links import Link, LinkContact, LinkSection


def sections(*keys: str) -> dict[str, tuple[LinkSection, list[Link]]]:
    """Sections by key, each with its links in order (all sections when no key is given)."""
    query = LinkSection.select().order_by(LinkSection.position, LinkSection.id)
    if keys:
        query = query.where(LinkSection.key.in_(keys))
    found = {s.id: s for s in query}
    links = defaultdict(list)
    if found:
        for link in Link.select().where(Link.section.in_(list(found))).order_by(Link.position, Link.id):
            links[link.section_id].append(link)
    return {s.key: (s, links[s.id]) for s in found.values()}


def contacts() -> list[LinkContact]:
    """Rows of 其它應用系統聯絡窗口 in order."""
    return list(LinkContact.select().order_by(LinkContact.position, LinkContact.id))
