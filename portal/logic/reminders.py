"""What 我的首頁 reminds managers and representatives of (SPEC L2–L6), and users of expiring files (D3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.logic import authority
from portal.logic.roc_dates import roc_date
from portal.models.authority import ROLES, Appointment, Institution, Person
from portal.models.modules import SecurityModule


@dataclass(frozen=True)
class Reminder:
    """A notice with a link target (endpoint name)."""

    text: str
    endpoint: str
    args: dict = field(default_factory=dict)


def for_session(institution: Institution, access: authority.Access, today: date, days: int) -> list[Reminder]:
    """Reminders for a representative (managers, modules) and for managers (users)."""
    found: list[Reminder] = []
    if access.representative:
        managers = authority.appointments(institution, "manager").where(authority.active_condition(today)).count()
        if managers < 2:
            found.append(Reminder(f"本機構目前有 {managers} 位機構管理者，建議至少設定 2 位，以免管理者請假或離職時無人可維護權限。",
                                  "authority.managers"))
        if not SecurityModule.select().where((SecurityModule.institution == institution)
                                             & (SecurityModule.status == "issued")).exists():
            found.append(Reminder("本機構尚無可下載的雲端安全模組；使用晶片讀卡機登入需要安裝雲端安全模組。",
                                  "authority.modules"))
    roles = (["manager"] if access.representative else []) + (["user", "manager"] if access.manager else [])
    for appointment in ending_soon(institution, sorted(set(roles)), today, days):
        endpoint = "authority.managers" if appointment.role == "manager" else "authority.users"
        found.append(Reminder(f"{ROLES[appointment.role]} {appointment.person.name} 的授權將於 "
                              f"{roc_date(appointment.valid_to)} 到期。", endpoint))
    return found


def ending_soon(institution: Institution, roles: list[str], today: date, days: int) -> list[Appointment]:
    """Active appointments whose 生效迄日 falls within the next `days` days."""
    if not roles:
        return []
    return list(Appointment.select(Appointment, Person).join(Person).where(
        (Appointment.institution == institution) & Appointment.role.in_(roles) & authority.active_condition(today)
        & Appointment.valid_to.is_null(False) & (Appointment.valid_to <= today + timedelta(days=days)))
        .order_by(Appointment.valid_to))


def expiring_files(rows) -> list[Reminder]:
    """One line for files not yet downloaded whose download window closes soon, soonest first (SPEC D3)."""
    if not rows:
        return []
    soonest = rows[0]
    return [Reminder(f"您有 {len(rows)} 個檔案即將逾期且尚未下載（最早為「{soonest.name}」），"
                     "逾期後須申請並於次日才能下載，請儘速至下載捷徑專區下載。",
                     "files.shortcut", {"q": "1", "recent": "1"})]
