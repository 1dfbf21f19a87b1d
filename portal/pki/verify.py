"""Certificate path validation per card type, and signature checks (DESIGN.md §5 step 4).

Trust anchors are configured per card type as files under PKI_DIR:
  anchors/<kind>/*.pem   roots for medical-staff, medical-org (HCA), citizen (MOICA),
                         government (GCA), module (physical SAM cards)
  intermediates/*.pem    intermediate CAs of any hierarchy
  portal-ca/ca.pem       the portal's own CA, an anchor for 雲端安全模組 (kind "module")
The path itself is checked by cryptography's X.509 verifier; validity, key usage
and revocation are checked here so users get a precise message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import verification

from portal.cardagent.protocol import MAX_FIELD_BYTES

KINDS = ("medical-staff", "medical-org", "citizen", "government", "module")

MESSAGES = {
    "malformed": "憑證格式錯誤，無法讀取。",
    "too_large": "憑證資料過大。",
    "untrusted": "憑證不是由這種卡片的核發單位所簽發（或憑證鏈不完整）。",
    "expired": "憑證已過期，請向發卡單位換發新卡。",
    "not_yet_valid": "憑證尚未生效。",
    "key_usage": "此憑證不能用於數位簽章登入。",
    "revoked": "憑證已被廢止。",
    "no_crl": "暫時無法確認憑證是否已廢止（廢止清冊未更新），請稍後再試。",
    "bad_signature": "簽章驗證失敗，請重新登入。",
    "bad_algorithm": "不支援的簽章演算法。",
}


class CertificateError(ValueError):
    """A certificate or signature that is not accepted; `code` for the log, str() for the user."""

    def __init__(self, code: str):
        super().__init__(MESSAGES[code])
        self.code = code


@dataclass
class Trust:
    """Anchors per kind and the intermediates available for building paths."""

    anchors: dict[str, list[x509.Certificate]] = field(default_factory=dict)
    intermediates: list[x509.Certificate] = field(default_factory=list)

    def issuer_of(self, cert: x509.Certificate) -> x509.Certificate | None:
        """The CA certificate (anchor or intermediate) that issued cert, if known."""
        for candidate in [*self.intermediates, *(c for certs in self.anchors.values() for c in certs)]:
            if candidate.subject == cert.issuer:
                try:
                    cert.verify_directly_issued_by(candidate)
                except (ValueError, TypeError, InvalidSignature):
                    continue
                return candidate
        return None


_cache: dict[str, tuple[float, Trust]] = {}


def load_trust(pki_dir: str | os.PathLike) -> Trust:
    """The trust configuration under pki_dir, re-read when any of its files changes."""
    root = Path(pki_dir)
    files = sorted(root.glob("anchors/*/*.pem")) + sorted(root.glob("intermediates/*.pem")) + \
        sorted(root.glob("portal-ca/ca.pem"))
    stamp = sum(f.stat().st_mtime_ns + f.stat().st_size for f in files) + len(files)
    cached = _cache.get(str(root))
    if cached and cached[0] == stamp:
        return cached[1]
    trust = Trust({kind: [] for kind in KINDS})
    for f in files:
        certs = x509.load_pem_x509_certificates(f.read_bytes())
        if f.parent.name == "intermediates":
            trust.intermediates += certs
        elif f.parent.name == "portal-ca":
            trust.anchors["module"] += certs
        elif f.parent.name in trust.anchors:
            trust.anchors[f.parent.name] += certs
    _cache[str(root)] = (stamp, trust)
    return trust


def load_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate, refusing oversized or malformed input."""
    if len(der) > MAX_FIELD_BYTES:
        raise CertificateError("too_large")
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise CertificateError("malformed") from None


def verify_certificate(der: bytes, kind: str, trust: Trust, revocation, now: datetime | None = None
                       ) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """Check a card or module certificate for one kind; returns the leaf and its verified chain.

    `revocation(cert, issuer)` answers True (revoked), False, or None (no usable CRL).
    """
    now = now or datetime.now(UTC)
    cert = load_certificate(der)
    if now < cert.not_valid_before_utc:
        raise CertificateError("not_yet_valid")
    if now > cert.not_valid_after_utc:
        raise CertificateError("expired")
    anchors = trust.anchors.get(kind) or []
    if not anchors:
        raise CertificateError("untrusted")
    verifier = (verification.PolicyBuilder().store(verification.Store(anchors)).time(now)
                .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                                    ee_policy=verification.ExtensionPolicy.permit_all())
                .build_client_verifier())
    try:
        chain = verifier.verify(cert, trust.intermediates).chain
    except verification.VerificationError:
        raise CertificateError("untrusted") from None
    if not _signs(cert):
        raise CertificateError("key_usage")
    for child, issuer in zip(chain, chain[1:], strict=False):
        revoked = revocation(child, issuer)
        if revoked is None:
            raise CertificateError("no_crl")
        if revoked:
            raise CertificateError("revoked")
    return cert, chain


def _signs(cert: x509.Certificate) -> bool:
    """Whether the key usage allows digital signatures (absent key usage: no)."""
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    except x509.ExtensionNotFound:
        return False


def verify_signature(cert: x509.Certificate, data: bytes, signature: bytes, algorithm: str) -> None:
    """The signature over data by the certificate's key, or CertificateError('bad_signature')."""
    key = cert.public_key()
    try:
        if algorithm == "rsa-pkcs1v15-sha256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif algorithm == "ecdsa-p256-sha256" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise CertificateError("bad_algorithm")
    except InvalidSignature:
        raise CertificateError("bad_signature") from None
