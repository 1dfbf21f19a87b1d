"""The test card (applet of docs/card-login.md §4) and the emulator's vpcd framing, without pcscd."""

import hashlib
import socket
import threading

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from portal.cardagent import applet as a
from portal.cardagent.keys import digest_info, raw_to_der
from tests.cardbed.applet import TestCard, atr
from tests.cardbed.cards import NHI_LIN, nhi_card, pki_card, sam_card
from tests.cardbed.emulator import Slot


def run(card: TestCard, apdu: bytes) -> tuple[bytes, int]:
    response = card.process(apdu)
    return response[:-2], int.from_bytes(response[-2:], "big")


@pytest.fixture
def staff(pki):
    card = pki_card("medical-staff", pki.staff_rsa)
    assert run(card, a.select_applet())[1] == 0x9000
    return card


def read_all(card: TestCard, fid: int) -> bytes:
    assert run(card, a.select_file(fid))[1] == 0x9000
    content = b""
    while True:
        chunk, sw = run(card, a.read_binary(len(content)))
        if sw == 0x6B00:
            return content
        assert sw == 0x9000 and len(chunk) <= 0xF0
        content += chunk
        if len(chunk) < 0xF0:
            return content


def test_atr_announces_t1_with_a_valid_checksum():
    value = atr()
    assert value[:4] == bytes.fromhex("3B878001")
    check = 0
    for byte in value[1:]:
        check ^= byte
    assert check == 0


def test_files_are_read_in_chunks(staff, pki):
    assert read_all(staff, a.FID_CERT) == pki.staff_rsa.der
    assert read_all(staff, a.FID_INFO) == "type=medical-staff\nholder=王大明\n".encode()
    assert run(staff, a.select_file(0x1003))[1] == 0x6A82
    assert run(staff, a.read_binary(0, 0xF1))[1] == 0x6700


def test_nothing_works_before_the_applet_is_selected(pki):
    card = pki_card("medical-staff", pki.staff_rsa)
    assert run(card, a.select_file(a.FID_CERT))[1] == 0x6D00
    assert run(card, bytes.fromhex("00A404000AF0545750434152440002"))[1] == 0x6A82


def test_pin_tries_count_down_then_block_and_unblock(staff):
    assert run(staff, a.verify())[1] == 0x63C3
    assert run(staff, a.verify(b"000000"))[1] == 0x63C2
    assert run(staff, a.verify(b"000000"))[1] == 0x63C1
    assert run(staff, a.verify(b"000000"))[1] == 0x63C0
    assert run(staff, a.verify(b"123456"))[1] == 0x6983
    assert run(staff, a.verify())[1] == 0x6983
    assert run(staff, bytes.fromhex("002C0081") + bytes([12]) + b"00000000" + b"1111")[1] == 0x6982  # wrong PUK
    assert run(staff, bytes.fromhex("002C0081") + bytes([14]) + b"12345678" + b"654321")[1] == 0x9000
    assert run(staff, a.verify())[1] == 0x63C3
    assert run(staff, a.verify(b"654321"))[1] == 0x9000
    assert run(staff, a.verify())[1] == 0x9000


def test_signing_needs_the_pin_and_gives_pkcs1_over_the_digest_info(staff, pki):
    assert run(staff, a.compute_signature(digest_info(b"text")))[1] == 0x6982
    run(staff, a.verify(b"123456"))
    signature, sw = run(staff, a.compute_signature(digest_info(b"text")))
    assert sw == 0x9000
    pki.staff_rsa.key.public_key().verify(signature, b"text", padding.PKCS1v15(), hashes.SHA256())
    assert run(staff, a.compute_signature(b"\x00" * 51))[1] == 0x6A80
    staff.power()
    assert run(staff, a.select_applet())[1] == 0x9000
    assert run(staff, a.compute_signature(digest_info(b"text")))[1] == 0x6982  # a reset forgets the PIN


def test_ec_card_returns_r_and_s(pki):
    card = pki_card("medical-staff", pki.staff_ec)
    run(card, a.select_applet())
    run(card, a.verify(b"123456"))
    raw, sw = run(card, a.compute_signature(hashlib.sha256(b"text").digest()))
    assert sw == 0x9000 and len(raw) == 64
    pki.staff_ec.key.public_key().verify(raw_to_der(raw), b"text", ec.ECDSA(hashes.SHA256()))


def test_nhi_card_has_basic_data_and_no_key():
    card = nhi_card()
    run(card, a.select_applet())
    assert read_all(card, a.FID_NHI) == NHI_LIN.encode()
    assert len(NHI_LIN.encode()) == 50 and "林小美".encode("big5") in NHI_LIN.encode()
    assert run(card, a.compute_signature(b"\x00" * 32))[1] == 0x6D00


def test_sam_signs_without_a_pin(pki):
    card = sam_card(pki.sam)
    run(card, a.select_applet())
    assert read_all(card, a.FID_INFO).startswith(b"type=sam\n")
    raw, sw = run(card, a.compute_signature(hashlib.sha256(b"t").digest()))
    assert sw == 0x9000 and len(raw) == 64


def test_unknown_instruction_and_bad_lengths(staff):
    assert run(staff, bytes.fromhex("00CA0000"))[1] == 0x6D00
    assert run(staff, bytes.fromhex("00A4"))[1] == 0x6700
    assert run(staff, bytes.fromhex("00A4020C05AABB"))[1] == 0x6700


def test_emulator_speaks_vpcd_framing(pki):
    """A stand-in for vpcd: controls get no answer, ATR and APDUs do, each with a 2-byte length."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        slot = Slot(server.getsockname()[1])
        card = pki_card("citizen", pki.citizen)
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
        thread.start()
        slot.insert(card)
        thread.join(5)
        with accepted[0] as vpcd:
            def frame(payload: bytes) -> None:
                vpcd.sendall(len(payload).to_bytes(2, "big") + payload)

            def answer() -> bytes:
                size = int.from_bytes(vpcd.recv(2), "big")
                return vpcd.recv(size)

            frame(b"\x01")  # power on: no answer
            frame(b"\x04")
            assert answer() == card.atr
            frame(a.select_applet())
            assert answer() == b"\x90\x00"
            slot.eject()
            assert vpcd.recv(2) == b""  # eject closes the connection
    assert slot.card is None
