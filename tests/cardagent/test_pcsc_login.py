"""The agent over real PC/SC: pcscd + vpcd + our emulator + pyscard (tests/cardbed)."""

import pytest

from portal.cardagent import applet, protocol
from tests.cardagent.conftest import CHIP_READER, NHI_READER
from tests.cardagent.helpers import RETURN_URL, check_login
from tests.cardbed.applet import NhiData
from tests.cardbed.cards import NHI_LIN, nhi_card, pki_card

ALLOWED = [(reader, card) for reader, cards in protocol.READER_CARDS.items() for card in cards]
REFUSED = [(reader, card) for reader in protocol.READER_TYPES for card in protocol.CARD_TYPES
           if card not in protocol.READER_CARDS[reader]]


def card_for(pki, card_type: str):
    return nhi_card() if card_type == "nhi" else pki_card(card_type, pki.for_type(card_type))


@pytest.mark.parametrize(("reader_type", "card_type"), ALLOWED)
def test_every_card_its_reader_takes_logs_in(bed, pcsc_agent, pki, reader_type, card_type):
    client = pcsc_agent(NHI_READER if reader_type == "nhi-reader" else CHIP_READER)
    bed.insert(0, card_for(pki, card_type))
    fields = client.login(card_type, reader_type)
    check_login(fields)
    module = pki.sam if reader_type == "nhi-reader" else pki.cloud
    assert protocol.b64decode(fields["module_certificate"]) == module.der
    if card_type == "nhi":
        assert protocol.parse_nhi_card(fields["nhi_card"])["name"] == "林小美"
    else:
        assert protocol.b64decode(fields["certificate"]) == pki.for_type(card_type).der


@pytest.mark.parametrize(("reader_type", "card_type"), REFUSED)
def test_wrong_reader_is_refused_before_the_card_is_touched(bed, pcsc_agent, pki, reader_type, card_type):
    client = pcsc_agent(NHI_READER if reader_type == "nhi-reader" else CHIP_READER)
    card = card_for(pki, card_type)
    bed.insert(0, card)
    sent_before, sam_before = len(card.log), len(bed.slots[1].card.log)
    page = client.sign(card_type, reader_type)
    assert page.form(action=RETURN_URL)[1]["error"] == "wrong_reader"
    assert len(card.log) == sent_before and len(bed.slots[1].card.log) == sam_before


def test_ec_card_signature_arrives_as_der(bed, pcsc_agent, pki):
    client = pcsc_agent(CHIP_READER)
    bed.insert(0, pki_card("medical-staff", pki.staff_ec))
    fields = client.login("medical-staff", "chip-reader")
    assert fields["algorithm"] == "ecdsa-p256-sha256"
    assert protocol.b64decode(fields["signature"])[0] == 0x30  # a DER SEQUENCE, not 64 raw bytes
    check_login(fields)


def test_sam_in_the_second_slot_signs_the_module_signature(bed, pcsc_agent, pki):
    client = pcsc_agent(NHI_READER)
    bed.insert(0, pki_card("medical-org", pki.org))
    signed_before = sum(1 for apdu in bed.slots[1].card.log if apdu[1] == 0x2A)
    fields = client.login("medical-org", "nhi-reader")
    check_login(fields)
    assert fields["module_algorithm"] == "ecdsa-p256-sha256"
    assert sum(1 for apdu in bed.slots[1].card.log if apdu[1] == 0x2A) == signed_before + 1


def test_wrong_pin_shows_tries_left_from_the_card(bed, pcsc_agent, pki):
    client = pcsc_agent(NHI_READER)
    card = pki_card("medical-staff", pki.staff_rsa)
    bed.insert(0, card)
    page = client.pin(client.sign("medical-staff", "nhi-reader"), "000000")
    assert page.soup.find(id="notice").get_text() == "PIN 碼錯誤，剩餘 2 次"
    assert card.tries == 2
    check_login(client.pin(page, "123456").post_back())
    assert card.tries == 3


def test_blocked_card_posts_back_pin_blocked_until_unblocked(bed, pcsc_agent, pki):
    client = pcsc_agent(CHIP_READER)
    card = pki_card("citizen", pki.citizen)
    bed.insert(0, card)
    page = client.sign("citizen", "chip-reader")
    for pin in ("000000", "111111"):
        page = client.pin(page, pin)
    assert client.pin(page, "222222").post_back()["error"] == "pin_blocked"
    assert card.tries == 0
    assert client.sign("citizen", "chip-reader").post_back()["error"] == "pin_blocked"  # 6983: no PIN page
    unblock(bed.names[0], b"12345678", b"4321")
    check_login(client.login("citizen", "chip-reader", pin="4321"))


def unblock(reader: str, puk: bytes, new_pin: bytes) -> None:
    """RESET RETRY COUNTER straight through pyscard, as a card issuer's tool would."""
    from smartcard import scard as sc  # pyscard may be missing: the bed fixture then skips (or fails in CI)

    hresult, context = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    hresult, card, protocol_ = sc.SCardConnect(context, reader, sc.SCARD_SHARE_SHARED,
                                               sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1)
    try:
        assert sc.SCardTransmit(card, protocol_, list(applet.select_applet()))[1][-2:] == [0x90, 0x00]
        data = puk + new_pin
        apdu = bytes([0x00, 0x2C, 0x00, 0x81, len(data)]) + data
        assert sc.SCardTransmit(card, protocol_, list(apdu))[1] == [0x90, 0x00]
    finally:
        sc.SCardDisconnect(card, sc.SCARD_RESET_CARD)
        sc.SCardReleaseContext(context)


def test_card_removed_between_pin_page_and_pin_post(bed, pcsc_agent, pki):
    client = pcsc_agent(NHI_READER)
    bed.insert(0, pki_card("medical-staff", pki.staff_rsa))
    page = client.sign("medical-staff", "nhi-reader")
    bed.eject(0)
    fields = client.pin(page, "123456").post_back()
    assert fields["error"] == "card_removed"


def test_card_swapped_between_pin_page_and_pin_post(bed, pcsc_agent, pki):
    client = pcsc_agent(NHI_READER)
    bed.insert(0, pki_card("medical-staff", pki.staff_rsa))
    page = client.sign("medical-staff", "nhi-reader")
    bed.eject(0)
    other = pki_card("medical-staff", pki.staff_ec)
    bed.insert(0, other)
    assert client.pin(page, "123456").post_back()["error"] == "card_removed"
    assert not any(apdu[1] == 0x20 and len(apdu) > 4 for apdu in other.log)  # the PIN never went to it


def test_same_card_taken_out_and_back_in_still_logs_in(bed, pcsc_agent, pki):
    client = pcsc_agent(NHI_READER)
    card = pki_card("medical-staff", pki.staff_rsa)
    bed.insert(0, card)
    page = client.sign("medical-staff", "nhi-reader")
    bed.eject(0)
    bed.insert(0, card)
    check_login(client.pin(page, "123456").post_back())


def test_no_reader_of_that_type(bed, pcsc_agent, pki):
    client = pcsc_agent(NHI_READER)
    bed.insert(0, pki_card("citizen", pki.citizen))
    page = client.sign("citizen", "chip-reader")
    assert protocol.ERRORS["reader_missing"] in page.text
    assert page.form(action="/v1/sign")[1]["reader_type"] == "chip-reader"
    assert page.form(action=RETURN_URL)[1]["error"] == "cancelled"


def test_readers_configured_but_none_connected(bed, pcsc_agent):
    client = pcsc_agent({"match": "EZ100PU", "type": "nhi-reader"})
    assert protocol.ERRORS["reader_missing"] in client.sign("medical-staff", "nhi-reader").text
    assert client.get("/v1/status").soup.find(id="state").get_text() == "未偵測到讀卡機"


def test_empty_reader_says_no_card(bed, pcsc_agent):
    client = pcsc_agent(NHI_READER)
    assert protocol.ERRORS["card_absent"] in client.sign("medical-staff", "nhi-reader").text
    assert client.get("/v1/status").soup.find(id="state").get_text() == "未插卡"


def test_card_of_another_type_in_the_reader(bed, pcsc_agent, pki):
    client = pcsc_agent(CHIP_READER)
    bed.insert(0, pki_card("citizen", pki.citizen))
    assert protocol.ERRORS["wrong_card_type"] in client.sign("medical-staff", "chip-reader").text


def test_missing_sam_is_reported_before_the_pin(bed, pcsc_agent, pki):
    client = pcsc_agent(NHI_READER)
    card = pki_card("medical-staff", pki.staff_rsa)
    bed.insert(0, card)
    bed.eject(1)
    page = client.sign("medical-staff", "nhi-reader")
    assert protocol.ERRORS["module_missing"] in page.text
    assert not any(apdu[1] == 0x20 for apdu in card.log)


def test_nhi_card_big5_name_shown_and_sent(bed, pcsc_agent):
    client = pcsc_agent(NHI_READER)
    # 許功蓋: Big5 trail bytes 0x5C ("\\"), the classic way to break Big5 handling.
    data = NhiData(card_no="000098765432", name="許功蓋", national_id="F123456789", birth_roc="0680101", sex="M")
    assert b"\x5c" in data.name.encode("big5")
    bed.insert(0, nhi_card(data))
    page = client.sign("nhi", "nhi-reader")
    assert page.soup.find(id="holder").get_text() == "許功蓋"
    fields = client.pin(page).post_back()
    assert fields["nhi_card"] == "000098765432|許功蓋|F123456789|0680101|M"
    check_login(fields)


def test_status_over_pcsc(bed, pcsc_agent, pki):
    client = pcsc_agent(NHI_READER)
    bed.insert(0, nhi_card(NHI_LIN))
    soup = client.get("/v1/status").soup
    assert soup.find(id="state").get_text() == "就緒"
    assert soup.find(id="cards").get_text() == "卡片：健保卡"
    assert soup.find(id="module").get_text() == "安全模組：已安裝"


def test_agent_leaves_no_verified_pin_on_the_card(bed, pcsc_agent, pki):
    client = pcsc_agent(CHIP_READER)
    card = pki_card("government", pki.gov)
    bed.insert(0, card)
    check_login(client.login("government", "chip-reader"))
    assert card.process(applet.verify()) == b"\x6d\x00"  # the agent's warm reset deselected the applet…
    card.process(applet.select_applet())
    assert card.process(applet.verify()) == b"\x63\xc3"  # …and the card forgot the verified PIN
