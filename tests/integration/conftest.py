"""A portal with a PKI, people and modules, and a stand-in for the card agent's answers."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from portal.cardagent import protocol
from portal.logic import authority, modules
from portal.logic.audit import SYSTEM
from portal.models.authority import Institution
from portal.pki import crl, testca
from portal.pki.verify import load_trust
from portal.storage import storage_for
from tests.conftest import instance_overrides, migrated_app

ORIGIN = "http://localhost"


@dataclass
class World:
    """The CAs, cards and modules of one test app."""

    app: object
    cas: dict = field(default_factory=dict)
    cards: dict = field(default_factory=dict)
    modules: dict = field(default_factory=dict)

    def publish_crls(self, revoked: dict | None = None) -> None:
        """Write every CA's CRL (with the given certificates revoked) and load them into the cache."""
        folder = self.app.config["CRL_DIR"]
        for stem, ca in self.cas.items():
            listed = (revoked or {}).get(stem, [])
            with open(f"{folder}/{stem}.crl", "wb") as fh:
                fh.write(testca.crl(ca, listed).public_bytes(serialization.Encoding.DER))
        crl.refresh(crl.sources(self.app.config), load_trust(self.app.config["PKI_DIR"]))


def _save_anchor(pki, kind: str, stem: str, ca: testca.Authority) -> None:
    folder = pki / "anchors" / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.pem").write_bytes(ca.pem)


@pytest.fixture(scope="session")
def test_cas():
    """TEST CAs for the whole session (key generation is the slow part)."""
    hca_root = testca.create_root("TEST HCA Root")
    return {
        "hca-root": hca_root,
        "hca2": testca.create_intermediate(hca_root, "TEST HCA2"),
        "moica": testca.create_root("TEST MOICA Root"),
        "gca": testca.create_root("TEST GCA Root"),
        "sam": testca.create_root("TEST SAM Root"),
    }


@pytest.fixture
def world(tmp_path, test_cas):
    """A migrated app that trusts the TEST CAs, with two institutions, people, cards and modules."""
    pki = tmp_path / "pki"
    app = migrated_app(instance_overrides(tmp_path, PKI_DIR=str(pki), CRL_DIR=str(pki / "crl"), PAGE_CACHE_SECONDS=0))
    for kind, stem in (("medical-staff", "hca-root"), ("medical-org", "hca-root"), ("citizen", "moica"),
                       ("government", "gca"), ("module", "sam")):
        _save_anchor(pki, kind, stem, test_cas[stem])
    (pki / "intermediates").mkdir()
    (pki / "intermediates" / "hca2.pem").write_bytes(test_cas["hca2"].pem)
    (pki / "crl").mkdir()
    w = World(app, dict(test_cas))
    taipei = Institution.create(code="3501200000", name="臺北虛擬診所", region="taipei", kind="診所")
    kaoping = Institution.create(code="0702010015", name="高屏虛擬醫院", region="kaoping", kind="醫院")
    authority.save_services(taipei, ["RWM", "IWF", "IPA"], SYSTEM)
    authority.save_services(kaoping, ["RWM", "RDD"], SYSTEM)
    _appoint(taipei, "manager", "王大明", "A123456789", date(1975, 5, 15))
    user = _appoint(taipei, "user", "王大明", "A123456789", date(1975, 5, 15))
    authority.save_grants(user, ["RWM", "IWF"], SYSTEM)
    chen = _appoint(taipei, "user", "陳小華", "F228001521", date(1988, 11, 2))
    authority.save_grants(chen, ["IPA"], SYSTEM)
    _appoint(taipei, "user", "林美玲", "B220003458", date(1992, 3, 4))
    _appoint(kaoping, "user", "王大明", "A123456789", date(1975, 5, 15))
    w.cards = {
        "wang": testca.issue(test_cas["hca2"], serial="A123456789", cn="王大明"),
        "chen": testca.issue(test_cas["moica"], serial="F228001521", cn="陳小華", key_kind="ec"),
        "taipei-org": testca.issue(test_cas["hca2"], serial="3501200000", o="臺北虛擬診所", cn="臺北虛擬診所"),
        "stranger": testca.issue(test_cas["hca2"], serial="K219876541", cn="路人甲"),
    }
    storage = storage_for(app.config)
    for institution in (taipei, kaoping):
        modules.apply(institution, modules.ApplicationForm("聯絡人", "(02)1234-5678"), SYSTEM)
    for row in modules.issue_pending(app.config, storage):
        w.modules[row.institution.code] = module_from_package(storage, row)
    w.publish_crls()
    return w


def module_from_package(storage, row) -> testca.Issued:
    """The certificate and key an institution downloads (what the agent would install)."""
    with storage.open(row.package.key) as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as archive:
        cert = x509.load_pem_x509_certificate(archive.read("module-cert.pem"))
        key = serialization.load_pem_private_key(archive.read("module-key.pem"), None)
    return testca.Issued(cert, key)


def _appoint(institution, role, name, national_id, birth):
    form = authority.PersonForm(name=name, national_id=national_id, birth_date=birth, valid_from=date(2024, 1, 1))
    return authority.appoint(institution, role, form, SYSTEM)


def sign(key, data: bytes) -> tuple[bytes, str]:
    """What a card does with the signed text."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256()), "rsa-pkcs1v15-sha256"
    return key.sign(data, ec.ECDSA(hashes.SHA256())), "ecdsa-p256-sha256"


def agent_answer(fields: dict, card=None, module=None, *, origin: str = ORIGIN, nhi_card: str = "",
                 signed_at: str | None = None, claimed_card_type: str | None = None) -> dict:
    """The form the card agent posts back, built from the fields the portal sent it."""
    signed_at = signed_at or protocol.utc_timestamp()
    text = protocol.signed_text(origin, fields["nonce"], fields["card_type"], fields["reader_type"], signed_at,
                                nhi_card)
    answer = {"nonce": fields["nonce"], "card_type": claimed_card_type or fields["card_type"],
              "reader_type": fields["reader_type"], "signed_at": signed_at, "agent_version": "test"}
    if card is not None:
        signature, algorithm = sign(card.key, text)
        answer.update(certificate=protocol.b64encode(card.der), signature=protocol.b64encode(signature),
                      algorithm=algorithm)
    if module is not None:
        signature, algorithm = sign(module.key, text)
        answer.update(module_certificate=protocol.b64encode(module.der),
                      module_signature=protocol.b64encode(signature), module_algorithm=algorithm)
    if nhi_card:
        answer["nhi_card"] = nhi_card
    return answer


def start_login(client, card: str, reader: str) -> dict:
    """POST /login as the login form does; returns the fields handed to the agent."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"card": card, "reader": reader, "csrf_token": token})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', html))


def csrf_token(client, url: str) -> str:
    """The CSRF token of a page's form."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
