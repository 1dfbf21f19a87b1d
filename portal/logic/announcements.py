"""Announcements: what is visible now, search, presentation, and saving (sanitized)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from portal import refdata
from portal.db import database
from portal.logic import textsearch
from portal.logic.keywords import Keyword, matches_any
from portal.logic.roc_dates import roc_date
from portal.logic.sanitize import clean_html, plain_text, shorten
from portal.models.announcements import ALL_KINDS, KINDS, Announcement, AnnouncementAttachment
from portal.models.base import utcnow
from portal.models.files import StoredFile

# Characters of title text shown before 詳細資料 cuts it (P10).
SUMMARY_CHARS = 80


class AnnouncementError(ValueError):
    """Input an announcement cannot be saved with; str() is a zh-TW message."""


def visible(kind: str, now: datetime | None = None):
    """Announcements of a kind inside their publish window, newest first."""
    now = now or utcnow()
    return (
        Announcement.select()
        .where(
            (Announcement.kind == kind)
            & (Announcement.publish_at <= now)
            & (Announcement.expire_at.is_null() | (Announcement.expire_at > now))
        )
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc())
    )


def search(kind: str, keyword: Keyword, now: datetime | None = None):
    """Visible announcements of a kind whose title, content, keywords or 組室 contain the keyword."""
    query = visible(kind, now)
    if keyword:
        fields = [Announcement.title, Announcement.content, Announcement.keywords, Announcement.department]
        query = query.where(matches_any(fields, keyword))
    return query


def get_visible(announcement_id: int, now: datetime | None = None) -> Announcement | None:
    """One announcement if it exists and is published now (public kinds only)."""
    now = now or utcnow()
    return (
        Announcement.select()
        .where(
            (Announcement.id == announcement_id)
            & Announcement.kind.in_(list(KINDS))
            & (Announcement.publish_at <= now)
            & (Announcement.expire_at.is_null() | (Announcement.expire_at > now))
        )
        .first()
    )


@dataclass
class Attachment:
    """An attachment as lists show it."""

    id: int
    name: str
    extension: str
    size: int


@dataclass
class Item:
    """An announcement as every list and detail view shows it."""

    id: int
    kind: str
    department: str
    date: str
    date_dotted: str
    summary: str
    title_html: str
    content_html: str
    attachments: list[Attachment]
    keywords: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    published_at: datetime | None = None
    # Whether 詳細資料 has more to show than the summary line (worked out once, not per rendering).
    expandable: bool = False


def present(announcements, limit: int = SUMMARY_CHARS) -> list[Item]:
    """Items for templates, with attachments fetched in one query."""
    announcements = list(announcements)
    files = attachments_of([a.id for a in announcements])
    items = []
    for a in announcements:
        summary, cut = shorten(plain_text(a.title), limit)
        attached = files.get(a.id, [])
        items.append(Item(
            id=a.id, kind=a.kind, department=a.department,
            date=roc_date(a.publish_at), date_dotted=roc_date(a.publish_at, "."),
            summary=summary, title_html=a.title, content_html=a.content,
            attachments=attached, keywords=a.keywords,
            contact_name=a.contact_name, contact_phone=a.contact_phone, published_at=a.publish_at,
            expandable=cut or bool(a.content or attached or a.contact_name or a.contact_phone),
        ))
    return items


def attachments_of(announcement_ids: list[int]) -> dict[int, list[Attachment]]:
    """Attachments of several announcements, grouped by announcement id, in order."""
    grouped: dict[int, list[Attachment]] = defaultdict(list)
    if not announcement_ids:
        return grouped
    rows = (
        AnnouncementAttachment.select(AnnouncementAttachment, StoredFile)
        .join(StoredFile)
        .where(AnnouncementAttachment.announcement.in_(announcement_ids))
        .order_by(AnnouncementAttachment.position, AnnouncementAttachment.id)
    )
    for row in rows:
        grouped[row.announcement_id].append(
            Attachment(row.id, row.file.name, row.file.extension, row.file.size)
        )
    return grouped


def attachment_file(announcement_id: int, attachment_id: int) -> StoredFile | None:
    """The stored file of an attachment, if it belongs to a visible announcement."""
    if get_visible(announcement_id) is None:
        return None
    row = (
        AnnouncementAttachment.select(AnnouncementAttachment, StoredFile)
        .join(StoredFile)
        .where((AnnouncementAttachment.id == attachment_id)
               & (AnnouncementAttachment.announcement == announcement_id))
        .first()
    )
    return row.file if row else None


CATEGORIES = "ABCDEFGHIJKLMNO"


def region_codes() -> list[str]:
    """The six 分區業務組 codes (portal/data/regions.toml)."""
    return [r["code"] for r in refdata.load("regions")["region"]]


def search_fields(*parts: str) -> dict[str, str]:
    """search_text and search_grams of an announcement from its plain-text parts."""
    text = textsearch.normalise(" ".join(parts))
    return {"search_text": text, "search_grams": textsearch.grams(text)}


def save(*, kind: str, title: str, publish_at: datetime, content: str = "", department: str = "",
         keywords: str = "", expire_at: datetime | None = None, category: str = "", region: str = "",
         contact_name: str = "", contact_phone: str = "",
         announcement: Announcement | None = None) -> Announcement:
    """Create or update an announcement; title and content are sanitized here, once."""
    if kind not in ALL_KINDS:
        raise AnnouncementError(f"公告類別「{kind}」不存在。")
    clean_title = clean_html(title).strip()
    if not plain_text(clean_title):
        raise AnnouncementError("請輸入公告標題。")
    if expire_at is not None and expire_at <= publish_at:
        raise AnnouncementError("公告結束時間必須晚於開始時間。")
    if kind == "hq" and (len(category) != 1 or category not in CATEGORIES):
        raise AnnouncementError("署本部公告須指定業務類別（A–O）。")
    if kind == "regional" and region not in region_codes():
        raise AnnouncementError("分區業務公告須指定分區業務組。")
    content = clean_html(content).strip()
    fields = dict(
        kind=kind, title=clean_title, content=content, department=department.strip(), keywords=keywords.strip(),
        category=category if kind == "hq" else "", region=region if kind == "regional" else "",
        contact_name=contact_name.strip(), contact_phone=contact_phone.strip(),
        **search_fields(plain_text(clean_title), plain_text(content), keywords, contact_name, contact_phone),
        publish_at=publish_at, expire_at=expire_at, updated_at=utcnow(),
    )
    with database.atomic():
        if announcement is None:
            announcement = Announcement.create(**fields)
        else:
            for key, value in fields.items():
                setattr(announcement, key, value)
            announcement.save()
    return announcement


def attach(announcement: Announcement, stored: StoredFile) -> AnnouncementAttachment:
    """Add a stored file to the end of an announcement's attachments."""
    position = announcement.attachments.count()
    return AnnouncementAttachment.create(announcement=announcement, file=stored, position=position)
