"""User journeys through the demo portal in chromium, each with JavaScript on and off.

With JavaScript on, htmx swaps fragments in place (and pushes the URL); with it off,
every link and form is a plain navigation. The assertions are what a user sees.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browsing import axe_check
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

both_modes = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])

CARDS = {
    "medical-staff": "醫事人員卡",
    "nhi": "健保卡",
    "citizen": "自然人憑證",
    "medical-org": "醫事機構卡",
    "government": "政府單位憑證卡",
}
POLICIES = ["隱私權政策", "資訊安全政策", "政府網站資料開放宣告"]
FAQ_Q2 = "Q2.同一個人是否可為機構管理者及機構使用者？"
AXE_PAGES = [
    "/", "/downloads?service=all", "/contacts", "/guide/faq", "/guide/setup", "/links", "/sitemap",
    "/policies/privacy", "/login?card=nhi", "/announcements/business",
]
SCREENSHOTS = {"home": "/", "downloads": "/downloads?service=all", "guide": "/guide/setup"}


# --- helpers -----------------------------------------------------------------------------------

def visit(page_for, live_server, js: bool, path: str, **context_options):
    """A page of the live portal, loaded in a fresh context with JavaScript on or off."""
    page = page_for(js, **context_options)
    page.goto(live_server + path)
    return page


def mark_document(page) -> None:
    """Tag the current document so a later full reload can be detected (JS on only)."""
    page.evaluate("window.__marker = 1")


def assert_same_document(page) -> None:
    """The document tagged by mark_document() is still the one shown: no full reload happened."""
    assert page.evaluate("window.__marker") == 1, "the page was fully reloaded instead of swapped by htmx"


def path_of(page) -> str:
    """The current URL without the origin."""
    return re.sub(r"^https?://[^/]+", "", page.url)


def first_business_title(page) -> str:
    """The summary text of the first 業務公告 on the home page."""
    return page.locator("#business li.ann .ann-title").first.inner_text()


def roc_date(text: str) -> tuple[int, ...]:
    """An ROC date like 110.03.11 as (110, 3, 11)."""
    return tuple(int(part) for part in text.strip().split("."))


def wait_for_focus_text(page, text: str) -> None:
    """Wait until the focused element's text starts with `text`."""
    page.wait_for_function(
        "(text) => document.activeElement && document.activeElement.textContent.trim().startsWith(text)", arg=text
    )


# --- journeys ----------------------------------------------------------------------------------

@both_modes
def test_home_page_shows_header_banner_logins_and_footer(page_for, live_server, js):
    """The home page shows the browser line, 即時公告, the five card logins and the policy links."""
    page = visit(page_for, live_server, js, "/")

    expect(page.locator(".site-header .browser")).to_have_text(re.compile(r"^您正使用 Chrome 瀏覽器 \(版本: \d+[\d.]*\)$"))
    expect(page.locator("section.realtime h2")).to_have_text("即時公告")
    expect(page.locator("section.realtime li.ann").first).to_be_visible()

    logins = page.locator("section[aria-labelledby=login-h]")
    expect(logins.locator("h2")).to_have_text("醫事機構常用登入")
    links = logins.locator("a")
    expect(links).to_have_count(len(CARDS))
    for code, name in CARDS.items():
        expect(links.filter(has_text=name)).to_have_attribute("href", f"/login?card={code}")

    footer = page.locator("footer.site-footer a")
    expect(footer).to_have_text(POLICIES)


@both_modes
def test_business_announcements_page_through(page_for, live_server, js):
    """業務公告 on the home page: pager link 2, then 「到第 N 頁」 3; htmx swaps in place with JS."""
    page = visit(page_for, live_server, js, "/")
    business = page.locator("#business")
    first_on_page_1 = first_business_title(page)
    if js:
        mark_document(page)

    business.locator(".pager a", has_text=re.compile(r"^2$")).click()
    expect(page).to_have_url(re.compile(r"/\?page=2$"))
    expect(business.locator(".pager span.cur")).to_have_text("2")
    assert first_business_title(page) != first_on_page_1
    if js:
        assert_same_document(page)

    first_on_page_2 = first_business_title(page)
    business.get_by_label("到第").fill("3")
    business.get_by_role("button", name="前往").click()
    expect(business.locator(".pager span.cur")).to_have_text("3")
    expect(page).to_have_url(re.compile(r"/\?page=3$"))
    assert first_business_title(page) not in (first_on_page_1, first_on_page_2)
    if js:
        assert_same_document(page)

    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?page=2$"))
    expect(business.locator(".pager span.cur")).to_have_text("2")
    assert first_business_title(page) == first_on_page_2


@both_modes
def test_announcement_details_expand_and_collapse(page_for, live_server, js):
    """詳細資料... opens the announcement in place with JS (focus on 收合), or its own page without."""
    page = visit(page_for, live_server, js, "/")
    item = page.locator("#business li.ann").filter(has=page.locator("a.toggle")).first
    item_id = item.get_attribute("id")
    announcement_id = item_id.removeprefix("ann-")
    summary_start = item.locator(".ann-title").evaluate("el => el.firstChild.textContent").strip().rstrip("…")
    item.locator("a.toggle", has_text="詳細資料...").click()

    if not js:
        expect(page).to_have_url(re.compile(rf"/announcements/{announcement_id}$"))
        expect(page.locator("h1")).to_have_text("業務公告")
        expect(page.locator(f"#{item_id}.is-open .ann-title")).to_contain_text(summary_start)
        expect(page.locator(f"#{item_id} .ann-content")).to_be_visible()
        expect(page.get_by_role("link", name="回業務公告列表")).to_be_visible()
        return

    opened = page.locator(f"#{item_id}")
    expect(opened).to_have_class(re.compile(r"\bis-open\b"))
    expect(opened.locator(".ann-title")).to_contain_text(summary_start)
    expect(opened.locator(".ann-title a.toggle")).to_have_count(0)
    expect(opened.locator(".ann-content")).to_be_visible()
    assert path_of(page) == "/"
    wait_for_focus_text(page, "收合")

    opened.locator("a.toggle", has_text="收合").click()
    expect(opened).not_to_have_class(re.compile(r"\bis-open\b"))
    expect(opened.locator(".ann-content")).to_have_count(0)
    expect(opened.locator("a.toggle", has_text="詳細資料...")).to_be_visible()
    wait_for_focus_text(page, "詳細資料")
    assert path_of(page) == "/"


@both_modes
def test_downloads_search_and_download_pdf(page_for, live_server, js, tmp_path):
    """下載專區: search "DNS", find 「DNS 設定說明」 and download its PDF."""
    page = visit(page_for, live_server, js, "/downloads")
    if js:
        mark_document(page)

    page.locator("#dl-q").fill("DNS")
    page.get_by_role("button", name="查詢").click()
    expect(page).to_have_url(re.compile(r"[?&]q=DNS\b"))
    row = page.locator("#download-results tbody tr", has_text="DNS 設定說明")
    expect(row).to_have_count(1)
    if js:
        assert_same_document(page)

    with page.expect_download() as info:
        row.locator("a.ft-pdf").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")


@both_modes
def test_downloads_sorted_by_date(page_for, live_server, js):
    """下載專區: with a service item chosen, 按更新日期排序 lists the newest file first."""
    page = visit(page_for, live_server, js, "/downloads")
    results = page.locator("#download-results")

    page.locator("#dl-service").select_option(label="電腦設定")
    if not js:
        page.get_by_role("button", name="查詢").click()
    expect(results.locator(".heading-row h2")).to_have_text("服務項目：電腦設定")

    page.get_by_label("按更新日期排序").check()
    if not js:
        page.get_by_role("button", name="查詢").click()
    expect(results.locator("p.total")).to_contain_text("依更新日期由新到舊排列")
    expect(page).to_have_url(re.compile(r"[?&]sort=date\b"))

    dates = [roc_date(text) for text in results.locator("tbody tr td:last-child").all_inner_texts()]
    assert len(dates) >= 2, dates
    assert dates == sorted(dates, reverse=True), dates


@both_modes
def test_contacts_filter_and_show_service(page_for, live_server, js):
    """聯絡窗口: filter by 類別, open 醫事人員溝通平台's contacts, then go back to the list."""
    page = visit(page_for, live_server, js, "/contacts")
    results = page.locator("#contact-results")
    expect(results.locator("section.svc-group")).not_to_have_count(1)

    page.locator("#ct-category").select_option(label="醫事人員服務")
    if not js:
        page.get_by_role("button", name="查詢").click()
    expect(results.locator("section.svc-group h2")).to_have_text(["醫事人員服務"])
    expect(page).to_have_url(re.compile(r"[?&]category=\d+"))

    results.get_by_role("link", name="醫事人員溝通平台").click()
    expect(results.locator("table thead th")).to_contain_text(["機關", "單位", "聯絡窗口", "連絡電話"])
    expect(results.locator("table tbody tr").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]service=\d+"))

    results.get_by_role("link", name="回服務項目查詢").click()
    expect(results.locator("table")).to_have_count(0)
    expect(results.locator("section.svc-group h2")).to_have_text(["醫事人員服務"])
    expect(results.get_by_role("link", name="醫事人員溝通平台")).to_be_visible()


@both_modes
def test_faq_answer_expands(page_for, live_server, js):
    """常見問答: clicking a question shows its answer (in place with JS, via ?open= without)."""
    page = visit(page_for, live_server, js, "/guide/faq")
    question = page.get_by_role("link", name=FAQ_Q2)
    item_id = page.locator("li.faq", has=question).get_attribute("id")
    faq_id = item_id.removeprefix("faq-")
    item = page.locator(f"#{item_id}")
    expect(item.locator(".answer")).to_have_count(0)

    question.click()
    expect(item.locator(".answer")).to_be_visible()
    expect(item.locator(".answer")).to_contain_text("可以。")
    if not js:
        expect(page).to_have_url(re.compile(rf"[?&]open={faq_id}\b"))
        return

    assert "open=" not in page.url
    expect(item).to_have_class(re.compile(r"\bis-open\b"))
    wait_for_focus_text(page, "Q2.")
    item.get_by_role("link", name=FAQ_Q2).click()
    expect(item.locator(".answer")).to_have_count(0)
    expect(item).not_to_have_class(re.compile(r"\bis-open\b"))
    assert "open=" not in page.url


# --- accessibility and screenshots -------------------------------------------------------------

@pytest.mark.parametrize("path", AXE_PAGES)
def test_axe_no_serious_violations(page_for, live_server, path):
    """axe-core finds no critical or serious WCAG 2.1 A/AA violation on the page (JS on)."""
    page = visit(page_for, live_server, True, path, bypass_csp=True)
    axe_check(page)


@pytest.mark.parametrize("name", list(SCREENSHOTS))
def test_screenshot(page_for, live_server, name):
    """A full-page PNG of a key page (JS on), saved under test-artifacts/screenshots for review."""
    page = visit(page_for, live_server, True, SCREENSHOTS[name])
    expect(page.locator("h1")).to_have_count(1)
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
