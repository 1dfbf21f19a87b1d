"""Files for the institution (SPEC D1–D5) through the web, with a real Redis and worker for packaging."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import pyzipper
from rq import SimpleWorker

from jobs import context
from portal import jobqueue
from portal.logic import institution_files
from portal.models import AuditEvent, Institution, Job
from portal.models.base import utcnow
from portal.models.institution_files import FileDownload, InstitutionFile, Package
from portal.storage import storage_for
from tests import world as world_kit
from tests.conftest import instance_overrides, migrated_app
from tests.integration.conftest import World
from tests.integration.test_authority_screens import as_chen, as_representative, signed_in, token, view
from tests.world import KAOPING, TAIPEI

pytestmark = pytest.mark.redis
DAY = timedelta(days=1)


@pytest.fixture
def world(tmp_path, test_cas, redis_url):
    """The login world on a real Redis; a download click does not wait for a worker (tests run it)."""
    pki = tmp_path / "pki"
    app = migrated_app(instance_overrides(tmp_path, PKI_DIR=str(pki), CRL_DIR=str(pki / "crl"), PAGE_CACHE_SECONDS=0,
                                          REDIS_URL=redis_url, JOB_RETRY_DELAY_SECONDS=0, PACKAGE_WAIT_SECONDS=0))
    world_kit.trust(app, test_cas)
    made = world_kit.populate(app, test_cas)
    context.use_config(app.config, bind=False)
    return World(app, dict(test_cas), made.cards, made.modules)


def provide(app, name, *, days_ago=0.0, service="IWF", category="payment_notice", code=TAIPEI, data=None,
            description="付款通知書", description_file=None, notice="", fee_month=None):
    """NHIA hands the institution a file, `days_ago` days ago."""
    institution = Institution.get(Institution.code == code)
    return institution_files.provide(
        storage_for(app.config), institution.id, service, category, name, data or f"內容 {name}".encode(),
        description=description, description_file=description_file, notice=notice, fee_month=fee_month,
        at=utcnow() - timedelta(days=days_ago))


def run_worker(app) -> None:
    SimpleWorker([app.config["RQ_QUEUE"]], connection=jobqueue.redis_connection(app.config)).work(burst=True)


def post(client, url, data=None, **kwargs):
    return client.post(url, data={**(data or {}), "csrf_token": token(client)}, **kwargs)


def shortcut_rows(page):
    """(序號, 檔案名稱, state words, colour) of every row of 下載捷徑專區."""
    return [(tr.select("td")[0].get_text(strip=True), tr.select_one("td.fname").get_text(strip=True),
             tr.select_one(".fstate").get_text(" ", strip=True), tr["class"][0])
            for tr in page.select("#shortcut-results tbody tr")]


def download(app, client, row, mode="plain"):
    """Click 下載 / 加密下載, let the worker build the package, follow the status page's link."""
    response = post(client, f"/files/{row.id}/download", {"mode": mode})
    assert response.status_code == 303
    status_url = response.headers["Location"]
    if "/zip?" not in status_url:
        run_worker(app)
        page = view(client, status_url)
        status_url = page.select_one("#package-status a.button")["href"]
    fetched = get_file(client, status_url)
    assert fetched.status_code == 200, fetched.status_code
    assert fetched.headers["Cache-Control"] == "no-store"
    return fetched


def get_file(client, url):
    """GET a download, read it whole and close the streamed file."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


# --- D1 下載捷徑專區 ----------------------------------------------------------------------------

def test_shortcut_filters_default_and_the_no_filter_warning(world):
    app = world.app
    fresh = provide(app, "5931053025_30_10910_7021_idc_1100114_060550_01027.html")
    old = provide(app, "3501200000-11-10407-1-1040801_RCP2003.pdf", days_ago=40, category="approval")
    client = signed_in(world)
    assert post(client, f"/files/{old.id}/request").status_code == 302

    page = view(client, "/files/")
    boxes = {i["name"]: i.has_attr("checked") for i in page.select("form.filters input[type=checkbox]")}
    assert boxes == {"resent": True, "pending": True, "recent": False}
    assert [r[1] for r in shortcut_rows(page)] == [old.name]
    assert "申請中" in shortcut_rows(page)[0][2] and shortcut_rows(page)[0][3] == "row-orange"

    everything = view(client, "/files/?q=1&resent=1&pending=1&recent=1")
    assert [r[1] for r in shortcut_rows(everything)] == [old.name, fresh.name]
    assert shortcut_rows(everything)[1][3] == "row-green" and "可下載" in shortcut_rows(everything)[1][2]

    none = view(client, "/files/?q=1")
    assert none.select_one("#shortcut-results .error-box").get_text(strip=True) == "請勾選一個以上查詢條件"
    assert not none.select("#shortcut-results table")
    fragment = client.get("/files/?q=1", headers={"HX-Request": "true", "HX-Target": "shortcut-results"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="shortcut-results">') and "請勾選一個以上查詢條件" in html
    assert "<html" not in html


@pytest.mark.parametrize("age, state, colour, words", [
    (0, "ready", "row-green", "剩 14 天"),
    (13, "ready", "row-green", "剩 1 天"),
    (14, "expired", None, None),
    (15, "expired", None, None),
])
def test_state_and_colour_by_day_of_the_window(world, age, state, colour, words):
    """Day 0 and 13: downloadable with a countdown; day 14 and 15: gone from 近期提供, 申請 on the E screen."""
    row = provide(world.app, f"file-day{age}.txt", days_ago=age, fee_month=202607)
    client = signed_in(world)
    keep = institution_files.retention(world.app.config)
    assert institution_files.state_of(InstitutionFile.get_by_id(row.id), utcnow(), keep, False).code == state
    rows = shortcut_rows(view(client, "/files/?q=1&recent=1"))
    screen = view(client, "/payments/E.01.01?within=all")
    cell = screen.select_one("#file-results tbody tr")
    if state == "ready":
        assert rows[0][3] == colour and words in rows[0][2]
        assert [b.get_text() for b in cell.select("button")] == ["下載", "加密下載"]
    else:
        assert rows == []
        assert [b.get_text() for b in cell.select("button")] == ["申請"]
        assert "已逾下載期限" in cell.get_text()


def test_downloaded_rows_turn_blue_for_that_person_only(world):
    app = world.app
    row = provide(app, "pbib4211r01_2_3501200000_20261117.txt", service="IPA", category="ic_report",
                  description="健保IC卡超過24小時上傳明細表")
    chen = as_chen(world)  # 陳小華 holds IPA
    download(app, chen, row)
    assert shortcut_rows(view(chen, "/files/?q=1&recent=1"))[0][3] == "row-blue"
    assert "已下載" in shortcut_rows(view(chen, "/files/?q=1&recent=1"))[0][2]


def test_request_is_served_by_the_next_day_job_and_comes_back_as_recent(world):
    app = world.app
    row = provide(app, "0434010518-22-202007-1-20200806.FFDT.TXT", days_ago=30, category="itemized")
    client = signed_in(world)
    response = post(client, f"/files/{row.id}/request", {"next": "/payments/E.01.04?within=all"})
    assert response.headers["Location"] == "/payments/E.01.04?within=all"
    assert "已受理申請，請於次日至「下載捷徑專區」下載" in view(client, "/payments/E.01.04?within=all").get_text()
    # Twice is once.
    post(client, f"/files/{row.id}/request")
    assert InstitutionFile.get_by_id(row.id).request_state == "pending"

    storage = storage_for(app.config)
    limit = timedelta(days=app.config["FILE_REISSUE_LIMIT_DAYS"])
    assert institution_files.serve_requests(utcnow(), limit, storage) == {"served": 0, "refused": 0}  # same day
    tomorrow = utcnow() + DAY
    assert institution_files.serve_requests(tomorrow, limit, storage) == {"served": 1, "refused": 0}
    served = InstitutionFile.get_by_id(row.id)
    assert (served.request_state, served.available_from) == ("served", tomorrow)
    rows = shortcut_rows(view(client, "/files/?q=1&recent=1"))
    assert rows[0][1] == row.name and rows[0][3] == "row-green"
    assert row.name in [r[1] for r in shortcut_rows(view(client, "/files/"))]  # and under 申請重送


def test_request_for_a_file_beyond_the_reissue_limit_says_ask_the_regional_office(world):
    app = world.app
    row = provide(app, "old.txt", days_ago=app.config["FILE_REISSUE_LIMIT_DAYS"] + 5)
    client = signed_in(world)
    post(client, f"/files/{row.id}/request")
    institution_files.serve_requests(utcnow() + DAY, timedelta(days=app.config["FILE_REISSUE_LIMIT_DAYS"]),
                                     storage_for(app.config))
    rows = shortcut_rows(view(client, "/files/"))
    assert rows[0][1] == "old.txt" and rows[0][2] == "請洽所屬轄區承辦同仁" and rows[0][3] == "row-orange"


def test_the_hourly_job_serves_requests_through_the_worker(world):
    app = world.app
    row = provide(app, "served-by-job.txt", days_ago=20)
    from portal.models.institution_files import FileRequest

    client = signed_in(world)
    post(client, f"/files/{row.id}/request")
    FileRequest.update(requested_at=utcnow() - DAY).execute()  # asked yesterday
    job = jobqueue.enqueue(app.config, "jobs.files.serve_requests", kind="file_requests")
    run_worker(app)
    assert Job.get_by_id(job.id).message == "已重新提供 1 個申請檔案，0 個需洽轄區承辦同仁。"
    assert InstitutionFile.get_by_id(row.id).request_state == "served"


# --- D2 packages --------------------------------------------------------------------------------

def test_encrypted_download_opens_with_the_users_id_only_and_matches_sha256(world):
    app = world.app
    data = bytes(range(256)) * 4000
    row = provide(app, "3501200000-11-10407-1-1040801_RCP2003.pdf", data=data, category="approval")
    client = signed_in(world)
    page = view(client, "/files/?q=1&recent=1")
    assert "A12****789" in page.select_one("section.help").get_text()
    assert "7-Zip" in page.select_one("section.help").get_text()
    fetched = download(app, client, row, "aes")
    assert fetched.headers["Content-Type"] == "application/zip"
    with pyzipper.AESZipFile(io.BytesIO(fetched.data)) as archive:
        assert archive.namelist() == [row.name]
        archive.setpassword(b"A123456789")
        inside = archive.read(row.name)
        assert hashlib.sha256(inside).hexdigest() == row.stored_file.sha256 == hashlib.sha256(data).hexdigest()
        for wrong in (b"a123456789", b"A123456788", b""):
            archive.setpassword(wrong)
            with pytest.raises(RuntimeError):
                archive.read(row.name)


def test_plain_download_holds_the_file_and_its_description_file(world):
    app = world.app
    row = provide(app, "0434010518-22-202007-1-20200806.FFDT.TXT", category="itemized",
                  description_file=("FFDT_欄位說明.txt", "欄位說明".encode("big5")))
    fetched = download(app, signed_in(world), row)
    with pyzipper.ZipFile(io.BytesIO(fetched.data)) as archive:
        assert archive.namelist() == [row.name, "FFDT_欄位說明.txt"]
        assert archive.read("FFDT_欄位說明.txt").decode("big5") == "欄位說明"
        assert archive.read(row.name) == f"內容 {row.name}".encode()


def test_package_is_cached_by_content_and_reused(world):
    app = world.app
    row = provide(app, "cached.txt")
    client = signed_in(world)
    download(app, client, row)
    response = post(client, f"/files/{row.id}/download", {"mode": "plain"})
    assert "/zip?" in response.headers["Location"]  # built already: straight to the file
    assert Package.select().count() == 1 and Job.select().where(Job.kind == "package").count() == 1


def test_live_status_while_building_and_the_refresh_link(world):
    app = world.app
    row = provide(app, "big.txt")
    client = signed_in(world)
    status_url = post(client, f"/files/{row.id}/download", {"mode": "aes"}).headers["Location"]
    page = view(client, status_url)
    status = page.select_one("#package-status")
    assert status["hx-trigger"] == "every 2s" and "檔案打包中" in status.get_text()
    assert status.select_one("a")["href"] == status_url  # 重新整理 without JavaScript
    run_worker(app)
    done = client.get(status_url, headers={"HX-Request": "true", "HX-Target": "package-status"})
    html = done.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="package-status"') and "hx-trigger" not in html
    assert "檔案已打包完成" in html and "A12****789" in html


def test_every_download_is_audited_with_its_mode(world):
    app = world.app
    row = provide(app, "audited.txt")
    client = signed_in(world)
    download(app, client, row, "aes")
    events = list(AuditEvent.select().where(AuditEvent.action == "file_download"))
    assert len(events) == 1 and events[0].actor.startswith("王大明")
    assert json.loads(events[0].detail) == {"bulk": False, "file_id": row.id, "mode": "加密", "name": "audited.txt"}
    assert FileDownload.select().count() == 1


def test_bulk_zip_manifest_matches_the_list(world):
    app = world.app
    first = provide(app, "a.html", days_ago=2, description="付款通知書")
    second = provide(app, "b.pdf", days_ago=1, category="approval", description="核定函")
    same_name = provide(app, "a.html", days_ago=0.5, description="付款通知書（更正）")
    provide(app, "not-mine.txt", service="IPA", category="ic_report")  # 王大明 lacks IPA
    provide(app, "expired.txt", days_ago=20)
    client = signed_in(world)
    page = view(client, "/files/")
    assert "您有 3 個尚未下載的新檔案" in page.select_one("section.bulk").get_text()
    response = post(client, "/files/bulk", {"mode": "plain"})
    run_worker(app)
    link = view(client, response.headers["Location"]).select_one("#package-status a.button")["href"]
    fetched = get_file(client, link)
    with pyzipper.ZipFile(io.BytesIO(fetched.data)) as archive:
        assert archive.namelist() == ["a.html", "b.pdf", "a (2).html", "manifest.csv"]
        manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
        for entry, row in zip(manifest, (first, second, same_name), strict=True):
            assert entry["檔案名稱"] == row.name and entry["資料說明"] == row.description
            assert entry["SHA-256"] == hashlib.sha256(archive.read(entry["ZIP內檔名"])).hexdigest()
            assert re.fullmatch(r"\d{3}/\d{2}/\d{2} \d{2}:\d{2}", entry["提供下載日期(民國)"])
            assert entry["提供下載日期(ISO)"].endswith("+08:00")
            assert entry["下載期限(ISO)"] > entry["提供下載日期(ISO)"]
    # Everything is now downloaded: the button says there is nothing new.
    assert "目前沒有尚未下載的新檔案" in view(client, "/files/").select_one("section.bulk").get_text()


# --- access ----------------------------------------------------------------------------------

def test_foreign_and_ungranted_files_are_404_and_audited(world):
    app = world.app
    foreign = provide(app, "kaoping.txt", code=KAOPING, service="RWM", category="claims")
    ungranted = provide(app, "ic.txt", service="IPA", category="ic_report")
    mine = provide(app, "mine.txt")
    client = signed_in(world)
    assert [r[1] for r in shortcut_rows(view(client, "/files/?q=1&recent=1"))] == ["mine.txt"]
    for row in (foreign, ungranted):
        before = AuditEvent.select().where(AuditEvent.action == "access_denied").count()
        assert post(client, f"/files/{row.id}/download", {"mode": "plain"}).status_code == 404
        assert post(client, f"/files/{row.id}/request").status_code == 404
        denied = AuditEvent.select().where(AuditEvent.action == "access_denied").order_by(AuditEvent.id.desc())
        assert denied.count() == before + 2 and json.loads(denied.first().detail)["file_id"] == row.id
    assert post(client, "/files/999999/download", {"mode": "plain"}).status_code == 404
    # 陳小華 has IPA but not IWF: the E screens are closed to her, IC reports open.
    chen = as_chen(world)
    assert chen.get("/payments/E.01.01").status_code == 403
    assert post(chen, f"/files/{mine.id}/download", {"mode": "plain"}).status_code == 404
    assert [r[1] for r in shortcut_rows(view(chen, "/files/?q=1&recent=1"))] == ["ic.txt"]


def test_package_links_are_bound_to_the_session_and_signed(world):
    app = world.app
    row = provide(app, "signed.txt")
    client = signed_in(world)
    fetched_url = None
    response = post(client, f"/files/{row.id}/download", {"mode": "aes"})
    run_worker(app)
    fetched_url = view(client, response.headers["Location"]).select_one("#package-status a.button")["href"]
    parts = urlsplit(fetched_url)
    good = parse_qs(parts.query)["t"][0]
    tampered = good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1]
    assert client.get(f"{parts.path}?t={tampered}").status_code == 404
    assert client.get(parts.path).status_code == 404
    # Another person of the same institution cannot use 王大明's encrypted package or its link.
    chen = as_chen(world)
    assert chen.get(fetched_url).status_code == 404
    assert chen.get(response.headers["Location"]).status_code == 404
    assert get_file(client, fetched_url).status_code == 200


def test_unknown_ids_and_bad_modes(world):
    client = signed_in(world)
    row = provide(world.app, "x.txt")
    assert post(client, f"/files/{row.id}/download", {"mode": "zipbomb"}).status_code == 400
    assert client.get("/files/packages/424242").status_code == 404
    assert client.get("/files/not-a-number/download").status_code == 404
    assert client.get("/payments/E.09.99").status_code == 404


# --- D4 query screens ---------------------------------------------------------------------------

def test_payment_screen_queries_by_fee_month_category_and_age(world):
    app = world.app
    provide(app, "11406.html", fee_month=202506, days_ago=3)
    provide(app, "11407.html", fee_month=202507, days_ago=40)
    provide(app, "approval.pdf", fee_month=202507, category="approval", days_ago=1)
    client = signed_in(world)

    def names(url):
        return [td.get_text(strip=True) for td in view(client, url).select("#file-results td.fname")]

    assert names("/payments/E.01.01") == ["11406.html"]  # default 7天以內
    assert names("/payments/E.01.01?within=all") == ["11406.html", "11407.html"]
    assert names("/payments/E.01.01?within=all&sort=fee_month") == ["11407.html", "11406.html"]
    assert names("/payments/E.01.01?within=all&fee_from=11407&fee_to=11407") == ["11407.html"]
    assert names("/payments/E.01.02?within=all") == ["approval.pdf"]
    assert names("/payments/E.01.01?within=all&medical_category=13") == []


@pytest.mark.parametrize("query, message", [
    ("fee_from=11412&fee_to=11401", "費用年月起不可晚於費用年月迄"),
    ("fee_from=08312", "超出可查詢範圍"),
    ("fee_to=19912", "超出可查詢範圍"),
    ("fee_from=114", "格式錯誤"),
    ("fee_from=11413", "格式錯誤"),
    ("medical_category=99", "請選擇正確的醫事類別"),
])
def test_bad_fee_month_ranges_get_a_clear_message(world, query, message):
    page = view(signed_in(world), f"/payments/E.01.01?{query}")
    box = page.select_one("#file-results .error-box")
    assert box is not None and message in box.get_text()
    assert not page.select("#file-results table")


def test_letter_parts_preview(world):
    app = world.app
    row = provide(app, "3501200000-11-10407-1-1040801_RCP2003.pdf", category="approval", days_ago=1)
    InstitutionFile.update(parts=json.dumps([{"title": "核定函", "page": 1}, {"title": "核定總表", "page": 2},
                                             {"title": "核減明細表", "page": 3}])).where(
        InstitutionFile.id == row.id).execute()
    page = view(signed_in(world), "/payments/E.01.02")
    assert [li.get_text(strip=True) for li in page.select("ul.parts li")] == [
        "▶ 核定函（第 1 頁起）", "▶ 核定總表（第 2 頁起）", "▶ 核減明細表（第 3 頁起）"]


def test_home_warns_of_unread_files_expiring_within_three_days(world):
    app = world.app
    provide(app, "fresh.txt", days_ago=1)
    soon = provide(app, "3501200000_30_11409_7021_idc_1141113_060550_01027.html", days_ago=12)
    client = signed_in(world)
    box = view(client, "/home").select_one("section.reminders-box")
    link = box.find("a", string=re.compile("即將逾期"))
    assert "您有 1 個檔案即將逾期且尚未下載" in link.get_text() and soon.name in link.get_text()
    assert link["href"] == "/files/?q=1&recent=1"
    download(app, client, soon)
    assert app.config["PAGE_CACHE_SECONDS"] == 0  # memos off in tests: the next page is fresh
    after = view(client, "/home").select_one("section.reminders-box")
    assert after is None or "即將逾期" not in after.get_text()


def test_a_package_whose_job_failed_stops_polling_and_a_new_click_rebuilds(world):
    app = world.app
    row = provide(app, "flaky.txt")
    client = signed_in(world)
    status_url = post(client, f"/files/{row.id}/download", {"mode": "plain"}).headers["Location"]
    package = Package.get()
    Job.update(state="failed").where(Job.id == package.job_id).execute()  # retries exhausted
    status = view(client, status_url).select_one("#package-status")
    assert not status.has_attr("hx-trigger") and "檔案打包失敗" in status.get_text()
    post(client, f"/files/{row.id}/download", {"mode": "plain"})
    assert Package.get_by_id(package.id).job_id != package.job_id  # a fresh job builds it
    run_worker(app)
    assert Package.get_by_id(package.id).state == "ready"


def test_the_return_address_stays_on_this_site(world):
    row = provide(world.app, "old.txt", days_ago=30)
    client = signed_in(world)
    for target in ("//evil.example/x", "/\\evil.example", "https://evil.example/"):
        response = post(client, f"/files/{row.id}/request", {"next": target})
        assert response.headers["Location"] == "/files/"


def test_a_link_fetched_after_the_window_closed_is_refused(world):
    app = world.app
    row = provide(app, "closing.txt", days_ago=13.99)
    client = signed_in(world)
    response = post(client, f"/files/{row.id}/download", {"mode": "plain"})
    run_worker(app)
    link = view(client, response.headers["Location"]).select_one("#package-status a.button")["href"]
    InstitutionFile.update(available_from=utcnow() - timedelta(days=15)).where(InstitutionFile.id == row.id).execute()
    refused = client.get(link)
    assert refused.status_code == 302 and refused.headers["Location"] == "/files/"
    assert "「closing.txt」已逾下載期限" in view(client, "/files/").get_text()
    assert FileDownload.select().count() == 0


def test_shortcut_pages_keep_the_filters_and_number_rows_on(world):
    for n in range(12):
        provide(world.app, f"report-{n:02d}.txt", days_ago=n / 10)
    client = signed_in(world)
    first = view(client, "/files/?q=1&recent=1")
    assert len(shortcut_rows(first)) == 10
    pager = first.select_one("#shortcut-results nav.pager")
    assert "共 12 筆" in pager.get_text() and pager.select_one("input[name=page]") is not None  # 到第 N 頁
    second_url = pager.select_one("a[aria-label=下一頁]")["href"]
    assert parse_qs(urlsplit(second_url).query) == {"q": ["1"], "recent": ["1"], "page": ["2"]}
    second = view(client, second_url)
    assert [r[:2] for r in shortcut_rows(second)] == [("11", "report-10.txt"), ("12", "report-11.txt")]
    assert shortcut_rows(view(client, "/files/?q=1&recent=1&page=99"))[0][0] == "11"  # past the end: last page


def test_sessions_without_file_services_see_an_empty_list(world):
    provide(world.app, "payment.html")
    representative = as_representative(world)  # 機構代表: authority work only, no 健保服務
    page = view(representative, "/files/?q=1&resent=1&pending=1&recent=1")
    assert shortcut_rows(page) == [] and "查無符合條件的檔案" in page.get_text()
    assert page.select_one("section.bulk") is None  # no person, no bulk download or 加密下載
