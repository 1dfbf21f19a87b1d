"""What the agent needs to know about the test card applet (docs/card-login.md §4)."""

from __future__ import annotations

AID = bytes.fromhex("F0545750434152440001")
FID_CERT, FID_INFO, FID_NHI = 0x1001, 0x1002, 0x1003
MAX_READ = 0xF0            # READ BINARY returns at most this many bytes per call
MAX_TRIES = 3              # the applet's PIN tries; 「剩餘 N 次」 shows once fewer are left

SW_OK, SW_FILE_NOT_FOUND, SW_NOT_VERIFIED, SW_BLOCKED = 0x9000, 0x6A82, 0x6982, 0x6983
SW_BEYOND_FILE, SW_UNKNOWN_INS = 0x6B00, 0x6D00
NHI_LAYOUT = (("card_no", 12), ("name", 20), ("national_id", 10), ("birth_roc", 7), ("sex", 1))


def select_applet() -> bytes:
    """SELECT the applet by AID."""
    return bytes([0x00, 0xA4, 0x04, 0x00, len(AID)]) + AID


def select_file(fid: int) -> bytes:
    """SELECT an elementary file, no response data."""
    return bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + fid.to_bytes(2, "big")


def read_binary(offset: int, length: int = MAX_READ) -> bytes:
    """READ BINARY at offset."""
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length])


def verify(pin: bytes = b"") -> bytes:
    """VERIFY the PIN; with no PIN, ask for its status."""
    return bytes([0x00, 0x20, 0x00, 0x81]) + (bytes([len(pin)]) + pin if pin else b"")


def compute_signature(data: bytes) -> bytes:
    """PSO: COMPUTE DIGITAL SIGNATURE (Le 00: up to 256 bytes back)."""
    return bytes([0x00, 0x2A, 0x9E, 0x9A, len(data)]) + data + b"\x00"


def parse_info(data: bytes) -> dict:
    """File 1002: UTF-8 lines key=value (type, holder)."""
    info = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            info[key.strip()] = value.strip()
    return info


def parse_nhi(data: bytes) -> dict:
    """File 1003: the 健保卡 basic data, fixed width, the name in Big5 (Microsoft's cp950 variant)."""
    if len(data) < sum(width for _, width in NHI_LAYOUT):
        raise ValueError("basic data file too short")
    fields, offset = {}, 0
    for name, width in NHI_LAYOUT:
        raw = data[offset:offset + width]
        # 造字 (EUDC) code points have no Unicode mapping; they become U+FFFD rather than fail the login.
        text = raw.decode("cp950", "replace") if name == "name" else raw.decode("ascii", "replace")
        fields[name] = text.strip(" \x00\u3000")
        offset += width
    return fields
