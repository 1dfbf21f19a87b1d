"""健保卡登錄及上傳指標 (SPEC U5; SEED-001 近期執行措施, SEED-004 三): per 費用年月, each against 90 %.

What NHIA grades an institution on, computed from what this portal holds:
- 24小時內上傳率: uploaded visits that reached us within 24 hours of the 就診日期時間
  (IcRecord.on_time, decided when the upload was checked) over all uploaded visits;
- 健保卡上傳與申報率: 申報 cases that have an uploaded visit of the same ID on the same day,
  over all 申報 cases;
- five field rates over the cases that have an upload: 醫事人員ID, 主診斷 (not for pharmacies
  and 交付機構), 申報金額 (合計點數 = 門診醫療費用), 部分負擔 and 醫令 (each 藥品 / 診療 code
  of the case found among the visit's uploaded orders, counted per order; 特材 has no
  settled MB2 type in 2.0 and is left out).

SEED-001's table has one clinic below 90 % on 上傳與申報率 and none on 部分負擔: so the field
rates are not over all 申報 cases (a missing upload would sink them all), but over the cases
that were uploaded. This portal receives no formal claims, so 申報 is the institution's latest
checked 門診 pre-check of the month (A.02.01), one per 醫事類別; the page says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from portal.checks.claims import NO_MAIN_DIAGNOSIS
from portal.checks.ic import ANOMALY
from portal.models.uploads import ClaimCase, IcRecord, Upload

TARGET = Decimal(90)
LISTED = 50  # cases listed per month under 未上傳 and 比對不符
# 2.0 資料格式 C 註銷 / D 刪除 / E 取消註銷 are not visits (FORMATS §3.5.1); ZA / ZB cancel earlier ones
NOT_VISITS_FORMATS = frozenset({"C", "D", "E"})
NOT_VISITS_CATEGORIES = frozenset({"ZA", "ZB"})
ANOMALY_FORMATS = ANOMALY["1.0"] | ANOMALY["2.0"]  # 異常上傳 (and its 補正)
AUDIT_MONTHS = ("01", "04", "07", "10")  # 每季第1個月為勾稽月份 (SEED-004 三(四)1)
FIELD_NAMES = {"doctor": "醫事人員ID", "diagnosis": "主診斷", "fee": "申報金額", "copay": "部分負擔", "orders": "醫令"}


@dataclass(frozen=True)
class Indicator:
    """One indicator of one month: a count over a count, against TARGET."""

    code: str
    name: str
    formula: str
    numerator: int
    denominator: int
    applicable: bool = True

    @property
    def rate(self) -> Decimal | None:
        """The percentage, cut (not rounded) to 2 decimals, so 89.996 % never shows as met."""
        if not self.applicable or not self.denominator:
            return None
        return (Decimal(self.numerator) * 100 / self.denominator).quantize(Decimal("0.01"), ROUND_DOWN)

    @property
    def met(self) -> bool | None:
        """Whether the rate reaches TARGET; None without a rate."""
        rate = self.rate
        return None if rate is None else rate >= TARGET


@dataclass(frozen=True)
class IcRow:
    """An uploaded REC as the indicators see it."""

    pid: str
    visit: str  # YYYMMDDHHMMSS
    category: str
    format: str
    valid: bool
    on_time: bool | None
    doctor: str
    diagnosis: str
    fee: int | None
    copay: int | None
    order_codes: str


@dataclass(frozen=True)
class CaseRow:
    """A 申報 case as the indicators see it."""

    pid: str
    visit: str  # YYYMMDD
    case_type: str
    doctor: str
    diagnosis: str
    fee: int
    copay: int
    order_codes: str
    serial: str


@dataclass
class Month:
    """The indicators of one 費用年月 and what they were computed from."""

    month: str
    indicators: list[Indicator]
    uploaded: int = 0  # distinct visits uploaded (valid)
    late: int = 0
    anomalies: int = 0  # of them, uploaded with an anomaly code (異常上傳)
    cases: int = 0
    sources: list[Upload] = field(default_factory=list)  # the pre-checks taken as 申報
    missing: list[CaseRow] = field(default_factory=list)  # first LISTED cases without an upload
    missing_total: int = 0
    mismatched: list[tuple[CaseRow, list[str]]] = field(default_factory=list)  # first LISTED, with what differs
    mismatched_total: int = 0

    @property
    def audit_month(self) -> bool:
        """每季第1個月: the month NHIA checks (and writes to those below target)."""
        return self.month[3:] in AUDIT_MONTHS

    def indicator(self, code: str) -> Indicator:
        """One indicator by code."""
        return next(i for i in self.indicators if i.code == code)


def compute(month: str, ic_rows: list[IcRow], case_rows: list[CaseRow], pharmacy: bool = False) -> Month:
    """The month's indicators from its uploaded RECs and its 申報 cases (pure: no database)."""
    visits: dict[tuple, list[IcRow]] = defaultdict(list)
    for row in ic_rows:
        if row.valid and row.format not in NOT_VISITS_FORMATS and row.category not in NOT_VISITS_CATEGORIES \
                and row.visit.startswith(month):
            visits[row.pid, row.visit, row.category].append(row)
    by_day: dict[tuple, list[IcRow]] = defaultdict(list)
    on_time = anomalies = 0
    for (pid, visit, _category), rows in visits.items():
        on_time += any(r.on_time for r in rows)
        anomalies += any(r.format in ANOMALY_FORMATS for r in rows)
        by_day[pid, visit[:7]].extend(rows)
    result = Month(month, [], uploaded=len(visits), late=len(visits) - on_time, anomalies=anomalies,
                   cases=len(case_rows))
    matched = 0
    equal = dict.fromkeys(("doctor", "diagnosis", "fee", "copay"), 0)
    diagnosed = orders = orders_found = 0
    for case in case_rows:
        candidates = by_day.get((case.pid, case.visit))
        if not candidates:
            result.missing_total += 1
            if len(result.missing) < LISTED:
                result.missing.append(case)
            continue
        matched += 1
        needs_diagnosis = not pharmacy and case.case_type not in NO_MAIN_DIAGNOSIS
        diagnosed += needs_diagnosis
        differs, found, wanted = _best_match(case, candidates, needs_diagnosis)
        for name in equal:
            equal[name] += name not in differs and (name != "diagnosis" or needs_diagnosis)
        orders += wanted
        orders_found += found
        if differs:
            result.mismatched_total += 1
            if len(result.mismatched) < LISTED:
                result.mismatched.append((case, [FIELD_NAMES[d] for d in differs]))
    result.indicators = [
        Indicator("on_time", "24小時內上傳率", "就醫後24小時內上傳之件數 ÷ 上傳件數", on_time, len(visits)),
        Indicator("claims", "健保卡上傳與申報率", "有健保卡上傳資料之申報件數 ÷ 申報件數", matched, len(case_rows)),
        Indicator("doctor", "醫事人員ID上傳率", "醫事人員ID與申報相符件數 ÷ 有上傳之申報件數", equal["doctor"], matched),
        Indicator("diagnosis", "主診斷上傳率", "主診斷與申報相符件數 ÷ 有上傳之申報件數（排除藥局及交付機構）",
                  equal["diagnosis"], diagnosed, applicable=not pharmacy),
        Indicator("fee", "申報金額上傳率", "醫療費用與申報合計點數相符件數 ÷ 有上傳之申報件數", equal["fee"], matched),
        Indicator("copay", "部分負擔上傳率", "部分負擔與申報相符件數 ÷ 有上傳之申報件數", equal["copay"], matched),
        Indicator("orders", "醫令上傳率", "申報醫令（藥品、診療）有上傳之筆數 ÷ 有上傳之申報案件醫令筆數",
                  orders_found, orders),
    ]
    return result


def _best_match(case: CaseRow, candidates: list[IcRow], needs_diagnosis: bool) -> tuple[list[str], int, int]:
    """(fields that differ, orders found, orders wanted) against the uploaded REC of that day that fits best."""
    wanted = case.order_codes.split()
    best = None
    for row in candidates:
        uploaded = set(row.order_codes.split())
        found = sum(code in uploaded for code in wanted)
        differs = [name for name, same in (
            ("doctor", row.doctor == case.doctor),
            ("diagnosis", not needs_diagnosis or row.diagnosis == case.diagnosis),
            ("fee", row.fee == case.fee), ("copay", row.copay == case.copay),
            ("orders", found == len(wanted))) if not same]
        if best is None or (len(differs), -found) < (len(best[0]), -best[1]):
            best = (differs, found)
    return best[0], best[1], len(wanted)


# -- reading from the database -----------------------------------------------------------------------------------

def is_pharmacy(institution) -> bool:
    """藥局 and 交付機構 upload no 主診斷 (SEED-004 三(三))."""
    return any(word in (institution.kind or "") for word in ("藥局", "交付"))


def claim_sources(institution_id: int, month: str) -> list[Upload]:
    """The pre-checks taken as the month's 申報: the latest checked 門診 one per 醫事類別."""
    uploads = (Upload.select().where(Upload.id.in_(
        ClaimCase.select(ClaimCase.upload).where((ClaimCase.institution == institution_id)
                                                 & (ClaimCase.fee_month == month)).distinct()))
        .order_by(Upload.checked_at.desc(), Upload.id.desc()))
    latest: dict[str, Upload] = {}
    for upload in uploads:
        latest.setdefault(upload.form_values.get("medical_category", ""), upload)
    return sorted(latest.values(), key=lambda u: u.form_values.get("medical_category", ""))


def month_figures(institution, month: str) -> Month:
    """One month's indicators for the institution."""
    ic_rows = [IcRow(*row) for row in (
        IcRecord.select(IcRecord.pid, IcRecord.visit, IcRecord.category, IcRecord.format, IcRecord.valid,
                        IcRecord.on_time, IcRecord.doctor, IcRecord.diagnosis, IcRecord.fee, IcRecord.copay,
                        IcRecord.order_codes)
        .where((IcRecord.institution == institution.id)  # only 健保卡就醫資料上傳 (kind ic) keeps RECs
               & (IcRecord.visit >= month) & (IcRecord.visit < next_month(month)))
        .tuples())]
    sources = claim_sources(institution.id, month)
    case_rows = [CaseRow(*row) for row in (
        ClaimCase.select(ClaimCase.pid, ClaimCase.visit, ClaimCase.case_type, ClaimCase.doctor, ClaimCase.diagnosis,
                         ClaimCase.fee, ClaimCase.copay, ClaimCase.order_codes, ClaimCase.serial)
        .where(ClaimCase.upload.in_([s.id for s in sources])).order_by(ClaimCase.id).tuples())] if sources else []
    figures = compute(month, ic_rows, case_rows, is_pharmacy(institution))
    figures.sources = sources
    return figures


def next_month(month: str) -> str:
    """11512 -> 11601."""
    year, number = int(month[:3]), int(month[3:])
    return f"{year + 1:03d}01" if number == 12 else f"{year:03d}{number + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """YYYMM months first … last inclusive, newest first."""
    months = []
    while first <= last:
        months.append(first)
        first = next_month(first)
    return months[::-1]
