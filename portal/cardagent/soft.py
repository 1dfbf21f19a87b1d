"""The soft backend (demo, tests): one SOFT_CARDS_DIR/*.toml per card, key files beside it.

PIN tries are counted in memory like a card would (3, then blocked until the
agent restarts). Cards are read from disk on every request, so cards the
portal issues while the agent runs show up without a restart.
"""

from __future__ import annotations

import hmac
import logging
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from portal.cardagent import protocol
from portal.cardagent.applet import MAX_TRIES
from portal.cardagent.backend import AgentError, AgentStatus, CardBackend, CardSession, ReaderStatus
from portal.cardagent.keys import CloudModule, cloud_module_installed, load_key, sign_with_key

log = logging.getLogger(__name__)
NHI_KEYS = ("card_no", "name", "national_id", "birth_roc", "sex")


@dataclass(frozen=True)
class SoftCard:
    """One card file, parsed."""

    id: str
    label: str
    card_type: str
    holder: str
    pin: str
    certificate: Path | None
    key: Path | None
    nhi: dict | None


def load_cards(folder: str | Path) -> list[SoftCard]:
    """Every readable card file in folder, by file name; broken files are logged and left out."""
    cards = []
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            cards.append(_parse(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("soft card %s skipped: %s", path.name, exc)
    return cards


def _parse(path: Path) -> SoftCard:
    """One card file; KeyError/ValueError when it lacks what its type needs."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    card_type = data["type"]
    if card_type not in protocol.CARD_TYPES:
        raise ValueError(f"unknown type {card_type!r}")
    nhi = data.get("nhi")
    if card_type in protocol.PASSWORD_CARDS:
        nhi = {key: str(nhi[key]) for key in NHI_KEYS}
        cert = key = None
    else:
        cert, key = path.parent / data["certificate"], path.parent / data["key"]
    holder = data.get("holder") or (nhi or {}).get("name", "")
    return SoftCard(path.stem, data.get("label") or holder, card_type, holder, str(data.get("pin", "")),
                    cert, key, nhi)


class SoftBackend(CardBackend):
    """Soft cards in a folder; the cloud module serves both reader types."""

    def __init__(self, cards_dir: str | Path, cloud_module: str | Path):
        self.cards_dir, self.cloud_module = Path(cards_dir), Path(cloud_module)
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()

    def status(self) -> AgentStatus:
        """Each soft card is a reader with that card in it."""
        if not self.cards_dir.is_dir():
            return AgentStatus()
        cards = load_cards(self.cards_dir)
        readers = [ReaderStatus(f"軟體憑證：{c.label}", "soft", True, c.card_type) for c in cards]
        installed = cloud_module_installed(self.cloud_module)
        return AgentStatus(readers or [ReaderStatus("軟體憑證", "soft")],
                           {reader_type: installed for reader_type in protocol.READER_TYPES})

    def choices(self, card_type: str) -> list[tuple[str, str]]:
        """(id, label) of the soft cards of that type."""
        return [(c.id, c.label) for c in load_cards(self.cards_dir) if c.card_type == card_type]

    def open_card(self, reader_type: str, card_type: str, choice: str | None = None) -> CardSession:
        """The chosen (or first) soft card of card_type."""
        cards = load_cards(self.cards_dir)
        if not cards:
            raise AgentError("card_absent")
        of_type = [c for c in cards if c.card_type == card_type]
        if not of_type:
            raise AgentError("wrong_card_type")
        if choice is None:
            return SoftSession(of_type[0], self)
        for card in of_type:
            if card.id == choice:
                return SoftSession(card, self)
        raise AgentError("card_absent")

    def module(self, reader_type: str) -> CloudModule:
        """The cloud module (there is no soft SAM)."""
        return CloudModule(self.cloud_module)

    def tries_used(self, card_id: str) -> int:
        """Wrong PINs so far for a card."""
        with self._lock:
            return self._used.get(card_id, 0)

    def check_pin(self, card: SoftCard, pin: str) -> None:
        """Count a PIN try like a card: reset on success, blocked after the third wrong one."""
        with self._lock:
            used = self._used.get(card.id, 0)
            if used >= MAX_TRIES:
                raise AgentError("pin_blocked")
            if card.pin and hmac.compare_digest(pin.encode(), card.pin.encode()):
                self._used[card.id] = 0
                return
            self._used[card.id] = used = used + 1
        if used >= MAX_TRIES:
            raise AgentError("pin_blocked")
        raise AgentError("pin_wrong", tries_left=MAX_TRIES - used)


class SoftSession(CardSession):
    """A soft card opened for one request."""

    def __init__(self, card: SoftCard, backend: SoftBackend):
        self.card, self.backend = card, backend
        self.holder, self.card_type, self.identity = card.holder, card.card_type, card.id
        self._verified = False

    def tries_left(self) -> int | None:
        """Tries left, like VERIFY with empty data."""
        return MAX_TRIES - self.backend.tries_used(self.card.id)

    def verify_pin(self, pin: str) -> None:
        """Check the PIN against the file (counting tries)."""
        self.backend.check_pin(self.card, pin)
        self._verified = True

    def certificate(self) -> bytes:
        """The certificate file as DER."""
        try:
            cert = x509.load_pem_x509_certificate(self.card.certificate.read_bytes())
        except (OSError, ValueError, AttributeError):
            raise AgentError("agent_error", detail=f"no certificate for soft card {self.card.id}") from None
        return cert.public_bytes(serialization.Encoding.DER)

    def sign(self, data: bytes) -> tuple[bytes, str]:
        """Sign with the key file, only after the PIN (as the card would refuse with 6982)."""
        if not self._verified:
            raise AgentError("agent_error", detail="PIN not verified")
        try:
            key = load_key(self.card.key)
        except (OSError, ValueError, TypeError, AttributeError):
            raise AgentError("agent_error", detail=f"no key for soft card {self.card.id}") from None
        return sign_with_key(key, data)

    def nhi_card(self) -> dict:
        """The [nhi] table of a 健保卡 file."""
        if self.card.nhi is None:
            raise AgentError("wrong_card_type")
        return dict(self.card.nhi)
