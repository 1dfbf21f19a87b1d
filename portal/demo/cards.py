"""Demo PKI and cards: TEST CAs as trust anchors, soft-token cards for the card agent, modules.

Everything lands under the instance folder:
  PKI_DIR/anchors/…, intermediates/, crl/   what the portal trusts (TEST CAs only)
  PKI_DIR/test-cas/                         the TEST CAs' keys (to re-issue CRLs on later runs)
  INSTANCE_DIR/cards/*.toml + *.pem         soft cards the agent offers (docs/card-login.md §3)
  INSTANCE_DIR/cards/module-<code>/         each demo institution's issued 雲端安全模組
Re-running keeps existing CAs and cards and only refreshes the CRLs.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from portal.logic import modules
from portal.logic.audit import SYSTEM
from portal.logic.roc_dates import roc_compact
from portal.models.authority import Institution, Person
from portal.models.modules import SecurityModule
from portal.pki import testca

PIN = "123456"
CAS = {  # file stem: (common name, parent stem or None)
    "test-hca-root": ("TEST HCA Root CA", None),
    "test-hca2": ("TEST HCA2 醫事憑證管理中心", "test-hca-root"),
    "test-moica-root": ("TEST MOICA 內政部憑證管理中心", None),
    "test-gca-root": ("TEST GCA 政府憑證管理中心", None),
    "test-sam-root": ("TEST NHI SAM CA", None),
}
ANCHORS = {"medical-staff": "test-hca-root", "medical-org": "test-hca-root", "citizen": "test-moica-root",
           "government": "test-gca-root", "module": "test-sam-root"}
CARDS = [  # file stem, card type, issuing CA, holder (national ID or institution code), key kind
    ("taipei-org", "medical-org", "test-hca2", "3501200000", "rsa"),
    ("wang-staff", "medical-staff", "test-hca2", "A123456789", "rsa"),
    ("chen-citizen", "citizen", "test-moica-root", "F228001521", "ec"),
    ("lin-nhi", "nhi", None, "B220003458", None),
    ("kaoping-org", "medical-org", "test-hca2", "0702010015", "rsa"),
    ("huang-staff", "medical-staff", "test-hca2", "E120345676", "ec"),
]
CARD_NAMES = {"medical-org": "醫事機構卡", "medical-staff": "醫事人員卡", "citizen": "自然人憑證", "nhi": "健保卡"}


def issue_all(config, storage) -> list[str]:
    """Create whatever is missing and describe the demo logins."""
    pki = Path(config["PKI_DIR"])
    cards_dir = Path(config["INSTANCE_DIR"]) / "cards"
    authorities = _authorities(pki)
    _publish_trust(pki, authorities)
    lines = [f"信任錨點與憑證廢止清冊：{pki}"]
    for stem, card_type, ca_stem, holder, key_kind in CARDS:
        lines.append(_card(cards_dir, stem, card_type, authorities.get(ca_stem), holder, key_kind))
    for code in ("3501200000", "0702010015"):
        lines.append(_module(config, storage, cards_dir, code))
    default = cards_dir / "module"
    if not default.exists():
        shutil.copytree(cards_dir / "module-3501200000", default)
    return lines


def _authorities(pki: Path) -> dict[str, testca.Authority]:
    """The TEST CAs, loaded from test-cas/ or created there."""
    folder = pki / "test-cas"
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[str, testca.Authority] = {}
    for stem, (name, parent) in CAS.items():
        cert_file, key_file = folder / f"{stem}.pem", folder / f"{stem}.key.pem"
        if cert_file.exists():
            found[stem] = testca.Authority(x509.load_pem_x509_certificate(cert_file.read_bytes()),
                                           serialization.load_pem_private_key(key_file.read_bytes(), None))
            continue
        ca = testca.create_intermediate(found[parent], name) if parent else testca.create_root(name)
        key_file.write_bytes(ca.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
        key_file.chmod(0o600)
        cert_file.write_bytes(ca.pem)
        found[stem] = ca
    return found


def _publish_trust(pki: Path, authorities: dict[str, testca.Authority]) -> None:
    """Anchors per card type, intermediates, and a fresh (empty) CRL of every CA."""
    for kind, stem in ANCHORS.items():
        folder = pki / "anchors" / kind
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.pem").write_bytes(authorities[stem].pem)
    (pki / "intermediates").mkdir(exist_ok=True)
    (pki / "intermediates" / "test-hca2.pem").write_bytes(authorities["test-hca2"].pem)
    (pki / "crl").mkdir(exist_ok=True)
    for stem, ca in authorities.items():
        (pki / "crl" / f"{stem}.crl").write_bytes(
            testca.crl(ca, days=30).public_bytes(serialization.Encoding.DER))


def _card(folder: Path, stem: str, card_type: str, ca, holder: str, key_kind) -> str:
    """One soft card (certificate, key, card file), unless it exists."""
    folder.mkdir(parents=True, exist_ok=True)
    card_file = folder / f"{stem}.toml"
    person = Person.get_or_none(Person.national_id == holder)
    institution = Institution.get_or_none(Institution.code == holder)
    name = person.name if person else institution.name
    label = f"{CARD_NAMES[card_type]}：{name}"
    if not card_file.exists():
        lines = [f'label = "{label}"', f'type = "{card_type}"', f'holder = "{name}"']
        if card_type == "nhi":
            lines += ["", "[nhi]", f'card_no = "{holder[1:]}00"', f'name = "{name}"', f'national_id = "{holder}"',
                      f'birth_roc = "{roc_compact(person.birth_date)}"',
                      f'sex = "{"M" if holder[1] == "1" else "F"}"']
        else:
            issued = testca.issue(ca, serial=holder, cn=name, o=institution.name if institution else "",
                                  key_kind=key_kind)
            (folder / f"{stem}.crt.pem").write_bytes(issued.cert_pem)
            (folder / f"{stem}.key.pem").write_bytes(issued.key_pem)
            (folder / f"{stem}.key.pem").chmod(0o600)
            lines[3:3] = [f'pin = "{PIN}"', f'certificate = "{stem}.crt.pem"', f'key = "{stem}.key.pem"']
        card_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    secret = "PIN 123456" if card_type != "nhi" else "入口網站密碼：預設為身分證後四碼加出生月日"
    return f"示範卡片 {label}（{secret}）"


def _module(config, storage, folder: Path, code: str) -> str:
    """The institution's issued cloud module, unpacked for the agent."""
    institution = Institution.get(Institution.code == code)
    issued = SecurityModule.get_or_none((SecurityModule.institution == institution)
                                        & (SecurityModule.status == "issued"))
    if issued is None:
        form = modules.ApplicationForm(contact_name="示範聯絡人", contact_phone="(02)2706-5866")
        modules.apply(institution, form, SYSTEM, routine=True)
        modules.issue_pending(config, storage)
        issued = SecurityModule.get((SecurityModule.institution == institution) & (SecurityModule.status == "issued"))
    target = folder / f"module-{code}"
    if not target.exists():
        with storage.open(issued.package.key) as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as archive:
            archive.extractall(target)
    return f"雲端安全模組 {issued.module_no}（{institution.name}）：{target}"
