"""Announcements after login (SPEC H2, H3, H5): 署本部公告事項 by business category
and 分區業務公告事項 of the reader's own region, keyword search, and 「新」 marks.

Every query here takes the reader's region, so another region's announcement
cannot be listed, searched, opened or downloaded by guessing its id.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import SQL, PostgresqlDatabase

from portal.db import database, write_transaction
from portal.logic import textsearch
from portal.logic.keywords import Keyword
from portal.models.announcements import MEMBER_KINDS, Announcement, AnnouncementAttachment, ReadMark
from portal.models.base import utcnow
from portal.models.files import StoredFile

SCOPES = tuple(MEMBER_KINDS)  # ("hq", "regional")
# With no earlier visit, announcements of this many days count as new.
FIRST_VISIT_DAYS = 30


def _published(now: datetime):
    return (Announcement.publish_at <= now) & (Announcement.expire_at.is_null() | (Announcement.expire_at > now))


def _readable(region: str):
    """署本部 announcements, and 分區 announcements of this region only."""
    return (Announcement.kind == "hq") | ((Announcement.kind == "regional") & (Announcement.region == region))


def listing(scope: str, region: str, *, category: str = "", now: datetime | None = None):
    """Published announcements of one scope a reader of `region` may see, newest first.

    `category` narrows 署本部公告事項 to one business (layer 2, SPEC H5).
    """
    condition = (Announcement.kind == scope) & _published(now or utcnow())
    if scope == "regional":
        condition &= Announcement.region == region
    elif category:
        condition &= Announcement.category == category
    return Announcement.select().where(condition).order_by(Announcement.publish_at.desc(), Announcement.id.desc())


def search(scope: str, region: str, keyword: Keyword, *, category: str = "", now: datetime | None = None):
    """listing() narrowed to announcements whose keywords, title, content or contact contain the keyword."""
    query = listing(scope, region, category=category, now=now)
    return query.where(keyword_condition(keyword.text)) if keyword else query


def keyword_condition(text: str):
    """Substring match on search_text, narrowed first through the bigram index where one applies."""
    wanted = textsearch.normalise(text)
    condition = Announcement.search_text.contains(wanted)
    if isinstance(database.obj, PostgresqlDatabase):
        words = textsearch.tsquery_text(wanted)
        if words:
            # Written exactly as the index expression of migration 0003, so the planner uses it.
            condition = SQL("to_tsvector('simple', search_grams) @@ plainto_tsquery('simple', %s)", [words]) \
                & condition
    else:
        match = textsearch.fts5_match(wanted)
        if match:
            condition = Announcement.id.in_(
                SQL("SELECT rowid FROM announcement_search WHERE announcement_search MATCH ?", [match])) & condition
    return condition


def get_readable(announcement_id: int, region: str, now: datetime | None = None) -> Announcement | None:
    """One published announcement this reader may see; None otherwise (the view answers 404)."""
    return (Announcement.select()
            .where((Announcement.id == announcement_id) & _readable(region) & _published(now or utcnow()))
            .first())


def attachment_file(announcement_id: int, attachment_id: int, region: str) -> StoredFile | None:
    """The file of an attachment of an announcement this reader may see."""
    row = (AnnouncementAttachment.select(AnnouncementAttachment, StoredFile)
           .join(StoredFile)
           .switch(AnnouncementAttachment).join(Announcement)
           .where((AnnouncementAttachment.id == attachment_id)
                  & (AnnouncementAttachment.announcement == announcement_id)
                  & _readable(region) & _published(utcnow()))
           .first())
    return row.file if row else None


def reader_key(institution_id: int, person_id: int | None) -> str:
    """Whose read marks these are: a person at an institution, or the institution's representative."""
    return f"p{person_id}@{institution_id}" if person_id else f"rep@{institution_id}"


def new_since(reader: str, session_id: int, now: datetime | None = None) -> datetime:
    """The cut-off for 「新」 in this session: when the reader's previous session last looked.

    The first call of a session moves the mark, so later pages of the same
    session keep showing the same announcements as new.
    """
    now = now or utcnow()
    mark = ReadMark.get_or_none(ReadMark.reader == reader)
    if mark is not None and mark.session_id == session_id:
        return mark.since or now
    since = mark.seen_at if mark is not None else now - timedelta(days=FIRST_VISIT_DAYS)
    with write_transaction():
        ReadMark.insert(reader=reader, session_id=session_id, since=since, seen_at=now).on_conflict(
            conflict_target=[ReadMark.reader],
            update={ReadMark.session_id: session_id, ReadMark.since: since, ReadMark.seen_at: now},
        ).execute()
    return since


def unread_count(region: str, since: datetime, now: datetime | None = None, cap: int = 99) -> int:
    """How many announcements this reader may see were published after `since` (at most cap + 1)."""
    query = (Announcement.select(Announcement.id)
             .where(Announcement.kind.in_(SCOPES) & _readable(region) & _published(now or utcnow())
                    & (Announcement.publish_at > since))
             .limit(cap + 1))
    return query.count()
