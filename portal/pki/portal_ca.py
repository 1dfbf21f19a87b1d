"""The portal's own CA: it signs the 雲端安全模組 certificates it issues (SPEC L6).

Created on first use under PKI_DIR/portal-ca (key readable by the portal only).
Revocation of these modules is checked against the module registry (the
security_module table), not a CRL, so a revoked module stops working at once.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from portal.pki import testca

CA_NAME = "NHI VPN Portal Security Module CA"
MODULE_YEARS = 5


def _paths(pki_dir) -> tuple[Path, Path]:
    folder = Path(pki_dir) / "portal-ca"
    return folder / "ca.pem", folder / "ca-key.pem"


def load_or_create(pki_dir) -> testca.Authority:
    """The portal CA, generated the first time (self-signed, EC P-256, 20 years)."""
    cert_path, key_path = _paths(pki_dir)
    if not cert_path.exists():
        cert_path.parent.mkdir(parents=True, exist_ok=True)
        ca = testca.create_root(CA_NAME, days=20 * 365)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(ca.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        cert_path.write_bytes(ca.pem)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return testca.Authority(cert, key)


def is_portal_ca(cert: x509.Certificate, pki_dir) -> bool:
    """Whether cert is the portal CA's own certificate."""
    cert_path, _ = _paths(pki_dir)
    return cert_path.exists() and x509.load_pem_x509_certificate(cert_path.read_bytes()) == cert


def issue_module(ca: testca.Authority, *, institution_code: str, institution_name: str,
                 module_no: str) -> testca.Issued:
    """A module certificate: serialNumber = institution code, CN = module number."""
    return testca.issue(ca, serial=institution_code, o=institution_name, cn=module_no, key_kind="ec",
                        not_before=datetime.now(UTC) - timedelta(minutes=5), days=MODULE_YEARS * 365)


def package(module: testca.Issued, *, module_no: str, institution_name: str) -> bytes:
    """The download: a ZIP the card agent installs (module-cert.pem, module-key.pem, 說明)."""
    readme = (
        f"雲端安全模組 {module_no}（{institution_name}）\r\n\r\n"
        "安裝：將本壓縮檔解壓縮到讀卡元件設定的 CLOUD_MODULE 資料夾（內含 module-cert.pem 與\r\n"
        "module-key.pem），再重新啟動讀卡元件。同一組模組可安裝於本機構的每一台電腦。\r\n"
        "module-key.pem 是私密金鑰，請勿提供給機構以外的人；遺失時請於網站申請撤銷並重新申請。\r\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("module-cert.pem", module.cert_pem)
        archive.writestr("module-key.pem", module.key_pem)
        archive.writestr("README.txt", readme.encode("utf-8"))
    return buffer.getvalue()


