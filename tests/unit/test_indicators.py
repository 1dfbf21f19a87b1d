"""The upload indicators' arithmetic (SPEC U5), on plain rows."""

from __future__ import annotations

from decimal import Decimal

from portal.logic.indicators import CaseRow, IcRow, Indicator, compute, months_between, next_month

MONTH = "11507"


def ic(pid="A123456789", visit="1150702093015", category="01", fmt="1", valid=True, on_time=True,
       doctor="E120000001", diagnosis="J069", fee=406, copay=50, orders="AC37603100 A013382100") -> IcRow:
    return IcRow(pid, visit, category, fmt, valid, on_time, doctor, diagnosis, fee, copay, orders)


def case(pid="A123456789", visit="1150702", case_type="01", doctor="E120000001", diagnosis="J069", fee=406,
         copay=50, orders="AC37603100 A013382100", serial="0012") -> CaseRow:
    return CaseRow(pid, visit, case_type, doctor, diagnosis, fee, copay, orders, serial)


def rates(month) -> dict:
    return {i.code: (i.numerator, i.denominator) for i in month.indicators}


def test_a_visit_uploaded_late_and_then_corrected_counts_once_and_on_time_if_any_upload_was():
    rows = [ic(on_time=False), ic(fmt="3", on_time=True),  # late original, then 補正 within 24 h of the visit
            ic(pid="K109876546", on_time=False),
            ic(pid="F131104093", valid=False, on_time=True),  # invalid: not an upload
            ic(pid="F131104093", fmt="D"), ic(pid="F131104093", category="ZA"),  # 刪除, 取消: not visits
            ic(pid="F131104093", visit="1150601093015")]  # another month
    month = compute(MONTH, rows, [])
    assert rates(month)["on_time"] == (1, 2)
    assert (month.uploaded, month.late) == (2, 1)
    assert month.indicator("claims").rate is None and month.indicator("claims").met is None


def test_claims_are_matched_by_id_and_day_and_fields_over_uploaded_cases_only():
    rows = [ic(), ic(pid="K109876546", doctor="E120000002", diagnosis="J00", fee=400, copay=0,
                     orders="AC37603100")]
    cases = [case(), case(pid="K109876546"), case(pid="F131104093")]
    month = compute(MONTH, rows, cases)
    assert rates(month) == {"on_time": (2, 2), "claims": (2, 3), "doctor": (1, 2), "diagnosis": (1, 2),
                            "fee": (1, 2), "copay": (1, 2), "orders": (3, 4)}
    assert month.missing_total == 1 and month.missing[0].pid == "F131104093"
    assert month.mismatched == [(cases[1], ["醫事人員ID", "主診斷", "申報金額", "部分負擔", "醫令"])]


def test_of_two_uploads_on_one_day_the_one_that_fits_is_compared():
    rows = [ic(visit="1150702080000", doctor="E120000002", fee=1), ic(visit="1150702190000")]
    month = compute(MONTH, rows, [case()])
    assert rates(month)["doctor"] == (1, 1) and month.mismatched == []


def test_pharmacies_and_cases_without_a_main_diagnosis_are_left_out_of_the_diagnosis_rate():
    rows = [ic(diagnosis=""), ic(pid="K109876546", diagnosis="")]
    cases = [case(), case(pid="K109876546", case_type="08")]
    assert rates(compute(MONTH, rows, cases))["diagnosis"] == (0, 1)
    pharmacy = compute(MONTH, rows, cases, pharmacy=True).indicator("diagnosis")
    assert not pharmacy.applicable and pharmacy.rate is None and pharmacy.met is None


def test_a_rate_is_cut_not_rounded_so_just_under_target_is_not_met():
    just_under = Indicator("x", "x", "", 17999, 20000)  # 89.995 %: rounding would show 90.00 and met
    assert just_under.rate == Decimal("89.99") and just_under.met is False
    assert Indicator("x", "x", "", 9, 10).met is True
    assert Indicator("x", "x", "", 0, 0).rate is None


def test_anomaly_uploads_are_counted():
    month = compute(MONTH, [ic(fmt="2"), ic(pid="K109876546", fmt="B"), ic(pid="F131104093")], [])
    assert month.anomalies == 2


def test_months():
    assert next_month("11512") == "11601" and next_month("11507") == "11508"
    assert months_between("11511", "11602") == ["11602", "11601", "11512", "11511"]
    assert months_between("11602", "11511") == []
    assert compute("11601", [], []).audit_month and not compute("11602", [], []).audit_month
