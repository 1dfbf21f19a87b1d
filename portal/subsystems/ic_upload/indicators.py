"""H.02.02 健保卡登錄及上傳指標查詢 (SPEC U5): the institution's upload indicators per 費用年月,
one month's detail, and the 異常代碼對照表 the checks use."""

from __future__ import annotations

from flask import Blueprint, abort, g, request
from flask_login import current_user, login_required

from portal.checks import tables
from portal.htmx import render_page
from portal.logic import indicators, menu
from portal.logic.roc_dates import DateInputError, fee_month, parse_fee_month, to_taipei
from portal.models.base import utcnow
from portal.subsystems import upload_pages

bp = Blueprint("ic_indicators", __name__, url_prefix="/ic-indicators")
SERVICE = "IPA"
DEFAULT_MONTHS = 3
MAX_MONTHS = 12


def _months(args) -> tuple[list[str], dict, dict]:
    """費用年月 起/迄 from the query: (months newest first, zh-TW errors, values to echo)."""
    today = to_taipei(utcnow()).date()
    this = fee_month(today.year, today.month)
    year, month = today.year, today.month - (DEFAULT_MONTHS - 1)
    while month < 1:
        year, month = year - 1, month + 12
    raw = {"start": (args.get("start") or "").strip(), "end": (args.get("end") or "").strip()}
    chosen = {"start": raw["start"] or fee_month(year, month), "end": raw["end"] or this}
    errors = {}
    for key, label in (("start", "起"), ("end", "迄")):
        try:
            parse_fee_month(chosen[key])
        except DateInputError as exc:
            errors[key] = f"{label}：{exc}"
    if not errors:
        if chosen["end"] > this:
            errors["end"] = f"費用年月迄「{chosen['end']}」不可晚於本月（{this}）。"
        elif chosen["start"] > chosen["end"]:
            errors["end"] = "費用年月起不可晚於迄，請重新輸入。"
        elif len(indicators.months_between(chosen["start"], chosen["end"])) > MAX_MONTHS:
            errors["start"] = f"一次最多查詢 {MAX_MONTHS} 個月，請縮小範圍。"
    months = [] if errors else indicators.months_between(chosen["start"], chosen["end"])
    return months, errors, chosen


@bp.get("/")
@login_required
def index():
    """The indicators of each month in a 費用年月 range (htmx swaps the table; the form works alone)."""
    upload_pages.require_service(SERVICE)
    g.menu_item = menu.find("H.02.02")
    months, errors, shown = _months(request.args)
    institution = current_user.institution
    figures = [indicators.month_figures(institution, month) for month in months]
    return render_page("ic_indicators/index.html", fragment="ic_indicators/_months.html", item=g.menu_item,
                       figures=figures, errors=errors, shown=shown, target=indicators.TARGET)


@bp.get("/<month>")
@login_required
def month(month: str):
    """One month: each indicator with its counts and formula, the sources, and the cases to look at."""
    upload_pages.require_service(SERVICE)
    try:
        parse_fee_month(month)
    except DateInputError:
        abort(404)
    g.menu_item = menu.find("H.02.02")
    figures = indicators.month_figures(current_user.institution, month)
    return render_page("ic_indicators/month.html", item=g.menu_item, m=figures, target=indicators.TARGET)


@bp.get("/anomaly-codes")
@login_required
def anomaly_codes():
    """異常代碼對照表 (SEED-004 三(四)3): the table the checks use for 就醫序號 A18 / M13 and claims d29."""
    upload_pages.require_service(SERVICE)
    g.menu_item = menu.find("H.02.02")
    return render_page("ic_indicators/anomaly_codes.html", item=g.menu_item, rows=tables.rows("anomaly_codes"))
