"""The authority model (SPEC L2–L5): appointments, applied services, grants, and a session's access.

Every write takes the acting Actor, is audited in the same transaction, and
ends the affected person's open sessions when it takes access away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from portal.db import write_transaction
from portal.logic import audit, catalogue, national_id, passwords, sessions
from portal.logic.audit import Actor
from portal.logic.roc_dates import DateInputError, parse_date, roc_date
from portal.models.authority import (
    ROLES,
    Appointment,
    Grant,
    Institution,
    InstitutionService,
    PasswordCredential,
    Person,
)
from portal.models.base import utcnow
from portal.prepared import Prepared

MAX_NAME_CHARS = 20


class AuthorityError(ValueError):
    """A change the rules forbid; str() is a zh-TW message for the user."""


@dataclass
class PersonForm:
    """The fields of 機構管理者/使用者維護 (seed 002), parsed, with zh-TW errors by field."""

    name: str = ""
    national_id: str = ""
    birth_date: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse_person_form(form, *, today: date, editing: bool = False) -> PersonForm:
    """Read and check the form; identity fields are fixed when editing."""
    data = PersonForm()
    if not editing:
        data.name = (form.get("name") or "").strip()
        if not data.name:
            data.errors["name"] = "請輸入姓名。"
        elif len(data.name) > MAX_NAME_CHARS:
            data.errors["name"] = f"姓名最多 {MAX_NAME_CHARS} 個字。"
        data.national_id = national_id.normalize(form.get("national_id", ""))
        problem = national_id.problem(data.national_id)
        if problem:
            data.errors["national_id"] = problem
        data.birth_date = _date(form, "birth_date", "出生年月日", data.errors, required=True)
        if data.birth_date and not date(1900, 1, 1) <= data.birth_date <= today:
            data.errors["birth_date"] = "出生年月日不合理，請確認。"
    data.valid_from = _date(form, "valid_from", "生效起日", data.errors, required=True)
    data.valid_to = _date(form, "valid_to", "生效迄日", data.errors, required=False)
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        data.errors["valid_to"] = "生效迄日不可早於生效起日。"
    return data


def _date(form, key: str, label: str, errors: dict, required: bool) -> date | None:
    """A ROC or AD date field, with its error recorded under key."""
    raw = (form.get(key) or "").strip()
    if not raw:
        if required:
            errors[key] = f"請輸入{label}。"
        return None
    try:
        return parse_date(raw)
    except DateInputError as error:
        errors[key] = f"{label}：{error}"
        return None


def is_active(appointment: Appointment, today: date) -> bool:
    """In force today and not removed."""
    return (appointment.removed_at is None and appointment.valid_from <= today
            and (appointment.valid_to is None or appointment.valid_to >= today))


def active_condition(today: date):
    """The same test as a query condition."""
    return (Appointment.removed_at.is_null() & (Appointment.valid_from <= today)
            & (Appointment.valid_to.is_null() | (Appointment.valid_to >= today)))


def appointments(institution: Institution, role: str):
    """An institution's appointments of a role (current and future, not removed), by start date."""
    return (Appointment.select(Appointment, Person).join(Person)
            .where((Appointment.institution == institution) & (Appointment.role == role)
                   & Appointment.removed_at.is_null())
            .order_by(Appointment.valid_from, Appointment.id))


def find_appointment(institution: Institution, role: str, raw_id) -> Appointment | None:
    """One appointment of this institution and role; None for another institution's id or junk."""
    try:
        return appointments(institution, role).where(Appointment.id == int(raw_id)).first()
    except (TypeError, ValueError):
        return None


def appoint(institution: Institution, role: str, data: PersonForm, actor: Actor) -> Appointment:
    """Appoint a person (created if new, with the default 健保卡 password) as manager or user."""
    if role not in ROLES:
        raise AuthorityError("人員類別不正確。")
    with write_transaction():
        person = Person.get_or_none(Person.national_id == data.national_id)
        if person is None:
            person = Person.create(national_id=data.national_id, name=data.name, birth_date=data.birth_date)
        elif person.name != data.name or person.birth_date != data.birth_date:
            raise AuthorityError("無法以這組資料新增人員，請確認身分證字號、姓名與出生年月日是否正確。")
        if appointments(institution, role).where(Appointment.person == person).exists():
            raise AuthorityError(f"{person.name} 已是本機構的{ROLES[role]}。")
        appointment = Appointment.create(institution=institution, person=person, role=role,
                                         valid_from=data.valid_from, valid_to=data.valid_to, created_by=actor.label)
        if not PasswordCredential.select().where(PasswordCredential.person == person).exists():
            PasswordCredential.create(person=person, must_change=True, password_hash=passwords.hash_password(
                passwords.default_password(person.national_id, person.birth_date)))
        audit.record("appointment_add", actor, institution_id=institution.id, detail=_describe(appointment))
    return appointment


def update_period(appointment: Appointment, data: PersonForm, actor: Actor, today: date) -> None:
    """Change 生效起日/迄日; ending it today or earlier ends the person's sessions there."""
    with write_transaction():
        appointment.valid_from, appointment.valid_to, appointment.updated_at = data.valid_from, data.valid_to, utcnow()
        appointment.save()
        audit.record("appointment_update", actor, institution_id=appointment.institution_id,
                     detail=_describe(appointment))
        if not is_active(appointment, today):
            sessions.end_for_person(appointment.person_id, appointment.institution_id, "access_removed")


def remove(appointment: Appointment, actor: Actor) -> None:
    """Remove an appointment (kept for history) and end the person's sessions at the institution."""
    with write_transaction():
        appointment.removed_at = utcnow()
        appointment.save()
        audit.record("appointment_remove", actor, institution_id=appointment.institution_id,
                     detail=_describe(appointment))
        sessions.end_for_person(appointment.person_id, appointment.institution_id, "access_removed")


def applied_services(institution: Institution) -> set[str]:
    """Codes of the services the institution has applied for."""
    rows = InstitutionService.select().where((InstitutionService.institution == institution)
                                             & InstitutionService.withdrawn_at.is_null())
    return {r.service_code for r in rows}


def save_services(institution: Institution, codes, actor: Actor) -> tuple[set[str], set[str]]:
    """Make the applied services exactly `codes`; returns (added, withdrawn)."""
    wanted = catalogue.known(codes)
    with write_transaction():
        current = applied_services(institution)
        added, withdrawn = wanted - current, current - wanted
        now = utcnow()
        for code in added:
            row, created = InstitutionService.get_or_create(institution=institution, service_code=code,
                                                            defaults={"applied_by": actor.label})
            if not created:
                row.withdrawn_at, row.applied_at, row.applied_by = None, now, actor.label
                row.save()
        if withdrawn:
            (InstitutionService.update(withdrawn_at=now)
             .where((InstitutionService.institution == institution)
                    & InstitutionService.service_code.in_(list(withdrawn))).execute())
            for person_id in _grantees(institution, withdrawn):
                sessions.end_for_person(person_id, institution.id, "access_removed")
            # A withdrawn service's grants go too: applying again later must not quietly restore them.
            Grant.delete().where(Grant.service_code.in_(list(withdrawn)) & Grant.appointment.in_(
                Appointment.select(Appointment.id).where(Appointment.institution == institution))).execute()
        for action, codes_changed in (("service_apply", added), ("service_withdraw", withdrawn)):
            if codes_changed:
                audit.record(action, actor, institution_id=institution.id, detail={"services": sorted(codes_changed)})
    return added, withdrawn


def grants(appointment: Appointment) -> set[str]:
    """Service codes granted to a user appointment."""
    return {g.service_code for g in Grant.select().where(Grant.appointment == appointment)}


def save_grants(appointment: Appointment, codes, actor: Actor) -> tuple[set[str], set[str]]:
    """Make a user's grants exactly `codes`, which must be services the institution applied for."""
    if appointment.role != "user":
        raise AuthorityError("只能授權給機構使用者。")
    wanted = set(codes)
    applied = applied_services(appointment.institution)
    if not wanted <= applied:
        raise AuthorityError("只能授權本機構已申請的健保服務：" + "、".join(sorted(wanted - applied)))
    with write_transaction():
        current = grants(appointment)
        added, removed = wanted - current, current - wanted
        for code in sorted(added):
            Grant.create(appointment=appointment, service_code=code, granted_by=actor.label)
        if removed:
            Grant.delete().where((Grant.appointment == appointment) & Grant.service_code.in_(list(removed))).execute()
            sessions.end_for_person(appointment.person_id, appointment.institution_id, "access_removed")
        if added or removed:
            audit.record("grants_save", actor, institution_id=appointment.institution_id, detail={
                **_describe(appointment), "added": sorted(added), "removed": sorted(removed)})
    return added, removed


def _grantees(institution: Institution, codes) -> set[int]:
    """People whose grants at the institution include any of the codes."""
    rows = (Grant.select(Appointment.person).join(Appointment)
            .where((Appointment.institution == institution) & Grant.service_code.in_(list(codes))))
    return {r.appointment.person_id for r in rows}


def _describe(appointment: Appointment) -> dict:
    """What the audit log keeps about an appointment (ID masked)."""
    person = appointment.person
    return {"role": appointment.role, "person": person.name, "national_id": national_id.mask(person.national_id),
            "valid_from": roc_date(appointment.valid_from),
            "valid_to": roc_date(appointment.valid_to) if appointment.valid_to else ""}


@dataclass(frozen=True)
class Access:
    """What a session may do right now (computed per request, so revocations apply at once)."""

    representative: bool = False
    manager: Appointment | None = None
    user: Appointment | None = None
    services: frozenset[str] = frozenset()

    @property
    def any(self) -> bool:
        """Whether the session may do anything at all."""
        return self.representative or self.manager is not None or self.user is not None


# access_for runs on every logged-in request (so revocations apply at once).
_active_appointments = Prepared(
    lambda institution_id, person_id, today: Appointment.select().where(
        (Appointment.institution == institution_id) & (Appointment.person == person_id) & active_condition(today)),
    int, int, date)
_usable_grants = Prepared(
    lambda institution_id, appointment_id: (
        Grant.select(Grant.service_code).join(InstitutionService, on=(
            (InstitutionService.service_code == Grant.service_code)
            & (InstitutionService.institution == institution_id)))
        .where((Grant.appointment == appointment_id) & InstitutionService.withdrawn_at.is_null())),
    int, int)


def access_for(institution_id: int, person_id: int | None, representative: bool, today: date) -> Access:
    """Roles and usable services of a person (or the institution's representative) today."""
    if representative:
        return Access(representative=True)
    if person_id is None:
        return Access()
    rows = list(_active_appointments(institution_id, person_id, today))
    manager = next((a for a in rows if a.role == "manager"), None)
    user = next((a for a in rows if a.role == "user"), None)
    usable: frozenset[str] = frozenset()
    if user is not None:
        usable = frozenset(g.service_code for g in _usable_grants(institution_id, user.id))
    return Access(manager=manager, user=user, services=usable)


def roles_elsewhere(person: Person, today: date) -> list[Institution]:
    """Institutions where a person holds an active appointment (for choosing by module)."""
    return list(Institution.select().join(Appointment).where(
        (Appointment.person == person) & active_condition(today)).distinct())
