"""Link lists of the public site and the 其它應用系統聯絡窗口 table."""

from __future__ import annotations

from portal.models.links import Link, LinkContact, LinkSection


def sections(*keys: str) -> dict[str, tuple[LinkSection, list[Link]]]:
    """Sections that have links, by key, each with its links in order (all sections if no key given)."""
    query = (
        Link.select(Link, LinkSection)
        .join(LinkSection)
        .order_by(LinkSection.position, LinkSection.id, Link.position, Link.id)
    )
    if keys:
        query = query.where(LinkSection.key.in_(keys))
    found: dict[str, tuple[LinkSection, list[Link]]] = {}
    for link in query:
        found.setdefault(link.section.key, (link.section, []))[1].append(link)
    return found


def contacts() -> list[LinkContact]:
    """Rows of 其它應用系統聯絡窗口 in order."""
    return list(LinkContact.select().order_by(LinkContact.position, LinkContact.id))
