"""The audit log: every login attempt and authority change, hash-chained (DESIGN.md §6)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from portal.db import is_postgres, write_transaction
from portal.logic.roc_dates import roc_datetime, taipei_to_utc
from portal.models.audit import AuditEvent, AuditHead
from portal.models.base import utcnow

GENESIS = "0" * 64
ACTIONS = {
    "login": "登入",
    "login_failed": "登入失敗",
    "logout": "登出",
    "session_end": "工作階段結束",
    "password_change": "變更密碼",
    "password_failed": "密碼錯誤",
    "appointment_add": "新增人員",
    "appointment_update": "修改人員",
    "appointment_remove": "移除人員",
    "service_apply": "申請健保服務",
    "service_withdraw": "取消健保服務",
    "grants_save": "使用者授權",
    "module_apply": "申請雲端安全模組",
    "module_issue": "核發雲端安全模組",
    "module_download": "下載雲端安全模組",
    "module_revoke": "撤銷雲端安全模組",
    "his_allow": "允入HIS廠商",
    "his_revoke": "撤銷HIS廠商",
    "audit_export": "匯出稽核紀錄",
    "access_denied": "拒絕存取",
    "file_download": "下載檔案",
    "file_request": "申請檔案",
    "notice_delivered": "電子送達（首次點閱）",
}
RESULTS = {"ok": "成功", "denied": "拒絕", "error": "錯誤"}


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: shown in the log and passed to every write."""

    label: str
    person_id: int | None = None
    institution_id: int | None = None
    ip: str = ""
    user_agent: str = ""
    extra: dict = field(default_factory=dict)


SYSTEM = Actor("系統")


def record(action: str, actor: Actor, *, result: str = "ok", detail: dict | None = None,
           institution_id: int | None = None, now: datetime | None = None) -> AuditEvent:
    """Append an event to the chain (joins the caller's transaction if there is one)."""
    with write_transaction():
        head = _locked_head()
        event = AuditEvent(
            id=head.last_id + 1, at=now or utcnow(), actor=actor.label, actor_person_id=actor.person_id,
            institution_id=institution_id if institution_id is not None else actor.institution_id,
            ip=actor.ip, user_agent=actor.user_agent[:250], action=action, result=result,
            detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True), prev_hash=head.last_hash,
        )
        event.hash = chain_hash(event)
        event.save(force_insert=True)
        AuditHead.update(last_id=event.id, last_hash=event.hash).where(AuditHead.id == 1).execute()
    return event


def _locked_head() -> AuditHead:
    """The chain head, locked for this transaction (SQLite: the IMMEDIATE write lock does it)."""
    query = AuditHead.select().where(AuditHead.id == 1)
    return (query.for_update() if is_postgres() else query).get()


def chain_hash(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and every field of the event."""
    fields = [event.id, event.at.isoformat(timespec="microseconds"), event.actor, event.actor_person_id,
              event.institution_id, event.ip, event.user_agent, event.action, event.result, event.detail]
    payload = event.prev_hash + "\n" + json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def verify_chain() -> int | None:
    """Id of the first event that does not fit the chain, or None when the whole log is intact."""
    previous, expected_id = GENESIS, 1
    for event in AuditEvent.select().order_by(AuditEvent.id).iterator():
        if event.id != expected_id or event.prev_hash != previous or chain_hash(event) != event.hash:
            return expected_id  # a changed row, or the id of a removed one
        previous, expected_id = event.hash, expected_id + 1
    head = AuditHead.get_by_id(1)
    if head.last_id != expected_id - 1 or head.last_hash != previous:
        return expected_id  # rows were removed from the end
    return None


def search(institution_id: int, *, date_from: date | None = None, date_to: date | None = None,
           person_id: int | None = None, action: str = ""):
    """An institution's events, newest first, filtered by Taipei dates, person and action."""
    query = AuditEvent.select().where(AuditEvent.institution_id == institution_id)
    if date_from:
        query = query.where(AuditEvent.at >= taipei_to_utc(date_from))
    if date_to:
        query = query.where(AuditEvent.at < taipei_to_utc(date_to) + timedelta(days=1))
    if person_id:
        query = query.where(AuditEvent.actor_person_id == person_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return query.order_by(AuditEvent.id.desc())


def to_csv(events) -> str:
    """The events as CSV with zh-TW headings (UTF-8 with BOM so Excel reads it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序號", "時間（台北）", "時間（UTC）", "操作者", "動作", "結果", "來源IP", "內容"])
    for e in events:
        writer.writerow([e.id, roc_datetime(e.at), e.at.isoformat(timespec="seconds") + "Z", e.actor,
                         ACTIONS.get(e.action, e.action), RESULTS.get(e.result, e.result), e.ip, e.detail])
    return "\ufeff" + out.getvalue()

