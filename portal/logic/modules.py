"""雲端安全模組 (SPEC L6): applications, issuance on the hour, download package, revocation."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from portal.db import write_transaction
from portal.logic import audit, sessions
from portal.logic.audit import SYSTEM, Actor
from portal.models.authority import Institution
from portal.models.base import utcnow
from portal.models.files import StoredFile
from portal.models.modules import SecurityModule
from portal.pki import portal_ca

# A new contract gets a routine module within this many days (seed 004: 2 days).
ROUTINE_WITHIN_DAYS = 2
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9()#*+\- ]{6,20}$")


@dataclass
class ApplicationForm:
    """The 雲端安全模組 application fields (seed 004), with zh-TW errors by field."""

    contact_name: str = ""
    contact_phone: str = ""
    mobile: str = ""
    email: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def parse_application(form) -> ApplicationForm:
    """Read and check an application form."""
    data = ApplicationForm(*(str(form.get(k, "")).strip() for k in ("contact_name", "contact_phone", "mobile", "email")))
    if not data.contact_name or len(data.contact_name) > 20:
        data.errors["contact_name"] = "請輸入聯絡人姓名（最多 20 字）。"
    if not _PHONE.match(data.contact_phone):
        data.errors["contact_phone"] = "請輸入聯絡電話（數字、括號、連字號，6 到 20 字）。"
    if data.mobile and not _PHONE.match(data.mobile):
        data.errors["mobile"] = "行動電話格式不正確。"
    if data.email and not _EMAIL.match(data.email):
        data.errors["email"] = "電子郵件格式不正確。"
    return data


def of_institution(institution: Institution):
    """An institution's applications, newest first."""
    return SecurityModule.select().where(SecurityModule.institution == institution).order_by(
        SecurityModule.applied_at.desc(), SecurityModule.id.desc())


def find(institution: Institution, raw_id) -> SecurityModule | None:
    """One application of this institution; None for another's id or junk."""
    try:
        return of_institution(institution).where(SecurityModule.id == int(raw_id)).first()
    except (TypeError, ValueError):
        return None


def apply(institution: Institution, data: ApplicationForm, actor: Actor, routine: bool = False,
          now: datetime | None = None) -> SecurityModule:
    """File an application (申請中); the hourly job issues it."""
    now = now or utcnow()
    with write_transaction():
        row = SecurityModule.create(
            institution=institution, application_no=_application_no(now), applied_at=now, applied_by=actor.label,
            routine=routine, contact_name=data.contact_name, contact_phone=data.contact_phone,
            mobile=data.mobile, email=data.email)
        audit.record("module_apply", actor, institution_id=institution.id,
                     detail={"application_no": row.application_no, "routine": routine})
    return row


def _application_no(now: datetime) -> str:
    """申請單號 like 2611V3KQ: year, month, V, four random base-32 characters."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"{now:%y%m}V" + "".join(secrets.choice(alphabet) for _ in range(4))


def issue_pending(config, storage, now: datetime | None = None) -> list[SecurityModule]:
    """Issue every waiting application (the on-the-hour job); idempotent."""
    now = now or utcnow()
    create_routine(now)
    waiting = list(SecurityModule.select().where(SecurityModule.status.in_(["applied", "reviewing"]))
                   .order_by(SecurityModule.id))
    if not waiting:
        return []
    ca = portal_ca.load_or_create(config["PKI_DIR"])
    issued = []
    for row in waiting:
        SecurityModule.update(status="reviewing").where(SecurityModule.id == row.id).execute()
        issued.append(_issue(row, ca, storage, now))
    return issued


def _issue(row: SecurityModule, ca, storage, now: datetime) -> SecurityModule:
    """Sign a key pair for the institution and store the download package."""
    institution = row.institution
    module_no = f"{SecurityModule.select().where(SecurityModule.module_no.is_null(False)).count() + 1:012d}"
    module = portal_ca.issue_module(ca, institution_code=institution.code, institution_name=institution.name,
                                    module_no=module_no)
    data = portal_ca.package(module, module_no=module_no, institution_name=institution.name)
    blob = storage.write(storage.new_key("modules", "zip"), data)
    with write_transaction():
        package = StoredFile.create(key=blob.key, name=f"雲端安全模組_{institution.code}_{module_no}.zip",
                                    content_type="application/zip", size=blob.size, sha256=blob.sha256)
        SecurityModule.update(status="issued", reviewed_at=now, module_no=module_no,
                              certificate_pem=module.cert_pem.decode("ascii"), package=package).where(
            SecurityModule.id == row.id).execute()
        audit.record("module_issue", SYSTEM, institution_id=institution.id,
                     detail={"application_no": row.application_no, "module_no": module_no})
    return SecurityModule.get_by_id(row.id)


def create_routine(now: datetime) -> int:
    """例行發卡: a module application for each recently contracted institution that has none."""
    since = (now - timedelta(days=ROUTINE_WITHIN_DAYS)).date()
    fresh = Institution.select().where(
        (Institution.contracted_on >= since) & ~Institution.id.in_(SecurityModule.select(SecurityModule.institution)))
    count = 0
    for institution in fresh:
        apply(institution, ApplicationForm(contact_name="系統", contact_phone="-"), SYSTEM, routine=True, now=now)
        count += 1
    return count


def revoke(row: SecurityModule, actor: Actor) -> None:
    """Revoke an issued module: logins signed by it are refused from now on."""
    with write_transaction():
        SecurityModule.update(status="revoked", revoked_at=utcnow(), revoked_by=actor.label).where(
            SecurityModule.id == row.id).execute()
        audit.record("module_revoke", actor, institution_id=row.institution_id,
                     detail={"application_no": row.application_no, "module_no": row.module_no or ""})
        if row.module_no:
            sessions.end_for_module(row.module_no)


def next_issue_time(now: datetime) -> datetime:
    """The next full hour, when waiting applications are issued."""
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def issued_on(row: SecurityModule) -> date | None:
    """審核日期 as a date."""
    return row.reviewed_at.date() if row.reviewed_at else None
