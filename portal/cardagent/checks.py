"""Checks on every request: Host, Origin, return_url, the form fields of POST /v1/sign."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from portal.cardagent import protocol
from portal.cardagent.protocol import origin_of  # noqa: F401 (re-exported for the agent config)

MAX_BODY_BYTES = 64 * 1024
NONCE_RE = re.compile(r"[A-Za-z0-9_\-+/=.~]{16,256}", re.ASCII)
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class Refused(Exception):
    """A request the agent answers with its own error page (never a post back)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def check_host(host: str | None, port: int) -> None:
    """Only 127.0.0.1:<port> or localhost:<port>: another name pointing here is DNS rebinding."""
    if (host or "").lower() not in (f"127.0.0.1:{port}", f"localhost:{port}"):
        raise Refused(403, "這個網址不是讀卡元件的位址。")


def check_origin(origin: str | None, allowed: set[str]) -> None:
    """The Origin header, when a browser sends one, must be allowed (IE11 sends none on forms)."""
    if origin is not None and origin not in allowed:
        raise Refused(403, "這個網站不在讀卡元件允許的入口網站清單中。")


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; a field given twice is refused."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body),
                          max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "請求的內容格式不正確。") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise Refused(400, "請求的欄位重複。")
    return fields


@dataclass(frozen=True)
class SignRequest:
    """A checked POST /v1/sign."""

    return_url: str
    origin: str
    nonce: str
    card_type: str
    reader_type: str
    portal_name: str

    def fields(self) -> dict[str, str]:
        """The request fields again (for 重試, which re-posts them to the agent)."""
        return {name: getattr(self, name) for name in protocol.REQUEST_FIELDS}


def sign_request(fields: dict[str, str], allowed: set[str]) -> SignRequest:
    """Exactly REQUEST_FIELDS, known card and reader types, return_url on an allowed origin."""
    names = set(fields)
    if names != set(protocol.REQUEST_FIELDS):
        missing = sorted(set(protocol.REQUEST_FIELDS) - names)
        extra = sorted(names - set(protocol.REQUEST_FIELDS))
        raise Refused(400, f"請求欄位不正確（缺少：{'、'.join(missing) or '無'}；多餘：{'、'.join(extra) or '無'}）。")
    origin = origin_of(fields["return_url"])
    if origin is None:
        raise Refused(400, "返回網址格式不正確。")
    if origin not in allowed:
        raise Refused(403, "返回網址不在讀卡元件允許的入口網站清單中。")
    if fields["card_type"] not in protocol.CARD_TYPES or fields["reader_type"] not in protocol.READER_TYPES:
        raise Refused(400, "不支援的憑證種類或讀卡機種類。")
    if not NONCE_RE.fullmatch(fields["nonce"]):
        raise Refused(400, "登入交易代碼格式不正確。")
    name = fields["portal_name"].strip()
    if not name or len(name) > 100 or CONTROL_RE.search(name):
        raise Refused(400, "入口網站名稱不正確。")
    return SignRequest(fields["return_url"], origin, fields["nonce"], fields["card_type"],
                       fields["reader_type"], name)
