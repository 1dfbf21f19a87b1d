"""The A.02.01 form: what it asks and how its answers are checked (no Flask)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from portal.checks import tables
from portal.logic.file_queries import FIRST_FEE_MONTH
from portal.logic.roc_dates import DateInputError, fee_month, parse_fee_month, to_taipei

VISIT_KINDS = {"op": "門診", "ip": "住院"}
CLAIM_TYPES = {"1": "送核"}
MONTH_MARKS = {"3": "全月"}


def medical_categories() -> dict[str, dict]:
    """醫事類別 code -> row (name, kind op/ip)."""
    return tables.by_code("medical_categories")


@dataclass
class PrecheckForm:
    """The answers, echoed back, and zh-TW errors by field."""

    values: dict
    errors: dict = field(default_factory=dict)

    def as_upload_form(self) -> dict:
        """What the upload row keeps (labels too, for the report header)."""
        v = self.values
        category = medical_categories().get(v["medical_category"], {})
        return {"fee_month": v["fee_month"], "visit_kind": v["visit_kind"], "medical_category": v["medical_category"],
                "medical_category_label": f"{v['medical_category']} {category.get('name', '')}",
                "claim_type": "1", "claim_type_label": "1 送核", "month_mark": "3", "review": v["review"]}


def parse(form, now: datetime) -> PrecheckForm:
    """Check the form fields (the file is checked by the job)."""
    values = {"fee_month": (form.get("fee_month") or "").strip(), "visit_kind": form.get("visit_kind") or "",
              "medical_category": form.get("medical_category") or "", "review": bool(form.get("review")),
              "month_mark": form.get("month_mark") or "3"}
    errors = {}
    local = to_taipei(now)
    try:
        year, month = parse_fee_month(values["fee_month"])
        if not FIRST_FEE_MONTH <= year * 100 + month <= local.year * 100 + local.month:
            errors["fee_month"] = (f"費用年月「{values['fee_month']}」不可晚於本月，亦不可早於 "
                                   f"{fee_month(1995, 3)}；請輸入 {fee_month(1995, 3)} 至 "
                                   f"{fee_month(local.year, local.month)} 之間的年月。")
    except DateInputError as exc:
        errors["fee_month"] = str(exc)
    if values["visit_kind"] not in VISIT_KINDS:
        errors["visit_kind"] = "請選擇門住診別。"
    category = medical_categories().get(values["medical_category"])
    if category is None:
        errors["medical_category"] = "請選擇醫事類別。"
    elif values["visit_kind"] in VISIT_KINDS and category.get("kind") != values["visit_kind"]:
        errors["medical_category"] = (f"醫事類別「{values['medical_category']} {category.get('name')}」"
                                      f"不屬於{VISIT_KINDS[values['visit_kind']]}，請重新選擇。")
    if values["month_mark"] not in MONTH_MARKS:
        errors["month_mark"] = "月份註記請選擇全月。"
    return PrecheckForm(values, errors)
