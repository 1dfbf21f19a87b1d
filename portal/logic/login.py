"""Card login on the portal side (DESIGN.md §5): transactions, callback verification, 健保卡 password.

The view layer only moves fields and cookies; every decision is here, with the
clock passed in so expiry can be tested.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509

from portal.cardagent import protocol
from portal.logic import authority, national_id, passwords, throttle
from portal.logic.roc_dates import DateInputError, parse_date, roc_datetime, to_taipei
from portal.models.authority import Institution, PasswordCredential, Person
from portal.models.base import utcnow
from portal.models.modules import SecurityModule
from portal.models.sessions import LoginTransaction
from portal.pki import portal_ca
from portal.pki.crl import Revocation
from portal.pki.profiles import INSTITUTION_CARDS, holder_of
from portal.pki.verify import CertificateError, load_trust, verify_certificate, verify_signature

MESSAGES = {
    "missing": "登入資料不完整，請重新登入。",
    "unknown": "找不到這個登入請求，或已經使用過，請重新登入。",
    "expired": "登入逾時（超過 2 分鐘），請重新登入。",
    "cookie": "無法確認登入請求來自這個瀏覽器，請重新登入（請勿切換瀏覽器或分頁）。",
    "card_type": "卡片種類與登入時選擇的不符，請重新登入。",
    "time": "電腦時間與伺服器相差過大，請校正電腦時間後再登入。",
    "no_module": "未收到安全模組的簽章，請確認安全模組已安裝。",
    "module_revoked": "此雲端安全模組已撤銷，請重新申請。",
    "module_unknown": "安全模組所屬的機構不在本系統，請洽聯絡窗口。",
    "institution_mismatch": "機構卡與安全模組不屬於同一個機構。",
    "person_unknown": "您尚未被設定為本機構的管理者或使用者，請洽機構管理者。",
    "no_access": "您在本機構的權限已停用或尚未生效，請洽機構管理者。",
    "nhi_card": "健保卡資料不完整或格式錯誤，請重新插卡後再試。",
    "password": "密碼錯誤。",
    "locked": "密碼錯誤次數過多，帳號已暫停使用，請於 {until} 後再試。",
    "throttled": "這台電腦的登入失敗次數過多，請稍後再試。",
}


class LoginError(ValueError):
    """A refused login step: `code` for the audit log, str() for the user."""

    def __init__(self, code: str, message: str | None = None, **detail):
        super().__init__(message or MESSAGES.get(code) or protocol.ERRORS.get(code, MESSAGES["missing"]))
        self.code = code
        self.detail = detail


@dataclass
class Verified:
    """Who the callback proved: institution, and a person or the institution's representative."""

    institution: Institution
    person: Person | None
    representative: bool
    card_type: str
    certificate_serial: str = ""
    module_no: str = ""

    @property
    def needs_password(self) -> bool:
        """健保卡 logins continue on the portal's password page."""
        return self.card_type in protocol.PASSWORD_CARDS


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def safe_next(url: str | None) -> str | None:
    """A page of this site to return to after login; anything else (other hosts, //, \\) is dropped."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url and len(url) <= 500:
        return url
    return None


def start(config, card_type: str, reader_type: str, ip: str, now: datetime | None = None,
          next_url: str | None = None) -> tuple[LoginTransaction, str]:
    """A new transaction and the token for its dedicated cookie."""
    if card_type not in protocol.CARD_TYPES or reader_type not in protocol.READER_TYPES:
        raise LoginError("missing", "請選擇憑證種類與讀卡機種類。")
    if card_type not in protocol.READER_CARDS[reader_type]:
        raise LoginError("wrong_reader")
    now = now or utcnow()
    cookie = secrets.token_urlsafe(32)
    tx = LoginTransaction.create(
        nonce=secrets.token_urlsafe(32), cookie_hash=_hash(cookie), card_type=card_type, reader_type=reader_type,
        ip=ip, created_at=now, expires_at=now + timedelta(seconds=config["LOGIN_TRANSACTION_SECONDS"]),
        detail=json.dumps({"next": safe_next(next_url)}))
    return tx, cookie


def consume(nonce: str, cookie: str | None, now: datetime | None = None, state: str = "started") -> LoginTransaction:
    """Take a transaction out of play (single use) and check it belongs to this browser and is fresh."""
    if not nonce:
        raise LoginError("missing")
    claimed = (LoginTransaction.update(state="used")
               .where((LoginTransaction.nonce == nonce) & (LoginTransaction.state == state)).execute())
    if not claimed:
        raise LoginError("unknown")
    tx = LoginTransaction.get(LoginTransaction.nonce == nonce)
    if not cookie or not hmac.compare_digest(tx.cookie_hash, _hash(cookie)):
        raise LoginError("cookie", card_type=tx.card_type)
    if (now or utcnow()) > tx.expires_at:
        raise LoginError("expired", card_type=tx.card_type)
    return tx


def verify_callback(config, form, tx: LoginTransaction, origin: str, now: datetime | None = None) -> Verified:
    """Check everything the agent sent back (DESIGN.md §5 step 4) and say who logged in."""
    now = now or utcnow()
    if form.get("error"):
        raise LoginError(form["error"] if form["error"] in protocol.ERRORS else "agent_error")
    if form.get("card_type") != tx.card_type or form.get("reader_type") != tx.reader_type:
        raise LoginError("card_type")
    try:
        signed_at = protocol.parse_timestamp(form.get("signed_at", ""))
    except ValueError:
        raise LoginError("missing") from None
    if abs((signed_at.replace(tzinfo=None) - now).total_seconds()) > config["SIGNED_AT_SKEW_SECONDS"]:
        raise LoginError("time")
    text = protocol.signed_text(origin, tx.nonce, tx.card_type, tx.reader_type, form["signed_at"],
                                form.get("nhi_card", "") if tx.card_type in protocol.PASSWORD_CARDS else "")
    context = _Checks(config, now)
    institution, module_no = context.module(form, text)
    try:
        return _card_holder(context, form, text, tx, institution, module_no, now)
    except LoginError as error:
        # The module told us where this PC is: the refusal belongs in that institution's log.
        error.detail.setdefault("institution_id", institution.id)
        raise


def _card_holder(context, form, text: bytes, tx: LoginTransaction, institution: Institution, module_no: str,
                 now: datetime) -> Verified:
    """Who the card says logged in, at the module's institution."""
    if tx.card_type in protocol.PASSWORD_CARDS:
        return Verified(institution, _nhi_person(form, institution, now), False, tx.card_type, "", module_no)
    cert = context.card(form, text, tx.card_type)
    holder = holder_of(cert)
    serial = format(cert.serial_number, "x")
    if tx.card_type in INSTITUTION_CARDS:
        if holder.serial != institution.code:
            raise LoginError("institution_mismatch")
        return Verified(institution, None, True, tx.card_type, serial, module_no)
    person = _person_with_access(holder.serial, institution, now)
    return Verified(institution, person, False, tx.card_type, serial, module_no)


def verify_module(config, fields: dict, text: bytes, now: datetime | None = None) -> tuple[Institution, str]:
    """A security module's signature over text, checked exactly as at login: (institution, module number).

    fields: module_certificate, module_signature (base64) and module_algorithm; raises LoginError.
    """
    return _Checks(config, now or utcnow()).module(fields, text)


class _Checks:
    """Certificate and signature checks with one trust configuration and clock."""

    def __init__(self, config, now: datetime):
        self.pki_dir = config["PKI_DIR"]
        self.trust = load_trust(self.pki_dir)
        self.now = now.replace(tzinfo=UTC)
        self.crls = Revocation(self.now, required=config["CRL_REQUIRED"])

    def revoked(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool | None:
        """Portal-issued modules: the registry decides; everything else: the CRLs."""
        if portal_ca.is_portal_ca(issuer, self.pki_dir):
            module_no = holder_of(cert).name
            return not SecurityModule.select().where(
                (SecurityModule.module_no == module_no) & (SecurityModule.status == "issued")).exists()
        return self.crls(cert, issuer)

    def checked(self, form, field: str, kind: str, text: bytes, algorithm_field: str) -> x509.Certificate:
        """Verify a certificate field for a kind and the signature next to it."""
        try:
            der = protocol.b64decode(form.get(field, ""))
            signature = protocol.b64decode(form.get(field.replace("certificate", "signature"), ""))
            cert, _ = verify_certificate(der, kind, self.trust, self.revoked, self.now)
            verify_signature(cert, text, signature, form.get(algorithm_field, ""))
        except protocol.FieldTooLarge:
            raise LoginError("too_large", str(CertificateError("too_large")), field=field) from None
        except CertificateError as error:
            raise LoginError(error.code, str(error), field=field) from None
        except ValueError:
            raise LoginError("missing", field=field) from None
        return cert

    def module(self, form, text: bytes) -> tuple[Institution, str]:
        """The security module's institution (and module number), after its checks."""
        if not form.get("module_certificate") or not form.get("module_signature"):
            raise LoginError("no_module")
        try:
            cert = self.checked(form, "module_certificate", "module", text, "module_algorithm")
        except LoginError as error:
            raise LoginError("module_revoked") if error.code == "revoked" else error from None
        holder = holder_of(cert)
        institution = Institution.get_or_none(Institution.code == holder.serial)
        if institution is None:
            raise LoginError("module_unknown")
        return institution, holder.name

    def card(self, form, text: bytes, card_type: str) -> x509.Certificate:
        """The card certificate checked against the anchors of its card type."""
        if not form.get("certificate") or not form.get("signature"):
            raise LoginError("missing")
        return self.checked(form, "certificate", card_type, text, "algorithm")


def _person_with_access(national_id_value: str, institution: Institution, now: datetime) -> Person:
    """The person a certificate names, if they hold an active role at the institution."""
    person = Person.get_or_none(Person.national_id == national_id_value)
    if person is None:
        raise LoginError("person_unknown")
    access = authority.access_for(institution.id, person.id, False, _today(now))
    if not access.any:
        raise LoginError("no_access", person_id=person.id)
    return person


def _nhi_person(form, institution: Institution, now: datetime) -> Person:
    """The person on a 健保卡, checked against what the portal knows of them."""
    try:
        card = protocol.parse_nhi_card(form.get("nhi_card", ""))
        birth = parse_date(card["birth_roc"])
    except (ValueError, DateInputError):
        raise LoginError("nhi_card") from None
    if national_id.problem(card["national_id"]):
        raise LoginError("nhi_card")
    person = _person_with_access(card["national_id"], institution, now)
    if person.birth_date != birth:
        raise LoginError("nhi_card")
    return person


def hold_for_password(tx: LoginTransaction, verified: Verified, now: datetime | None = None) -> None:
    """Keep a 健保卡 login open (2 minutes) until the password page answers."""
    now = now or utcnow()
    detail = {**json.loads(tx.detail or "{}"), "module_no": verified.module_no}
    LoginTransaction.update(
        state="password", person=verified.person, institution=verified.institution,
        detail=json.dumps(detail), expires_at=now + timedelta(minutes=2),
    ).where(LoginTransaction.id == tx.id).execute()


def awaiting_password(cookie: str | None, now: datetime | None = None) -> LoginTransaction | None:
    """The 健保卡 login of this browser that waits for its password, if still fresh."""
    if not cookie:
        return None
    tx = LoginTransaction.get_or_none((LoginTransaction.cookie_hash == _hash(cookie))
                                      & (LoginTransaction.state == "password"))
    return tx if tx is not None and tx.expires_at >= (now or utcnow()) else None


def check_password(config, tx: LoginTransaction, password: str, ip: str, now: datetime | None = None
                   ) -> PasswordCredential:
    """The 健保卡 portal password, with account lockout and a per-address throttle."""
    now = now or utcnow()
    person_key, ip_key = f"person:{tx.person_id}", f"ip:{ip}"
    until = throttle.locked_until(person_key, now)
    if until:
        raise LoginError("locked", MESSAGES["locked"].format(until=roc_datetime(until)))
    if throttle.locked_until(ip_key, now):
        raise LoginError("throttled")
    credential = PasswordCredential.get_or_none(PasswordCredential.person == tx.person_id)
    if credential and passwords.verify_password(password, credential.password_hash):
        throttle.clear(person_key)
        return credential
    failures = throttle.fail(person_key, limit=config["LOGIN_LOCK_FAILURES"], window_seconds=config["LOGIN_LOCK_SECONDS"],
                             lock_seconds=config["LOGIN_LOCK_SECONDS"], now=now)
    throttle.fail(ip_key, limit=config["IP_FAILURE_LIMIT"], window_seconds=config["LOGIN_LOCK_SECONDS"],
                  lock_seconds=config["LOGIN_LOCK_SECONDS"], now=now)
    left = config["LOGIN_LOCK_FAILURES"] - failures
    if left <= 0:
        raise LoginError("locked", MESSAGES["locked"].format(
            until=roc_datetime(now + timedelta(seconds=config["LOGIN_LOCK_SECONDS"]))))
    minutes = config["LOGIN_LOCK_SECONDS"] // 60
    raise LoginError("password", f"密碼錯誤，再錯 {left} 次帳號將暫停使用 {minutes} 分鐘。")


def _today(now: datetime):
    """Taipei's date at a UTC moment."""
    return to_taipei(now).date()
