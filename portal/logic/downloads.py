"""下載專區 (P3): browse by category and service item, keyword search, sort by date."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from portal.logic.keywords import Keyword
from portal.logic.roc_dates import roc_date
from portal.models.downloads import DownloadCategory, DownloadDocument, DownloadService, DownloadVariant
from portal.models.files import StoredFile

# Display order and labels of the formats a document may come in.
FORMATS = {"pdf": "PDF", "odt": "ODT", "ods": "ODS", "doc": "DOC", "docx": "DOCX", "xls": "XLS", "zip": "ZIP"}


@dataclass
class Row:
    """A row of the 檔案說明 table."""

    id: int
    service: str
    description: str
    updated: str
    formats: list[str]


def tree() -> list[tuple[DownloadCategory, list[DownloadService]]]:
    """Categories in order, each with its service items in order."""
    services = defaultdict(list)
    for s in DownloadService.select().order_by(DownloadService.position, DownloadService.id):
        services[s.category_id].append(s)
    categories = DownloadCategory.select().order_by(DownloadCategory.position, DownloadCategory.id)
    return [(c, services[c.id]) for c in categories]


def find_service(raw_id) -> DownloadService | None:
    """A service item from a ?service= value; None for 全部 or anything unknown."""
    try:
        return DownloadService.get_or_none(DownloadService.id == int(raw_id))
    except (TypeError, ValueError):
        return None


def documents(service: DownloadService | None, keyword: Keyword, newest_first: bool) -> list[Row]:
    """Documents of one service item (or all), matching the keyword, with their formats."""
    query = (
        DownloadDocument.select(DownloadDocument, DownloadService)
        .join(DownloadService)
        .join(DownloadCategory)
    )
    if service is not None:
        query = query.where(DownloadDocument.service == service)
    if keyword:
        query = query.where(DownloadDocument.description.contains(keyword.text))
    if newest_first:
        query = query.order_by(DownloadDocument.updated_on.desc(), DownloadDocument.id)
    else:
        query = query.order_by(DownloadCategory.position, DownloadService.position,
                               DownloadDocument.position, DownloadDocument.id)
    docs = list(query)
    formats = _formats_of([d.id for d in docs])
    return [Row(d.id, d.service.name, d.description, roc_date(d.updated_on, "."), formats[d.id]) for d in docs]


def _formats_of(document_ids: list[int]) -> dict[int, list[str]]:
    """Formats available per document, in FORMATS order."""
    found = defaultdict(list)
    if document_ids:
        for v in DownloadVariant.select().where(DownloadVariant.document.in_(document_ids)):
            found[v.document_id].append(v.format)
    order = list(FORMATS)
    return defaultdict(list, {k: sorted(v, key=lambda f: order.index(f) if f in order else 99)
                              for k, v in found.items()})


def variant_file(document_id: int, fmt: str) -> StoredFile | None:
    """The stored file of a document in one format."""
    row = (
        DownloadVariant.select(DownloadVariant, StoredFile)
        .join(StoredFile)
        .where((DownloadVariant.document == document_id) & (DownloadVariant.format == fmt))
        .first()
    )
    return row.file if row else None


def by_slug(*slugs: str) -> dict[str, Row]:
    """Well-known documents (linked from the 電腦設定 guide), keyed by slug."""
    docs = list(DownloadDocument.select().where(DownloadDocument.slug.in_(slugs)))
    formats = _formats_of([d.id for d in docs])
    return {d.slug: Row(d.id, "", d.description, roc_date(d.updated_on, "."), formats[d.id]) for d in docs}
