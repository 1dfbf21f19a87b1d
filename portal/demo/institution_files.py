"""Demo files NHIA provided to the demo institutions over the last 120 days (SPEC D1–D5).

Real files, named after the seeds' examples: 付款通知書 HTML, 核定函 PDFs whose
pages after the letter are its attached 核定總表 and 核減明細表 (with PDF
bookmarks, the ▶ entries of seed 001), Big5 text reports with layout
description files, 扣繳憑單 and IC-card upload reports. Matched by
(institution, file name), so a re-run adds nothing.
"""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from portal.demo.documents import _FONT
from portal.logic import institution_files
from portal.logic.roc_dates import fee_month, roc_compact, taipei_to_utc, to_taipei
from portal.models import Institution, Person
from portal.models.base import utcnow
from portal.models.institution_files import FileDownload, FileRequest, InstitutionFile

DAYS = 120
CONTENT_TYPES = {"html": "text/html", "pdf": "application/pdf", "txt": "text/plain", "csv": "text/csv"}
# Institutions with e-delivery (SPEC D5) and their 通訊資料 addresses.
E_DELIVERY = {"3501200000": "clinic3501200000@example.com.tw, admin3501200000@example.com.tw"}
MEDICAL_CATEGORY = {"診所": "11", "醫院": "12"}


def load(storage, now: datetime | None = None) -> int:
    """Create the demo files that are missing; returns how many files the demo institutions have."""
    now = now or utcnow()
    rng = random.Random(5931053025)
    for institution in Institution.select().order_by(Institution.code):
        if institution.code in E_DELIVERY and not institution.e_delivery_since:
            Institution.update(e_delivery_since=datetime(2024, 1, 1), notice_emails=E_DELIVERY[institution.code]).where(
                Institution.id == institution.id).execute()
        for spec in _plan(institution, now, rng):
            _ensure(storage, institution, spec)
    _states(now)
    return InstitutionFile.select().count()


def _plan(institution: Institution, now: datetime, rng: random.Random) -> list[dict]:
    """What NHIA would have sent this institution in the last DAYS days."""
    code, category = institution.code, MEDICAL_CATEGORY.get(institution.kind, "11")
    plan = []
    start = to_taipei(now).date() - timedelta(days=DAYS)
    for offset in range(0, DAYS, 1):
        day = start + timedelta(days=offset)
        fee = _months_before(day, 2)
        roc = roc_compact(day)
        if day.day == 13:  # 付款通知書, monthly
            at = _at(day, 6, 5)
            plan.append(_spec("IWF", "payment_notice", f"{code}_30_{fee_month(*fee)}_7021_idc_{roc}_060550_{rng.randint(1000, 9999):05d}.html",
                              "付款通知書", "html", at, fee, category, _payment_html(institution, fee, at, rng)))
        if day.day == 9:  # 核定函 with its attachments, e-delivered
            name = f"{code}-11-{fee_month(*fee)}-1-{roc}_RCP2003.pdf"
            plan.append(_spec("IWF", "approval", name, f"核定函PDF檔：{name}", "pdf", _at(day, 17, 42), fee, category,
                              _approval_pdf(institution, fee, day, rng), notice="approval",
                              parts=[{"title": "核定函", "page": 1}, {"title": "核定總表", "page": 2},
                                     {"title": "核減明細表", "page": 3}]))
        if day.day == 20:  # 核減檔 and 分項費用檔, with the layout description files
            ad = f"{fee[0]}{fee[1]:02d}"
            dedu = f"{code}-22-{ad}-1-{day:%Y%m%d}.DEDU.TXT"
            plan.append(_spec("IWF", "deduction", dedu, f"核減檔：{dedu}", "txt", _at(day, 0, 0), fee, category,
                              _report(f"核減明細 {code} 費用年月 {fee_month(*fee)}", rng, 12),
                              description_file=("DEDU_欄位說明.txt", _layout("核減檔"))))
            ffdt = f"{code}-22-{ad}-1-{day:%Y%m%d}.FFDT.TXT"
            plan.append(_spec("IWF", "itemized", ffdt, f"分項費用檔：{ffdt}", "txt", _at(day, 0, 0), fee, category,
                              _report(f"分項費用 {code} 費用年月 {fee_month(*fee)}", rng, 20),
                              description_file=("FFDT_欄位說明.txt", _layout("分項費用檔"))))
        if day.day == 25:  # 回饋資料
            plan.append(_spec("IWF", "feedback", f"{code}_{roc}_FEEDBACK.csv", "醫療費用申報回饋資料（申報點數及核付情形）",
                              "csv", _at(day, 8, 30), fee, category, _feedback_csv(code, fee, rng)))
        if day.month in (1, 4, 7, 10) and day.day == 27:  # 總額預算收入計算過程明細表, quarterly
            q = (day.month - 1) // 3  # the quarter before this one
            quarter = f"{day.year - 1912}Q4" if q == 0 else f"{day.year - 1911}Q{q}"
            for n, title in ((1, "牙醫門診"), (2, "中醫門診"), (4, "醫院"), (5, "門診透析")):
                plan.append(_spec("IWF", "budget", f"{code}_{quarter}_{n}_PHFB0509R01_{roc}120858.txt",
                                  f"{title}總額預算收入計算過程明細表(A4橫印)", "txt", _at(day, 12, 8), None, category,
                                  _report(f"{title}總額預算收入計算過程明細表 {quarter}", rng, 15)))
        if day.month == 2 and day.day == 13:  # 扣繳憑單, yearly
            year = day.year - 1 - 1911
            plan.append(_spec("IWF", "tax", f"{code}_{year}_TAX.pdf", f"{year}年度扣繳憑單", "pdf", _at(day, 9, 0), None,
                              category, _simple_pdf(f"{year}年度各類所得扣繳暨免扣繳憑單", institution)))
        if day.weekday() == 1:  # 申報 check results and IC-card reports, weekly
            plan.append(_spec("RWM", "claims", f"peat1201b{roc}162533.msg.txt", "醫療費用申報案件檢核錯誤(申報檔案初步處理錯誤)",
                              "txt", _at(day, 16, 25), fee, category, _report("申報檔案檢核錯誤", rng, 4)))
            plan.append(_spec("IPA", "ic_report", f"pbib4211r01_2_{code}_{day:%Y%m%d}.txt", "健保IC卡超過24小時上傳明細表",
                              "txt", _at(day, 7, 10), None, category, _report("健保IC卡超過24小時上傳明細", rng, 8)))
        if day.day == 3 and offset % 2 == 0:  # 抽樣通知, e-delivered
            name = f"{code}_{fee_month(*fee)}_SAMPLE_{roc}.pdf"
            plan.append(_spec("RWM", "claims", name, "抽樣通知（電子送達）", "pdf", _at(day, 10, 0), fee, category,
                              _simple_pdf(f"醫療費用抽樣通知 費用年月 {fee_month(*fee)}", institution), notice="sampling"))
    return plan


def _spec(service, category, name, description, fmt, at, fee, medical, body, notice="", parts=None,
          description_file=None) -> dict:
    return dict(service=service, category=category, name=name, description=description, fmt=fmt, at=at,
                fee=fee[0] * 100 + fee[1] if fee else None, medical=medical, body=body, notice=notice,
                parts=parts or [], description_file=description_file)


def _ensure(storage, institution: Institution, spec: dict) -> None:
    """One file unless the institution already has it."""
    if InstitutionFile.select().where((InstitutionFile.institution == institution.id)
                                      & (InstitutionFile.name == spec["name"])).exists():
        return
    institution_files.provide(
        storage, institution.id, spec["service"], spec["category"], spec["name"], spec["body"],
        description=spec["description"], description_file=spec["description_file"], fee_month=spec["fee"],
        medical_category=spec["medical"], parts=spec["parts"], notice=spec["notice"],
        content_type=CONTENT_TYPES[spec["fmt"]], at=spec["at"])


def _states(now: datetime) -> None:
    """A few of every 下載捷徑專區 state: requested, refused, re-served, already downloaded."""
    if FileRequest.select().exists():
        return
    for institution in Institution.select():
        expired = list(InstitutionFile.select().where(
            (InstitutionFile.institution == institution.id) & InstitutionFile.service_code.in_(("IWF", "RWM"))
            & (InstitutionFile.available_from < now - timedelta(days=20))).order_by(InstitutionFile.provided_at.desc()))
        for n, row in enumerate(expired[:6]):
            state = ("pending", "served", "refused")[n % 3]
            requested = now - timedelta(days=2 if state != "pending" else 0, hours=n)
            FileRequest.create(file=row.id, requested_by="示範資料", requested_at=requested, state=state,
                               served_at=now - timedelta(days=1) if state == "served" else None)
            changes = {"request_state": state, "listed_at": requested}
            if state == "served":
                changes.update(available_from=now - timedelta(days=1, hours=n),
                               listed_at=now - timedelta(days=1, hours=n))
            InstitutionFile.update(**changes).where(InstitutionFile.id == row.id).execute()
    # 王大明 already fetched some recent files (blue rows).
    person = Person.get_or_none(Person.national_id == "A123456789")
    if person is None:
        return
    recent = InstitutionFile.select().where(InstitutionFile.available_from > now - timedelta(days=14)).order_by(
        InstitutionFile.available_from)
    for row in list(recent)[::4]:
        FileDownload.create(file=row.id, person=person.id, mode="aes", at=row.available_from + timedelta(hours=3))


def _at(day: date, hour: int, minute: int) -> datetime:
    return taipei_to_utc(day, datetime.min.time().replace(hour=hour, minute=minute))


def _months_before(day: date, n: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 - n
    return index // 12, index % 12 + 1


def _big5(text: str) -> bytes:
    """NHIA's text reports are Big5 with CRLF line ends."""
    return text.replace("\n", "\r\n").encode("big5")


def _report(title: str, rng: random.Random, lines: int) -> bytes:
    rows = [title, "=" * 40]
    for n in range(1, lines + 1):
        rows.append(f"{n:04d}  {rng.randint(100000, 999999)}  {rng.randint(0, 99999):>8}點  {rng.choice(['正確', '核減', '補正', '待審'])}")
    return _big5("\n".join(rows) + "\n")


def _layout(title: str) -> bytes:
    return _big5(f"{title}資料說明\n欄位1 序號 X(4)\n欄位2 案件編號 X(6)\n欄位3 點數 9(8)\n欄位4 處理結果 X(4)\n")


def _feedback_csv(code: str, fee: tuple[int, int], rng: random.Random) -> bytes:
    lines = ["醫事機構代號,費用年月,案件分類,申報件數,申報點數,核定點數"]
    for case in ("01", "02", "04", "09", "E1"):
        filed = rng.randint(50, 900)
        points = filed * rng.randint(300, 700)
        lines.append(f"{code},{fee_month(*fee)},{case},{filed},{points},{points - rng.randint(0, 5000)}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _payment_html(institution: Institution, fee: tuple[int, int], at: datetime, rng: random.Random) -> bytes:
    amount = rng.randint(300_000, 2_500_000)
    return f"""<!DOCTYPE html>
<html lang="zh-Hant"><head><meta charset="utf-8"><title>付款通知書</title></head>
<body><h1>衛生福利部中央健康保險署 付款通知書</h1>
<table border="1" cellpadding="4">
<tr><th>醫事機構</th><td>{institution.name}（{institution.code}）</td></tr>
<tr><th>費用年月</th><td>{fee_month(*fee)}</td></tr>
<tr><th>付款日期</th><td>{roc_compact(to_taipei(at).date())}</td></tr>
<tr><th>本次付款金額</th><td>{amount:,} 元</td></tr>
</table></body></html>
""".encode()


def _approval_pdf(institution: Institution, fee: tuple[int, int], day: date, rng: random.Random) -> bytes:
    """核定函 with its attachments as later pages, each a bookmark (seed 001: 點選▶ … 相關附檔)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(f"核定函 {institution.code} {fee_month(*fee)}")
    pages = [
        ("核定函", [f"受文者：{institution.name}（{institution.code}）", f"發文日期：中華民國{roc_compact(day)}",
                  f"主旨：貴機構{fee_month(*fee)}費用年月醫療費用核定結果如附件，請查照。"]),
        ("核定總表", [f"申報點數：{rng.randint(500000, 3000000):,}", f"核定點數：{rng.randint(400000, 2900000):,}"]),
        ("核減明細表", [f"案件 {n:03d}  核減 {rng.randint(100, 9000):,} 點  代碼 {rng.choice(['0001A', '0102A', '0216A'])}"
                     for n in range(1, 8)]),
    ]
    for n, (title, lines) in enumerate(pages):
        pdf.setFont(_FONT, 16)
        pdf.drawString(72, 770, title)
        pdf.bookmarkPage(f"p{n}")
        pdf.addOutlineEntry(title, f"p{n}", level=0)
        pdf.setFont(_FONT, 11)
        for i, line in enumerate(lines):
            pdf.drawString(72, 730 - 20 * i, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _simple_pdf(title: str, institution: Institution) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(title)
    pdf.setFont(_FONT, 16)
    pdf.drawString(72, 770, title)
    pdf.setFont(_FONT, 11)
    pdf.drawString(72, 740, f"{institution.name}（{institution.code}）")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()

