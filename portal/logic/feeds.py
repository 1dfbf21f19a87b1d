"""Atom feeds of the public announcement lists, prebuilt into storage by a job.

Clinics poll these (many every minute, to push notices to LINE), so the web
serves a stored file with a validator instead of querying on every hit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from markupsafe import escape

from portal.jobqueue import enqueue
from portal.logic import announcements
from portal.logic.sanitize import plain_text
from portal.models.announcements import KINDS
from portal.models.base import utcnow

FEED_KINDS = ("realtime", "business", "system", "security")
SITE_TITLE = "健保資訊網服務系統 (VPN)"


def storage_key(kind: str) -> str:
    """Where the prebuilt feed of a kind is stored."""
    return f"feeds/{kind}.atom"


def build(kind: str, origin: str, entries: int) -> bytes:
    """The Atom document of one announcement kind, newest entries first."""
    origin = origin.rstrip("/")
    items = list(announcements.visible(kind).limit(entries))
    files = announcements.attachments_of([a.id for a in items])
    feed = FeedGenerator()
    feed.id(f"{origin}/feeds/{kind}.atom")
    feed.title(f"{SITE_TITLE} — {KINDS[kind]}")
    feed.language("zh-TW")
    feed.link(href=f"{origin}/feeds/{kind}.atom", rel="self")
    feed.link(href=f"{origin}/announcements/{kind}", rel="alternate")
    feed.author(name="衛生福利部中央健康保險署")
    feed.updated(_aware(max((a.updated_at for a in items), default=utcnow())))
    for a in reversed(items):  # feedgen prepends each entry, so add the oldest first
        url = f"{origin}/announcements/{a.id}"
        entry = feed.add_entry()
        entry.id(url)
        entry.link(href=url)
        entry.title(plain_text(a.title))
        entry.published(_aware(a.publish_at))
        entry.updated(_aware(a.updated_at))
        if a.department:
            entry.author(name=a.department)
        links = "".join(
            f'<li><a href="{url}/attachments/{f.id}">{escape(f.name)}</a></li>' for f in files.get(a.id, [])
        )
        body = (a.content or a.title) + (f"<ul>{links}</ul>" if links else "")
        entry.content(body, type="html")
    return feed.atom_str(pretty=True)


def publish_all(config, storage) -> list[str]:
    """Build every feed and store it; returns the kinds written."""
    for kind in FEED_KINDS:
        storage.write(storage_key(kind), build(kind, config["PUBLIC_ORIGIN"], config["FEED_ENTRIES"]))
    return list(FEED_KINDS)


def request_rebuild(config):
    """Ask the worker to rebuild the feeds (after announcements change)."""
    return enqueue(config, "jobs.feeds.rebuild_feeds", kind="feeds")


def _aware(moment: datetime) -> datetime:
    """Stored naive UTC as an aware datetime, which feedgen requires."""
    return moment.replace(tzinfo=UTC)
