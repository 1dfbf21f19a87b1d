"""Announcements after login (SPEC H2, H3, H5): 署本部公告事項 by business category
and 分區業務公告事項 of the reader's own region, keyword search, and 「新」 marks.

Every query here takes the reader's region, so another region's announcement
cannot be listed, searched, opened or downloaded by guessing its id.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from peewee import JOIN, SQL, PostgresqlDatabase, Table

from portal.db import database, write_transaction
from portal.logic import textsearch
from portal.logic.keywords import Keyword
from portal.models.announcements import MEMBER_KINDS, Announcement, AnnouncementAttachment, ReadMark
from portal.models.base import utcnow
from portal.models.files import StoredFile

SCOPES = tuple(MEMBER_KINDS)  # ("hq", "regional")
# With no earlier visit, announcements of this many days count as new.
FIRST_VISIT_DAYS = 30
SEEN_EVERY = timedelta(minutes=1)


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


def search(scope: str, region: str, keyword: Keyword, *, category: str = "", now: datetime | None = None,
           enough: int | None = None):
    """listing() narrowed to announcements whose keywords, title, content or contact contain the keyword.

    `enough`: how many of the newest matches the caller will look at (a page and
    its capped count). PostgreSQL then stops searching older announcements once
    it has that many; the query returned holds only those.
    """
    if not keyword:
        return listing(scope, region, category=category, now=now)
    wanted = textsearch.normalise(keyword.text)
    rows = listing(scope, region, category=category, now=now)
    if isinstance(database.obj, PostgresqlDatabase):
        words = textsearch.tsquery_text(wanted)
        if words:
            return KnownMatches(_postgres_newest(scope, region, category, words, wanted, enough, now or utcnow()),
                                rows)
    else:
        match = textsearch.fts5_match(wanted)
        if match:
            return _sqlite_search(scope, region, category, wanted, match, now or utcnow())
    # No 2-character run for an index to narrow by: LIKE alone.
    return rows.where(Announcement.search_text.contains(wanted))


class KnownMatches:
    """Search results whose ids are already known, newest first (PostgreSQL's windowed search).

    Offers what paginate() and callers use of a Peewee query: counting is len(),
    and a page loads only its own rows by primary key, still through `rows`
    (listing()'s rules), so nothing the reader may not see can slip in.
    """

    def __init__(self, ids: list[int], rows):
        self.ids, self._rows = ids, rows

    def limit(self, count: int) -> KnownMatches:
        return KnownMatches(self.ids[:count], self._rows)

    def count(self) -> int:
        return len(self.ids)

    def paginate(self, number: int, size: int) -> list[Announcement]:
        return self._load(self.ids[(number - 1) * size:number * size])

    def __iter__(self):
        return iter(self._load(self.ids))

    def _load(self, ids: list[int]) -> list[Announcement]:
        if not ids:
            return []
        by_id = {row.id: row for row in self._rows.where(Announcement.id.in_(ids)).order_by()}
        return [by_id[i] for i in ids if i in by_id]


# PostgreSQL's index (migration 0005): search_vector holds the bigrams plus tokens for the
# blocks of weeks (1, 2, 4 … 2048) an announcement was published in, per kind and region.
_PG_WEEK_ZERO = datetime(1900, 1, 1)
_PG_LEVELS = 12
_PG_TOKENS_PER_WINDOW = 3
# GIN finds the window's candidates; the outer query applies the same rules as listing()
# and keeps exact substrings (bigrams of a 4-character word may also occur apart).
_PG_WINDOW = """WITH candidate AS MATERIALIZED (
  SELECT id, kind, category, region, publish_at, expire_at, search_text FROM announcement
  WHERE search_vector @@ (plainto_tsquery('simple', %s) && to_tsquery('simple', %s)))
SELECT id FROM candidate
WHERE kind = %s AND {narrow} AND publish_at <= %s AND (expire_at IS NULL OR expire_at > %s)
  AND strpos(search_text, %s) > 0
ORDER BY publish_at DESC, id DESC LIMIT %s"""
_PG_NARROW = {"hq": "(%s = '' OR category = %s)", "regional": "region = %s"}
# Where the windows stop (SQL text rather than Peewee: a search runs it every time).
_PG_OLDEST = "SELECT min(publish_at) FROM announcement WHERE kind = %s AND {narrow}"


def pg_week(moment: datetime) -> int:
    """The week number migration 0005's announcement_search_tokens() gives this time."""
    return int((moment - _PG_WEEK_ZERO).total_seconds() // 604800)


def pg_scope(kind: str, region: str) -> str:
    """The scope part of a week-block token, as announcement_search_tokens() spells it."""
    return re.sub(r"[^a-z0-9]", "", ("r" + region if kind == "regional" else kind).lower())


def pg_time_blocks(start: int, end: int, most: int = _PG_TOKENS_PER_WINDOW,
                   scope: str = "") -> tuple[list[str], int]:
    """Tokens of the largest aligned week blocks covering [start, end) from `end` down, at most `most`.

    Returns the tokens and where they stop (start, or later when `most` ran out).
    """
    tokens = []
    while end > start and len(tokens) < most:
        level = 0
        while level + 1 < _PG_LEVELS and end % (2 << level) == 0 and end - (2 << level) >= start:
            level += 1
        tokens.append(f"zt{scope}{chr(97 + level)}{(end >> level) - 1}")
        end -= 1 << level
    return tokens, end


def _postgres_newest(scope: str, region: str, category: str, words: str, wanted: str, enough: int | None,
                     now: datetime) -> list[int]:
    """Ids of the newest `enough` matches (all when None), newest first, window by window.

    The first window is the current week (with the last one early in a week);
    each next one is sized from the matches found so far to hold what is still
    missing, or four times wider when it found none, so a common word needs one
    or two small windows and a rare one a handful of wide ones (make
    bench-search). Each window holds at most _PG_TOKENS_PER_WINDOW blocks, so
    GIN intersects few lists.
    """
    narrow = _PG_NARROW[scope]
    narrow_params = (region,) if scope == "regional" else (category, category)
    sql = _PG_WINDOW.format(narrow=narrow)
    token_scope = pg_scope(scope, region)
    end = pg_week(now) + 1
    # Weeks searched so far, the current one by the part that has passed (on a Monday
    # morning it holds next to nothing and must not make a common word look rare).
    passed = max((now - _PG_WEEK_ZERO).total_seconds() / 604800 - (end - 1), 1 / 168)
    covered = passed - 1
    wanted_weeks = 1 if passed >= 0.5 else 2
    first = None  # the oldest announcement's week: asked only when one window was not enough
    ids: list[int] = []
    while enough is None or len(ids) < enough:
        tokens, start = pg_time_blocks(end - wanted_weeks if first is None else max(first, end - wanted_weeks),
                                       end, scope=token_scope)
        left = None if enough is None else enough - len(ids)
        ids += [row[0] for row in database.execute_sql(
            sql, (words, " | ".join(tokens), scope, *narrow_params, now, now, wanted, left)).fetchall()]
        covered += end - start
        end = start
        if enough is not None and len(ids) >= enough:
            break
        if first is None:
            (oldest,) = database.execute_sql(_PG_OLDEST.format(narrow=narrow), (scope, *narrow_params)).fetchone()
            first = pg_week(oldest) if oldest is not None else end
        if end <= first:
            break
        if ids and left is not None:
            # Half again what the matches so far predict for the rest, but at most 8 times what
            # was searched: a few early matches must not open years of a common word.
            predicted = covered * (enough - len(ids)) * 1.5 / len(ids)
            wanted_weeks = max(1, math.ceil(min(predicted, covered * 8)))
        else:
            wanted_weeks = max(1, math.ceil(covered * 4))
    return ids


# SQLite's index (migration 0003): rowid = publish second * KEY_SPAN + id, scope = "hq a" / "regional taipei".
KEY_SPAN = 100_000_000
_SEARCH = Table("announcement_search").alias("s")
_KEY = SQL("s.rowid")


def _sqlite_search(scope: str, region: str, category: str, wanted: str, match: str, now: datetime):
    """Walk the full-text index newest first and stop once a page is full (see migration 0003).

    A single bigram is matched exactly by the index; longer words are checked with
    LIKE too, since a phrase of bigrams may also span two runs ("醫療，療費").
    """
    where = "hq" if scope == "hq" else "regional"
    narrow = (category if scope == "hq" else region).lower()
    scope_phrase = f'"{where} {narrow}"' if narrow.isalnum() else where
    expression = " AND ".join(f"search_grams : {phrase}" for phrase in match.split(" AND "))
    expression += f" AND scope : {scope_phrase}"
    condition = ((Announcement.id == SQL(f"s.rowid % {KEY_SPAN}"))
                 & SQL("s.announcement_search MATCH ?", [expression])
                 & (Announcement.kind == scope) & _published(now))
    if scope == "regional":
        condition &= Announcement.region == region
    elif category:
        condition &= Announcement.category == category
    if len(wanted) != 2 or textsearch.runs(wanted) != [wanted]:
        condition &= Announcement.search_text.contains(wanted)
    # CROSS JOIN keeps the index as the outer loop, so ORDER BY its rowid needs no sort.
    return (Announcement.select(Announcement).from_(_SEARCH).join(Announcement, JOIN.CROSS)
            .where(condition).order_by(_KEY.desc()))


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
    session keep showing the same announcements as new; later calls only move
    seen_at, which becomes the next session's cut-off.
    """
    now = now or utcnow()
    mark = ReadMark.get_or_none(ReadMark.reader == reader)
    if mark is not None and mark.session_id == session_id:
        # What this session sees later is not new next time either (written at most once a minute).
        if now - mark.seen_at >= SEEN_EVERY:
            with write_transaction():
                ReadMark.update(seen_at=now).where(ReadMark.id == mark.id).execute()
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
