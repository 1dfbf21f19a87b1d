"""Demo content for a fresh portal: `flask seed-demo` loads portal/data/demo/*.toml.

Idempotent: rows are matched by natural keys (names, slugs, dates) and updated in
place; files are generated only where a document or attachment has none yet.
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from pathlib import Path

from portal.db import database
from portal.demo import authority, documents, institution_files, member_news, uploads
from portal.logic import announcements as announcement_logic
from portal.logic.roc_dates import taipei_to_utc
from portal.logic.sanitize import clean_html
from portal.models import (
    Announcement,
    Contact,
    ContactGroup,
    DownloadCategory,
    DownloadDocument,
    DownloadService,
    DownloadVariant,
    Faq,
    FaqCategory,
    Link,
    LinkContact,
    LinkSection,
    PolicyPage,
    PolicySection,
    StoredFile,
)
from portal.models.announcements import MEMBER_KINDS

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
PUBLISH_TIME = time(9, 0)


def read(name: str) -> dict:
    """One demo data file."""
    with open(DEMO_DIR / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


def load_all(storage, config=None) -> dict[str, int]:
    """Load every demo file; returns how many rows of each kind the demo holds.

    With the app's config, also the demo uploads (their checks need the upload settings).
    """
    with database.atomic():
        return {
            "announcements": load_announcements(read("announcements"), storage),
            "downloads": load_downloads(read("downloads"), storage),
            "contacts": load_contacts(read("contacts")),
            "links": load_links(read("links")),
            "faq": load_faq(read("faq")),
            "policies": load_policies(read("policies")),
            "appointments": authority.load(read("authority")),
            # uploads first: the report of the one with errors is one of the institution's files
            **({"uploads": uploads.load(storage, config)} if config is not None else {}),
            "institution_files": institution_files.load(storage),
            **{f"member_{key}": count for key, count in member_news.load(storage).items()},
        }


def store(storage, name: str, fmt: str, title: str, body: str) -> StoredFile:
    """Generate a document and record it as a stored file."""
    blob = storage.write(storage.new_key("demo", fmt), documents.make(fmt, title, body))
    return StoredFile.create(key=blob.key, name=name, content_type=documents.CONTENT_TYPES[fmt],
                             size=blob.size, sha256=blob.sha256)


def load_announcements(data: dict, storage) -> int:
    """Announcements matched by (kind, title, date); attachments generated once."""
    for entry in data["announcement"]:
        publish_at = taipei_to_utc(date.fromisoformat(entry["date"]), PUBLISH_TIME)
        existing = Announcement.get_or_none(
            (Announcement.kind == entry["kind"]) & (Announcement.title == clean_html(entry["title"]).strip())
            & (Announcement.publish_at == publish_at)
        )
        fields = dict(kind=entry["kind"], title=entry["title"], content=entry.get("content", ""),
                      department=entry.get("department", ""), keywords=entry.get("keywords", ""),
                      publish_at=publish_at)
        saved = existing if _unchanged(existing, fields) else announcement_logic.save(
            announcement=existing, **fields)
        if not saved.attachments.count():
            for name in entry.get("attachments", []):
                fmt = name.rsplit(".", 1)[-1].lower()
                stored = store(storage, name, fmt, name.rsplit(".", 1)[0], entry.get("content") or entry["title"])
                announcement_logic.attach(saved, stored)
    return Announcement.select().where(Announcement.kind.not_in(list(MEMBER_KINDS))).count()


def _unchanged(existing: Announcement | None, fields: dict) -> bool:
    """Whether a stored announcement already says what the demo file says (no needless update)."""
    if existing is None:
        return False
    return (existing.content == clean_html(fields["content"]).strip()
            and existing.department == fields["department"].strip()
            and existing.keywords == fields["keywords"].strip())


def load_downloads(data: dict, storage) -> int:
    """Categories, service items and documents matched by name; one file per format."""
    for c_pos, category in enumerate(data["category"]):
        cat, _ = DownloadCategory.get_or_create(name=category["name"])
        _update(cat, position=c_pos)
        for s_pos, service in enumerate(category.get("service", [])):
            svc, _ = DownloadService.get_or_create(category=cat, name=service["name"],
                                                   defaults={"position": s_pos})
            _update(svc, position=s_pos)
            for d_pos, doc in enumerate(service.get("document", [])):
                _load_document(svc, d_pos, doc, storage)
    return DownloadDocument.select().count()


def _load_document(service: DownloadService, position: int, doc: dict, storage) -> None:
    """One document and any of its formats not yet stored."""
    fields = dict(updated_on=date.fromisoformat(doc["updated"]), slug=doc.get("slug"), position=position)
    row, created = DownloadDocument.get_or_create(service=service, description=doc["description"], defaults=fields)
    if not created:
        _update(row, **fields)
    have = {v.format for v in row.variants}
    for fmt in doc["formats"]:
        if fmt not in have:
            name = f"{documents.safe_name(doc['description'])}.{fmt}"
            stored = store(storage, name, fmt, doc["description"], doc.get("content", ""))
            DownloadVariant.create(document=row, format=fmt, file=stored)


def load_contacts(data: dict) -> int:
    """The public contact tree; each service item's contacts are replaced by the file's."""
    for c_pos, category in enumerate(data["category"]):
        cat = _group(None, category["name"], c_pos)
        for s_pos, service in enumerate(category.get("service", [])):
            group = _group(cat, service["name"], s_pos)
            Contact.delete().where(Contact.group == group).execute()
            for p_pos, person in enumerate(service.get("contact", [])):
                Contact.create(group=group, position=p_pos, agency=person.get("agency", ""),
                               unit=person.get("unit", ""), name=person["name"],
                               phone=person.get("phone", ""), email=person.get("email", ""))
    return Contact.select().join(ContactGroup).where(ContactGroup.audience == "public").count()


def _group(parent, name: str, position: int) -> ContactGroup:
    """A public contact group matched by parent and name."""
    parent_match = ContactGroup.parent.is_null() if parent is None else (ContactGroup.parent == parent)
    group = ContactGroup.get_or_none((ContactGroup.audience == "public") & parent_match & (ContactGroup.name == name))
    if group is None:
        return ContactGroup.create(parent=parent, audience="public", name=name, position=position)
    _update(group, position=position)
    return group


def load_links(data: dict) -> int:
    """Link sections by key (their links replaced) and the other systems' contacts."""
    for s_pos, section in enumerate(data["section"]):
        row, _ = LinkSection.get_or_create(key=section["key"], defaults={"title": section["title"]})
        _update(row, title=section["title"], position=s_pos)
        Link.delete().where(Link.section == row).execute()
        for l_pos, link in enumerate(section.get("link", [])):
            Link.create(section=row, title=link["title"], url=link["url"], note=link.get("note", ""),
                        position=l_pos)
    LinkContact.delete().execute()
    for pos, contact in enumerate(data.get("contact", [])):
        LinkContact.create(system=contact["system"], name=contact["name"], phone=contact["phone"], position=pos)
    return Link.select().count()


def load_faq(data: dict) -> int:
    """FAQ categories and questions matched by name and question text."""
    for c_pos, category in enumerate(data["category"]):
        cat, _ = FaqCategory.get_or_create(name=category["name"])
        _update(cat, position=c_pos)
        for q_pos, item in enumerate(category.get("item", [])):
            answer = clean_html(item["answer"])
            row, created = Faq.get_or_create(category=cat, question=item["question"],
                                             defaults={"answer": answer, "position": q_pos})
            if not created:
                _update(row, answer=answer, position=q_pos)
    return Faq.select().count()


def load_policies(data: dict) -> int:
    """Policy pages by slug and their sections by heading."""
    for page in data["page"]:
        updated = date.fromisoformat(page["updated"])
        row, created = PolicyPage.get_or_create(slug=page["slug"],
                                                defaults={"title": page["title"], "updated_on": updated})
        if not created:
            _update(row, title=page["title"], updated_on=updated)
        for pos, section in enumerate(page.get("section", [])):
            fields = dict(body=clean_html(section["body"]), collapsible=section.get("collapsible", False),
                          position=pos)
            sec, made = PolicySection.get_or_create(page=row, heading=section["heading"], defaults=fields)
            if not made:
                _update(sec, **fields)
    return PolicySection.select().count()


def _update(row, **fields) -> None:
    """Save changed fields only (keeps re-runs cheap and quiet)."""
    changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(row, key, value)
        row.save(only=list(changed))
