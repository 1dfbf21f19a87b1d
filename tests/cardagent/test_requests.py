"""What the agent refuses before any card is touched: other hosts, origins, bad fields, big bodies."""

import http.client
import subprocess

import pytest

from portal.cardagent import protocol
from tests.cardagent.helpers import PORTAL, sign_fields
from tests.conftest import ROOT, need


def assert_refused(reply, status: int) -> None:
    """An agent error page: the status, and no form posting anywhere."""
    assert reply.status == status, reply.text
    assert reply.soup.find("form") is None
    assert "請回到入口網站重新操作" in reply.text


def test_agent_listens_on_loopback_only(soft_agent):
    assert soft_agent.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1", "192.168.1.5:{port}",
                                  "localhost:1"])
def test_request_for_another_host_name_is_refused(soft, host):
    fields = sign_fields("medical-staff", "nhi-reader")
    reply = soft.post("/v1/sign", fields, origin=PORTAL, Host=host.format(port=soft.port))
    assert_refused(reply, 403)
    assert_refused(soft.get("/v1/status", Host=host.format(port=soft.port)), 403)


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_loopback_host_names_are_served(soft, host):
    assert soft.get("/v1/status", Host=host.format(port=soft.port)).status == 200


@pytest.mark.parametrize("url", [
    "http://evil.example/login/callback",
    "https://portal.test/login/callback",             # another scheme is another origin
    "http://portal.test:8080/login/callback",
    "http://portal.test.evil.example/login/callback",
])
def test_return_url_on_an_origin_not_allowed_is_refused(soft, url):
    reply = soft.sign("medical-staff", "nhi-reader", return_url=url)
    assert_refused(reply, 403)


@pytest.mark.parametrize("url", [
    r"http://evil.example\@portal.test/login/callback",   # browsers read \ as /, so the host is evil.example
    "http://user@portal.test/login/callback",
    "http://portal.test /login/callback",
    "javascript:alert(1)",
    "//portal.test/login/callback",
    "http://portal.test/login/callback#frag",
    "",
])
def test_return_url_that_parsers_could_read_differently_is_refused(soft, url):
    reply = soft.sign("medical-staff", "nhi-reader", return_url=url)
    assert reply.status in (400, 403)
    assert_refused(reply, reply.status)


def test_return_url_with_default_port_and_query_is_accepted(soft):
    reply = soft.sign("medical-staff", "nhi-reader", return_url="http://PORTAL.test:80/login/callback?x=1&y=%20")
    assert reply.status == 200, reply.text
    assert reply.form(action="/v1/sign/pin")


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://portal.test:8080", "https://portal.test"])
def test_origin_header_not_allowed_is_refused(soft, origin):
    reply = soft.post("/v1/sign", sign_fields("medical-staff", "nhi-reader"), origin=origin)
    assert_refused(reply, 403)


def test_request_without_origin_header_is_served_like_ie11_sends_it(soft):
    reply = soft.post("/v1/sign", sign_fields("medical-staff", "nhi-reader"))
    assert reply.status == 200, reply.text


def test_retry_from_the_agents_own_page_is_accepted(soft):
    reply = soft.post("/v1/sign", sign_fields("medical-staff", "nhi-reader"), origin=f"http://localhost:{soft.port}")
    assert reply.status == 200, reply.text


@pytest.mark.parametrize("field", protocol.REQUEST_FIELDS)
def test_missing_field_is_refused(soft, field):
    fields = sign_fields("medical-staff", "nhi-reader")
    del fields[field]
    assert_refused(soft.post("/v1/sign", fields, origin=PORTAL), 400)


@pytest.mark.parametrize("change", [
    {"card_type": "credit-card"}, {"reader_type": "usb-stick"}, {"nonce": "short"}, {"nonce": "a\nb" * 10},
    {"portal_name": ""}, {"portal_name": "健保\n資訊網"}, {"portal_name": "名" * 101}, {"extra": "1"},
])
def test_unknown_or_malformed_fields_are_refused(soft, change):
    fields = {**sign_fields("medical-staff", "nhi-reader"), **change}
    assert_refused(soft.post("/v1/sign", fields, origin=PORTAL), 400)


def test_a_field_sent_twice_is_refused(soft):
    body = "&".join(f"{k}={v}" for k, v in sign_fields("citizen", "chip-reader").items()) + "&nonce=" + "b" * 32
    reply = soft.request("POST", "/v1/sign", body.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert_refused(reply, 400)


def test_request_body_over_64_kb_is_refused_unread(soft):
    conn = http.client.HTTPConnection("127.0.0.1", soft.port, timeout=10)
    try:
        conn.putrequest("POST", "/v1/sign")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(64 * 1024 + 1))
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413
        response.read()
    finally:
        conn.close()


def test_body_of_exactly_64_kb_is_read(soft):
    body = b"x=" + b"a" * (64 * 1024 - 2)
    reply = soft.request("POST", "/v1/sign", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert_refused(reply, 400)  # read and parsed: the fields are wrong, not the size


def test_other_content_types_are_refused(soft):
    reply = soft.request("POST", "/v1/sign", b"{}", {"Content-Type": "application/json", "Origin": PORTAL})
    assert_refused(reply, 415)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 404), ("GET", "/v1/sign", 405), ("POST", "/v1/status", 405), ("GET", "/v1/static/x.js", 404),
])
def test_unknown_routes_and_methods(soft, method, path, status):
    assert_refused(soft.request(method, path, b"" if method == "POST" else None), status)


def test_pin_post_from_another_site_is_refused(soft):
    page = soft.sign("medical-staff", "nhi-reader")
    _action, fields = page.form(action="/v1/sign/pin")
    reply = soft.post("/v1/sign/pin", {**fields, "pin": "123456"}, origin=PORTAL)
    assert_refused(reply, 403)


def test_pages_carry_the_security_headers(soft):
    reply = soft.sign("medical-staff", "nhi-reader")
    assert reply.headers["content-security-policy"] == (
        "default-src 'self'; form-action 'self' http://portal.test; frame-ancestors 'none'")
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["referrer-policy"] == "same-origin"
    assert reply.headers["content-type"] == "text/html; charset=utf-8"


def test_submit_script_is_served(soft):
    reply = soft.get("/v1/static/submit.js")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/javascript")
    assert 'getElementById("postback")' in reply.text


def test_submit_script_is_es5():
    # `make es5` checks static/js only; this script lives with the agent.
    es_check = ROOT / "tests" / "tooling" / "node_modules" / ".bin" / "es-check"
    need(es_check.exists(), "es-check is not installed (make test-setup)")
    script = ROOT / "portal" / "cardagent" / "static" / "submit.js"
    result = subprocess.run([str(es_check), "es5", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
