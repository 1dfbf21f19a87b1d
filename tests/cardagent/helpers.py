"""Talking to a running agent like a browser would, and checking what it posts back."""

from __future__ import annotations

import contextlib
import http.client
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

from bs4 import BeautifulSoup
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from portal.cardagent import protocol
from portal.cardagent.config import load_config
from portal.cardagent.server import AgentServer
from tests.pages import check_forms, check_ids, check_labels

PORTAL = "http://portal.test"
RETURN_URL = f"{PORTAL}/login/callback"
PORTAL_NAME = "健保資訊網服務系統（測試）"


def agent_config(**settings) -> dict:
    """Settings for a test agent: any free port, the test portal allowed, no environment."""
    overrides = {"PORT": 0, "ALLOWED_ORIGINS": [PORTAL]}
    overrides.update(settings)
    return load_config(overrides=overrides, environ={})


@contextlib.contextmanager
def running(server: AgentServer):
    """Serve in a thread; shut down, close and join at the end (warnings are errors)."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Reply:
    """One HTTP answer of the agent."""

    status: int
    headers: dict[str, str]
    text: str

    @property
    def soup(self) -> BeautifulSoup:
        """The page parsed, after the checks every page of the project passes."""
        soup = BeautifulSoup(self.text, "html.parser")
        check_ids(soup)
        check_forms(soup)
        check_labels(soup)
        assert soup.html.get("lang") == "zh-Hant-TW"
        assert len(soup.find_all("h1")) == 1
        assert not soup.find("script", src=False), "inline script"
        return soup

    def form(self, action: str | None = None, form_id: str | None = None) -> tuple[str, dict[str, str]]:
        """(action, hidden and checked fields) of the form with that action or id."""
        soup = self.soup
        form = soup.find("form", id=form_id) if form_id else soup.find("form", action=action)
        assert form is not None, f"no form {form_id or action} on:\n{self.text}"
        fields = {}
        for el in form.find_all("input"):
            if el.get("type") == "hidden" or (el.get("type") == "radio" and el.has_attr("checked")):
                fields[el["name"]] = el.get("value", "")
        return form["action"], fields

    def post_back(self) -> dict[str, str]:
        """The fields of the self-submitting post-back form (which must go to the portal)."""
        action, fields = self.form(form_id="postback")
        assert action == RETURN_URL
        assert self.soup.find("script", src="/v1/static/submit.js") is not None
        assert self.soup.find("form", id="postback").find("button").get_text() == "繼續"
        return fields


class Client:
    """A browser stand-in: form posts with the headers browsers send."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        """One request on a fresh connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                         response.read().decode("utf-8"))
        finally:
            conn.close()

    def post(self, path: str, fields: dict, origin: str | None = None, **headers) -> Reply:
        """A urlencoded form post, with an Origin header when given."""
        head = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        if origin:
            head["Origin"] = origin
        return self.request("POST", path, urlencode(fields).encode(), head)

    def get(self, path: str, **headers) -> Reply:
        """A GET."""
        return self.request("GET", path, headers=headers)

    def sign(self, card_type: str, reader_type: str, **overrides) -> Reply:
        """POST /v1/sign the way the portal's login page does."""
        return self.post(protocol.AGENT_PATH_SIGN, sign_fields(card_type, reader_type, **overrides), origin=PORTAL)

    def pin(self, page: Reply, pin: str = "", action: str = "confirm", **extra) -> Reply:
        """Answer a PIN page (its hidden token, the checked soft card) from the agent's own origin."""
        _action, fields = page.form(action="/v1/sign/pin")
        fields.update(extra, action=action)
        if pin:
            fields["pin"] = pin
        return self.post("/v1/sign/pin", fields, origin=f"http://127.0.0.1:{self.port}")

    def login(self, card_type: str, reader_type: str, pin: str = "123456") -> dict[str, str]:
        """The whole round trip: sign request → PIN page → post-back fields."""
        page = self.sign(card_type, reader_type)
        assert page.status == 200, page.text
        return self.pin(page, pin).post_back()


def sign_fields(card_type: str, reader_type: str, **overrides) -> dict[str, str]:
    """REQUEST_FIELDS as the portal sends them (a fresh 32-byte nonce)."""
    fields = {"return_url": RETURN_URL, "nonce": secrets.token_urlsafe(32), "card_type": card_type,
              "reader_type": reader_type, "portal_name": PORTAL_NAME}
    fields.update(overrides)
    return fields


def verify(signature: bytes, algorithm: str, certificate: bytes, text: bytes) -> None:
    """Raise unless signature is a valid algorithm signature of text by the certificate's key."""
    key = x509.load_der_x509_certificate(certificate).public_key()
    if algorithm == "rsa-pkcs1v15-sha256":
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(signature, text, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert algorithm == "ecdsa-p256-sha256" and isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, text, ec.ECDSA(hashes.SHA256()))  # DER, as the portal gets it


def check_login(fields: dict[str, str], nonce: str | None = None, origin: str = PORTAL) -> bytes:
    """Check a successful post back as the portal would; the text that was signed."""
    assert "error" not in fields, fields
    assert set(fields) <= set(protocol.RESPONSE_FIELDS)
    if nonce:
        assert fields["nonce"] == nonce
    protocol.parse_timestamp(fields["signed_at"])
    text = protocol.signed_text(origin, fields["nonce"], fields["card_type"], fields["reader_type"],
                                fields["signed_at"], fields.get("nhi_card", ""))
    if fields["card_type"] not in protocol.PASSWORD_CARDS:
        verify(protocol.b64decode(fields["signature"]), fields["algorithm"],
               protocol.b64decode(fields["certificate"]), text)
    verify(protocol.b64decode(fields["module_signature"]), fields["module_algorithm"],
           protocol.b64decode(fields["module_certificate"]), text)
    return text
