"""Demo uploads (SPEC U1–U5): 臺北虛擬診所's daily IC-card uploads of this and the last two months,
its 門診 pre-checks of the last two, and one pre-check with errors, all checked on the spot.

The screens (A.02.02, H.01.01, H.02.02) have something to show on first login. The files
come from the sample generator: the IC uploads and the claims hold the same visits, so
the indicators compare real pairs. Last month a share of visits was never uploaded and
two days went up a day late, so one indicator is below 90 % and the detail page has
cases to list. Skipped once the institution has any upload, so a re-run adds nothing.
"""

from __future__ import annotations

import dataclasses
import io
import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from portal.checks import samples
from portal.db import database
from portal.logic import uploads
from portal.logic.roc_dates import fee_month, taipei_to_utc, to_taipei
from portal.models import Institution, Job
from portal.models.base import utcnow
from portal.models.uploads import Upload

INSTITUTION = "3501200000"
VISITS_PER_DAY = 18
FORM = {"visit_kind": "op", "medical_category": "11", "medical_category_label": "11 西醫診所", "claim_type": "1",
        "claim_type_label": "1 送核", "month_mark": "3", "review": False}


def load(storage, config, now: datetime | None = None) -> int:
    """Create the demo uploads unless the institution has uploads; returns how many it has."""
    institution = Institution.get_or_none(Institution.code == INSTITUTION)
    if institution is None:
        return 0
    mine = Upload.select().where(Upload.institution == institution)
    if mine.exists():
        return mine.count()
    with database.atomic():  # the jobs are submitted (and found done) only after everything is recorded
        _load(storage, config, institution, now or utcnow())
    return mine.count()


def _load(storage, config, institution: Institution, now: datetime) -> None:
    today = to_taipei(now).date()
    sender = uploads.Sender(institution.id, INSTITUTION)
    rng = random.Random(11507)
    first_of_month = today.replace(day=1)
    starts = [_months_back(first_of_month, 2), _months_back(first_of_month, 1), first_of_month]
    for index, start in enumerate(starts):
        end = min(_month_end(start), today - timedelta(days=1))
        if end < start:
            continue
        month = fee_month(start.year, start.month)
        days = (end - start).days + 1
        visits = list(samples.visits(INSTITUTION, month, count=VISITS_PER_DAY * days, seed=index + 1, start=start,
                                     days=days))
        careless = index == 1  # last month: 12 % never uploaded, two days a day late
        late_days = set(rng.sample(sorted({v.day for v in visits}), 2)) if careless else set()
        by_day = defaultdict(list)
        for visit in visits:
            if careless and rng.random() < 0.12:
                continue
            if careless and rng.random() < 0.02:  # the HIS sent a secondary diagnosis as the main one
                visit = dataclasses.replace(visit, diagnoses=("R509",) if visit.diagnoses[0] != "R509" else ("J00",))
            by_day[visit.day].append(visit)
        for day, day_visits in sorted(by_day.items()):
            at = datetime.combine(day + timedelta(days=1), time(23, 30)) if day in late_days \
                else datetime.combine(day, time(22, 0))
            _send(storage, config, sender, "ic", _ic_file(day_visits, at, "1.0" if index == 0 else "2.0"),
                  f"{INSTITUTION}_{samples.roc_date(day)}.xml", {}, min(at, _taipei(now) - timedelta(minutes=5)))
        if start < first_of_month:
            filed = min(datetime.combine(_month_end(start) + timedelta(days=5), time(10, 0)),
                        _taipei(now) - timedelta(hours=1))
            _send(storage, config, sender, "claims", _claims_file(visits, month, filed.date()),
                  f"{INSTITUTION}11{month}13B.zip", {**FORM, "fee_month": month}, filed)
    mutation = samples.MUTATIONS["C24"]  # 申請點數 off by one: 檢核有誤 with its 檢核錯誤明細表
    (name, data), = mutation.build(today=today)
    _send(storage, config, sender, "claims", data, name, {**FORM, "fee_month": mutation.upload_form()["fee_month"]},
          _taipei(now) - timedelta(minutes=30))


def _send(storage, config, sender, kind: str, data: bytes, name: str, form: dict, at: datetime) -> None:
    """Receive as the HIS (IC) or 王大明's browser (claims) at Taipei time `at`, and check it now
    (its job is marked done: no worker needs to look at it)."""
    received = taipei_to_utc(at.date(), at.time())
    upload = uploads.receive(config, storage, sender, kind, io.BytesIO(data), name, form,
                             channel="api" if kind == "ic" else "web", now=received)
    finished = received + timedelta(seconds=3)
    uploads.record_result(storage, upload, uploads.run_check(config, storage, upload), finished)
    Job.update(state="done", message=upload.result_label, created_at=received, started_at=received,
               finished_at=finished, updated_at=finished).where(Job.id == upload.job_id).execute()


def _ic_file(visits, at: datetime, version: str) -> bytes:
    out = io.BytesIO()
    samples.write_ic(out, version=version, institution=INSTITUTION, visits_iter=visits, now=at)
    return out.getvalue()


def _claims_file(visits, month: str, filed: date) -> bytes:
    out = io.BytesIO()
    samples.claims_zip(out, institution=INSTITUTION, fee_month=month, visits_iter=iter(visits), filed=filed)
    return out.getvalue()


def _taipei(moment: datetime) -> datetime:
    return to_taipei(moment).replace(tzinfo=None)


def _months_back(first: date, count: int) -> date:
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
