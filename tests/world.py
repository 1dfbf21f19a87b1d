"""The test world of card login: TEST CAs trusted by an app, two institutions, their people,
cards and issued 雲端安全模組. Used by the integration `world` fixture and the live login journeys."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from portal.logic import authority, modules
from portal.logic.audit import SYSTEM
from portal.models.authority import Institution
from portal.pki import crl, testca
from portal.pki.verify import load_trust
from portal.storage import storage_for

TAIPEI, KAOPING = "3501200000", "0702010015"
ANCHORS = (("medical-staff", "hca-root"), ("medical-org", "hca-root"), ("citizen", "moica"),
           ("government", "gca"), ("module", "sam"))


def make_cas() -> dict[str, testca.Authority]:
    """The TEST CAs: HCA root + HCA2, MOICA, GCA, the SAM CA."""
    hca_root = testca.create_root("TEST HCA Root")
    return {
        "hca-root": hca_root,
        "hca2": testca.create_intermediate(hca_root, "TEST HCA2"),
        "moica": testca.create_root("TEST MOICA Root"),
        "gca": testca.create_root("TEST GCA Root"),
        "sam": testca.create_root("TEST SAM Root"),
    }


def trust(app, cas: dict) -> None:
    """Install the CAs as the app's anchors per card type and load fresh CRLs into its cache."""
    pki = Path(app.config["PKI_DIR"])
    for kind, stem in ANCHORS:
        folder = pki / "anchors" / kind
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.pem").write_bytes(cas[stem].pem)
    (pki / "intermediates").mkdir(parents=True, exist_ok=True)
    (pki / "intermediates" / "hca2.pem").write_bytes(cas["hca2"].pem)
    publish_crls(app, cas)


def publish_crls(app, cas: dict, revoked: dict | None = None) -> None:
    """Write every CA's CRL (with the given certificates revoked) and load them into the cache."""
    folder = Path(app.config["CRL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stem, ca in cas.items():
        (folder / f"{stem}.crl").write_bytes(
            testca.crl(ca, (revoked or {}).get(stem, [])).public_bytes(serialization.Encoding.DER))
    crl.refresh(crl.sources(app.config), load_trust(app.config["PKI_DIR"]))


@dataclass
class People:
    """What populate() made: appointment ids by name, card certificates and keys, issued modules."""

    appointments: dict = field(default_factory=dict)
    cards: dict = field(default_factory=dict)
    modules: dict = field(default_factory=dict)


def populate(app, cas: dict) -> People:
    """臺北虛擬診所 and 高屏虛擬醫院, 王大明 (manager + user at 臺北, user at 高屏), 陳小華 and
    林美玲 (users), their cards, and each institution's issued module."""
    made = People()
    taipei = Institution.create(code=TAIPEI, name="臺北虛擬診所", region="taipei", kind="診所")
    kaoping = Institution.create(code=KAOPING, name="高屏虛擬醫院", region="kaoping", kind="醫院")
    authority.save_services(taipei, ["RWM", "IWF", "IPA"], SYSTEM)
    authority.save_services(kaoping, ["RWM", "RDD"], SYSTEM)
    made.appointments["wang-manager"] = appoint(taipei, "manager", "王大明", "A123456789", date(1975, 5, 15)).id
    wang = appoint(taipei, "user", "王大明", "A123456789", date(1975, 5, 15))
    authority.save_grants(wang, ["RWM", "IWF"], SYSTEM)
    chen = appoint(taipei, "user", "陳小華", "F228001521", date(1988, 11, 2))
    authority.save_grants(chen, ["IPA"], SYSTEM)
    lin = appoint(taipei, "user", "林美玲", "B220003458", date(1992, 3, 4))
    appoint(kaoping, "user", "王大明", "A123456789", date(1975, 5, 15))
    made.appointments.update({"wang-user": wang.id, "chen": chen.id, "lin": lin.id})
    made.cards = {
        "wang": testca.issue(cas["hca2"], serial="A123456789", cn="王大明"),
        "chen": testca.issue(cas["moica"], serial="F228001521", cn="陳小華", key_kind="ec"),
        "taipei-org": testca.issue(cas["hca2"], serial=TAIPEI, o="臺北虛擬診所", cn="臺北虛擬診所"),
        "stranger": testca.issue(cas["hca2"], serial="K219876541", cn="路人甲"),
    }
    storage = storage_for(app.config)
    for institution in (taipei, kaoping):
        modules.apply(institution, modules.ApplicationForm("聯絡人", "(02)1234-5678"), SYSTEM)
    for row in modules.issue_pending(app.config, storage):
        made.modules[row.institution.code] = module_from_package(storage, row)
    return made


def appoint(institution, role: str, name: str, national_id: str, birth: date):
    """An appointment in force since 2024-01-01."""
    form = authority.PersonForm(name=name, national_id=national_id, birth_date=birth, valid_from=date(2024, 1, 1))
    return authority.appoint(institution, role, form, SYSTEM)


def module_from_package(storage, row) -> testca.Issued:
    """The certificate and key an institution downloads (what the agent would install)."""
    with storage.open(row.package.key) as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as archive:
        cert = x509.load_pem_x509_certificate(archive.read("module-cert.pem"))
        key = serialization.load_pem_private_key(archive.read("module-key.pem"), None)
    return testca.Issued(cert, key)
