"""Demo institutions, people, appointments, applied services and grants (idempotent)."""

from __future__ import annotations

from datetime import date, timedelta

from portal.logic import authority
from portal.logic.audit import SYSTEM
from portal.logic.roc_dates import to_taipei
from portal.models.authority import Appointment, Institution, Person
from portal.models.base import utcnow


def load(data: dict) -> int:
    """Create what is missing; leave what exists (a re-run changes nothing)."""
    for row in data["institution"]:
        institution = Institution.get_or_none(Institution.code == row["code"]) or Institution.create(
            code=row["code"], name=row["name"], region=row["region"], kind=row["kind"],
            contracted_on=date.fromisoformat(row["contracted_on"]))
        if not authority.applied_services(institution):
            authority.save_services(institution, row["services"], SYSTEM)
    people = {p["national_id"]: p for p in data["person"]}
    today = to_taipei(utcnow()).date()
    for row in data["appointment"]:
        _appoint(row, people[row["national_id"]], today)
    return Appointment.select().count()


def _appoint(row: dict, person_row: dict, today: date) -> None:
    """One appointment (and its grants) unless the person already holds that role there."""
    institution = Institution.get(Institution.code == row["institution"])
    person = Person.get_or_none(Person.national_id == row["national_id"])
    if person is not None and authority.appointments(institution, row["role"]).where(
            Appointment.person == person).exists():
        return
    valid_to = today + timedelta(days=row["ends_in_days"]) if "ends_in_days" in row else None
    form = authority.PersonForm(name=person_row["name"], national_id=row["national_id"],
                                birth_date=date.fromisoformat(person_row["birth_date"]),
                                valid_from=date.fromisoformat(row["valid_from"]), valid_to=valid_to)
    appointment = authority.appoint(institution, row["role"], form, SYSTEM)
    if row.get("grants"):
        authority.save_grants(appointment, row["grants"], SYSTEM)
