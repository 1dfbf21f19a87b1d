"""健保卡登錄及上傳指標 (SPEC U5): daily IC-card uploads and a 門診 pre-check of the same visits,
checked by a real worker, compared on H.02.02."""

from __future__ import annotations

import dataclasses
import io
import random
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytest

from portal.checks import samples
from portal.logic import uploads
from portal.logic.roc_dates import fee_month, taipei_to_utc, to_taipei
from portal.models import Institution
from portal.models.base import utcnow
from portal.models.uploads import ClaimCase, IcRecord, Upload
from portal.storage import storage_for
from tests.integration.test_authority_screens import as_chen, view
from tests.integration.test_ic_uploads import world  # noqa: F401 (the fixture)
from tests.integration.test_institution_files import run_worker
from tests.world import KAOPING, TAIPEI

pytestmark = pytest.mark.redis


def last_month() -> str:
    """The previous 費用年月 (Taipei)."""
    first = to_taipei(utcnow()).date().replace(day=1) - timedelta(days=1)
    return fee_month(first.year, first.month)


def send(app, code: str, kind: str, data: bytes, name: str, form: dict, at: datetime):
    """Receive an upload as the institution's HIS at a given Taipei time (not a real-time test)."""
    with app.app_context():
        institution = Institution.get(Institution.code == code)
        sender = uploads.Sender(institution.id, code)
        return uploads.receive(app.config, storage_for(app.config), sender, kind, io.BytesIO(data), name, form,
                               channel="api", now=taipei_to_utc(at.date(), at.time()))


def ic_day(visits, now: datetime) -> bytes:
    """One day's IC-card upload (1.0) of these visits."""
    out = io.BytesIO()
    samples.write_ic(out, version="1.0", institution=TAIPEI, visits_iter=visits, now=now)
    return out.getvalue()


def claims_of(visits, month: str, filed: datetime) -> bytes:
    """The month's 門診 claim of these visits, zipped."""
    out = io.BytesIO()
    samples.claims_zip(out, institution=TAIPEI, fee_month=month, visits_iter=iter(visits), filed=filed.date())
    return out.getvalue()


@pytest.fixture
def month_uploaded(world):  # noqa: F811
    """A month of 臺北虛擬診所's visits: every day uploaded the same evening except the last day (3 days
    late); one visit never uploaded, one with another doctor, one with another diagnosis, one missing
    a drug; then the month's 門診 pre-check of all the visits."""
    month = last_month()
    visits = list(samples.visits(TAIPEI, month, count=40, seed=7))
    by_day = defaultdict(list)
    for visit in visits:
        by_day[visit.day].append(visit)
    last_day = max(by_day)
    first_four = visits[:4]
    assert all(v.day != last_day for v in first_four)
    others = sorted({v.doctor for v in visits} - {first_four[1].doctor}) or [samples.random_id(random.Random(3))]
    other_main = next(c for c in samples.DIAGNOSES_ADULT if c != first_four[2].diagnoses[0])
    drug = next(o for o in first_four[3].orders if o.kind in ("1", "2"))
    changed = {
        id(first_four[1]): dataclasses.replace(first_four[1], doctor=others[0]),
        id(first_four[2]): dataclasses.replace(first_four[2], diagnoses=(other_main,)),
        id(first_four[3]): dataclasses.replace(first_four[3], orders=[o for o in first_four[3].orders if o is not drug]),
    }
    for day, day_visits in sorted(by_day.items()):
        sent = [changed.get(id(v), v) for v in day_visits if v is not first_four[0]]
        if not sent:
            continue
        at = datetime.combine(day + timedelta(days=3), time(10, 0)) if day == last_day \
            else datetime.combine(day, time(23, 0))
        send(world.app, TAIPEI, "ic", ic_day(sent, at), "daily.xml", {}, at)
    filed = datetime.combine(last_day + timedelta(days=4), time(9, 0))
    form = {"fee_month": month, "visit_kind": "op", "medical_category": "11", "month_mark": "3",
            "medical_category_label": "11 西醫診所"}
    send(world.app, TAIPEI, "claims", claims_of(visits, month, filed), "TOTFA.zip", form, filed)
    run_worker(world.app)
    with world.app.app_context():
        assert {u.result for u in Upload.select()} == {"ok"}, [(u.kind, u.message, u.summary) for u in Upload.select() if u.result != "ok"]
    return month, visits, by_day[last_day], first_four


def cells(page) -> list[str]:
    """The month's row of the indicator table, as text."""
    row = page.select("#indicator-months tbody tr")[0]
    return [td.get_text(" ", strip=True) for td in row.select("td")]


def rate(numerator: int, denominator: int) -> str:
    """The page's percentage: cut to 2 decimals."""
    whole = numerator * 10000 // denominator
    return f"{whole // 100}.{whole % 100:02d}%"


def test_the_institution_sees_each_rate_against_90_percent(world, month_uploaded):  # noqa: F811
    month, visits, late_visits, first_four = month_uploaded
    n = len(visits)
    uploaded = n - 1
    with world.app.app_context():
        assert IcRecord.select().count() == uploaded
        assert ClaimCase.select().count() == n
        missing = (first_four[0].patient_id, samples.roc_date(first_four[0].day))
        orders = sum(len(c.order_codes.split()) for c in ClaimCase.select() if (c.pid, c.visit) != missing)
    client = as_chen(world)
    page = view(client, f"/ic-indicators/?start={month}&end={month}")
    on_time, claims, doctor, diagnosis, fee, copay, drugs = cells(page)[:7]
    late = len(late_visits)
    assert on_time.startswith(rate(uploaded - late, uploaded))
    assert claims.startswith(rate(uploaded, n))
    assert doctor.startswith(rate(uploaded - 1, uploaded)) and diagnosis.startswith(rate(uploaded - 1, uploaded))
    assert fee == "100.00% 達標" and copay == "100.00% 達標"
    assert drugs.startswith(rate(orders - 1, orders))
    assert ("未達標" in on_time) == ((uploaded - late) * 100 < 90 * uploaded)

    detail = view(client, f"/ic-indicators/{month}")
    text = detail.get_text(" ", strip=True)
    missing = first_four[0]
    masked = missing.patient_id[:3] + "****" + missing.patient_id[7:]
    assert "未上傳健保卡資料之申報案件（1 件）" in text and masked in text and missing.patient_id not in text
    mismatches = {tr.select("td")[0].get_text(strip=True): tr.select("td")[3].get_text(strip=True)
                  for tr in detail.select("table")[-1].select("tbody tr")}
    assert mismatches == {first_four[1].patient_id[:3] + "****" + first_four[1].patient_id[7:]: "醫事人員ID",
                          first_four[2].patient_id[:3] + "****" + first_four[2].patient_id[7:]: "主診斷",
                          first_four[3].patient_id[:3] + "****" + first_four[3].patient_id[7:]: "醫令"}
    assert f"逾 24 小時上傳 {late} 件" in text


def test_another_institution_and_a_newer_precheck(world, month_uploaded):  # noqa: F811
    """Another institution's uploads never count; the latest pre-check of the month is the one compared."""
    month, visits, _late, first_four = month_uploaded
    at = datetime.combine(visits[-1].day + timedelta(days=5), time(9, 0))
    kao_visits = list(samples.visits(KAOPING, month, count=10, seed=9))
    kao_day = [v for v in kao_visits if v.day == kao_visits[0].day]
    kao_file = io.BytesIO()
    samples.write_ic(kao_file, version="2.0", institution=KAOPING, visits_iter=kao_day, now=at)
    send(world.app, KAOPING, "ic", kao_file.getvalue(), "daily.xml", {}, at)  # 3+ days late, all of them
    form = {"fee_month": month, "visit_kind": "op", "medical_category": "11", "month_mark": "3"}
    # a newer pre-check holding only the 10 cases of the visits that all were uploaded unchanged
    send(world.app, TAIPEI, "claims", claims_of(visits[4:14], month, at), "TOTFA.zip", form, at)
    before = cells(view(as_chen(world), f"/ic-indicators/?start={month}&end={month}"))[0]
    run_worker(world.app)
    with world.app.app_context():
        assert IcRecord.select().join(Institution).where(Institution.code == KAOPING).count() == len(kao_day)
    on_time, claims, doctor, diagnosis, fee, copay, drugs = cells(
        view(as_chen(world), f"/ic-indicators/?start={month}&end={month}"))[:7]
    assert on_time == before
    assert claims == doctor == diagnosis == fee == copay == drugs == "100.00% 達標"


def test_month_range_errors_are_explained(world):  # noqa: F811
    client = as_chen(world)
    page = view(client, "/ic-indicators/?start=11513&end=11501")
    assert "格式錯誤" in page.select_one("#indicator-months").get_text()
    page = view(client, "/ic-indicators/?start=11001&end=11112")
    assert "一次最多查詢 12 個月" in page.get_text()
    page = view(client, "/ic-indicators/?start=11403&end=11402")
    assert "費用年月起不可晚於迄" in page.get_text()
    default = view(client, "/ic-indicators/")
    assert len(default.select("#indicator-months tbody tr")) == 3
    assert "無資料" in default.select("#indicator-months tbody tr")[0].get_text()
    assert view(client, "/ic-indicators/abc", status=404)
    codes = view(client, "/ic-indicators/anomaly-codes")
    assert "A000" in codes.get_text() and "讀卡設備故障" in codes.get_text()
