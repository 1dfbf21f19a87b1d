"""The HIS upload API's signatures (SPEC U2): what the security module signs, and replay protection.

A HIS program signs, with the institution's security module (SAM or 雲端安全模組),
  NHI-VPN-UPLOAD/1\\n<institution code>\\n<action>\\n<SHA-256 of the body, hex>\\n<UTC time>\\n<nonce>
where action is "ic" (daily upload), "ic_precheck" (預檢) or "status:<收件序號>". The
portal verifies the module certificate and signature exactly as at login, accepts
a time within SIGNED_AT_SKEW_SECONDS and each nonce once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import IntegrityError

from portal.cardagent import protocol
from portal.db import database
from portal.logic import login
from portal.models.base import utcnow
from portal.models.uploads import ApiNonce

PREFIX = "NHI-VPN-UPLOAD/1"
HEADERS = {"certificate": "X-NHI-Module-Certificate", "signature": "X-NHI-Signature",
           "algorithm": "X-NHI-Algorithm", "timestamp": "X-NHI-Timestamp", "nonce": "X-NHI-Nonce",
           "institution": "X-NHI-Institution"}
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NONCE_KEEP = timedelta(hours=1)


class ApiError(Exception):  # noqa: N818 - reads as "raise ApiError(401, …)"
    """A refused API request: HTTP status, a code for logs and scripts, a zh-TW message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Signed:
    """The signature headers of one request."""

    certificate: str
    signature: str
    algorithm: str
    timestamp: str
    nonce: str
    institution: str


def signed_text(institution: str, action: str, body_sha256: str, timestamp: str, nonce: str) -> bytes:
    """The exact bytes the module signs."""
    return "\n".join((PREFIX, institution, action, body_sha256, timestamp, nonce)).encode("ascii")


def read_headers(headers) -> Signed:
    """The signature headers, or ApiError 401 naming what is missing."""
    values = {key: (headers.get(name) or "").strip() for key, name in HEADERS.items()}
    missing = [HEADERS[key] for key, value in values.items() if not value]
    if missing:
        raise ApiError(401, "unsigned", f"缺少安全模組簽章欄位：{'、'.join(missing)}。")
    if not _NONCE.match(values["nonce"]):
        raise ApiError(400, "nonce", "X-NHI-Nonce 須為 16 至 64 個英數字、底線或連字號。")
    if not re.fullmatch(r"[0-9A-Z]{10}", values["institution"]):
        raise ApiError(400, "institution", "X-NHI-Institution 須為 10 碼醫事機構代號。")
    return Signed(**values)


def verify(config, signed: Signed, action: str, body_sha256: str, now: datetime | None = None):
    """Check time, certificate, signature and institution: returns (institution, module number)."""
    now = now or utcnow()
    try:
        moment = protocol.parse_timestamp(signed.timestamp).replace(tzinfo=None)
    except ValueError:
        raise ApiError(401, "time", "X-NHI-Timestamp 格式錯誤，應為 UTC 時間，例如 2026-11-23T08:00:00Z。") from None
    if abs((now - moment).total_seconds()) > config["SIGNED_AT_SKEW_SECONDS"]:
        raise ApiError(401, "time", "簽章時間與伺服器時間相差過大，請校正電腦時間後重送。")
    text = signed_text(signed.institution, action, body_sha256, signed.timestamp, signed.nonce)
    fields = {"module_certificate": signed.certificate, "module_signature": signed.signature,
              "module_algorithm": signed.algorithm}
    try:
        institution, module_no = login.verify_module(config, fields, text, now)
    except login.LoginError as error:
        raise ApiError(401, error.code, f"安全模組簽章驗證失敗：{error}") from None
    if institution.code != signed.institution:
        raise ApiError(403, "institution", "安全模組不屬於 X-NHI-Institution 所示之醫事機構。")
    return institution, module_no


def use_nonce(nonce: str, now: datetime | None = None) -> None:
    """Accept a nonce once; a replay is ApiError 409. Old nonces are forgotten (their time is out of skew)."""
    now = now or utcnow()
    try:
        with database.atomic():
            ApiNonce.create(nonce=nonce, seen_at=now)
    except IntegrityError:
        raise ApiError(409, "replay", "此請求已處理過（重複的 X-NHI-Nonce），請勿重送相同請求。") from None
    ApiNonce.delete().where(ApiNonce.seen_at < now - NONCE_KEEP).execute()
