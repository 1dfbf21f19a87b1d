"""Small parts of the agent on their own: origins, pending tokens, ECDSA conversion, 健保卡 parsing."""

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from portal.cardagent import applet
from portal.cardagent.backend import AgentError
from portal.cardagent.checks import SignRequest, origin_of
from portal.cardagent.keys import raw_to_der
from portal.cardagent.pending import Pending, PendingStore
from tests.cardbed.cards import NHI_LIN


@pytest.mark.parametrize(("url", "origin"), [
    ("http://portal.test/login/callback", "http://portal.test"),
    ("HTTPS://Portal.Example:443/x?y=1", "https://portal.example"),
    ("http://localhost:8000/login/callback", "http://localhost:8000"),
    ("http://[::1]:8000/", "http://[::1]:8000"),
    ("https://portal.example:8443", "https://portal.example:8443"),
    (r"http://evil.example\@portal.test/", None),
    ("http://portal.test:99999/", None),
    ("http://portal..test/", None),
    ("ftp://portal.test/", None),
    ("http://portal.test/\u00e9", None),
])
def test_origin_of(url, origin):
    assert origin_of(url) == origin


def request() -> SignRequest:
    return SignRequest("http://portal.test/cb", "http://portal.test", "n" * 32, "citizen", "chip-reader", "P")


def test_pending_requests_are_taken_once_and_expire():
    now = [0.0]
    store = PendingStore(clock=lambda: now[0])
    token = store.add(Pending(request(), "id", "holder", 3))
    assert len(token) >= 43
    pending = store.take(token)
    assert pending is not None and store.take(token) is None
    store.put_back(token, pending)
    now[0] = 119.9
    assert store.take(token) is pending
    store.put_back(token, pending)
    now[0] = 120.0
    assert store.take(token) is None


def test_pending_store_is_bounded():
    store = PendingStore()
    tokens = [store.add(Pending(request(), "id", "holder", 3)) for _ in range(150)]
    assert len(store) == 100
    assert store.take(tokens[0]) is None and store.take(tokens[-1]) is not None


def test_raw_ecdsa_signature_becomes_der_that_verifies():
    key = ec.generate_private_key(ec.SECP256R1())
    digest = bytes(range(32))
    r, s = utils.decode_dss_signature(key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))
    der = raw_to_der(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    key.public_key().verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    with pytest.raises(AgentError):
        raw_to_der(b"\x01" * 63)


def test_nhi_basic_data_is_read_from_big5_fixed_width():
    assert applet.parse_nhi(NHI_LIN.encode()) == {
        "card_no": "000012345678", "name": "林小美", "national_id": "A223456781", "birth_roc": "0750304", "sex": "F"}
    with pytest.raises(ValueError):
        applet.parse_nhi(b"short")


def test_card_information_file_is_parsed():
    assert applet.parse_info("type=medical-staff\nholder=王大明\n".encode()) == {
        "type": "medical-staff", "holder": "王大明"}
