"""Taiwan national IDs and resident certificate numbers (FORMATS.md §1.3)."""

from __future__ import annotations

import re
from functools import lru_cache

from portal.logic.text import fold_fullwidth

# "ABCDEFGHJKLMNPQRSTUVXYWZIO" -> 10..35 (I, O, W, Z are out of alphabetical order).
LETTER_VALUES = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=False))
WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)

_CITIZEN_OR_NEW_ARC = re.compile(r"^[A-Z][1289][0-9]{8}$")
_OLD_ARC = re.compile(r"^[A-Z][A-D][0-9]{8}$")


def normalize(text: str) -> str:
    """Trim, fold full-width characters (Ａ１２３…) to ASCII and upper-case, as users type ids."""
    return fold_fullwidth(text).strip().upper()


def has_id_shape(text: str) -> bool:
    """Whether text looks like a national ID or an (old or new) ARC number."""
    return bool(_CITIZEN_OR_NEW_ARC.match(text) or _OLD_ARC.match(text))


@lru_cache(maxsize=65_536)  # upload checks ask about the same doctors and patients again and again
def is_valid(text: str) -> bool:
    """Shape and checksum of a national ID, new-format ARC or old-format ARC."""
    if _CITIZEN_OR_NEW_ARC.match(text):
        second = int(text[1])
    elif _OLD_ARC.match(text):
        second = LETTER_VALUES[text[1]] % 10
    else:
        return False
    first = LETTER_VALUES[text[0]]
    digits = [first // 10, first % 10, second] + [int(c) for c in text[2:]]
    return sum(d * w for d, w in zip(digits, WEIGHTS, strict=False)) % 10 == 0


def problem(text: str) -> str | None:
    """A zh-TW message saying what is wrong with an ID, or None when it is valid."""
    value = normalize(text)
    if not value:
        return "請輸入身分證字號。"
    if not has_id_shape(value):
        return "身分證字號格式錯誤：應為 1 個英文字母加 9 碼（例如 A123456789）。"
    if not is_valid(value):
        return "身分證字號檢查碼錯誤，請確認是否輸入正確。"
    return None


def mask(text: str) -> str:
    """A12****789: enough for a person to recognise their own ID, not to read another's."""
    value = normalize(text)
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 6) + value[-3:]
