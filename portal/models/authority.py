"""Institutions, people and the three-tier authority model (SPEC L2–L5, L7).

機構代表 is whoever logs in with the institution's own card (醫事機構卡 /
政府單位憑證卡), so it has no row; 機構管理者 and 機構使用者 are appointments
of a person at an institution; a user's grants are services the institution
has applied for.
"""

from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField

from portal.models.base import BaseModel, utcnow

ROLES = {"manager": "機構管理者", "user": "機構使用者"}


class Institution(BaseModel):
    """A contracted 醫事機構 (or a government unit), identified by its 10-digit code."""

    code = CharField(max_length=10, unique=True)
    name = CharField()
    region = CharField(max_length=16)
    kind = CharField(default="")
    contracted_on = DateField(null=True)
    created_at = DateTimeField(default=utcnow)
    # Bumped by database triggers on any change to the institution's appointments, grants or
    # services (migration 0004), so a web process may reuse what it worked out for a version.
    access_version = IntegerField(default=0)
    # 通訊資料 e-mail addresses (comma-separated) and the day the institution opted in to
    # electronic delivery of 抽樣 and 核定 notices (SPEC D5; None = on paper).
    notice_emails = CharField(default="")
    e_delivery_since = DateTimeField(null=True)


class Person(BaseModel):
    """A person known to the portal by national ID (unique across institutions)."""

    national_id = CharField(max_length=10, unique=True)
    name = CharField()
    birth_date = DateField()
    created_at = DateTimeField(default=utcnow)


class Appointment(BaseModel):
    """A person appointed 機構管理者 or 機構使用者 at an institution, for a period."""

    institution = ForeignKeyField(Institution, backref="appointments", on_delete="CASCADE")
    person = ForeignKeyField(Person, backref="appointments", on_delete="CASCADE")
    role = CharField(max_length=16)
    valid_from = DateField()
    valid_to = DateField(null=True)
    created_at = DateTimeField(default=utcnow)
    created_by = CharField(default="")
    updated_at = DateTimeField(default=utcnow)
    removed_at = DateTimeField(null=True)
    reminded_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("institution", "role"), False), (("person", "role"), False))


class InstitutionService(BaseModel):
    """A 健保服務 the institution applied for (健保服務申請作業)."""

    institution = ForeignKeyField(Institution, backref="services", on_delete="CASCADE")
    service_code = CharField(max_length=8)
    applied_at = DateTimeField(default=utcnow)
    applied_by = CharField(default="")
    withdrawn_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("institution", "service_code"), True),)


class Grant(BaseModel):
    """A service a 機構使用者 may use (使用者授權管理作業)."""

    appointment = ForeignKeyField(Appointment, backref="grants", on_delete="CASCADE")
    service_code = CharField(max_length=8)
    granted_at = DateTimeField(default=utcnow)
    granted_by = CharField(default="")

    class Meta:
        indexes = ((("appointment", "service_code"), True),)


class HisVendor(BaseModel):
    """A HIS vendor the institution allows to connect remotely (允入HIS廠商申請作業)."""

    institution = ForeignKeyField(Institution, backref="his_vendors", on_delete="CASCADE")
    vendor_name = CharField()
    vendor_tax_id = CharField(max_length=8)
    note = CharField(default="")
    allowed_at = DateTimeField(default=utcnow)
    allowed_by = CharField(default="")
    revoked_at = DateTimeField(null=True)
    revoked_by = CharField(default="")


class PasswordCredential(BaseModel):
    """The portal password used with a 健保卡 (default rule, forced change, lockout)."""

    person = ForeignKeyField(Person, backref="credential", unique=True, on_delete="CASCADE")
    password_hash = CharField()
    must_change = BooleanField(default=True)
    changed_at = DateTimeField(null=True)
    failed_count = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
