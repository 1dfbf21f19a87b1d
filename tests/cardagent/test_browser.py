"""The agent in a real browser (Debian chromium): a stub portal on another host name, JS on and off.

What only a browser shows: the Origin headers it really sends (a Referrer-Policy can
turn them into "null"), CSP form-action / frame-ancestors, submit.js, and axe-core.
"""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from portal.cardagent import protocol
from portal.cardagent.pages import e
from portal.cardagent.server import AgentServer
from portal.cardagent.soft import SoftBackend
from tests.browsing import axe_check
from tests.cardagent.helpers import agent_config, check_login, running, sign_fields

pytestmark = pytest.mark.browser


class PortalStub(BaseHTTPRequestHandler):
    """Just enough portal: the page that posts to the agent, the callback, a page framing the status."""

    server: ThreadingHTTPServer

    def do_GET(self) -> None:  # noqa: N802
        """/login (form to the agent), /frame (status iframe), /home (after the callback)."""
        agent = self.server.agent_url
        if self.path.startswith("/login"):
            card, reader = self.path.split("?", 1)[1].split(",") if "?" in self.path else ("medical-staff", "nhi-reader")
            fields = sign_fields(card, reader, return_url=f"http://localhost:{self.server.server_port}/login/callback")
            inputs = "".join(f'<input type="hidden" name="{k}" value="{e(v)}">' for k, v in fields.items())
            body = f'<form method="post" action="{agent}/v1/sign">{inputs}<button>前往讀卡元件</button></form>'
        elif self.path == "/frame":
            body = f'<iframe title="讀卡元件狀態" src="{agent}/v1/status"></iframe>'
        else:
            body = "<p id='home'>我的首頁</p>"
        # Like the real portal: without it a cross-origin form POST carries "Origin: null".
        self._answer(200, body, {"Referrer-Policy": "origin"})

    def do_POST(self) -> None:  # noqa: N802
        """/login/callback: keep what arrived, then 303 (a redirect CSP form-action must allow)."""
        length = int(self.headers["Content-Length"])
        self.server.received.append(dict(parse_qsl(self.rfile.read(length).decode())))
        self._answer(303, "", {"Location": "/home"})

    def _answer(self, status: int, body: str, headers: dict) -> None:
        """A small zh-TW page."""
        data = f'<!DOCTYPE html><html lang="zh-Hant-TW"><title>stub</title><body>{body}</body></html>'.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args) -> None:  # noqa: A002
        """Quiet."""


@pytest.fixture
def site(soft_dirs):
    """The stub portal on http://localhost:P and the soft agent on http://127.0.0.1:A, two sites."""
    cards, module = soft_dirs
    with contextlib.ExitStack() as stack:
        portal = ThreadingHTTPServer(("127.0.0.1", 0), PortalStub)
        portal.received = []
        portal_thread = threading.Thread(target=portal.serve_forever, kwargs={"poll_interval": 0.05})
        portal_thread.start()
        stack.callback(portal_thread.join, 5)
        stack.callback(portal.server_close)
        stack.callback(portal.shutdown)
        config = agent_config(ALLOWED_ORIGINS=[f"http://localhost:{portal.server_port}"], SOFT_CARDS_DIR=str(cards),
                              CLOUD_MODULE=str(module))
        agent = stack.enter_context(running(AgentServer(config, SoftBackend(cards, module))))
        portal.agent_url = f"http://127.0.0.1:{agent.port}"
        yield portal


def portal_url(site, path: str) -> str:
    return f"http://localhost:{site.server_port}{path}"


def test_login_with_javascript_returns_to_the_portal_by_itself(site, page_for):
    page = page_for(js=True)
    page.goto(portal_url(site, "/login"))
    page.get_by_role("button", name="前往讀卡元件").click()
    page.get_by_label("PIN 碼").fill("123456")
    page.get_by_role("button", name="確認").click()
    page.wait_for_url(portal_url(site, "/home"))
    check_login(site.received[0], origin=f"http://localhost:{site.server_port}")


def test_login_without_javascript_continues_with_the_button(site, page_for):
    page = page_for(js=False)
    page.goto(portal_url(site, "/login"))
    page.get_by_role("button", name="前往讀卡元件").click()
    page.get_by_label("PIN 碼").fill("000000")
    page.get_by_role("button", name="確認").click()
    assert page.get_by_role("alert").inner_text() == "PIN 碼錯誤，剩餘 2 次"
    page.get_by_label("PIN 碼").fill("123456")
    page.get_by_role("button", name="確認").click()
    page.get_by_role("button", name="繼續").click()
    page.wait_for_url(portal_url(site, "/home"))
    check_login(site.received[0], origin=f"http://localhost:{site.server_port}")


def test_retry_and_cancel_from_the_problem_page(site, page_for, soft_dirs):
    cards, _module = soft_dirs
    (cards / "clinic.toml").rename(cards / "clinic.off")
    page = page_for(js=True)
    page.goto(portal_url(site, "/login?medical-org,nhi-reader"))
    page.get_by_role("button", name="前往讀卡元件").click()
    assert protocol.ERRORS["wrong_card_type"] in page.get_by_role("alert").inner_text()
    (cards / "clinic.off").rename(cards / "clinic.toml")
    page.get_by_role("button", name="重試").click()  # re-posts to the agent from the agent's own origin
    page.get_by_role("button", name="取消").click()
    page.wait_for_url(portal_url(site, "/home"))
    assert site.received[0]["error"] == "cancelled"


def test_status_frame_shows_in_an_allowed_portal_only(site, page_for):
    page = page_for(js=True)
    page.goto(portal_url(site, "/frame"))
    assert page.frame_locator("iframe").locator("#state").inner_text() == "就緒"
    other = page_for(js=True)
    other.goto(f"http://127.0.0.1:{site.server_port}/frame")  # same stub, an origin the agent does not allow
    other.wait_for_timeout(300)
    framed = [f for f in other.frames if f is not other.main_frame]
    assert framed and "就緒" not in framed[0].content()


@pytest.mark.parametrize("path", ["/login?medical-staff,nhi-reader", "/login?nhi,nhi-reader", "/login?citizen,nhi-reader"])
def test_agent_pages_pass_axe(site, page_for, path):
    page = page_for(js=True, bypass_csp=True)
    page.goto(portal_url(site, path))
    page.get_by_role("button", name="前往讀卡元件").click()
    page.wait_for_selector("h1")
    axe_check(page)


def test_status_page_passes_axe(site, page_for):
    page = page_for(js=True, bypass_csp=True)
    page.goto(f"{site.agent_url}/v1/status")
    axe_check(page)
