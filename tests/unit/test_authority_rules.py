"""Pure rules behind the authority model: 健保卡 passwords, 統一編號, the signed login text, strict base64."""

from __future__ import annotations

from datetime import date

import pytest

from portal.cardagent import protocol
from portal.logic import cards, passwords
from portal.logic.his_vendors import tax_id_valid

ID, BIRTH = "A123456789", date(1986, 3, 4)

# Seed 000 網站使用說明 > 電腦設定 > STEP 2, verbatim.
SEED_STEP_2 = {
    "健保讀卡機": "醫事人員卡、健保卡、醫事機構卡",
    "晶片讀卡機": "醫事人員卡、自然人憑證、醫事機構卡、政府單位憑證",
}


def problems(password: str) -> list[str]:
    """Reasons a new password is refused for 王大明 (A123456789, born 1986-03-04)."""
    return passwords.problems(password, national_id=ID, birth_date=BIRTH)


# --- 健保卡 password ------------------------------------------------------------------------

@pytest.mark.parametrize("national_id, birth, expected", [
    ("A123456789", date(1986, 3, 4), "67890304"),
    ("F228001521", date(1988, 11, 2), "15211102"),
    ("B220003458", date(1992, 12, 31), "34581231"),
])
def test_default_password_is_last_four_of_id_and_birth_month_day(national_id, birth, expected):
    """Seed 002: last 4 characters of the ID + MMDD of the birth date."""
    assert passwords.default_password(national_id, birth) == expected


@pytest.mark.parametrize("password, reason", [
    ("short12", "密碼至少 8 個字元。"),
    ("", "密碼至少 8 個字元。"),
    ("藍天白雲", "密碼至少 8 個字元。"),
    ("x" * 30 + "yz" * 18, "密碼最多 64 個字元。"),
    ("67890304", "不可使用預設密碼（身分證後四碼加出生月日）。"),
    ("my-a123456789-pw", "密碼不可包含身分證字號。"),
    ("A123456789", "密碼不可包含身分證字號。"),
    ("password", "這個密碼太常見或太容易猜到，請換一個。"),
    ("PassW0rd", "這個密碼太常見或太容易猜到，請換一個。"),
    ("12345678", "這個密碼太常見或太容易猜到，請換一個。"),
    ("98765432", "這個密碼太常見或太容易猜到，請換一個。"),
    ("abcdefghij", "這個密碼太常見或太容易猜到，請換一個。"),
    ("HGFEDCBA", "這個密碼太常見或太容易猜到，請換一個。"),
    ("aaaaaaaa", "這個密碼太常見或太容易猜到，請換一個。"),
    ("雲雲雲雲雲雲雲雲", "這個密碼太常見或太容易猜到，請換一個。"),
])
def test_refused_passwords(password, reason):
    """Each weak password is refused with its zh-TW reason."""
    assert reason in problems(password)


@pytest.mark.parametrize("password", [
    "藍天白雲2026",                        # 8 CJK and digit characters
    "correct horse battery staple",
    "Tr0ub4dor&3x",
    "k9#Lm2$q",                            # exactly 8
    "藍天白雲" * 16,                        # exactly 64 (characters, not bytes)
    "13572468",                            # digits, but not a run
    "abcdefgz",                            # a run broken at the end
    "1234abcd",                            # mixed run: not one kind of character
])
def test_acceptable_passwords(password):
    """No composition rules: long enough, not default, not the ID, not common, not a run."""
    assert problems(password) == []


def test_a_password_may_hold_several_problems():
    """All reasons are listed at once."""
    assert problems("a123456789") == ["密碼不可包含身分證字號。"]
    assert len(problems("1234567")) == 2


def test_hash_and_verify_round_trip():
    """A hash verifies its password only; salts differ; the cost is stored with the hash."""
    stored = passwords.hash_password("藍天白雲2026")
    assert stored.startswith(f"scrypt${passwords.SCRYPT_N}${passwords.SCRYPT_R}${passwords.SCRYPT_P}$")
    assert "藍天白雲2026" not in stored
    assert passwords.verify_password("藍天白雲2026", stored)
    assert not passwords.verify_password("藍天白雲2027", stored)
    assert not passwords.verify_password("", stored)
    assert passwords.hash_password("藍天白雲2026") != stored


@pytest.mark.parametrize("stored", ["", "plain-text", "md5$abc", "bcrypt$1$2$3$c2FsdA==$aGFzaA==",
                                    "scrypt$x$8$1$c2FsdA==$aGFzaA==", "scrypt$16384$8$1$%%%$aGFzaA=="])
def test_verify_refuses_broken_or_foreign_hashes(stored):
    """Anything but a well-formed scrypt hash is a mismatch, never an exception."""
    assert passwords.verify_password("anything", stored) is False


# --- 統一編號 (允入HIS廠商) -------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "04595257",   # the usual example of the rule
    "22099131",   # 台灣積體電路製造
    "96979933",   # 中華電信
    "10458575",   # 7th digit 7, valid either way
    "10458574",   # 7th digit 7: valid only because 28 -> 1+0 may count as 0 or 1
])
def test_valid_tax_ids(value):
    """Weights 1,2,1,2,1,2,4,1, digit sums, divisible by 5 (MOF rule since 2023)."""
    assert tax_id_valid(value)


@pytest.mark.parametrize("value", [
    "04595253",   # checksum off by one
    "10458573",   # 7th digit 7 does not rescue it
    "10458584",   # the 7th-digit rule applies to a 7 only
    "0459525",    # 7 digits
    "045952570",  # 9 digits
    "0459525A",
    "",
])
def test_invalid_tax_ids(value):
    """Wrong checksum, wrong length or not digits."""
    assert not tax_id_valid(value)


def test_tax_id_with_a_superscript_digit_is_invalid_not_an_error():
    """'0459525²' is simply not a 統一編號."""
    assert tax_id_valid("0459525²") is False


# --- the login protocol ----------------------------------------------------------------------

def test_signed_text_is_exactly_these_bytes():
    """NHI-VPN-LOGIN/1, origin, nonce, card type, reader type, UTC time, joined by LF, UTF-8."""
    text = protocol.signed_text("https://portal.example", "n0nce", "medical-staff", "chip-reader",
                                "2026-11-22T08:00:00Z")
    assert text == (b"NHI-VPN-LOGIN/1\nhttps://portal.example\nn0nce\nmedical-staff\nchip-reader\n"
                    b"2026-11-22T08:00:00Z")


def test_signed_text_of_an_nhi_card_adds_its_basic_data():
    """健保卡 logins bind the card data as a seventh line (UTF-8 name)."""
    card = protocol.nhi_card_field("000012345678", "林美玲", "B220003458", "0810304", "F")
    text = protocol.signed_text("http://localhost", "n", "nhi", "nhi-reader", "2026-01-01T00:00:00Z", card)
    assert text.split(b"\n")[-1] == "000012345678|林美玲|B220003458|0810304|F".encode()
    assert len(text.split(b"\n")) == 7


@pytest.mark.parametrize("position", range(6))
@pytest.mark.parametrize("breaker", ["\n", "\r", "\r\n"])
def test_signed_text_refuses_line_breaks_in_any_field(position, breaker):
    """A field with a line break could forge another field: refused."""
    fields = ["http://localhost", "nonce", "medical-staff", "chip-reader", "2026-01-01T00:00:00Z", "card|data"]
    fields[position] = fields[position][:3] + breaker + fields[position][3:]
    with pytest.raises(ValueError, match="line break"):
        protocol.signed_text(*fields)


def test_b64decode_accepts_standard_base64():
    assert protocol.b64decode("QUJD") == b"ABC"
    assert protocol.b64decode("QUJDRA==") == b"ABCD"
    assert protocol.b64decode("") == b""
    assert protocol.b64decode(protocol.b64encode(bytes(range(256)))) == bytes(range(256))


@pytest.mark.parametrize("text", [
    "QUJD RA==",     # space inside
    "QUJDRA==\n",    # trailing line break
    "QUJD\r\nRA==",  # MIME-style wrapping
    "QUJDRA",        # missing padding
    "QUJDRA=",       # short padding
    "QUJ-RA==",      # URL-safe alphabet
    "QUJ€RA==",      # not ASCII
    "%%%not base64%%%",
])
def test_b64decode_is_strict(text):
    """Whitespace, bad padding, other alphabets and non-ASCII are ValueError (not FieldTooLarge)."""
    with pytest.raises(ValueError) as error:
        protocol.b64decode(text)
    assert not isinstance(error.value, protocol.FieldTooLarge)


def test_b64decode_refuses_oversized_fields_unread():
    """A field longer than any certificate can be is FieldTooLarge, a ValueError too."""
    largest = protocol.b64encode(b"\x30" * protocol.MAX_FIELD_BYTES)
    assert len(protocol.b64decode(largest)) == protocol.MAX_FIELD_BYTES
    with pytest.raises(protocol.FieldTooLarge):
        protocol.b64decode("A" * (protocol.MAX_FIELD_BYTES * 2))
    with pytest.raises(ValueError):
        protocol.b64decode("%" * (protocol.MAX_FIELD_BYTES * 2))
    with pytest.raises(protocol.FieldTooLarge):
        protocol.b64decode(protocol.b64encode(b"12345678"), limit=3)


def test_b64decode_refuses_one_byte_over_the_limit():
    """MAX_FIELD_BYTES + 1 bytes is refused (minor: the documented limit is off by up to two bytes)."""
    with pytest.raises(protocol.FieldTooLarge):
        protocol.b64decode(protocol.b64encode(b"\x30" * (protocol.MAX_FIELD_BYTES + 1)))


def test_reader_cards_match_seed_000_step_2():
    """Which reader takes which card: protocol.READER_CARDS and cards.toml both say what STEP 2 says."""
    by_name = {c["name"]: c["code"] for c in cards.card_types()}
    reader_codes = {r["name"]: r["code"] for r in cards.readers()}

    def code(seed_name: str) -> str:
        return by_name.get(seed_name) or by_name[seed_name + "卡"]  # the seed writes 政府單位憑證 without 卡

    expected = {reader_codes[reader]: {code(n) for n in names.split("、")} for reader, names in SEED_STEP_2.items()}
    assert {reader: set(codes) for reader, codes in protocol.READER_CARDS.items()} == expected
    assert {r["code"]: set(r["cards"]) for r in cards.readers()} == expected
    assert set(protocol.CARD_TYPES) == set(by_name.values()) == set().union(*expected.values())
    assert protocol.PASSWORD_CARDS == ("nhi",)
