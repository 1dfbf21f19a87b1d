"""下載專區: 類別 → 服務項目 → documents, each in one or more file formats."""

from __future__ import annotations

from peewee import CharField, DateField, ForeignKeyField, IntegerField

from portal.models.base import BaseModel
from portal.models.files import StoredFile


class DownloadCategory(BaseModel):
    """A 類別 heading of the download area."""

    name = CharField(unique=True)
    position = IntegerField(default=0)


class DownloadService(BaseModel):
    """A 服務項目 under a category."""

    category = ForeignKeyField(DownloadCategory, backref="services", on_delete="CASCADE")
    name = CharField()
    position = IntegerField(default=0)

    class Meta:
        indexes = ((("category", "name"), True),)


class DownloadDocument(BaseModel):
    """One 檔案說明 row; `slug` lets pages link to well-known documents."""

    service = ForeignKeyField(DownloadService, backref="documents", on_delete="CASCADE")
    description = CharField()
    updated_on = DateField()
    slug = CharField(null=True, unique=True)
    position = IntegerField(default=0)

    class Meta:
        indexes = ((("service", "description"), True),)


class DownloadVariant(BaseModel):
    """The document in one format (pdf, odt, doc, zip …)."""

    document = ForeignKeyField(DownloadDocument, backref="variants", on_delete="CASCADE")
    format = CharField(max_length=10)
    file = ForeignKeyField(StoredFile, on_delete="RESTRICT")

    class Meta:
        indexes = ((("document", "format"), True),)
