"""GET /v1/status (an iframe on the portal's login page) and /v1/status.json (CORS for allowed origins)."""

import json

from portal.cardagent import __version__
from tests.cardagent.helpers import PORTAL


def test_status_page_shows_version_ready_card_types_and_module(soft):
    reply = soft.get("/v1/status")
    assert reply.status == 200
    soup = reply.soup
    assert f"讀卡元件 版本 {__version__}" in soup.find("h1").get_text()
    assert soup.find(id="state").get_text() == "就緒"
    assert "醫事人員卡" in soup.find(id="cards").get_text() and "健保卡" in soup.find(id="cards").get_text()
    assert soup.find(id="module").get_text() == "安全模組：已安裝"


def test_status_page_may_be_framed_by_allowed_portals_only(soft):
    reply = soft.get("/v1/status")
    assert reply.headers["content-security-policy"] == (
        "default-src 'self'; form-action 'self' http://portal.test; frame-ancestors http://portal.test")
    assert "x-frame-options" not in reply.headers


def test_status_without_soft_cards_says_no_card(soft, soft_dirs):
    cards, module = soft_dirs
    for path in cards.glob("*.toml"):
        path.unlink()
    (module / "module-cert.pem").unlink()
    assert soft.get("/v1/status").soup.find(id="state").get_text() == "未插卡"
    body = json.loads(soft.get("/v1/status.json").text)
    assert body["state"] == "no_card" and body["module"] is False


def test_status_json_answers_allowed_origins_with_cors(soft):
    reply = soft.get("/v1/status.json", Origin=PORTAL)
    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] == PORTAL
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    body = json.loads(reply.text)
    assert body["agent_version"] == __version__
    assert body["state"] == "ready" and body["message"] == "就緒"
    assert set(body["card_types"]) == {"medical-staff", "citizen", "medical-org", "government", "nhi"}
    assert body["module"] is True
    assert "王大明" not in reply.text  # no holder names for web pages


def test_status_json_gives_other_origins_no_cors(soft):
    reply = soft.get("/v1/status.json", Origin="http://evil.example")
    assert reply.status == 200
    assert "access-control-allow-origin" not in reply.headers
    assert "access-control-allow-origin" not in soft.get("/v1/status.json").headers


def test_preflight_allows_private_network_access_for_allowed_origins_only(soft):
    ok = soft.request("OPTIONS", "/v1/status.json", headers={
        "Origin": PORTAL, "Access-Control-Request-Method": "GET", "Access-Control-Request-Private-Network": "true"})
    assert ok.status == 204
    assert ok.headers["access-control-allow-origin"] == PORTAL
    assert ok.headers["access-control-allow-private-network"] == "true"
    other = soft.request("OPTIONS", "/v1/status.json", headers={"Origin": "http://evil.example"})
    assert other.status == 403
