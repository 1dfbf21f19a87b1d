"""The logged-in portal of seed 000 第二章 in chromium (SPEC H2–H9): 我的首頁 (layer 1), the 服務項目
tree, layer-2 and layer-3 pages, 公告事項查詢, 網站地圖 and 聯絡窗口查詢.

One portal per module: the login test world (臺北虛擬診所, 王大明 with RWM and IWF) plus the demo's
署本部 / 分區業務公告事項, member contact tree and 下載專區. 王大明 logs in once with his card; every
test opens fresh pages carrying that session, with JavaScript on (htmx swaps in place) or off
(plain links and forms). What is asserted is what a user sees.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal import demo
from portal.db import database
from portal.demo import member_news
from portal.logic import member_news as logic_news
from portal.models.announcements import AnnouncementAttachment
from portal.storage import storage_for
from tests.browser.login_fixtures import LivePortal, _live_portal
from tests.browser.test_login_journeys import SCREENSHOTS, card_login, greeting, screenshot
from tests.browsing import axe_check

pytestmark = pytest.mark.browser

both_modes = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])

# 王大明's open categories in the world (RWM, IWF; 機構管理者): the others are grey.
OPEN_CATEGORIES = ["A費用申報及資料登錄", "B審查作業(含事前審查)", "E費用支付資料下載", "O機構授權作業"]
GREY_CATEGORIES = ["C特約機構資料維護", "D照護計畫維護追蹤", "F轉診及轉介", "G居家醫療", "H健保卡上傳資訊",
                   "I檢驗(查)結果、影像及出院病摘上傳", "J醫療資訊雲端系統", "K資料交換與查詢",
                   "L藥材調查及診療增修", "M行政協助項目", "N偏鄉醫師人力需求"]
# A's groups 王大明 may open, in menu order (A.02 預檢 needs RWP, A.03/A.06 other grants).
A_GROUPS = ["A.01 醫療費用申報", "A.04 中醫護理人員跟診時段維護", "A.05 巡迴醫療及自費醫療", "A.07 醫療費用申報總表線上確認"]
EXTERNAL_LEAF = "A.01.01 未列項費用申報上傳"
# The 關鍵字 of a 署本部公告 on the first page of /news/hq; 17 of the demo's announcements match it.
SEARCH_KEYWORD = "資料交換"


# --- the portal and the logged-in session ------------------------------------------------------

@pytest.fixture(scope="module")
def member_portal(tmp_path_factory, test_cas):
    """The login world plus the demo's member news, contact tree and 下載專區 documents."""
    with _live_portal(tmp_path_factory.mktemp("member") / "portal", test_cas, {}) as portal:
        storage = storage_for(portal.app.config)
        with portal.app.app_context():
            database.initialize(portal.app.extensions["database"])
            member_news.load(storage)
            demo.load_downloads(demo.read("downloads"), storage)
        yield portal


@pytest.fixture(scope="module")
def member_cookies(browser, member_portal):
    """王大明 logs in once (醫事人員卡, JS on); the session cookie is reused by every test."""
    context = browser.new_context(locale="zh-TW")
    try:
        page = context.new_page()
        card_login(page, member_portal, True, "醫事人員卡：王大明")
        return context.cookies(member_portal.url)
    finally:
        context.close()


@pytest.fixture
def member_page(page_for, member_cookies):
    """member_page(js, bypass_csp=False): a fresh page already logged in as 王大明."""

    def open_page(js: bool, bypass_csp: bool = False):
        page = page_for(js, bypass_csp=bypass_csp)
        page.context.add_cookies(member_cookies)
        return page

    return open_page


# --- helpers -----------------------------------------------------------------------------------

def home(page, portal: LivePortal):
    """我的首頁, checked to be the logged-in one."""
    page.goto(portal.at("/home"))
    expect(greeting(page)).to_have_text("臺北虛擬診所 王大明 您好")
    return page


def mark_document(page) -> None:
    """Tag the current document so that a later full page load can be detected (JS on only)."""
    page.evaluate("window.__marker = 1")


def assert_same_document(page) -> None:
    """The document tagged by mark_document() is still shown: htmx swapped, nothing reloaded."""
    assert page.evaluate("window.__marker") == 1, "the page was fully reloaded instead of swapped by htmx"


def side_menu(page):
    return page.get_by_role("navigation", name="服務項目")


def top_items(page):
    """The first level of the left menu (the tree's own links; grey items are not links)."""
    return side_menu(page).locator("ul.tree > li > a")


def crumbs(page):
    return page.get_by_role("navigation", name="所在位置").locator("li")


def total_of(box) -> int:
    """N of the pager's 「共 N 筆」."""
    text = box.locator(".total").first.inner_text()
    found = re.search(r"共 (\d+) 筆", text)
    assert found, f"no total in {text!r}"
    return int(found.group(1))


def news_rows(box):
    return box.locator("tr.news-row")


# --- 聯絡窗口查詢 (H8) -------------------------------------------------------------------------

def choose(page, js: bool, label: str, option: str) -> None:
    """Pick an option of a dropdown: htmx brings the next dropdown at once, or 查詢 reloads the page."""
    select = page.locator("#contact-lookup").get_by_label(label, exact=True)
    name = select.get_attribute("name")
    if js:
        select.focus()
    [value] = select.select_option(label=option)
    if not js:
        page.locator("#contact-lookup").get_by_role("button", name="查詢").click()
    # The answer to this choice is in (htmx pushes its URL): a later 查詢 cannot be overtaken by it.
    expect(page).to_have_url(re.compile(rf"/home/contacts\?(.*&)?{name}={value}(&|$)"))
    expect(page.locator("#contact-lookup").get_by_label(label, exact=True).locator("option:checked")).to_have_text(option)


@both_modes
def test_contacts_cascade(member_portal, member_page, js):
    """服務類別 → 機關 → 單位 → 科別 appear one after another; 查詢 lists 機關/單位/聯絡窗口/連絡電話, paged."""
    portal = member_portal
    page = home(member_page(js), portal)
    page.get_by_role("navigation", name="使用者功能").get_by_role("link", name="聯絡窗口查詢").click()
    expect(page).to_have_url(portal.at("/home/contacts"))
    expect(page.get_by_role("heading", level=1)).to_have_text("聯絡窗口查詢")
    lookup = page.locator("#contact-lookup")
    expect(lookup.get_by_role("combobox")).to_have_count(1)
    if js:
        mark_document(page)

    choose(page, js, "服務類別", "事前審查")
    expect(lookup.get_by_label("機關", exact=True)).to_be_visible()
    expect(lookup.get_by_label("單位", exact=True)).to_have_count(0)
    if js:
        # The dropdown came by an htmx swap, and the keyboard user is still on the one just changed.
        assert_same_document(page)
        expect(lookup.get_by_label("服務類別", exact=True)).to_be_focused()
        expect(lookup.locator("table")).to_have_count(0)  # nothing listed before 查詢

    choose(page, js, "機關", "健保局")
    expect(lookup.get_by_label("單位", exact=True)).to_be_visible()
    lookup.get_by_role("button", name="查詢").click()
    table = lookup.locator("table.data")
    expect(table.locator("thead th")).to_have_text(["機關", "單位", "聯絡窗口", "連絡電話"])
    expect(table.locator("tbody tr")).to_have_count(10)
    pager = lookup.get_by_role("navigation", name="分頁")
    expect(pager.locator(".total")).to_have_text(re.compile(r"共 14 筆，第 1/2 頁"))
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text("健保局")
    first_page = table.locator("tbody").inner_text()

    pager.get_by_role("link", name="第 2 頁").click()
    expect(pager.locator(".total")).to_have_text(re.compile(r"第 2/2 頁"))
    expect(table.locator("tbody tr")).to_have_count(4)
    assert table.locator("tbody").inner_text() != first_page
    # The choices survive paging.
    expect(lookup.get_by_label("機關", exact=True).locator("option:checked")).to_have_text("健保局")
    expect(page).to_have_url(re.compile(r"/home/contacts\?.*page=2"))

    choose(page, js, "單位", "臺北業務組")
    expect(lookup.get_by_label("科別", exact=True)).to_be_visible()
    expect(lookup.get_by_label("科別", exact=True).locator("option")).to_have_text(
        ["請選擇", "醫療費用一科", "醫療費用二科"])
    choose(page, js, "科別", "醫療費用一科")
    lookup.get_by_role("button", name="查詢").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr td").nth(0)).to_have_text("健保局")
    expect(table.locator("tbody tr td").nth(1)).to_have_text("臺北業務組")
    expect(table.locator("tbody tr td").nth(2)).to_have_text("葉先生")
    expect(table.locator("tbody tr td").nth(3)).to_have_text(re.compile(r"^02-\d+"))
    expect(lookup.locator(".total")).to_have_text("共 1 筆")
    if js:
        assert_same_document(page)


# --- 詳細資料 on 我的首頁 (H2) -----------------------------------------------------------------

def test_details_expand_and_collapse_in_place(member_portal, member_page):
    """JS on: 詳細資料 opens the row in place (URL unchanged) with 聯絡人/連絡電話; 收合 closes it."""
    portal = member_portal
    page = home(member_page(True), portal)
    regional = page.locator("#news-regional")
    expect(page.get_by_role("heading", name="分區業務公告事項")).to_be_visible()
    expect(page.get_by_role("heading", name="署本部公告事項")).to_be_visible()
    expect(news_rows(regional)).to_have_count(3)
    expect(news_rows(page.locator("#news-hq"))).to_have_count(3)
    # 「新」 marks and the unread count of this visit.
    expect(page.locator("p.unread")).to_have_text(re.compile(r"您上次瀏覽後有 \d+ 則新公告"))
    expect(regional.locator(".new").first).to_be_visible()

    row = news_rows(regional).first
    row_id = row.get_attribute("id")
    summary = row.locator("a.toggle .sr-only").inner_text().strip("（）…")
    expect(row).not_to_contain_text("聯絡人")
    mark_document(page)

    row.get_by_role("link", name=re.compile(r"^詳細資料")).click()
    opened = page.locator(f"#{row_id}")
    collapse = opened.get_by_role("link", name=re.compile(r"^收合"))
    expect(collapse).to_be_visible()
    expect(collapse).to_have_attribute("aria-expanded", "true")
    expect(collapse).to_be_focused()
    expect(opened.locator(".news-contact")).to_have_text(re.compile(r"聯絡人：\S+\s+連絡電話：\(0\d\)[\d-]+"))
    expect(opened.locator(".news-title")).to_contain_text(summary)
    expect(page).to_have_url(portal.at("/home"))
    expect(news_rows(regional)).to_have_count(3)
    assert_same_document(page)

    collapse.click()
    details = opened.get_by_role("link", name=re.compile(r"^詳細資料"))
    expect(details).to_be_visible()
    expect(details).to_be_focused()
    expect(opened).not_to_contain_text("聯絡人")
    expect(page).to_have_url(portal.at("/home"))
    assert_same_document(page)


def test_details_link_without_js(member_portal, member_page):
    """JS off: 詳細資料 is a link to the announcement's page, which has 聯絡人 and a way back."""
    portal = member_portal
    page = home(member_page(False), portal)
    row = news_rows(page.locator("#news-regional")).first
    row_id = row.get_attribute("id")
    item_id = row_id.removeprefix("news-")
    row.get_by_role("link", name=re.compile(r"^詳細資料")).click()

    expect(page).to_have_url(portal.at(f"/news/item/{item_id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("分區業務公告事項")
    main = page.locator("main")
    expect(main.locator(".news-contact")).to_have_text(re.compile(r"聯絡人：\S+\s+連絡電話："))
    expect(main.get_by_role("link", name=re.compile(r"^收合"))).to_have_count(0)
    expect(crumbs(page)).to_have_text(["所在位置", "我的首頁", "分區業務公告事項", "公告內容"])

    # 回上一頁 returns to 我的首頁, where the reader came from; the breadcrumb leads to the full list.
    main.get_by_role("link", name="回上一頁").click()
    expect(page).to_have_url(portal.at("/home"))
    expect(page.locator(f"#{row_id}")).to_be_visible()
    row = news_rows(page.locator("#news-regional")).first
    row.get_by_role("link", name=re.compile(r"^詳細資料")).click()
    crumbs(page).get_by_role("link", name="分區業務公告事項").click()
    expect(page).to_have_url(portal.at("/news/regional"))
    expect(page.locator(f"#{row_id}")).to_be_visible()


@both_modes
def test_layer1_lists_page_on_their_own(member_portal, member_page, js):
    """The two lists of 我的首頁 page separately (3 each); paging one keeps the other's page."""
    portal = member_portal
    page = home(member_page(js), portal)
    regional, hq = page.locator("#news-regional"), page.locator("#news-hq")
    regional_first = [r.get_attribute("id") for r in news_rows(regional).all()]
    hq_first = [r.get_attribute("id") for r in news_rows(hq).all()]
    if js:
        mark_document(page)

    regional.get_by_role("navigation", name="分頁").get_by_role("link", name="第 2 頁").click()
    expect(regional.locator(".total")).to_have_text(re.compile(r"第 2/\d+ 頁"))
    expect(page).to_have_url(re.compile(r"/home\?rpage=2$"))
    expect(news_rows(regional)).to_have_count(3)
    assert not {r.get_attribute("id") for r in news_rows(regional).all()} & set(regional_first)
    assert [r.get_attribute("id") for r in news_rows(hq).all()] == hq_first

    pager = hq.get_by_role("navigation", name="分頁")
    pager.get_by_label("到第").fill("3")
    pager.get_by_role("button", name="前往").click()
    expect(hq.locator(".total")).to_have_text(re.compile(r"第 3/\d+ 頁"))
    expect(news_rows(hq)).to_have_count(3)
    assert not {r.get_attribute("id") for r in news_rows(hq).all()} & set(hq_first)
    expect(regional.locator(".total")).to_have_text(re.compile(r"第 2/\d+ 頁"))
    if js:
        assert_same_document(page)


def newest_with_attachment(portal: LivePortal):
    """(announcement id, first attachment's file name) of the newest 署本部公告 with an attachment."""
    with portal.app.app_context():
        database.initialize(portal.app.extensions["database"])  # the proxy may point at another test's app
        for item in logic_news.listing("hq", "taipei"):
            attachment = item.attachments.order_by(AnnouncementAttachment.position).first()
            if attachment is not None:
                return item.id, attachment.file.name
    raise AssertionError("no 署本部公告 with an attachment in the demo")


@both_modes
def test_attachment_shows_its_type_and_downloads(member_portal, member_page, js):
    """An expanded announcement lists its attachments with a file-type label; clicking one downloads it."""
    portal = member_portal
    item_id, name = newest_with_attachment(portal)
    page = member_page(js)
    page.goto(portal.at(f"/news/item/{item_id}"))
    attachments = page.get_by_role("list", name="附件")
    link = attachments.get_by_role("link", name=re.compile(re.escape(name)))
    expect(link).to_be_visible()
    extension = name.rsplit(".", 1)[-1].lower()
    label = link.locator(".ft")
    expect(label).to_have_class(re.compile(rf"\bft-{extension}\b"))
    expect(label).not_to_have_text("")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == name
    assert download.value.path().stat().st_size > 0


def test_regional_search_finds_the_contact_person(member_portal, member_page):
    """分區業務公告事項查詢 also matches 聯絡人 (SPEC H3)."""
    portal = member_portal
    page = member_page(False)
    page.goto(portal.at("/news/regional"))
    everything = total_of(page.locator("#news-regional"))
    first = news_rows(page.locator("#news-regional")).first
    item_id = first.get_attribute("id").removeprefix("news-")
    page.goto(portal.at(f"/news/item/{item_id}"))
    contact = page.locator(".news-contact").inner_text()
    person = re.search(r"聯絡人：(\S+)", contact).group(1)
    page.goto(portal.at("/news/regional"))
    page.get_by_label("關鍵字").fill(person)
    page.get_by_role("search").get_by_role("button", name="查詢").click()
    expect(page).to_have_url(re.compile(r"/news/regional\?q="))
    box = page.locator("#news-regional")
    expect(box.locator(f"#news-{item_id}")).to_be_visible()
    assert total_of(box) < everything
    expect(page.get_by_label("關鍵字")).to_have_value(person)


# --- 服務項目 tree (H4) -------------------------------------------------------------------------

@both_modes
def test_menu_unfolds_three_levels_on_hover(member_portal, member_page, js):
    """Hover A → its groups; hover A.01 → its functions; a function is a link to its screen."""
    portal = member_portal
    page = home(member_page(js), portal)
    menu = side_menu(page)
    expect(top_items(page)).to_have_text(OPEN_CATEGORIES)
    group = menu.get_by_role("link", name="A.01 醫療費用申報")
    leaf = menu.get_by_role("link", name="A.01.10 申報案件相關檔案下載")
    expect(group).to_be_hidden()

    menu.get_by_role("link", name="A費用申報及資料登錄").hover()
    expect(group).to_be_visible()
    expect(menu.get_by_role("link", name="A.07 醫療費用申報總表線上確認")).to_be_visible()
    expect(leaf).to_be_hidden()
    group.hover()
    expect(leaf).to_be_visible()
    # The flyouts lie beside each other, not over the level they came from.
    category_box = menu.get_by_role("link", name="A費用申報及資料登錄").bounding_box()
    group_box, leaf_box = group.bounding_box(), leaf.bounding_box()
    assert group_box["x"] >= category_box["x"] + category_box["width"] - 1, (category_box, group_box)
    assert leaf_box["x"] >= group_box["x"] + group_box["width"] - 1, (group_box, leaf_box)

    # Leaving the menu folds it again.
    page.get_by_role("heading", name="署本部公告事項").hover()
    expect(group).to_be_hidden()

    menu.get_by_role("link", name="A費用申報及資料登錄").hover()
    group.hover()
    leaf.click()
    expect(page).to_have_url(portal.at("/payments/A.01.10"))
    expect(page.get_by_role("heading", level=1)).to_have_text("申報案件相關檔案下載")


@both_modes
def test_grey_categories_are_not_links(member_portal, member_page, js):
    """Categories without any permitted item are grey text in the menu and the grid, and open nothing."""
    portal = member_portal
    page = home(member_page(js), portal)
    menu = side_menu(page)
    grid = page.locator(".svc-grid")
    for label in GREY_CATEGORIES:
        expect(menu.locator("span.off", has_text=label)).to_be_visible()
    expect(menu.locator("ul.tree > li")).to_have_count(len(OPEN_CATEGORIES) + len(GREY_CATEGORIES))
    expect(grid.get_by_role("link")).to_have_count(len(OPEN_CATEGORIES))
    for title in ("特約機構資料維護", "轉診及轉介", "偏鄉醫師人力需求"):
        expect(menu.get_by_role("link", name=re.compile(re.escape(title)))).to_have_count(0)
        expect(grid.get_by_role("link", name=re.compile(re.escape(title)))).to_have_count(0)
        expect(grid.get_by_text(title)).to_be_visible()

    grey = menu.locator("span.off", has_text="C特約機構資料維護")
    grey.hover()
    expect(menu.locator(".sub:visible")).to_have_count(0)
    grey.click()
    grid.get_by_text("轉診及轉介").click()
    expect(page).to_have_url(portal.at("/home"))


def test_menu_keyboard_focus_unfolds_and_escape_folds(member_portal, member_page):
    """JS on (portal.js MenuTree): Tab onto a category unfolds it, Tab into a group unfolds that, Esc folds."""
    portal = member_portal
    page = home(member_page(True), portal)
    menu = side_menu(page)
    category = menu.get_by_role("link", name="A費用申報及資料登錄")
    group = menu.get_by_role("link", name="A.01 醫療費用申報")
    leaf = menu.get_by_role("link", name=EXTERNAL_LEAF)

    page.get_by_role("button", name="登出").focus()
    page.keyboard.press("Tab")
    expect(category).to_be_focused()
    expect(group).to_be_visible()
    expect(leaf).to_be_hidden()

    page.keyboard.press("Tab")
    expect(group).to_be_focused()
    expect(leaf).to_be_visible()
    page.keyboard.press("Tab")
    expect(leaf).to_be_focused()

    page.keyboard.press("Escape")
    expect(category).to_be_focused()
    expect(group).to_be_hidden()
    expect(leaf).to_be_hidden()

    # Folded, the next Tab skips A's items and opens B.
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="B審查作業(含事前審查)")).to_be_focused()
    expect(menu.get_by_role("link", name="B.05 拔牙牙位更正作業")).to_be_visible()
    expect(group).to_be_hidden()

    page.keyboard.press("Enter")
    expect(page).to_have_url(portal.at("/services/B"))


# --- layers 2 and 3 (H5, H6, H9) ---------------------------------------------------------------

@both_modes
def test_layer_switching(member_portal, member_page, js):
    """Grid icon → layer 2 (menu = the category's groups); a function → layer 3 (menu = its siblings),
    whose 現行作業區 buttons lead to its announcements, contacts and manuals."""
    portal = member_portal
    page = home(member_page(js), portal)
    hq_total = total_of(page.locator("#news-hq"))

    page.locator(".svc-grid").get_by_role("link", name="費用申報及資料登錄").click()
    expect(page).to_have_url(portal.at("/services/A"))
    expect(page.get_by_role("heading", level=1)).to_have_text("A. 費用申報及資料登錄")
    expect(crumbs(page)).to_have_text(["所在位置", "我的首頁", "費用申報及資料登錄"])
    expect(top_items(page)).to_have_text(A_GROUPS)
    expect(side_menu(page).get_by_role("link", name="B審查作業(含事前審查)")).to_have_count(0)
    expect(side_menu(page).get_by_role("link", name="回我的首頁")).to_be_visible()
    # 署本部公告事項 of business A only, 10 per page.
    box = page.locator("#news-hq")
    expect(news_rows(box)).to_have_count(10)
    assert 10 < total_of(box) < hq_total

    menu = side_menu(page)
    menu.get_by_role("link", name="A.01 醫療費用申報").hover()
    menu.get_by_role("link", name=EXTERNAL_LEAF).click()
    layer3 = portal.at("/services/A.01.01")
    expect(page).to_have_url(layer3)
    expect(page.get_by_role("heading", level=1)).to_have_text("未列項費用申報上傳")
    expect(crumbs(page)).to_have_text(["所在位置", "我的首頁", "費用申報及資料登錄", "醫療費用申報", "未列項費用申報上傳"])
    siblings = top_items(page)
    expect(siblings.first).to_have_text(re.compile(r"^A\.01\.01 未列項費用申報上傳"))
    expect(siblings).to_have_count(10)
    for text in siblings.all_inner_texts():
        assert text.startswith("A.01."), text
    expect(menu.locator("a[aria-current=page]")).to_have_text(re.compile(r"^A\.01\.01 "))
    expect(page.get_by_role("heading", name="以下功能將另開視窗執行")).to_be_visible()
    external = page.get_by_role("link", name=re.compile(r"^未列項費用申報上傳\s*（另開新視窗）$"))
    expect(external).to_have_attribute("target", "_blank")
    expect(external).to_have_attribute("href", re.compile(r"^https://medvpn\.nhi\.gov\.tw/"))

    work_area = page.get_by_role("navigation", name="現行作業區")
    expect(work_area.get_by_role("link")).to_have_text(["公告事項", "聯絡窗口", "操作手冊"])

    work_area.get_by_role("link", name="公告事項").click()
    expect(page).to_have_url(portal.at("/news/hq?category=A"))
    expect(page.get_by_role("heading", level=2, name="署本部公告事項：A. 費用申報及資料登錄")).to_be_visible()
    expect(news_rows(page.locator("#news-hq"))).to_have_count(10)

    page.goto(layer3)
    page.get_by_role("navigation", name="現行作業區").get_by_role("link", name="聯絡窗口").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("聯絡窗口查詢")
    expect(page.get_by_label("服務類別", exact=True).locator("option:checked")).to_have_text("醫療費用申報")
    expect(page.locator("#contact-lookup table.data tbody tr").first).to_be_visible()

    page.goto(layer3)
    page.get_by_role("navigation", name="現行作業區").get_by_role("link", name="操作手冊").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^操作手冊："))
    manuals = page.locator("main table tbody tr")
    expect(manuals.first).to_contain_text("醫療費用申報")
    # Still the member layout: the user's greeting and 登出 stay on the page.
    expect(page.locator(".greeting")).to_have_text("臺北虛擬診所 王大明 您好")
    expect(page.get_by_role("button", name="登出")).to_be_visible()

    # Back up the tree from layer 3: 回費用申報及資料登錄 → layer 2.
    page.goto(layer3)
    side_menu(page).get_by_role("link", name="回費用申報及資料登錄").click()
    expect(page).to_have_url(portal.at("/services/A"))
    expect(top_items(page)).to_have_text(A_GROUPS)


# --- 公告事項查詢 (H3) --------------------------------------------------------------------------

@both_modes
def test_news_search_and_go_to_page(member_portal, member_page, js):
    """查看全部 → /news/hq; a keyword from a listed announcement narrows the list; 到第 N 頁 keeps it."""
    portal = member_portal
    page = home(member_page(js), portal)
    page.get_by_role("link", name=re.compile(r"^查看全部\s*署本部公告事項$")).click()
    expect(page).to_have_url(portal.at("/news/hq"))
    expect(page.get_by_role("heading", level=1)).to_have_text("公告事項查詢")
    box = page.locator("#news-hq")
    expect(news_rows(box)).to_have_count(10)
    everything = total_of(box)
    # A 關鍵字 shown on the first page that more than one page of announcements carry.
    keyword = SEARCH_KEYWORD
    source = news_rows(box).filter(has=page.locator("td.kw", has_text=re.compile(f"^{keyword}$"))).first
    source_id = source.get_attribute("id")
    if js:
        mark_document(page)

    page.get_by_label("關鍵字").fill(keyword)
    page.get_by_role("search").get_by_role("button", name="查詢").click()
    expect(page).to_have_url(re.compile(r"/news/hq\?q="))
    expect(box.locator(".total")).not_to_have_text(re.compile(rf"共 {everything} 筆"))
    expect(box.locator(f"#{source_id}")).to_be_visible()
    found = total_of(box)
    assert 10 < found < everything, f"「{keyword}」: {found} of {everything}"
    pages = -(-found // 10)
    expect(box.locator(".total")).to_have_text(re.compile(rf"共 {found} 筆，第 1/{pages} 頁"))
    for kw in box.locator("td.kw").all_inner_texts():
        assert kw.strip(), "a result without 關鍵字"
    first_page_ids = [r.get_attribute("id") for r in news_rows(box).all()]

    pager = box.get_by_role("navigation", name="分頁")
    pager.get_by_label("到第").fill("2")
    pager.get_by_role("button", name="前往").click()
    expect(box.locator(".total")).to_have_text(re.compile(rf"共 {found} 筆，第 2/{pages} 頁"))
    expect(page).to_have_url(re.compile(r"/news/hq\?.*page=2"))
    assert "q=" in page.url, page.url
    expect(box.locator(f"#{source_id}")).to_have_count(0)
    second_page_ids = [r.get_attribute("id") for r in news_rows(box).all()]
    assert second_page_ids and not set(second_page_ids) & set(first_page_ids)
    expect(page.get_by_label("關鍵字")).to_have_value(keyword)
    expect(pager.get_by_label("到第")).to_have_value("2")
    if js:
        assert_same_document(page)


# --- layout ------------------------------------------------------------------------------------

def test_icon_grid_cards_do_not_overlap(member_portal, member_page):
    """The 15 icons of 我的首頁: each card ends above the card under it."""
    page = home(member_page(True), member_portal)
    cards = page.locator(".svc-grid > li > :first-child")
    expect(cards).to_have_count(15)
    boxes = [card.bounding_box() for card in cards.all()]
    columns: dict[int, list] = {}
    for box in boxes:
        columns.setdefault(round(box["x"]), []).append(box)
    assert len(columns) == 4, sorted(columns)
    for column in columns.values():
        column.sort(key=lambda b: b["y"])
        for upper, lower in zip(column, column[1:], strict=False):
            assert upper["y"] + upper["height"] <= lower["y"] + 0.5, f"cards overlap: {upper} / {lower}"


# --- accessibility and screenshots -------------------------------------------------------------

def test_member_pages_pass_axe_and_screenshots(member_portal, member_page):
    """axe-core on every new screen, and the screenshots of seed 000 第二章's screens."""
    portal = member_portal
    page = home(member_page(True, bypass_csp=True), portal)
    expect(page.locator(".svc-grid li")).to_have_count(15)
    screenshot(page, "member-layer1.png")
    axe_check(page)
    row = news_rows(page.locator("#news-regional")).first
    row.get_by_role("link", name=re.compile(r"^詳細資料")).click()
    expect(row.locator(".news-contact")).to_be_visible()
    axe_check(page)
    menu = side_menu(page)
    menu.get_by_role("link", name="A費用申報及資料登錄").hover()
    menu.get_by_role("link", name="A.01 醫療費用申報").hover()
    expect(menu.get_by_role("link", name=EXTERNAL_LEAF)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "member-menu.png"))  # the viewport, with the flyouts open

    page.goto(portal.at("/services/A"))
    expect(page.get_by_role("heading", level=1)).to_have_text("A. 費用申報及資料登錄")
    screenshot(page, "member-layer2-A.png")
    axe_check(page)

    page.goto(portal.at("/services/A.01.01"))
    expect(page.get_by_role("navigation", name="現行作業區")).to_be_visible()
    screenshot(page, "member-layer3.png")
    axe_check(page)

    page.goto(portal.at("/news/hq"))
    expect(news_rows(page.locator("#news-hq"))).to_have_count(10)
    axe_check(page)
    item = news_rows(page.locator("#news-hq")).first.get_attribute("id").removeprefix("news-")
    page.goto(portal.at(f"/news/item/{item}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("署本部公告事項")
    axe_check(page)

    page.goto(portal.at("/services/sitemap"))
    expect(page.get_by_role("heading", level=1)).to_have_text("網站地圖")
    expect(page.locator("main a.can", has_text="A.01 醫療費用申報")).to_be_visible()
    expect(page.locator("main .cannot", has_text="A.02 預檢醫療費用申報")).to_be_visible()
    screenshot(page, "member-sitemap.png")
    axe_check(page)

    page.goto(portal.at("/home/contacts"))
    choose(page, True, "服務類別", "試辦計劃_安寧共同照護")
    choose(page, True, "機關", "健保局")
    choose(page, True, "單位", "臺北業務組")
    page.locator("#contact-lookup").get_by_role("button", name="查詢").click()
    expect(page.locator("#contact-lookup table.data tbody tr")).to_have_count(2)
    screenshot(page, "member-contacts.png")
    axe_check(page)
