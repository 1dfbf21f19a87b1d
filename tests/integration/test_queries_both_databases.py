"""The same model and query behaviour on SQLite and on a throwaway PostgreSQL cluster."""

from datetime import date, timedelta

import pytest

from portal import jobqueue, schema
from portal.db import database, is_postgres
from portal.logic import announcements, contacts, downloads, faq
from portal.logic.keywords import parse_keyword
from portal.logic.pagination import paginate
from portal.models import (
    Contact,
    ContactGroup,
    DownloadCategory,
    DownloadDocument,
    DownloadService,
    Faq,
    FaqCategory,
    Job,
    Upload,
)
from portal.models.base import utcnow

pytestmark = pytest.mark.usefixtures("any_db_app")


def _announce(title, days_ago=1, **fields):
    return announcements.save(kind="business", title=title, publish_at=utcnow() - timedelta(days=days_ago), **fields)


def test_backend_is_what_the_parameter_says(request):
    assert is_postgres() == ("postgres" in request.node.callspec.id)


def test_migrations_and_models_agree():
    assert schema.pending(database.obj) == [] and schema.drift(database.obj) == ""


def test_keyword_wildcards_and_quotes_are_literal():
    for title in ("達成率100%", "代碼A_B", "代碼AxB", "他說'好'", 'Quote"d', "反斜線\\路徑"):
        _announce(title)
    def found(text):
        return sorted(a.title for a in announcements.search("business", parse_keyword(text)))
    assert found("%") == ["達成率100%"]
    assert found("_") == ["代碼A_B"]
    assert found("'") == ["他說'好'"]
    assert found('"') == ['Quote"d']
    assert found("\\") == ["反斜線\\路徑"]
    assert found("A_B") == ["代碼A_B"]
    assert found("%_%") == []


def test_keyword_matches_cjk_fragments_and_ascii_case_insensitively():
    _announce("醫療費用申報格式修正", content="<p>請參閱 XML 格式說明</p>", keywords="RWM")
    _announce("雲端安全模組申請")
    def titles(text):
        return [a.title for a in announcements.search("business", parse_keyword(text))]
    assert titles("費用申") == ["醫療費用申報格式修正"]
    assert titles("xml") == ["醫療費用申報格式修正"]
    assert titles("rwm") == ["醫療費用申報格式修正"]
    assert titles("安全模組") == ["雲端安全模組申請"]


def test_paging_newest_first_and_clamped():
    for n in range(23):
        _announce(f"公告{n:02d}", days_ago=n + 1)
    first = paginate(announcements.visible("business"), "1", 10)
    last = paginate(announcements.visible("business"), "999", 10)
    assert first.total == 23 and first.items[0].title == "公告00"
    assert last.number == 3 and [a.title for a in last.items] == ["公告20", "公告21", "公告22"]


def test_publish_window():
    now = utcnow()
    _announce("現在")
    announcements.save(kind="business", title="未來", publish_at=now + timedelta(hours=1))
    announcements.save(kind="business", title="過期", publish_at=now - timedelta(days=2), expire_at=now - timedelta(days=1))
    announcements.save(kind="system", title="別類", publish_at=now - timedelta(days=1))
    assert [a.title for a in announcements.visible("business")] == ["現在"]


def test_download_documents_by_service_keyword_and_date():
    cat = DownloadCategory.create(name="共通作業")
    svc = DownloadService.create(category=cat, name="電腦設定")
    other = DownloadService.create(category=cat, name="網站介紹", position=1)
    DownloadDocument.create(service=svc, description="DNS 設定說明", updated_on=date(2021, 3, 10))
    DownloadDocument.create(service=svc, description="IE瀏覽器手動設定文件", updated_on=date(2017, 12, 25), position=1)
    DownloadDocument.create(service=other, description="本網站簡介", updated_on=date(2018, 1, 17))
    assert [r.description for r in downloads.documents(svc, parse_keyword(""), False)] == \
        ["DNS 設定說明", "IE瀏覽器手動設定文件"]
    assert [r.description for r in downloads.documents(None, parse_keyword("設定"), True)] == \
        ["DNS 設定說明", "IE瀏覽器手動設定文件"]
    newest = downloads.documents(None, parse_keyword(""), True)
    assert [r.updated for r in newest] == ["110.03.10", "107.01.17", "106.12.25"]
    assert downloads.find_service("abc") is None and downloads.find_service(str(svc.id)) == svc


def test_contact_services_filtered_by_category_and_contact_fields():
    web = ContactGroup.create(name="網頁登入諮詢")
    staff = ContactGroup.create(name="醫事人員服務", position=1)
    help_desk = ContactGroup.create(parent=web, name="網頁諮詢服務")
    platform = ContactGroup.create(parent=staff, name="醫事人員溝通平台")
    ContactGroup.create(parent=staff, name="住院病例組合編審服務", position=1)
    Contact.create(group=help_desk, unit="高屏業務組", name="林小姐", phone="(07)231-5151")
    Contact.create(group=platform, unit="醫務管理組", name="陳先生", phone="(02)2706-5866")
    everything = contacts.services(None, parse_keyword(""))
    assert [(p.name, [i.name for i in items]) for p, items in everything] == [
        ("網頁登入諮詢", ["網頁諮詢服務"]), ("醫事人員服務", ["醫事人員溝通平台", "住院病例組合編審服務"])]
    assert [i.name for _, items in contacts.services(staff, parse_keyword("")) for i in items] == \
        ["醫事人員溝通平台", "住院病例組合編審服務"]
    assert [i.name for _, items in contacts.services(None, parse_keyword("高屏")) for i in items] == ["網頁諮詢服務"]
    assert [i.name for _, items in contacts.services(None, parse_keyword("2706")) for i in items] == ["醫事人員溝通平台"]
    assert [c.name for c in contacts.contacts_of(platform)] == ["陳先生"]


def test_faq_filter():
    perm = FaqCategory.create(name="權限類")
    card = FaqCategory.create(name="電子憑證卡類", position=1)
    Faq.create(category=perm, question="同一個人是否可為機構管理者及機構使用者？", answer="<p>可以。</p>")
    Faq.create(category=card, question="卡片PIN碼鎖住怎麼辦？", answer="<p>請洽發卡單位解鎖。</p>")
    assert [q.question for q in faq.questions(card, parse_keyword(""))] == ["卡片PIN碼鎖住怎麼辦？"]
    assert [q.question for q in faq.questions(None, parse_keyword("解鎖"))] == ["卡片PIN碼鎖住怎麼辦？"]
    assert [c.name for c, _ in faq.grouped(faq.questions(None, parse_keyword("")))] == ["權限類", "電子憑證卡類"]


def test_outbox_claim_happens_once(any_db_app):
    row = Job.create(kind="feeds", func="jobs.feeds.rebuild_feeds", state="outbox")
    config = dict(any_db_app.config)
    # Redis is unreachable here: the claim is rolled back to the outbox, never lost or doubled.
    assert jobqueue.submit(config, row.id) is False
    assert Job.get_by_id(row.id).state == "outbox"
    Job.update(state="queued").where(Job.id == row.id).execute()
    assert jobqueue.submit(config, row.id) is False  # not in the outbox: nobody else may claim it
    assert Job.get_by_id(row.id).state == "queued"


def test_demo_seed_loads_and_is_idempotent(any_db_app):
    from portal import demo
    from portal.storage import storage_for

    first = demo.load_all(storage_for(any_db_app.config), any_db_app.config)
    second = demo.load_all(storage_for(any_db_app.config), any_db_app.config)
    assert first == second and first["announcements"] >= 40 and first["downloads"] >= 40
    # the demo uploads were checked on the spot, on this database too
    assert first["uploads"] > 20
    assert {(u.kind, u.state, u.result) for u in Upload.select()} == {
        ("ic", "done", "ok"), ("claims", "done", "ok"), ("claims", "done", "errors")}


def test_any_change_to_appointments_grants_or_services_moves_the_access_version():
    """Web processes reuse a session's access until this number moves (migration 0004's triggers)."""
    from portal.models.authority import Appointment, Grant, Institution, InstitutionService, Person

    clinic = Institution.create(code="3501200000", name="臺北虛擬診所", region="taipei")
    other = Institution.create(code="1101010012", name="別家診所", region="taipei")
    person = Person.create(national_id="A123456789", name="王大明", birth_date=date(1975, 5, 15))

    def version(institution=clinic):
        return Institution.get_by_id(institution.id).access_version

    steps = [
        lambda: InstitutionService.create(institution=clinic, service_code="RWM"),
        lambda: Appointment.create(institution=clinic, person=person, role="user", valid_from=date(2024, 1, 1)),
        lambda: Grant.create(appointment=Appointment.get(), service_code="RWM"),
        lambda: Grant.update(service_code="IWF").execute(),
        lambda: Grant.delete().execute(),
        lambda: Appointment.update(valid_to=date(2024, 12, 31)).execute(),
        lambda: InstitutionService.update(withdrawn_at=utcnow()).execute(),
        lambda: Appointment.delete().execute(),
        lambda: InstitutionService.delete().execute(),
    ]
    seen = [version()]
    for step in steps:
        step()
        seen.append(version())
    assert all(later > earlier for earlier, later in zip(seen, seen[1:], strict=False)), seen
    assert version(other) == 0  # another institution's sessions keep what they had


def test_institution_file_queries(any_db_app):
    """下載捷徑專區, a 查詢下載 screen, the bulk set, the expiry warning, serving 申請 and notices due."""
    from portal.logic import file_queries, institution_files
    from portal.models import Institution, Person
    from portal.models.institution_files import FileDownload, FileRequest, InstitutionFile
    from portal.storage import storage_for

    storage = storage_for(any_db_app.config)
    clinic = Institution.create(code="3501200000", name="臺北虛擬診所", region="taipei",
                                e_delivery_since=utcnow() - timedelta(days=100), notice_emails="a@example.com.tw")
    other = Institution.create(code="0702010015", name="高屏虛擬醫院", region="kaoping")
    person = Person.create(national_id="A123456789", name="王大明", birth_date=date(1975, 5, 15))
    now, keep = utcnow(), timedelta(days=14)

    def give(name, days_ago, institution=clinic, service="IWF", **extra):
        return institution_files.provide(storage, institution.id, service, extra.pop("category", "payment_notice"),
                                         name, b"x", at=now - timedelta(days=days_ago), **extra)

    fresh = give("fresh.html", 1, fee_month=202507)
    soon = give("soon.html", 12, fee_month=202506, notice="approval")
    old = give("old.html", 30, fee_month=202505)
    give("ic.txt", 1, service="IPA", category="ic_report")
    give("theirs.html", 1, institution=other)
    FileDownload.create(file=fresh.id, person=person.id, mode="plain", at=now)
    ids = lambda rows: [r.id for r in rows]  # noqa: E731

    recent = institution_files.shortcut_page(clinic.id, {"IWF"}, person.id, ("recent",), 1, now, keep)
    assert [x.file.name for x in recent.items] == ["fresh.html", "soon.html"]
    assert [x.state.code for x in recent.items] == ["downloaded", "ready"]
    assert ids(institution_files.new_for_bulk(clinic.id, {"IWF"}, person.id, now, keep)) == [soon.id]
    assert ids(institution_files.expiring_unread(clinic.id, {"IWF"}, person.id, now, keep, 3)) == [soon.id]
    query, errors = file_queries.parse_query({"within": "all", "fee_from": "11406", "sort": "fee_month"}, now)
    assert errors == {}
    screen = file_queries.SCREENS["E.01.01"]
    assert ids(file_queries.run(clinic.id, frozenset({"IWF"}), screen, query, now)) == [fresh.id, soon.id]

    FileRequest.create(file=old.id, requested_at=now - timedelta(days=1))
    InstitutionFile.update(request_state="pending").where(InstitutionFile.id == old.id).execute()
    pending = institution_files.shortcut_page(clinic.id, {"IWF"}, person.id, ("pending",), 1, now, keep)
    assert [x.file.name for x in pending.items] == ["old.html"]
    every = institution_files.shortcut_page(clinic.id, {"IWF"}, person.id, tuple(institution_files.FILTERS), 1,
                                            now, keep)
    assert every.total == 3 and [x.file.name for x in every.items] == ["fresh.html", "soon.html", "old.html"]
    assert institution_files.serve_requests(now, timedelta(days=1825), storage) == {"served": 1, "refused": 0}
    resent = institution_files.shortcut_page(clinic.id, {"IWF"}, person.id, ("resent",), 1, now, keep)
    assert [x.file.name for x in resent.items] == ["old.html"]

    at_noon = now.replace(hour=4, minute=0)  # 12:00 Taipei
    assert ids(institution_files.notices_due(at_noon, 8)) == [soon.id]


def test_postgres_plans_each_query_for_its_own_values():
    """Generic plans of prepared statements fit no institution of skewed data (see portal/db.py)."""
    if not is_postgres():
        pytest.skip("SQLite plans every statement for its values")
    assert database.execute_sql("SHOW plan_cache_mode").fetchone()[0] == "force_custom_plan"
