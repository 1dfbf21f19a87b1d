"""Signing helpers shared by the backends, and the 雲端安全模組 (a certificate + key in a folder)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from portal.cardagent.backend import AgentError, Module

RSA_SHA256, ECDSA_P256_SHA256 = "rsa-pkcs1v15-sha256", "ecdsa-p256-sha256"
# DER prefix of a DigestInfo for SHA-256 (RFC 8017 §9.2 note 1): what an RSA card pads and signs.
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_KEYS: dict[bytes, object] = {}
_KEYS_LOCK = threading.Lock()


def algorithm_of(public_key) -> str:
    """The protocol's algorithm name for a key; AgentError for keys the protocol does not know."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return RSA_SHA256
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
        return ECDSA_P256_SHA256
    raise AgentError("agent_error", detail=f"unsupported key {type(public_key).__name__}")


def certificate_algorithm(der: bytes) -> str:
    """The algorithm of the key a DER certificate certifies."""
    try:
        return algorithm_of(x509.load_der_x509_certificate(der).public_key())
    except ValueError:
        raise AgentError("agent_error", detail="unreadable certificate") from None


def digest_info(data: bytes) -> bytes:
    """DigestInfo(SHA-256(data)): the input of PSO for RSA cards."""
    return SHA256_DIGEST_INFO + hashlib.sha256(data).digest()


def raw_to_der(raw: bytes) -> bytes:
    """An ECDSA P-256 signature as the card returns it (r ‖ s, 64 bytes) in DER, as the portal expects."""
    if len(raw) != 64:
        raise AgentError("agent_error", detail=f"ECDSA signature of {len(raw)} bytes")
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def sign_with_key(key, data: bytes) -> tuple[bytes, str]:
    """Sign data with a private key the way a card would (PKCS#1 v1.5 or DER ECDSA, SHA-256)."""
    algorithm = algorithm_of(key.public_key())
    if algorithm == RSA_SHA256:
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256()), algorithm
    return key.sign(data, ec.ECDSA(hashes.SHA256())), algorithm


def load_key(path: Path):
    """A PEM private key file, parsed once per content."""
    # cryptography checks an RSA key when loading it (~0.1 s for 2048 bits): uncached, that
    # check would be most of a soft login.
    pem = path.read_bytes()
    ident = hashlib.sha256(pem).digest()
    with _KEYS_LOCK:
        key = _KEYS.get(ident)
    if key is None:
        key = serialization.load_pem_private_key(pem, None)
        with _KEYS_LOCK:
            if len(_KEYS) > 64:
                _KEYS.clear()
            _KEYS[ident] = key
    return key


def holder_from_certificate(der: bytes) -> str:
    """The name to show for a certificate: CN (people), else O (institutions)."""
    cert = x509.load_der_x509_certificate(der)
    for oid in (x509.NameOID.COMMON_NAME, x509.NameOID.ORGANIZATION_NAME):
        values = cert.subject.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return ""


class CloudModule(Module):
    """The 雲端安全模組: module-cert.pem + module-key.pem downloaded from the portal."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        try:
            cert = x509.load_pem_x509_certificate((folder / "module-cert.pem").read_bytes())
            self._key = load_key(folder / "module-key.pem")
        except (OSError, ValueError, TypeError):
            raise AgentError("module_missing", detail=f"no cloud module in {folder}") from None
        self._der = cert.public_bytes(serialization.Encoding.DER)

    def certificate(self) -> bytes:
        """The module certificate (DER)."""
        return self._der

    def sign(self, data: bytes) -> tuple[bytes, str]:
        """Sign with the module key."""
        return sign_with_key(self._key, data)


def cloud_module_installed(folder: str | Path) -> bool:
    """Whether both cloud module files are there (the status page does not parse them)."""
    return (Path(folder) / "module-cert.pem").is_file() and (Path(folder) / "module-key.pem").is_file()
