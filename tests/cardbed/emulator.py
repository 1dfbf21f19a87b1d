"""Our card emulator: puts a TestCard into one slot of vpcd by speaking vpcd's TCP protocol.

vpcd (Debian vsmartcard-vpcd, server mode) listens on one port per slot; a card
is "inserted" by connecting to it and "ejected" by closing the connection.
Frames are a 2-byte big-endian length + payload; a 1-byte payload is a control
(0 power off, 1 power on, 2 reset, 4 get ATR), anything else an APDU answered
with response ‖ SW.
"""

from __future__ import annotations

import socket
import threading
import time

from tests.cardbed.applet import TestCard

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


class Slot:
    """One vpcd slot, into which tests insert, eject and swap cards at runtime."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.address = (host, port)
        self.card: TestCard | None = None
        self.frames = 0  # frames answered since the last insert (APDUs and ATR requests)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def insert(self, card: TestCard, timeout: float = 10.0) -> None:
        """Connect to vpcd as this card (retrying while pcscd is still starting)."""
        if self._sock is not None:
            raise RuntimeError("a card is already in this slot; eject it first")
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        # Our answers go out as one buffer; no Nagle delay behind vpcd's delayed ACKs.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        card.power()
        self.card, self._sock, self.frames = card, sock, 0
        self._thread = threading.Thread(target=self._serve, args=(sock, card), daemon=True,
                                        name=f"vpcd-slot-{self.address[1]}")
        self._thread.start()

    def eject(self) -> None:
        """Pull the card: close the connection (vpcd reports the slot empty at its next poll)."""
        sock, thread = self._sock, self._thread
        self._sock = self._thread = self.card = None
        if sock is None:
            return
        try:
            # shutdown wakes the serving thread's blocking recv; close alone would not.
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        thread.join(5)

    def swap(self, card: TestCard) -> None:
        """Eject whatever is inserted and insert another card."""
        self.eject()
        self.insert(card)

    def _serve(self, sock: socket.socket, card: TestCard) -> None:
        """Answer vpcd's frames until eject or vpcd closes the connection."""
        try:
            while True:
                header = _recv_exact(sock, 2)
                if header is None:
                    return
                payload = _recv_exact(sock, int.from_bytes(header, "big"))
                if payload is None:
                    return
                answer = self._answer(card, payload)
                if answer is not None:
                    sock.sendall(len(answer).to_bytes(2, "big") + answer)
                    self.frames += 1
        except OSError:
            return
        finally:
            sock.close()

    @staticmethod
    def _answer(card: TestCard, payload: bytes) -> bytes | None:
        """The reply to one frame; None for power controls, which vpcd expects no reply to."""
        if len(payload) == 1:
            if payload[0] == CTRL_ATR:
                return card.atr
            if payload[0] in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                card.power()
            return None
        return card.process(payload)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Read exactly size bytes; None when the peer (or eject) closed the connection."""
    data = b""
    while len(data) < size:
        # Linux clears QUICKACK after a while; without it every APDU waits ~40 ms for a delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
