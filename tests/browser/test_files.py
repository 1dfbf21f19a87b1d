"""下載捷徑專區 and a 查詢下載 screen in chromium (SPEC D1, D4), JavaScript on and off.

The member portal of test_member_portal (王大明 with RWM and IWF at 臺北虛擬診所) plus a few
files NHIA provided: one fresh, one re-served after a 申請, one still 申請中, one expired.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.db import database
from portal.logic import institution_files
from portal.models import Institution
from portal.models.base import utcnow
from portal.models.institution_files import InstitutionFile
from portal.storage import storage_for
from tests.browser.test_login_journeys import screenshot
from tests.browser.test_member_portal import member_cookies, member_page, member_portal  # noqa: F401 (fixtures)
from tests.browsing import axe_check
from tests.world import TAIPEI

pytestmark = pytest.mark.browser
both_modes = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])

FRESH = "3501200000_30_11409_7021_idc_1141113_060550_01027.html"
RESENT = "3501200000-22-202507-1-20250820.FFDT.TXT"
PENDING = "3501200000-11-11406-1-1140709_RCP2003.pdf"
EXPIRED = "3501200000-22-202506-1-20250720.DEDU.TXT"


@pytest.fixture(scope="module")
def files(member_portal):  # noqa: F811 (the imported fixture)
    """The four files, provided once for the module."""
    app = member_portal.app
    with app.app_context():
        database.initialize(app.extensions["database"])
        if InstitutionFile.select().exists():
            return
        storage = storage_for(app.config)
        taipei = Institution.get(Institution.code == TAIPEI).id
        now = utcnow()
        for name, age, category, state in ((EXPIRED, 40, "deduction", ""), (PENDING, 60, "approval", "pending"),
                                           (RESENT, 50, "itemized", "served"), (FRESH, 1, "payment_notice", "")):
            row = institution_files.provide(storage, taipei, "IWF", category, name, f"內容 {name}".encode(),
                                            description=f"說明 {name[-8:]}", fee_month=202507,
                                            at=now - timedelta(days=age))
            if state:
                moved = now - timedelta(hours=3) if state == "served" else row.available_from
                InstitutionFile.update(request_state=state, available_from=moved, listed_at=now - timedelta(hours=2)
                                       ).where(InstitutionFile.id == row.id).execute()


def rows(page):
    return page.locator("#shortcut-results tbody tr")


@both_modes
def test_shortcut_filters_and_the_no_filter_warning(member_portal, member_page, files, js):  # noqa: F811
    page = member_page(js, bypass_csp=js)
    page.goto(member_portal.at("/home"))
    page.get_by_role("link", name="下載捷徑專區").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("下載捷徑專區")
    expect(page.get_by_label("申請重送")).to_be_checked()
    expect(page.get_by_label("申請中")).to_be_checked()
    expect(page.get_by_label("近期提供")).not_to_be_checked()
    expect(rows(page)).to_have_count(2)
    expect(rows(page).nth(0)).to_contain_text(RESENT)
    expect(rows(page).nth(0)).to_contain_text("可下載")
    expect(rows(page).nth(1)).to_contain_text(PENDING)
    expect(rows(page).nth(1)).to_contain_text("申請中")
    if js:
        page.evaluate("window.__stayed = true")

    page.get_by_label("申請重送").uncheck()
    page.get_by_label("申請中").uncheck()
    page.get_by_role("button", name="查詢").click()
    expect(page.locator("#shortcut-results [role=alert]")).to_have_text("請勾選一個以上查詢條件")
    expect(rows(page)).to_have_count(0)

    page.get_by_label("近期提供").check()
    page.get_by_role("button", name="查詢").click()
    expect(rows(page)).to_have_count(2)
    expect(rows(page).nth(0)).to_contain_text(RESENT)
    expect(rows(page).nth(1)).to_contain_text(FRESH)
    expect(rows(page).nth(1)).to_contain_text("剩 13 天")
    expect(page).to_have_url(member_portal.at("/files/?q=1&recent=1"))
    if js:  # htmx swapped the list in place: the page was never reloaded
        assert page.evaluate("window.__stayed === true")
        screenshot(page, "files-shortcut.png")
        axe_check(page)


@both_modes
def test_payment_screen_query_and_request(member_portal, member_page, files, js):  # noqa: F811
    page = member_page(js, bypass_csp=js)
    page.goto(member_portal.at("/services/E.01"))
    page.get_by_role("list", name="醫療費用支付的作業").get_by_role("link", name="E.01.03 核減檔查詢下載").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("核減檔查詢下載")
    page.get_by_label("提供下載日期").select_option("all")
    page.get_by_label("起", exact=True).fill("11412")
    page.get_by_label("迄", exact=True).fill("11401")
    page.get_by_role("button", name="查詢").click()
    expect(page.locator("#file-results")).to_contain_text("費用年月起不可晚於費用年月迄")

    page.get_by_label("起", exact=True).fill("11401")
    page.get_by_label("迄", exact=True).fill("11412")
    page.get_by_role("button", name="查詢").click()
    row = page.locator("#file-results tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(EXPIRED)
    expect(row).to_contain_text("已逾下載期限")
    if js:
        screenshot(page, "files-payment-query.png")
        axe_check(page)
