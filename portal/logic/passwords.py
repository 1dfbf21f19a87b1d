"""The 健保卡 portal password: default rule, hashing (scrypt), and what a new password may not be."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import date
from functools import cache

from portal.refdata import DATA_DIR

MIN_CHARS, MAX_CHARS = 8, 64
# scrypt cost: 16 MiB and ~50 ms per check on these machines; stored with the hash so it can rise later.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1


def default_password(national_id: str, birth_date: date) -> str:
    """Last four characters of the ID + birth month and day (seed 002), e.g. 67890304."""
    return f"{national_id[-4:]}{birth_date:%m%d}"


def hash_password(password: str) -> str:
    """scrypt$N$r$p$salt$hash, salts random per password."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """Whether password matches a stored hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def problems(password: str, *, national_id: str, birth_date: date) -> list[str]:
    """zh-TW reasons a new password is refused (empty when it is acceptable)."""
    reasons = []
    if len(password) < MIN_CHARS:
        reasons.append(f"密碼至少 {MIN_CHARS} 個字元。")
    if len(password) > MAX_CHARS:
        reasons.append(f"密碼最多 {MAX_CHARS} 個字元。")
    if password == default_password(national_id, birth_date):
        reasons.append("不可使用預設密碼（身分證後四碼加出生月日）。")
    if national_id.lower() in password.lower():
        reasons.append("密碼不可包含身分證字號。")
    if password.lower() in _blocklist() or _is_trivial(password):
        reasons.append("這個密碼太常見或太容易猜到，請換一個。")
    return reasons


def _is_trivial(password: str) -> bool:
    """One repeated character, or a run of consecutive digits/letters (12345678, abcdefgh)."""
    if len(set(password)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(password, password[1:], strict=False)}
    return steps in ({1}, {-1}) and bool(re.fullmatch(r"[0-9]+|[a-zA-Z]+", password))


@cache
def _blocklist() -> frozenset[str]:
    """Common passwords from portal/data/common_passwords.txt."""
    lines = (DATA_DIR / "common_passwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
