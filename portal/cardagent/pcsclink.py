"""One PC/SC connection inside a transaction, and reader listing (pyscard's low-level API)."""

from __future__ import annotations

from smartcard import scard as sc

from portal.cardagent import applet
from portal.cardagent.backend import AgentError

OK = sc.SCARD_S_SUCCESS
# The card went away (or was reset by another program) while we talked to it. A transmit to a
# card pulled a moment ago fails before pcscd has noticed, hence NOT_TRANSACTED / COMM_ERROR too.
GONE = {sc.SCARD_W_REMOVED_CARD, sc.SCARD_W_RESET_CARD, sc.SCARD_E_NO_SMARTCARD, sc.SCARD_W_UNPOWERED_CARD,
        sc.SCARD_E_READER_UNAVAILABLE, sc.SCARD_E_NOT_TRANSACTED, sc.SCARD_F_COMM_ERROR}
ABSENT = {sc.SCARD_E_NO_SMARTCARD, sc.SCARD_W_REMOVED_CARD, sc.SCARD_W_UNPOWERED_CARD}
NO_READER = {sc.SCARD_E_UNKNOWN_READER, sc.SCARD_E_READER_UNAVAILABLE, sc.SCARD_E_NO_READERS_AVAILABLE,
             sc.SCARD_E_NO_SERVICE}
MAX_OFFSET = 0x7FFF  # READ BINARY offsets are 15 bits


def _describe(hresult: int) -> str:
    """A PC/SC error code for the log."""
    return f"{sc.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"


def _context() -> int:
    """A PC/SC context; no pcscd (or no service) means no reader."""
    hresult, context = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    if hresult != OK:
        raise AgentError("reader_missing", detail=_describe(hresult))
    return context


def list_readers() -> list[str]:
    """PC/SC reader names; empty when pcscd is not running or no reader is connected."""
    try:
        context = _context()
    except AgentError:
        return []
    try:
        hresult, names = sc.SCardListReaders(context, [])
        return list(names) if hresult == OK else []
    finally:
        sc.SCardReleaseContext(context)


def present(name: str) -> bool:
    """Whether a card is in the reader, without connecting to it."""
    try:
        context = _context()
    except AgentError:
        return False
    try:
        hresult, states = sc.SCardGetStatusChange(context, 0, [(name, sc.SCARD_STATE_UNAWARE)])
        return hresult == OK and bool(states[0][1] & sc.SCARD_STATE_PRESENT)
    finally:
        sc.SCardReleaseContext(context)


class Link:
    """A shared connection to the card in one reader, holding a PC/SC transaction until close()."""

    def __init__(self, reader: str):
        self.reader = reader
        self.context = _context()
        hresult, self.card, self.protocol = sc.SCardConnect(
            self.context, reader, sc.SCARD_SHARE_SHARED, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1)
        if hresult != OK:
            sc.SCardReleaseContext(self.context)
            code = "card_absent" if hresult in ABSENT else "reader_missing" if hresult in NO_READER else "agent_error"
            raise AgentError(code, detail=_describe(hresult))
        hresult = sc.SCardBeginTransaction(self.card)
        if hresult != OK:
            sc.SCardDisconnect(self.card, sc.SCARD_LEAVE_CARD)
            sc.SCardReleaseContext(self.context)
            raise AgentError("card_removed" if hresult in GONE else "agent_error", detail=_describe(hresult))
        self._open = True

    def close(self, reset: bool = False) -> None:
        """End the transaction and disconnect (a warm reset clears a verified PIN); idempotent."""
        if not self._open:
            return
        self._open = False
        sc.SCardEndTransaction(self.card, sc.SCARD_LEAVE_CARD)
        sc.SCardDisconnect(self.card, sc.SCARD_RESET_CARD if reset else sc.SCARD_LEAVE_CARD)
        sc.SCardReleaseContext(self.context)

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """(response data, status word); AgentError('card_removed') when the card is gone."""
        hresult, response = sc.SCardTransmit(self.card, self.protocol, list(apdu))
        if hresult != OK:
            raise AgentError("card_removed" if hresult in GONE else "agent_error", detail=_describe(hresult))
        if len(response) < 2:
            raise AgentError("agent_error", detail="response without status word")
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def command(self, apdu: bytes) -> bytes:
        """Response data of a command that must answer 9000."""
        data, sw = self.transmit(apdu)
        if sw != applet.SW_OK:
            raise AgentError("agent_error", detail=f"{apdu[:4].hex()} answered {sw:04X}")
        return data

    def select_applet(self) -> None:
        """SELECT our applet; a card without it is not a card of ours (wrong card type)."""
        _data, sw = self.transmit(applet.select_applet())
        if sw != applet.SW_OK:
            raise AgentError("wrong_card_type", detail=f"SELECT answered {sw:04X}")

    def read_file(self, fid: int) -> bytes:
        """A whole elementary file, MAX_READ bytes at a time, until a short chunk or 6B00."""
        self.command(applet.select_file(fid))
        content = b""
        while True:
            chunk, sw = self.transmit(applet.read_binary(len(content)))
            if sw == applet.SW_BEYOND_FILE:
                return content
            if sw != applet.SW_OK:
                raise AgentError("agent_error", detail=f"READ BINARY answered {sw:04X}")
            content += chunk
            if len(chunk) < applet.MAX_READ:
                return content
            if len(content) > MAX_OFFSET:
                raise AgentError("agent_error", detail="file too large")
