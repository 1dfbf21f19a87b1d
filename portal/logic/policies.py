"""Policy pages (P9) with their sections."""

from __future__ import annotations

from portal.models.policies import PolicyPage, PolicySection

SLUGS = ("privacy", "security", "open-data")


def page(slug: str) -> tuple[PolicyPage, list[PolicySection]] | None:
    """A policy page and its sections in order; None for an unknown slug."""
    found = PolicyPage.get_or_none(PolicyPage.slug == slug)
    if found is None:
        return None
    return found, list(found.sections.order_by(PolicySection.position, PolicySection.id))


def titles() -> list[tuple[str, str]]:
    """(slug, title) of every policy page, in the footer's order."""
    pages = {p.slug: p.title for p in PolicyPage.select()}
    return [(slug, pages[slug]) for slug in SLUGS if slug in pages]
