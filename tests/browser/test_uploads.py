"""Uploads and their live status in chromium (SPEC U1, U4), JavaScript on and off.

王大明 (granted 預檢醫療費用申報, RWP) uploads FORMATS' valid claim on A.02.01; the status box
shows 收件 while no worker runs; once the test runs one, htmx (JS on) swaps in 檢核正確 without
reloading the page, and without JavaScript the 重新整理 link shows the same result.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from rq import SimpleWorker

from jobs import context
from portal import jobqueue
from portal.checks import samples
from portal.db import database
from portal.demo import uploads as demo_uploads
from portal.logic import authority
from portal.logic.audit import SYSTEM
from portal.logic.roc_dates import fee_month, to_taipei
from portal.models import Institution
from portal.models.authority import Appointment
from portal.models.base import utcnow
from portal.storage import storage_for
from tests.browser.login_fixtures import _live_portal
from tests.browser.test_login_journeys import card_login, screenshot
from tests.browsing import axe_check
from tests.world import TAIPEI

pytestmark = [pytest.mark.browser, pytest.mark.redis]
both_modes = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])


@pytest.fixture(scope="module")
def upload_portal(tmp_path_factory, test_cas, redis_server):
    """The login world on the session Redis; 臺北 applies for RWP and IPA, 王大明 is granted them;
    the demo uploads (three months of IC-card uploads and pre-checks) are there."""
    settings = {"REDIS_URL": redis_server["url"], "UPLOAD_MAINTENANCE_START": "00:00",
                "UPLOAD_MAINTENANCE_END": "00:00", "JOB_RETRY_DELAY_SECONDS": 0}
    with _live_portal(tmp_path_factory.mktemp("uploads") / "portal", test_cas, settings) as portal:
        with portal.app.app_context():
            database.initialize(portal.app.extensions["database"])
            taipei = Institution.get(Institution.code == TAIPEI)
            authority.save_services(taipei, ["RWM", "RWP", "IWF", "IPA"], SYSTEM)
            wang = Appointment.get_by_id(portal.appointments["wang-user"])
            authority.save_grants(wang, ["RWM", "RWP", "IWF", "IPA"], SYSTEM)
            demo_uploads.load(storage_for(portal.app.config), portal.app.config)  # three months for H.02.02
        context.use_config(portal.app.config, bind=False)
        yield portal


@pytest.fixture(scope="module")
def upload_cookies(browser, upload_portal):
    """王大明 logs in once; the session is reused."""
    browser_context = browser.new_context(locale="zh-TW")
    try:
        page = browser_context.new_page()
        card_login(page, upload_portal, True, "醫事人員卡：王大明")
        return browser_context.cookies(upload_portal.url)
    finally:
        browser_context.close()


def claim_zip(tmp_path) -> str:
    """FORMATS §4.2's valid claim, zipped, as a file the browser can pick."""
    path = tmp_path / "3501200000111130713B.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("TOTFA.xml", samples.valid_claims_example())
    return str(path)


def run_worker(portal) -> None:
    """A burst worker checks whatever is queued."""
    with portal.app.app_context():
        database.initialize(portal.app.extensions["database"])
        SimpleWorker([portal.app.config["RQ_QUEUE"]],
                     connection=jobqueue.redis_connection(portal.app.config)).work(burst=True)


@both_modes
def test_upload_then_watch_the_status_change(upload_portal, upload_cookies, page_for, tmp_path, js):
    page = page_for(js, bypass_csp=js)
    page.context.add_cookies(upload_cookies)
    page.goto(upload_portal.at("/precheck/upload"))
    expect(page.get_by_role("heading", level=1)).to_have_text("預檢醫療費用申報資料上傳")
    if js:
        axe_check(page)
    page.get_by_label("費用年月").fill("11307")
    page.get_by_label("醫事類別").select_option("11")
    page.get_by_label("申報資料檔案").set_input_files(claim_zip(tmp_path))
    page.get_by_role("button", name="上傳").click()

    status = page.locator("#upload-status")
    expect(status).to_contain_text("收件序號")
    expect(status.get_by_role("link", name="重新整理")).to_be_visible()
    expect(status).not_to_contain_text("檢核正確")
    screenshot(page, f"precheck-received-{'js' if js else 'nojs'}.png")
    if js:
        page.evaluate("window.__stayed = true")
    run_worker(upload_portal)
    if not js:
        status.get_by_role("link", name="重新整理").click()
    expect(status).to_contain_text("檢核正確", timeout=15_000)
    expect(status).to_contain_text("件數總計 3 件、點數總計 1,222 點")
    expect(status.get_by_role("link", name="重新整理")).to_have_count(0)
    if js:
        assert page.evaluate("window.__stayed") is True  # swapped by htmx, not reloaded
        axe_check(page)
    screenshot(page, f"precheck-correct-{'js' if js else 'nojs'}.png")


@both_modes
def test_a_broken_file_shows_the_rejection_and_the_report(upload_portal, upload_cookies, page_for, tmp_path, js):
    page = page_for(js)
    page.context.add_cookies(upload_cookies)
    page.goto(upload_portal.at("/precheck/upload"))
    broken = tmp_path / "broken.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("TOTFA.xml", samples.valid_claims_example().replace(b"<t4>2</t4>", b"<t4>22</t4>"))
    broken.write_bytes(buffer.getvalue())
    page.get_by_label("費用年月").fill("11307")
    page.get_by_label("醫事類別").select_option("11")
    page.get_by_label("申報資料檔案").set_input_files(str(broken))
    page.get_by_role("button", name="上傳").click()
    run_worker(upload_portal)
    status = page.locator("#upload-status")
    if not js:
        status.get_by_role("link", name="重新整理").click()
    expect(status).to_contain_text("整檔退件", timeout=15_000)
    expect(status).to_contain_text("資料長度錯誤")
    expect(status.get_by_role("button", name="加密下載")).to_be_visible()


@both_modes
def test_the_upload_indicators_by_month_and_one_months_detail(upload_portal, upload_cookies, page_for, js):
    page = page_for(js, bypass_csp=js)
    page.context.add_cookies(upload_cookies)
    page.goto(upload_portal.at("/ic-indicators/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("健保卡登錄及上傳指標查詢")
    table = page.locator("#indicator-months")
    expect(table.locator("tbody tr")).to_have_count(3)
    today = to_taipei(utcnow()).date()
    last = today.replace(day=1) - timedelta(days=1)
    before = last.replace(day=1) - timedelta(days=1)
    last_month, month_before = fee_month(last.year, last.month), fee_month(before.year, before.month)
    # the demo's last month: 12 % of the visits never uploaded
    row = table.locator("tbody tr", has=page.get_by_role("rowheader", name=last_month))
    expect(row.locator("td").nth(1)).to_contain_text("未達標")
    if js:
        axe_check(page)
        page.evaluate("window.__stayed = true")
    page.get_by_label("起", exact=True).fill(month_before)
    page.get_by_label("迄", exact=True).fill(month_before)
    page.get_by_role("button", name="查詢").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr td")).to_have_count(8)
    for cell in table.locator("tbody tr td").all()[:7]:  # the demo's month before last: every rate met
        expect(cell).to_have_text(re.compile(r"^100\.00%\s*達標$"))
    assert f"start={month_before}" in page.url
    if js:
        assert page.evaluate("window.__stayed") is True  # htmx swapped the table
    screenshot(page, f"indicators-{'js' if js else 'nojs'}.png")

    page.goto(upload_portal.at(f"/ic-indicators/?start={last_month}&end={last_month}"))
    page.get_by_role("link", name=f"查看 {last_month} 明細").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"費用年月 {last_month}")
    expect(page.get_by_role("heading", name="未上傳健保卡資料之申報案件")).to_be_visible()
    expect(page.get_by_role("heading", name="上傳與申報內容不符之案件")).to_be_visible()
    if js:
        axe_check(page)
    screenshot(page, f"indicators-month-{'js' if js else 'nojs'}.png")
