"""Files NHIA provides to an institution (SPEC D1–D5), their requests, downloads and packages.

A file row carries the state 下載捷徑專區 filters on (request state, the start of
its current download window), so listing an institution's files is one indexed
query even with millions of rows.
"""

from __future__ import annotations

import json

from peewee import BigIntegerField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.authority import Institution, Person
from portal.models.base import BaseModel, utcnow
from portal.models.files import StoredFile

# request_state -> meaning; '' = never requested
REQUEST_STATES = {"pending": "申請中", "refused": "請洽所屬轄區承辦同仁", "served": "申請重送"}
# e-delivered notices (SPEC D5) -> zh-TW
NOTICES = {"sampling": "抽樣通知", "approval": "核定通知"}


class InstitutionFile(BaseModel):
    """One file provided to one institution by the service that produced it."""

    institution = ForeignKeyField(Institution, backref="files", on_delete="CASCADE")
    service_code = CharField(max_length=8)
    category = CharField(max_length=16, default="")
    name = CharField()
    description = CharField(default="")
    stored_file = ForeignKeyField(StoredFile)
    description_file = ForeignKeyField(StoredFile, null=True)
    fee_month = IntegerField(null=True)  # 費用年月 as AD YYYYMM (202107), for range queries
    medical_category = CharField(max_length=2, default="")
    parts = TextField(default="[]")  # a letter's attached parts: [{"title": …, "page": n}]
    provided_at = DateTimeField()
    available_from = DateTimeField()  # start of the current download window
    listed_at = DateTimeField()  # last change 下載捷徑專區 orders by (provided, requested, re-served)
    request_state = CharField(max_length=8, default="")
    notice = CharField(max_length=8, default="")
    notified_at = DateTimeField(null=True)
    reminders_sent = IntegerField(default=0)
    first_viewed_at = DateTimeField(null=True)
    first_viewed_by = CharField(default="")

    class Meta:
        indexes = (
            # Covering indexes of 下載捷徑專區's groups (institution_files.shortcut_query).
            (("institution", "available_from", "request_state", "service_code", "listed_at"), False),
            (("institution", "request_state", "service_code", "available_from", "listed_at"), False),
            (("institution", "category", "provided_at"), False),
        )

    @property
    def part_list(self) -> list[dict]:
        """The attached parts of a letter (preview list), oldest first."""
        try:
            parts = json.loads(self.parts or "[]")
        except ValueError:
            return []
        return [p for p in parts if isinstance(p, dict) and p.get("title")]


class FileRequest(BaseModel):
    """申請: a user asked for an expired file again; the next day's job serves it."""

    file = ForeignKeyField(InstitutionFile, backref="requests", on_delete="CASCADE")
    person = ForeignKeyField(Person, null=True, on_delete="SET NULL")
    requested_by = CharField(default="")
    requested_at = DateTimeField(default=utcnow)
    state = CharField(max_length=8, default="pending", index=True)
    served_at = DateTimeField(null=True)


class FileDownload(BaseModel):
    """One download by one person (colours the row blue; the bulk button skips it)."""

    file = ForeignKeyField(InstitutionFile, backref="downloads", on_delete="CASCADE")
    person = ForeignKeyField(Person, on_delete="CASCADE")
    mode = CharField(max_length=8)
    bulk = BooleanField(default=False)
    at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("person", "file"), False),)


class Package(BaseModel):
    """A ZIP built by the worker, cached by the hash of what went in (files, mode, password owner)."""

    key = CharField(max_length=64, unique=True)
    mode = CharField(max_length=8)  # plain, aes, zipcrypto
    institution = ForeignKeyField(Institution, on_delete="CASCADE")
    person = ForeignKeyField(Person, null=True, on_delete="CASCADE")  # whose ID opens it
    file_ids = TextField(default="[]")
    bulk = BooleanField(default=False)  # many files plus manifest.csv
    name = CharField()
    state = CharField(max_length=8, default="building")
    job_id = IntegerField(null=True)
    storage_key = CharField(null=True)
    size = BigIntegerField(default=0)
    sha256 = CharField(max_length=64, default="")
    message = CharField(default="")
    created_at = DateTimeField(default=utcnow)
    built_at = DateTimeField(null=True)
    used_at = DateTimeField(default=utcnow, index=True)

    @property
    def ids(self) -> list[int]:
        """The institution files inside, in order."""
        return [int(i) for i in json.loads(self.file_ids or "[]")]
