"""A portal with a PKI, people and modules, and a stand-in for the card agent's answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from portal.cardagent import protocol
from tests import world as world_kit
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
        """Re-issue every CA's CRL with the given certificates revoked, and load them."""
        world_kit.publish_crls(self.app, self.cas, revoked)


@pytest.fixture
def world(tmp_path, test_cas):
    """A migrated app that trusts the TEST CAs, with two institutions, people, cards and modules."""
    pki = tmp_path / "pki"
    app = migrated_app(instance_overrides(tmp_path, PKI_DIR=str(pki), CRL_DIR=str(pki / "crl"), PAGE_CACHE_SECONDS=0))
    world_kit.trust(app, test_cas)
    made = world_kit.populate(app, test_cas)
    return World(app, dict(test_cas), made.cards, made.modules)


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
