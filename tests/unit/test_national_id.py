"""National ID / ARC checksum (test vectors of FORMATS.md §1.3) and masking."""

import pytest

from portal.logic.national_id import has_id_shape, is_valid, mask, normalize, problem

VALID = ["A123456789", "F131104093", "E101919343", "E120000001", "K109876546",
         "A800000014", "AA00000009", "HD12345678"]
INVALID_CHECKSUM = ["A123456780", "A100000000", "B287654329"]


@pytest.mark.parametrize("value", VALID)
def test_valid_ids(value):
    assert is_valid(value)
    assert problem(value) is None


@pytest.mark.parametrize("value", INVALID_CHECKSUM)
def test_checksum_errors_are_reported_as_such(value):
    assert has_id_shape(value) and not is_valid(value)
    assert "檢查碼" in problem(value)


@pytest.mark.parametrize("value", ["", "A12345678", "1234567890", "A323456789", "AE00000009", "a12345678x"])
def test_malformed_ids_are_reported_as_format_errors(value):
    assert not is_valid(normalize(value))
    assert problem(value) in ("請輸入身分證字號。",) or "格式" in problem(value)


def test_lower_case_and_spaces_are_accepted():
    assert problem(" a123456789 ") is None


def test_every_generated_id_with_the_right_check_digit_passes():
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        body = f"{letter}12345678"
        good = [d for d in "0123456789" if is_valid(body + d)]
        assert len(good) == 1, body


def test_mask_shows_only_the_ends():
    assert mask("A123456789") == "A12****789"
    assert mask("short") == "*****"
