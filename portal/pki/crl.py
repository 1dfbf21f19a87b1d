"""Certificate revocation lists: fetched by a scheduled job, verified, cached in the database."""

from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from portal.models.base import utcnow
from portal.models.pki import CrlCache
from portal.pki.verify import Trust

log = logging.getLogger(__name__)
MAX_CRL_BYTES = 20 * 1024 * 1024
# A CRL past its nextUpdate still counts for this long (the job runs hourly; CAs publish late).
GRACE = timedelta(hours=24)


@dataclass
class FetchResult:
    """What refreshing one source did."""

    source: str
    issuer: str = ""
    revoked: int = 0
    error: str = ""


def fetch(source: str) -> bytes:
    """The bytes of a CRL from an http(s) URL or a local file path."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=20) as response:  # noqa: S310 (configured URLs only)
            data = response.read(MAX_CRL_BYTES + 1)
    else:
        data = Path(source).read_bytes()[:MAX_CRL_BYTES + 1]
    if len(data) > MAX_CRL_BYTES:
        raise ValueError("CRL too large")
    return data


def parse(data: bytes) -> x509.CertificateRevocationList:
    """A CRL in DER or PEM."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def sources(config) -> list[str]:
    """Every configured CRL: the files of CRL_DIR, then CRL_URLS."""
    folder = Path(config["CRL_DIR"])
    files = sorted(str(p) for p in folder.glob("*") if p.suffix in (".crl", ".pem")) if folder.is_dir() else []
    return files + list(config["CRL_URLS"])


def refresh(locations: list[str], trust: Trust) -> list[FetchResult]:
    """Fetch every source, keep each CRL whose signature a known CA verifies and that is newer."""
    results = []
    for source in locations:
        result = FetchResult(source)
        try:
            crl = parse(fetch(source))
            issuer = _issuer_cert(crl, trust)
            if issuer is None or not crl.is_signature_valid(issuer.public_key()):
                raise ValueError("CRL not signed by a configured CA")
            result.issuer, result.revoked = crl.issuer.rfc4514_string(), len(crl)
            _store(crl, source)
        except (OSError, ValueError) as error:
            result.error = str(error)
            log.warning("CRL %s not refreshed: %s", source, error)
        results.append(result)
    return results


def _issuer_cert(crl: x509.CertificateRevocationList, trust: Trust) -> x509.Certificate | None:
    """The configured CA whose name issued the CRL."""
    for cert in [*trust.intermediates, *(c for certs in trust.anchors.values() for c in certs)]:
        if cert.subject == crl.issuer:
            return cert
    return None


def _store(crl: x509.CertificateRevocationList, source: str) -> None:
    """Keep the CRL unless the cache holds a newer one (equal thisUpdate: the latest fetch wins)."""
    issuer = crl.issuer.rfc4514_string()
    this_update = crl.last_update_utc.replace(tzinfo=None)
    next_update = crl.next_update_utc.replace(tzinfo=None) if crl.next_update_utc else None
    row = CrlCache.get_or_none(CrlCache.issuer == issuer)
    if row and row.this_update > this_update:
        return
    fields = dict(source=source, der=crl.public_bytes(Encoding.DER), this_update=this_update,
                  next_update=next_update, fetched_at=utcnow())
    if row is None:
        CrlCache.create(issuer=issuer, **fields)
    else:
        CrlCache.update(**fields).where(CrlCache.id == row.id).execute()


class Revocation:
    """Answers 'is this certificate revoked?' from the cached CRLs (True / False / None = unknown)."""

    def __init__(self, now: datetime | None = None, required: bool = True):
        self.now = now or datetime.now(UTC)
        self.required = required
        self._crls: dict[str, x509.CertificateRevocationList | None] = {}

    def __call__(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool | None:
        crl = self._crl_for(issuer)
        if crl is None:
            return None if self.required else False
        return crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None

    def _crl_for(self, issuer: x509.Certificate) -> x509.CertificateRevocationList | None:
        """The cached, verified, current CRL of an issuer."""
        name = issuer.subject.rfc4514_string()
        if name not in self._crls:
            self._crls[name] = None
            row = CrlCache.get_or_none(CrlCache.issuer == name)
            if row is not None:
                crl = x509.load_der_x509_crl(bytes(row.der))
                fresh = crl.next_update_utc is None or crl.next_update_utc + GRACE >= self.now
                if fresh and crl.is_signature_valid(issuer.public_key()):
                    self._crls[name] = crl
        return self._crls[name]
