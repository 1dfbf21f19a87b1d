"""The 查詢下載 screens of category E and 申報案件相關檔案下載 (SPEC D4): one form, one query per screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.logic.institution_files import visible
from portal.logic.roc_dates import DateInputError, fee_month, parse_fee_month, to_taipei
from portal.models.institution_files import InstitutionFile


@dataclass(frozen=True)
class Screen:
    """A 查詢下載 screen: the menu code it answers, the files it lists and the service that grants it."""

    code: str
    category: str
    service: str
    title: str


SCREENS = {s.code: s for s in (
    Screen("E.01.01", "payment_notice", "IWF", "付款通知書"),
    Screen("E.01.02", "approval", "IWF", "核定檔"),
    Screen("E.01.03", "deduction", "IWF", "核減檔"),
    Screen("E.01.04", "itemized", "IWF", "分項費用檔"),
    Screen("E.01.05", "feedback", "IWF", "回饋資料"),
    Screen("E.01.06", "tax", "IWF", "報稅參考檔案(扣繳憑單)"),
    Screen("E.01.07", "budget", "IWF", "總額相關檔案"),
    # 抽樣 notices and claim check results are delivered here (seed 001 5-2).
    Screen("A.01.10", "claims", "RWM", "申報案件相關檔案"),
    # reports of 預檢醫療費用申報 (SPEC U1), written by the upload checks
    Screen("A.02.03", "precheck", "RWP", "預檢醫療費用申報相關檔案"),
)}
# 醫事類別 as on NHIA's forms (FORMATS.md §3.1)
MEDICAL_CATEGORIES = {"11": "門診西醫診所", "12": "西醫門診(醫院)", "13": "牙醫門診", "14": "中醫",
                      "15": "門診洗腎", "19": "居家照護", "21": "住診西醫診所", "22": "西醫住院"}
WITHIN = {"7": "7天以內", "14": "14天以內", "30": "30天以內", "60": "60天以內", "90": "90天以內", "all": "不限"}
SORTS = {"provided": "提供下載日期", "fee_month": "費用年月", "name": "檔案名稱"}
# 全民健保 began in March 1995 (民國84年3月): no fee month lies before it.
FIRST_FEE_MONTH = 199503
PAGE_SIZE = 10


@dataclass(frozen=True)
class FileQuery:
    """A checked query; `form` echoes what the user typed."""

    fee_from: int | None
    fee_to: int | None
    medical_category: str
    within: str
    sort: str
    form: dict


def parse_query(args, now: datetime) -> tuple[FileQuery, dict]:
    """The form's values checked; errors (zh-TW, by field) leave the query unrun."""
    form = {key: (args.get(key) or "").strip() for key in ("fee_from", "fee_to", "medical_category", "within", "sort")}
    errors = {}
    months = {}
    local = to_taipei(now)
    latest = local.year * 100 + local.month
    for key, label in (("fee_from", "費用年月起"), ("fee_to", "費用年月迄")):
        if not form[key]:
            months[key] = None
            continue
        try:
            year, month = parse_fee_month(form[key])
        except DateInputError as exc:
            errors[key] = f"{label}：{exc}"
            continue
        value = year * 100 + month
        if not FIRST_FEE_MONTH <= value <= latest:
            errors[key] = (f"{label}「{form[key]}」超出可查詢範圍，請輸入 {fee_month(1995, 3)} 至 "
                           f"{fee_month(local.year, local.month)} 之間的年月。")
        months[key] = value
    if not errors and months.get("fee_from") and months.get("fee_to") and months["fee_from"] > months["fee_to"]:
        errors["fee_to"] = "費用年月起不可晚於費用年月迄，請重新輸入。"
    if form["medical_category"] and form["medical_category"] not in MEDICAL_CATEGORIES:
        errors["medical_category"] = "請選擇正確的醫事類別。"
    within = form["within"] if form["within"] in WITHIN else "7"
    sort = form["sort"] if form["sort"] in SORTS else "provided"
    form.update(within=within, sort=sort)
    return FileQuery(months.get("fee_from"), months.get("fee_to"), form["medical_category"], within, sort, form), errors


def run(institution_id: int, services, screen: Screen, query: FileQuery, now: datetime):
    """The screen's files matching the query (a Peewee select, for paginate())."""
    condition = visible(institution_id, services & {screen.service}) & (InstitutionFile.category == screen.category)
    if query.fee_from:
        condition &= InstitutionFile.fee_month >= query.fee_from
    if query.fee_to:
        condition &= InstitutionFile.fee_month <= query.fee_to
    if query.medical_category:
        condition &= InstitutionFile.medical_category == query.medical_category
    if query.within != "all":
        condition &= InstitutionFile.provided_at >= now - timedelta(days=int(query.within))
    order = {
        "provided": [InstitutionFile.provided_at.desc()],
        "fee_month": [InstitutionFile.fee_month.desc(), InstitutionFile.provided_at.desc()],
        "name": [InstitutionFile.name],
    }[query.sort]
    return InstitutionFile.select().where(condition).order_by(*order, InstitutionFile.id.desc())


def roc_fee_month(value: int | None) -> str:
    """202107 -> 11007 (blank when a file has no fee month)."""
    return fee_month(value // 100, value % 100) if value else ""
