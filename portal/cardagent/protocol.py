"""The login protocol between the portal and the card agent (DESIGN.md §5), shared by both sides.

Pure data and functions only: the agent runs on the clinic PC and imports this
module, never the portal's Flask code.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime

TEXT_VERSION = "NHI-VPN-LOGIN/1"
AGENT_PATH_SIGN = "/v1/sign"
AGENT_PATH_STATUS = "/v1/status"
DEFAULT_AGENT_PORT = 17777

CARD_TYPES = ("medical-staff", "nhi", "citizen", "medical-org", "government")
READER_TYPES = ("nhi-reader", "chip-reader")
# Which reader takes which card (seed 000 網站使用說明 > 電腦設定 STEP 2).
READER_CARDS = {
    "nhi-reader": ("medical-staff", "nhi", "medical-org"),
    "chip-reader": ("medical-staff", "citizen", "medical-org", "government"),
}
# Cards without a PKI key: the portal asks for its own password instead (健保卡).
PASSWORD_CARDS = ("nhi",)

ALGORITHMS = ("rsa-pkcs1v15-sha256", "ecdsa-p256-sha256")
MAX_FIELD_BYTES = 16 * 1024  # a certificate or signature larger than this is refused unread

# Fields the portal posts to the agent (POST /v1/sign, a top-level form navigation).
REQUEST_FIELDS = ("return_url", "nonce", "card_type", "reader_type", "portal_name")

# Fields the agent posts back to return_url (a self-submitting form on the agent's page).
RESPONSE_FIELDS = (
    "nonce", "card_type", "reader_type", "signed_at", "agent_version", "error",
    "certificate", "signature", "algorithm",                          # the person's (or institution's) card
    "module_certificate", "module_signature", "module_algorithm",   # the institution's security module
    "nhi_card",                                                       # 健保卡 basic data (no PKI key on it)
)

# error codes the agent may send instead of signatures, with what the portal tells the user
ERRORS = {
    "agent_error": "讀卡元件發生錯誤，請重新啟動讀卡元件後再試。",
    "reader_missing": "未偵測到讀卡機，請確認讀卡機已連接電腦。",
    "card_absent": "未插卡，請將卡片插入讀卡機後再試。",
    "wrong_card_type": "插入的卡片與所選的憑證種類不符。",
    "wrong_reader": "所選的讀卡機無法讀取這種卡片。",
    "pin_blocked": "卡片已鎖住（PIN 碼錯誤次數過多），請洽發卡單位解鎖。",
    "cancelled": "您已取消登入。",
    "module_missing": "找不到安全模組：健保讀卡機請插入安全模組卡，晶片讀卡機請安裝雲端安全模組。",
    "card_removed": "讀取過程中卡片被移除，請重新插卡後再試。",
}


MAX_URL = 2048
# Strict on purpose: where Python's urlsplit and a browser could read a URL differently (a
# backslash, spaces, userinfo), the agent might post a signature to a host it never checked.
URL_RE = re.compile(r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
                    r"(?P<rest>[/?][A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]*)?", re.ASCII | re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL, lowercase, default port left out; None if not one."""
    # The portal must compute the origin in signed_text the same way (from its PUBLIC_ORIGIN).
    match = URL_RE.fullmatch(url) if len(url) <= MAX_URL else None
    if not match:
        return None
    scheme, host = match["scheme"].lower(), match["host"].lower()
    port = int(match["port"]) if match["port"] else DEFAULT_PORTS[scheme]
    if not 0 < port < 65536 or host.startswith(".") or ".." in host:
        return None
    return f"{scheme}://{host}" + ("" if port == DEFAULT_PORTS[scheme] else f":{port}")


def utc_timestamp(moment: datetime | None = None) -> str:
    """The signed_at value: UTC, seconds, ISO 8601 with Z (2026-11-22T08:00:00Z)."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """Parse a signed_at value; ValueError when it is not exactly that form."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def signed_text(origin: str, nonce: str, card_type: str, reader_type: str, signed_at: str,
                nhi_card: str = "") -> bytes:
    """The exact bytes the card and the security module sign.

    The agent builds it itself (never signs text the portal sends), from the
    portal's origin and the transaction; 健保卡 logins add the card's basic data
    so the module signature binds it.
    """
    lines = [TEXT_VERSION, origin, nonce, card_type, reader_type, signed_at]
    if nhi_card:
        lines.append(nhi_card)
    for line in lines:
        if "\n" in line or "\r" in line:
            raise ValueError("a signed field may not contain a line break")
    return "\n".join(lines).encode("utf-8")


def b64encode(data: bytes) -> str:
    """Standard base64 text for form fields."""
    return base64.b64encode(data).decode("ascii")


class FieldTooLarge(ValueError):
    """A form field longer than any certificate or signature can be."""


def b64decode(text: str, limit: int = MAX_FIELD_BYTES) -> bytes:
    """Decode a base64 form field strictly; ValueError when malformed (FieldTooLarge when too long)."""
    if len(text) > 4 * -(-limit // 3):
        raise FieldTooLarge("field too large")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None
    if len(data) > limit:
        raise FieldTooLarge("field too large")
    return data


def nhi_card_field(card_no: str, name: str, national_id: str, birth_roc: str, sex: str) -> str:
    """健保卡 basic data as one field: card number|name|ID|birth (YYYMMDD)|sex (M/F)."""
    return "|".join((card_no, name, national_id, birth_roc, sex))


def parse_nhi_card(field: str) -> dict:
    """The inverse of nhi_card_field; ValueError when it does not have five parts."""
    parts = field.split("|")
    if len(parts) != 5:
        raise ValueError("nhi_card must have five fields")
    return dict(zip(("card_no", "name", "national_id", "birth_roc", "sex"), parts, strict=True))
