"""The test card applet of docs/card-login.md §4, as plain Python (no transport; see emulator.py).

Written from the spec on purpose, not from the agent's code, so the agent's
PC/SC backend and this card check each other.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

AID = bytes.fromhex("F0545750434152440001")
FID_CERT, FID_INFO, FID_NHI = 0x1001, 0x1002, 0x1003
MAX_TRIES = 3
MAX_READ = 0xF0
# DER prefix of a DigestInfo for SHA-256 (RFC 8017 §9.2 note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")

OK, FILE_NOT_FOUND, NOT_VERIFIED, BLOCKED = 0x9000, 0x6A82, 0x6982, 0x6983
BEYOND_FILE, UNKNOWN_INS, WRONG_LENGTH, WRONG_DATA = 0x6B00, 0x6D00, 0x6700, 0x6A80


def atr(historical: bytes = b"TWPCARD") -> bytes:
    """A T=1 ATR (3B 8K 80 01 <historical> TCK), the checksum T=1 requires included."""
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3b" + body + bytes([tck])


@dataclass
class NhiData:
    """The 健保卡 basic data file (1003) before encoding."""

    card_no: str
    name: str
    national_id: str
    birth_roc: str
    sex: str

    def encode(self) -> bytes:
        """Fixed width like the real card: 12 ASCII, 20 Big5 (space-padded), 10, 7, 1 = 50 bytes."""
        name = self.name.encode("big5")
        if len(name) > 20:
            raise ValueError("name longer than 20 Big5 bytes")
        data = (self.card_no.encode("ascii").ljust(12)[:12] + name.ljust(20, b" ")
                + self.national_id.encode("ascii") + self.birth_roc.encode("ascii") + self.sex.encode("ascii"))
        assert len(data) == 50, len(data)
        return data


@dataclass
class TestCard:
    """One card: files, PIN state and (unless 健保卡) a private key."""

    card_type: str                        # a CARD_TYPES value, or "sam"
    holder: str
    certificate: bytes = b""              # DER
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    nhi: NhiData | None = None
    pin: str = "123456"
    puk: str = "12345678"
    tries: int = MAX_TRIES
    atr: bytes = field(default_factory=atr)
    log: list[bytes] = field(default_factory=list)   # every command APDU received, for assertions
    _selected: bool = False
    _ef: int | None = None
    _verified: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    __test__ = False  # not a pytest test class despite its name

    @property
    def needs_pin(self) -> bool:
        """Security modules sign without a PIN; 健保卡 has no key at all."""
        return self.card_type not in ("sam", "nhi")

    def files(self) -> dict[int, bytes]:
        """The elementary files of the applet."""
        files = {FID_INFO: f"type={self.card_type}\nholder={self.holder}\n".encode()}
        if self.certificate:
            files[FID_CERT] = self.certificate
        if self.nhi:
            files[FID_NHI] = self.nhi.encode()
        return files

    def power(self) -> None:
        """Power on/off or reset: nothing selected, PIN no longer verified."""
        with self._lock:
            self._selected, self._ef, self._verified = False, None, False

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU with response data ‖ SW1 SW2."""
        with self._lock:
            self.log.append(bytes(apdu))
            data, sw = self._dispatch(apdu)
        return data + sw.to_bytes(2, "big")

    def _dispatch(self, apdu: bytes) -> tuple[bytes, int]:
        """Route a command by CLA/INS/P1/P2 (the lock is held)."""
        parsed = _parse(apdu)
        if parsed is None:
            return b"", WRONG_LENGTH
        cla, ins, p1, p2, body, le = parsed
        if cla != 0x00:
            return b"", UNKNOWN_INS
        if (ins, p1, p2) == (0xA4, 0x04, 0x00):
            self._selected, self._ef = body == AID, None
            return b"", OK if self._selected else FILE_NOT_FOUND
        if not self._selected:
            return b"", UNKNOWN_INS
        if (ins, p1, p2) == (0xA4, 0x02, 0x0C):
            return self._select_file(body)
        if ins == 0xB0:
            return self._read((p1 << 8) | p2, le)
        if (ins, p1, p2) == (0x20, 0x00, 0x81) and self.needs_pin:
            return self._verify(body)
        if (ins, p1, p2) == (0x2A, 0x9E, 0x9A):
            return self._sign(body)
        if (ins, p1, p2) == (0x2C, 0x00, 0x81) and self.needs_pin:
            return self._unblock(body)
        return b"", UNKNOWN_INS

    def _select_file(self, body: bytes) -> tuple[bytes, int]:
        """SELECT EF by its 2-byte id."""
        fid = int.from_bytes(body, "big") if len(body) == 2 else None
        if fid not in self.files():
            return b"", FILE_NOT_FOUND
        self._ef = fid
        return b"", OK

    def _read(self, offset: int, le: int | None) -> tuple[bytes, int]:
        """READ BINARY of the selected EF."""
        if self._ef is None:
            return b"", FILE_NOT_FOUND
        if le is None or le > MAX_READ:
            return b"", WRONG_LENGTH
        content = self.files()[self._ef]
        if offset >= len(content):
            return b"", BEYOND_FILE
        return content[offset:offset + le], OK

    def _verify(self, body: bytes) -> tuple[bytes, int]:
        """VERIFY: status with no data, else one try."""
        if self.tries == 0:
            return b"", BLOCKED
        if not body:  # status only
            return b"", OK if self._verified else 0x63C0 | self.tries
        if body == self.pin.encode("ascii"):
            self.tries, self._verified = MAX_TRIES, True
            return b"", OK
        self.tries -= 1
        self._verified = False
        return b"", 0x63C0 | self.tries

    def _sign(self, body: bytes) -> tuple[bytes, int]:
        """PSO: COMPUTE DIGITAL SIGNATURE."""
        if self.key is None:
            return b"", UNKNOWN_INS
        if self.needs_pin and not self._verified:
            return b"", NOT_VERIFIED
        if isinstance(self.key, rsa.RSAPrivateKey):
            if len(body) != len(SHA256_DIGEST_INFO) + 32:
                return b"", WRONG_LENGTH
            if not body.startswith(SHA256_DIGEST_INFO):
                return b"", WRONG_DATA
            digest = body[len(SHA256_DIGEST_INFO):]
            return self.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())), OK
        if len(body) != hashlib.sha256().digest_size:
            return b"", WRONG_LENGTH
        r, s = utils.decode_dss_signature(self.key.sign(body, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big"), OK

    def _unblock(self, body: bytes) -> tuple[bytes, int]:
        """RESET RETRY COUNTER: PUK (8) ‖ new PIN."""
        if len(body) < 9:
            return b"", WRONG_LENGTH
        if body[:8] != self.puk.encode("ascii"):
            return b"", NOT_VERIFIED
        self.pin, self.tries, self._verified = body[8:].decode("ascii"), MAX_TRIES, False
        return b"", OK


def _parse(apdu: bytes):
    """Split a short APDU into (cla, ins, p1, p2, data, le); None when the lengths do not add up."""
    if len(apdu) < 4:
        return None
    cla, ins, p1, p2 = apdu[:4]
    rest = apdu[4:]
    if not rest:
        return cla, ins, p1, p2, b"", None
    if len(rest) == 1:
        return cla, ins, p1, p2, b"", rest[0] or 256
    lc = rest[0]
    if lc == 0 or len(rest) not in (1 + lc, 2 + lc):
        return None
    le = (rest[1 + lc] or 256) if len(rest) == 2 + lc else None
    return cla, ins, p1, p2, rest[1:1 + lc], le
