"""Card-login journeys in chromium: the live portal on http://localhost:P, the card agent on http://127.0.0.1:A.

Each journey runs with JavaScript on (the hand-off pages submit themselves) and off (the user
presses the visible 繼續 buttons). What is asserted is what a user sees.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.login_fixtures import (
    LIN,
    PIN,
    PORTAL_NAME,
    LivePortal,
    live_login,
    new_national_id,
    today_roc,
)
from tests.browsing import axe_check
from tests.conftest import ARTIFACTS

__all__ = ["live_login"]  # fixtures of login_fixtures.py, visible to these tests

pytestmark = pytest.mark.browser

both_modes = pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
SCREENSHOTS = ARTIFACTS / "screenshots"
IDLE, WARNING = 6, 4


# --- helpers -----------------------------------------------------------------------------------

def go_to_agent(page, portal: LivePortal, js: bool, card: str, reader: str) -> None:
    """/login → card type + reader type → 憑證登入 → (繼續 without JS) → the agent's page."""
    page.goto(portal.at("/login"))
    page.get_by_role("radio", name=card, exact=True).check()
    page.get_by_role("radio", name=reader, exact=True).check()
    page.get_by_role("button", name="憑證登入").click()
    if not js:
        expect(page.get_by_role("heading", level=1)).to_have_text("讀取卡片")
        page.get_by_role("button", name="繼續").click()
    page.wait_for_url(portal.agent_url + "/v1/sign")


def back_to_portal(page, js: bool) -> None:
    """The agent's post-back page: it submits itself, or the user presses 繼續."""
    if not js:
        expect(page.locator("#postback")).to_be_visible()
        page.locator("#postback").get_by_role("button", name="繼續").click()


def enter_pin(page, js: bool, card_label: str | None = None, pin: str = PIN) -> None:
    """On the agent's PIN page: pick the soft card (when given), type the PIN, 確認, back to the portal."""
    if card_label:
        page.get_by_label(card_label, exact=True).check()
    page.get_by_label("PIN 碼").fill(pin)
    page.get_by_role("button", name="確認").click()
    back_to_portal(page, js)


def card_login(page, portal: LivePortal, js: bool, card_label: str | None = None, reader: str = "晶片讀卡機") -> None:
    """A whole 醫事人員卡 login, ending on 我的首頁."""
    go_to_agent(page, portal, js, "醫事人員卡", reader)
    enter_pin(page, js, card_label)
    page.wait_for_url(portal.at("/home"))


def greeting(page):
    return page.locator(".site-header .greeting")


def session_cookie(page, portal: LivePortal) -> dict | None:
    cookies = page.context.cookies(portal.url)
    return next((c for c in cookies if c["name"] == "portal_session"), None)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


# --- journeys ----------------------------------------------------------------------------------

@both_modes
def test_medical_staff_card_login_and_logout(live_login, page_for, js):
    """醫事人員卡 + 晶片讀卡機: the agent's PIN page, back to 我的首頁, then 登出."""
    portal = live_login()
    page = page_for(js)
    go_to_agent(page, portal, js, "醫事人員卡", "晶片讀卡機")

    expect(page.get_by_role("heading", level=1)).to_have_text("輸入 PIN 碼")
    expect(page.locator("main")).to_contain_text(f"「{PORTAL_NAME}」（{portal.url}）要求以醫事人員卡登入。")
    expect(page.locator("#holder")).to_have_text("王大明")
    expect(page.get_by_label("醫事人員卡：王大明", exact=True)).to_be_checked()
    enter_pin(page, js, "醫事人員卡：王大明")

    page.wait_for_url(portal.at("/home"))
    expect(greeting(page)).to_have_text("臺北虛擬診所 王大明 您好")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的首頁")
    cookie = session_cookie(page, portal)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax", cookie
    assert not [c for c in page.context.cookies(portal.at("/login")) if c["name"] == "portal_login"]

    page.get_by_role("button", name="登出").click()
    page.wait_for_url(re.compile(re.escape(portal.url) + r"/(\?bye=1)?$"))
    expect(page.get_by_role("heading", name="醫事機構常用登入")).to_be_visible()
    assert session_cookie(page, portal) is None
    page.goto(portal.at("/home"))
    expect(page).to_have_url(re.compile(re.escape(portal.at("/login")) + r"(\?.*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("醫事機構登入")


@both_modes
def test_wrong_pin_then_cancel(live_login, page_for, js):
    """A wrong PIN shows the tries left on the agent; 取消 returns to the portal's login page."""
    portal = live_login()
    page = page_for(js)
    go_to_agent(page, portal, js, "醫事人員卡", "健保讀卡機")
    page.get_by_label("PIN 碼").fill("000000")
    page.get_by_role("button", name="確認").click()

    expect(page.get_by_role("alert")).to_have_text("PIN 碼錯誤，剩餘 2 次")
    assert page.url == portal.agent_url + "/v1/sign/pin"
    page.get_by_role("button", name="取消").click()
    back_to_portal(page, js)

    page.wait_for_url(portal.at("/login/callback"))
    expect(page.get_by_role("heading", level=1)).to_have_text("醫事機構登入")
    expect(page.get_by_role("alert")).to_have_text("您已取消登入。")
    # The login form is offered again with the same choices.
    expect(page.get_by_role("radio", name="醫事人員卡", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="健保讀卡機", exact=True)).to_be_checked()
    assert session_cookie(page, portal) is None


@both_modes
def test_nhi_card_login_with_default_password_then_forced_change(live_login, page_for, js):
    """健保卡 + 健保讀卡機: consent on the agent (no PIN), the portal's password, 修改密碼 first."""
    portal = live_login()
    page = page_for(js)
    go_to_agent(page, portal, js, "健保卡", "健保讀卡機")

    expect(page.get_by_role("heading", level=1)).to_have_text("健保卡確認")
    expect(page.locator("#holder")).to_have_text(LIN["name"])
    expect(page.get_by_label("PIN 碼")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(f"傳送給「{PORTAL_NAME}」")
    page.get_by_role("button", name="確認").click()
    back_to_portal(page, js)

    page.wait_for_url(portal.at("/login/password"))
    expect(page.get_by_role("heading", level=1)).to_have_text("健保卡登入")
    expect(page.locator("main")).to_contain_text("已讀取 林美玲（B22****458）的健保卡")
    default = LIN["national_id"][-4:] + f"{LIN['birth']:%m%d}"
    assert default == "34580304"
    page.get_by_label("健保卡密碼").fill(default)
    page.get_by_role("button", name="登入").click()

    # A default password is replaced before anything else, even when asking for 我的首頁.
    page.wait_for_url(portal.at("/account/password"))
    expect(page.locator("p.notice")).to_contain_text("您目前使用的是預設密碼")
    expect(greeting(page)).to_have_text("臺北虛擬診所 林美玲 您好")
    page.goto(portal.at("/home"))
    expect(page).to_have_url(portal.at("/account/password"))

    new_password = "Tea-leaf-2718"
    page.get_by_label("目前的密碼").fill(default)
    page.get_by_label("新密碼", exact=True).fill(new_password)
    page.get_by_label("再輸入一次新密碼").fill(new_password)
    page.get_by_role("button", name="變更密碼").click()
    expect(page).to_have_url(portal.at("/account/password?done=1"))
    expect(page.get_by_role("status").filter(has_text="密碼已變更")).to_be_visible()

    page.get_by_role("navigation", name="使用者功能").get_by_role("link", name="我的首頁").click()
    expect(page).to_have_url(portal.at("/home"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的首頁")
    expect(page.locator("main")).to_contain_text("機構使用者")
    expect(page.get_by_role("link", name="修改密碼")).to_be_visible()


@both_modes
def test_manager_appoints_and_grants_then_revokes(live_login, page_for, js):
    """王大明 adds a user and grants a service; the user sees it; unticked, the user is logged out."""
    portal = live_login()
    name, person_id = "張雅婷", new_national_id(taken={"A123456789", "F228001521", LIN["national_id"]})
    portal.add_staff_card("e-new-user", name, person_id)

    manager = page_for(js)
    card_login(manager, portal, js, "醫事人員卡：王大明")
    menu = manager.get_by_role("navigation", name="服務項目")
    # 服務項目 unfolds on hover (CSS, so with JS off too): O → O.02 → its functions. O sits low on
    # the page; bring it to the top first, or clicking level 3 scrolls the page and drops the hover.
    menu.get_by_role("link", name="O機構授權作業").evaluate("el => el.scrollIntoView()")
    menu.get_by_role("link", name="O機構授權作業").hover()
    menu.get_by_role("link", name="O.02 機構管理者作業").hover()
    menu.get_by_role("link", name="O.02.02 機構使用者維護作業").click()
    expect(manager).to_have_url(portal.at("/authority/users"))
    manager.get_by_role("link", name="新增機構使用者").click()
    manager.get_by_label("機構使用者姓名").fill(name)
    manager.get_by_label("身分證字號").fill(person_id)
    manager.get_by_label("出生年月日").fill("079/06/15")
    manager.get_by_label("生效起日").fill(today_roc())
    manager.get_by_role("button", name="新增").click()
    expect(manager).to_have_url(portal.at("/authority/users"))
    expect(manager.get_by_role("status").filter(has_text=f"已新增機構使用者 {name}")).to_be_visible()
    expect(manager.locator("table.data tbody tr", has_text=name)).to_contain_text("生效中")

    # On a function screen the menu lists the function's siblings.
    menu.get_by_role("link", name="O.02.03 使用者授權管理作業").click()
    masked = person_id[:3] + "****" + person_id[-3:]
    manager.get_by_label("查詢條件：現行機構使用者").select_option(label=f"{name}（{masked}）")
    manager.get_by_role("button", name="查詢").click()
    grants = manager.locator("form", has=manager.get_by_role("button", name="存檔"))
    expect(grants.locator("caption")).to_have_text(f"{name} 可使用的健保服務")
    expect(grants.get_by_role("checkbox")).to_have_count(3)
    for box in grants.get_by_role("checkbox").all():
        expect(box).not_to_be_checked()
    grants.get_by_label("IWF").check()
    grants.get_by_role("button", name="存檔").click()
    expect(manager.get_by_role("status").filter(has_text=f"已儲存 {name} 的授權。")).to_be_visible()
    expect(manager.get_by_label("IWF")).to_be_checked()

    user = page_for(js)
    card_login(user, portal, js, f"醫事人員卡：{name}")
    expect(greeting(user)).to_have_text(f"臺北虛擬診所 {name} 您好")
    services = user.locator("section[aria-labelledby=granted-h] table tbody tr")
    expect(services).to_have_count(1)
    expect(services).to_have_text(re.compile(r"IWF\s*醫療費用支付"))

    manager.get_by_label("IWF").uncheck()
    manager.get_by_role("button", name="存檔").click()
    expect(manager.get_by_role("status").filter(has_text=f"已儲存 {name} 的授權。")).to_be_visible()
    expect(manager.get_by_label("IWF")).not_to_be_checked()

    user.reload()
    expect(user).to_have_url(re.compile(re.escape(portal.at("/login")) + r"(\?.*)?$"))
    expect(user.get_by_role("heading", level=1)).to_have_text("醫事機構登入")


# --- idle timeout ------------------------------------------------------------------------------

def idle_portal(live_login) -> LivePortal:
    """A portal whose sessions end after IDLE seconds, warning WARNING seconds before."""
    return live_login(SESSION_IDLE_SECONDS=IDLE, SESSION_WARNING_SECONDS=WARNING)


def wait_until(page, moment: float) -> None:
    """Let the page run until time.monotonic() reaches moment."""
    left = moment - time.monotonic()
    if left > 0:
        page.wait_for_timeout(left * 1000)


@both_modes
def test_idle_timeout(live_login, page_for, js):
    """JS: the warning comes (idle - warning) s after the page loaded and 「繼續使用」 keeps the page.
    No JS: no warning; after the idle time the server has ended the session and a reload asks to log in."""
    portal = idle_portal(live_login)
    page = page_for(js)
    card_login(page, portal, js, "醫事人員卡：王大明")
    loaded = time.monotonic()
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()

    if not js:
        wait_until(page, loaded + IDLE - WARNING + 1)
        expect(warning).to_be_hidden()  # nothing warns without JavaScript…
        wait_until(page, loaded + IDLE + 0.5)
        page.reload()  # …but the server has ended the session
        expect(page).to_have_url(re.compile(re.escape(portal.at("/login")) + r"\?"))
        expect(page.get_by_role("heading", level=1)).to_have_text("醫事機構登入")
        page.goto(portal.at("/authority/users"))
        expect(page.get_by_role("heading", level=1)).to_have_text("醫事機構登入")
        return

    wait_until(page, loaded + IDLE - WARNING - 0.5)
    expect(warning).to_be_hidden()
    # 4 s of slack: on a loaded 2-core CI machine chromium's timers fire late (3 s once failed).
    expect(warning).to_be_visible(timeout=4000)
    expect(warning).to_contain_text("您已一段時間沒有操作")
    expect(warning.get_by_role("button", name="繼續使用")).to_be_focused()
    warning.get_by_role("button", name="繼續使用").click()
    expect(warning).to_be_hidden()
    kept = time.monotonic()

    wait_until(page, loaded + IDLE + 0.5)
    assert portal.path_of(page) == "/home"
    expect(page.get_by_role("heading", level=1)).to_have_text("我的首頁")

    # Nobody answers the next warning: the page itself goes to the login page and says why.
    page.wait_for_url(portal.at("/login?expired=1"), timeout=(kept + IDLE + 3 - time.monotonic()) * 1000)
    expect(page.get_by_role("status").filter(has_text="閒置過久")).to_be_visible()


def test_keep_alive_extends_the_server_session(live_login, page_for):
    """After 「繼續使用」 the session must outlive the original idle deadline (here: reload /home at load + idle)."""
    portal = idle_portal(live_login)
    page = page_for(True)
    card_login(page, portal, True, "醫事人員卡：王大明")
    loaded = time.monotonic()
    warning = page.locator("#idle-warning")
    expect(warning).to_be_visible(timeout=(IDLE - WARNING + 2) * 1000)
    warning.get_by_role("button", name="繼續使用").click()
    expect(warning).to_be_hidden()
    wait_until(page, loaded + IDLE + 0.5)
    page.reload()
    assert portal.path_of(page) == "/home", f"the kept session was ended by the server: {page.url}"


def test_keep_alive_on_an_ended_session_goes_to_the_login_page(live_login, page_for):
    """Logged out in another tab while this one shows the warning: 「繼續使用」 must lead to the login page."""
    portal = idle_portal(live_login)
    page = page_for(True)
    card_login(page, portal, True, "醫事人員卡：王大明")
    warning = page.locator("#idle-warning")
    expect(warning).to_be_visible(timeout=(IDLE - WARNING + 2) * 1000)

    other = page.context.new_page()
    other.goto(portal.at("/home"))
    other.get_by_role("button", name="登出").click()
    other.wait_for_url(re.compile(re.escape(portal.url) + r"/(\?bye=1)?$"))

    warning.get_by_role("button", name="繼續使用").click()
    expect(page).to_have_url(re.compile(re.escape(portal.at("/login"))), timeout=3000)



def test_agent_status_fits_in_the_login_page_frame(live_login, page_for):
    """The self-check frame shows the whole status (cards, module, 重新檢查) without scrolling inside it."""
    portal = live_login()
    page = page_for(True)
    page.goto(portal.at("/login"))
    status = page.frame_locator("iframe.agent-status")
    expect(status.locator("#state")).to_have_text("就緒")
    frame = page.locator("iframe.agent-status").bounding_box()
    for part in (status.locator("#cards"), status.locator("#module"), status.get_by_role("link", name="重新檢查")):
        box = part.bounding_box()
        assert box["y"] + box["height"] <= frame["y"] + frame["height"], (
            f"{part.inner_text()!r} ends at {box['y'] + box['height']:.0f}px, the frame at "
            f"{frame['y'] + frame['height']:.0f}px")

# --- accessibility and screenshots -------------------------------------------------------------

def test_login_pages_pass_axe_and_screenshots(live_login, page_for):
    """axe-core on the login page, the agent's PIN page, 我的首頁, the authority screens and the password page."""
    portal = live_login()
    page = page_for(True, bypass_csp=True)
    page.goto(portal.at("/login"))
    expect(page.frame_locator("iframe.agent-status").locator("#state")).to_have_text("就緒")
    screenshot(page, "login.png")
    axe_check(page)

    page.get_by_role("radio", name="醫事人員卡", exact=True).check()
    page.get_by_role("radio", name="晶片讀卡機", exact=True).check()
    page.get_by_role("button", name="憑證登入").click()
    page.wait_for_url(portal.agent_url + "/v1/sign")
    expect(page.get_by_label("PIN 碼")).to_be_visible()
    screenshot(page, "agent-pin.png")
    axe_check(page)

    enter_pin(page, True, "醫事人員卡：王大明")
    page.wait_for_url(portal.at("/home"))
    expect(greeting(page)).to_have_text("臺北虛擬診所 王大明 您好")
    screenshot(page, "member-home.png")
    axe_check(page)

    page.goto(portal.at("/authority/users"))
    expect(page.get_by_role("heading", level=1)).to_have_text("機構使用者維護作業")
    axe_check(page)
    page.goto(portal.at(f"/authority/grants?user={portal.appointments['chen']}"))
    expect(page.locator("table.data caption")).to_have_text("陳小華 可使用的健保服務")
    screenshot(page, "grants.png")
    axe_check(page)

    nhi = page_for(True, bypass_csp=True)
    go_to_agent(nhi, portal, True, "健保卡", "健保讀卡機")
    axe_check(nhi)
    nhi.get_by_role("button", name="確認").click()
    nhi.wait_for_url(portal.at("/login/password"))
    axe_check(nhi)
