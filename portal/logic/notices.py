"""Electronic delivery of 抽樣 and 核定 notices (SPEC D5, seed 001 推動醫療費用核定作業電子化).

The legal delivery time is the institution's first view, recorded once when a
user first downloads the notice (institution_files.record_download). Until
then the institution's 通訊資料 addresses get one mail a day: a notice on the
first day, reminders from the next day on.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import datetime

from portal import mail
from portal.logic.institution_files import notices_due
from portal.logic.roc_dates import roc_datetime
from portal.models.institution_files import NOTICES, InstitutionFile

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
LEGAL_BASIS = ("依「全民健康保險醫療費用申報與核付及醫療服務審查辦法」第33-1條，"
               "送達時間以貴機構於健保資訊網服務系統（VPN）點閱之時間為準。")


def addresses(text: str) -> list[str]:
    """Valid addresses from an institution's 通訊資料 (comma, semicolon or space separated)."""
    return [a for a in re.split(r"[,;\s]+", text or "") if _EMAIL.match(a)]


def message_for(config: dict, institution, rows: list[InstitutionFile], reminder: bool):
    """The notice or reminder mail listing every unviewed notice of one institution."""
    kind = "提醒" if reminder else "通知"
    subject = f"【健保資訊網服務系統】抽樣及核定通知電子送達{kind}（{institution.code}）"
    lines = [f"{institution.name}（{institution.code}）您好：", ""]
    lines.append("健保署已以電子方式送達下列通知，請登入健保資訊網服務系統（VPN）點閱下載：" if not reminder
                 else "下列電子送達之通知，貴機構尚未點閱，請儘速登入健保資訊網服務系統（VPN）點閱下載：")
    lines.append("")
    for row in rows:
        lines.append(f"・{NOTICES.get(row.notice, row.notice)}：{row.name}（提供日期 {roc_datetime(row.provided_at)}）")
    lines += ["", LEGAL_BASIS, "貴機構點閱前，本系統將每日寄發提醒通知。", "",
              f"健保資訊網服務系統：{config['PUBLIC_ORIGIN'].rstrip('/')}/files/", "",
              "本信件由系統自動發送，請勿直接回覆。"]
    return mail.compose(config, addresses(institution.notice_emails), subject, "\n".join(lines))


def send_due(config: dict, sender, now: datetime) -> int:
    """Send today's notices and reminders; returns the number of mails sent.

    Each institution's mail is marked sent right after it goes out, so a retry
    after a failure does not send the same day's mail twice.
    """
    by_institution = defaultdict(list)
    for row in notices_due(now, config["NOTICE_MAIL_HOUR"]):
        by_institution[row.institution_id].append(row)
    sent = 0
    for rows in by_institution.values():
        institution = rows[0].institution
        if not addresses(institution.notice_emails):
            log.warning("institution %s has e-delivery but no valid 通訊資料 e-mail", institution.code)
            continue
        reminder = any(r.notified_at is not None for r in rows)
        sender.send(message_for(config, institution, rows, reminder))
        for row in rows:
            InstitutionFile.update(
                notified_at=now,
                reminders_sent=InstitutionFile.reminders_sent + (1 if row.notified_at is not None else 0),
            ).where(InstitutionFile.id == row.id).execute()
        sent += 1
    return sent
