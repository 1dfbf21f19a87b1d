"""TEST certificate authorities and cards, generated with `cryptography`.

Used by the test suite (fresh CAs per session) and by `flask issue-demo-cards`
for the demo. Every name contains "TEST" so nobody mistakes them for real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class Authority:
    """A CA: its certificate and key (root or intermediate)."""

    cert: x509.Certificate
    key: Key

    @property
    def pem(self) -> bytes:
        """The CA certificate as PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Issued:
    """A leaf certificate and its private key."""

    cert: x509.Certificate
    key: Key

    @property
    def der(self) -> bytes:
        """The certificate as DER (what a card holds)."""
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def cert_pem(self) -> bytes:
        """The certificate as PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def new_key(kind: str = "rsa") -> Key:
    """An RSA-2048 or EC P-256 private key."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(**attrs) -> x509.Name:
    """An X.509 name from keyword attributes (cn, o, serial, c)."""
    oids = {"c": NameOID.COUNTRY_NAME, "o": NameOID.ORGANIZATION_NAME,
            "serial": NameOID.SERIAL_NUMBER, "cn": NameOID.COMMON_NAME}
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items() if v])


def _now() -> datetime:
    return datetime.now(UTC)


def create_root(common_name: str, days: int = 3650, not_before: datetime | None = None) -> Authority:
    """A self-signed root CA (name should contain TEST)."""
    key = new_key("ec")
    name = _name(c="TW", o="TEST PKI", cn=common_name)
    start = not_before or _now() - timedelta(days=1)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(cert, key)


def create_intermediate(parent: Authority, common_name: str, days: int = 1825) -> Authority:
    """An intermediate CA under parent."""
    key = new_key("ec")
    start = _now() - timedelta(days=1)
    cert = (
        x509.CertificateBuilder().subject_name(_name(c="TW", o="TEST PKI", cn=common_name))
        .issuer_name(parent.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_aki(parent), critical=False)
        .sign(parent.key, hashes.SHA256())
    )
    return Authority(cert, key)


def issue(ca: Authority, *, serial: str, cn: str = "", o: str = "", key_kind: str = "rsa",
          not_before: datetime | None = None, days: int = 730, digital_signature: bool = True,
          key: Key | None = None) -> Issued:
    """A card or module certificate in this portal's profile (see portal.pki.profiles)."""
    key = key or new_key(key_kind)
    start = not_before or _now() - timedelta(days=1)
    usage = x509.KeyUsage(digital_signature=digital_signature, content_commitment=digital_signature,
                          key_encipherment=not digital_signature, data_encipherment=False, key_agreement=False,
                          key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)
    cert = (
        x509.CertificateBuilder().subject_name(_name(c="TW", o=o, serial=serial, cn=cn))
        .issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(_aki(ca), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert, key)


def self_signed(*, serial: str, cn: str = "", o: str = "") -> Issued:
    """A leaf that signs itself (must never be accepted)."""
    key = new_key("rsa")
    name = _name(c="TW", o=o, serial=serial, cn=cn)
    start = _now() - timedelta(days=1)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def crl(ca: Authority, revoked: list[x509.Certificate] = (), days: int = 7) -> x509.CertificateRevocationList:
    """A CRL of ca listing the given certificates as revoked."""
    now = _now()
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
               .last_update(now - timedelta(minutes=1)).next_update(now + timedelta(days=days)))
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build())
    return builder.sign(ca.key, hashes.SHA256())


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)


def _aki(ca: Authority) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.cert.public_key())
