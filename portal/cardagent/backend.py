"""The one interface every card backend implements (docs/card-login.md §3), and the factory."""

from __future__ import annotations

from dataclasses import dataclass, field


class AgentError(Exception):
    """A problem with reader, card or module, named by a protocol.ERRORS code (or 'pin_wrong')."""

    def __init__(self, code: str, tries_left: int | None = None, detail: str = ""):
        super().__init__(detail or code)
        self.code = code
        self.tries_left = tries_left


@dataclass
class ReaderStatus:
    """One configured reader that is connected, and what is in it."""

    name: str
    reader_type: str
    card_present: bool = False
    card_type: str | None = None        # a CARD_TYPES value, or None when unknown or empty


@dataclass
class AgentStatus:
    """What the status page shows: readers, the cards in them and the security modules."""

    readers: list[ReaderStatus] = field(default_factory=list)
    modules: dict[str, bool] = field(default_factory=dict)   # reader type → module available

    @property
    def state(self) -> str:
        """no_reader, no_card or ready."""
        if not self.readers:
            return "no_reader"
        return "ready" if any(r.card_type for r in self.readers) else "no_card"

    @property
    def card_types(self) -> list[str]:
        """The card types found, without repeats, in reader order."""
        return list(dict.fromkeys(r.card_type for r in self.readers if r.card_type))


class CardSession:
    """An opened card of the wanted type; close() it when the request is done."""

    holder: str = ""
    card_type: str = ""
    identity: str = ""   # stays the same while the same card is inserted (PIN page → PIN post)

    def tries_left(self) -> int | None:
        """PIN tries left (None: unknown or already verified)."""
        raise NotImplementedError

    def verify_pin(self, pin: str) -> None:
        """Verify the PIN on the card; AgentError('pin_wrong', tries_left=n) or AgentError('pin_blocked')."""
        raise NotImplementedError

    def certificate(self) -> bytes:
        """The card's certificate (DER); not for 健保卡."""
        raise NotImplementedError

    def sign(self, data: bytes) -> tuple[bytes, str]:
        """(signature, algorithm) over data; the PIN must have been verified."""
        raise NotImplementedError

    def nhi_card(self) -> dict:
        """健保卡 basic data: card_no, name, national_id, birth_roc, sex."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the card."""


class Module:
    """The institution's security module: a SAM card or the 雲端安全模組 files."""

    def certificate(self) -> bytes:
        """The module's certificate (DER)."""
        raise NotImplementedError

    def sign(self, data: bytes) -> tuple[bytes, str]:
        """(signature, algorithm) over data; no PIN."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the SAM (nothing to do for files)."""


class CardBackend:
    """Readers and cards behind one interface: soft key files or PC/SC."""

    def status(self) -> AgentStatus:
        """Readers, card present, card type, module present."""
        raise NotImplementedError

    def choices(self, card_type: str) -> list[tuple[str, str]]:
        """Soft backend only: (id, label) of the cards that stand in for "which card is inserted"."""
        return []

    def open_card(self, reader_type: str, card_type: str, choice: str | None = None) -> CardSession:
        """The card of card_type in a reader of reader_type; AgentError(code) on problems."""
        raise NotImplementedError

    def module(self, reader_type: str) -> Module:
        """The SAM in the NHI reader's second slot, or the cloud module; AgentError('module_missing')."""
        raise NotImplementedError


def make_backend(config: dict) -> CardBackend:
    """The backend the BACKEND setting names (pyscard is imported only for pcsc)."""
    if config["BACKEND"] == "pcsc":
        from portal.cardagent.pcsc import PcscBackend

        return PcscBackend(config["READERS"], config["CLOUD_MODULE"])
    from portal.cardagent.soft import SoftBackend

    return SoftBackend(config["SOFT_CARDS_DIR"], config["CLOUD_MODULE"])
