"""雲端安全模組 applications and issued modules (SPEC L6)."""

from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, TextField

from portal.models.authority import Institution
from portal.models.base import BaseModel, utcnow
from portal.models.files import StoredFile

MODULE_STATES = {"applied": "申請中", "reviewing": "審核中", "issued": "可下載", "revoked": "已撤銷"}


class SecurityModule(BaseModel):
    """One application; once issued it carries the module number, certificate and download package."""

    institution = ForeignKeyField(Institution, backref="modules", on_delete="CASCADE")
    application_no = CharField(max_length=16, unique=True)
    applied_at = DateTimeField(default=utcnow)
    applied_by = CharField(default="")
    routine = BooleanField(default=False)
    contact_name = CharField(default="")
    contact_phone = CharField(default="")
    mobile = CharField(default="")
    email = CharField(default="")
    status = CharField(default="applied", index=True)
    reviewed_at = DateTimeField(null=True)
    module_no = CharField(max_length=12, null=True, unique=True)
    certificate_pem = TextField(null=True)
    package = ForeignKeyField(StoredFile, null=True, on_delete="SET NULL")
    revoked_at = DateTimeField(null=True)
    revoked_by = CharField(default="")

    @property
    def status_label(self) -> str:
        """The zh-TW 申請單狀態."""
        return MODULE_STATES.get(self.status, self.status)
