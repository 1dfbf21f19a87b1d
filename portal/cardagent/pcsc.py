"""The PC/SC backend: pyscard's low-level API, readers mapped by READERS, our test applet (§4).

Only imported when BACKEND = "pcsc", so the soft backend runs without pyscard.
Every request opens its own PC/SC context and connection inside a transaction
(another program, or the status page, cannot interleave APDUs) and closes it
before answering; nothing is held between the PIN page and the PIN post.
"""

from __future__ import annotations

import hashlib

from portal.cardagent import applet, protocol
from portal.cardagent.backend import AgentError, AgentStatus, CardBackend, CardSession, Module, ReaderStatus
from portal.cardagent.keys import (
    CloudModule,
    certificate_algorithm,
    cloud_module_installed,
    digest_info,
    holder_from_certificate,
    raw_to_der,
)
from portal.cardagent.pcsclink import Link, list_readers, present

__all__ = ["PcscBackend"]


class PcscBackend(CardBackend):
    """Cards in PC/SC readers; READERS says which reader is which type and where its SAM is."""

    def __init__(self, readers: list[dict], cloud_module: str):
        self.entries, self.cloud_module = readers, cloud_module

    def _sam_names(self) -> list[str]:
        """The configured SAM slot name parts."""
        return [e["sam"] for e in self.entries if e.get("sam")]

    def _card_readers(self, names: list[str]) -> list[tuple[str, str]]:
        """(PC/SC name, reader type) of every connected card reader (SAM slots left out)."""
        found = []
        for entry in self.entries:
            for name in names:
                is_sam = any(s in name for s in self._sam_names())
                if entry["match"] in name and not is_sam and name not in [f[0] for f in found]:
                    found.append((name, entry["type"]))
        return found

    def _entry_reader(self, reader_type: str, names: list[str]) -> tuple[dict, str]:
        """The READERS entry and PC/SC name of the first connected reader of that type."""
        for name, kind in self._card_readers(names):
            if kind == reader_type:
                entry = next(e for e in self.entries if e["type"] == kind and e["match"] in name)
                return entry, name
        raise AgentError("reader_missing")

    def status(self) -> AgentStatus:
        """Connected readers, the card type in each (read from file 1002) and the modules."""
        names = list_readers()
        readers = []
        for name, kind in self._card_readers(names):
            card = present(name)
            readers.append(ReaderStatus(name, kind, card, _card_type(name) if card else None))
        modules = {"chip-reader": cloud_module_installed(self.cloud_module)}
        try:
            self.module("nhi-reader", names).close()
            modules["nhi-reader"] = True
        except AgentError:
            modules["nhi-reader"] = False
        return AgentStatus(readers, modules)

    def open_card(self, reader_type: str, card_type: str, choice: str | None = None) -> CardSession:
        """Connect to the card in the first reader of that type and check it is a card_type card."""
        _entry, name = self._entry_reader(reader_type, list_readers())
        link = Link(name)
        try:
            return PcscSession(link, card_type)
        except BaseException:
            link.close()
            raise

    def module(self, reader_type: str, names: list[str] | None = None) -> Module:
        """The SAM in the NHI reader's SAM slot; the cloud module for chip readers."""
        if reader_type != "nhi-reader":
            return CloudModule(self.cloud_module)
        names = list_readers() if names is None else names
        try:
            entry, _name = self._entry_reader(reader_type, names)
            sam = next(n for n in names if entry.get("sam") and entry["sam"] in n)
            link = Link(sam)
        except (AgentError, StopIteration):
            raise AgentError("module_missing") from None
        try:
            return SamModule(link)
        except BaseException:
            link.close()
            raise


def _card_type(name: str) -> str | None:
    """The card type file 1002 names, or None for a card that is not ours (or is busy)."""
    try:
        link = Link(name)
    except AgentError:
        return None
    try:
        link.select_applet()
        kind = applet.parse_info(link.read_file(applet.FID_INFO)).get("type")
        return kind if kind in protocol.CARD_TYPES else None
    except AgentError:
        return None
    finally:
        link.close()


class PcscSession(CardSession):
    """The card in one reader, for one request."""

    def __init__(self, link: Link, card_type: str):
        self.link = link
        link.select_applet()
        info = applet.parse_info(link.read_file(applet.FID_INFO))
        if info.get("type") != card_type:
            raise AgentError("wrong_card_type")
        self.card_type, self._verified = card_type, False
        if card_type in protocol.PASSWORD_CARDS:
            raw = link.read_file(applet.FID_NHI)
            try:
                self._nhi = applet.parse_nhi(raw)
            except ValueError:
                raise AgentError("agent_error", detail="bad basic data file") from None
            self.holder, self._cert = self._nhi["name"], b""
        else:
            self._cert = link.read_file(applet.FID_CERT)
            self.holder = holder_from_certificate(self._cert) or info.get("holder", "")
            raw = self._cert
        self.identity = hashlib.sha256(raw).hexdigest()

    def tries_left(self) -> int | None:
        """VERIFY with empty data: 63Cx → x, 6983 → 0, 9000 (already verified) → None."""
        _data, sw = self.link.transmit(applet.verify())
        if sw == applet.SW_BLOCKED:
            return 0
        return sw & 0x0F if sw & 0xFFF0 == 0x63C0 else None

    def verify_pin(self, pin: str) -> None:
        """VERIFY once (the agent never retries by itself)."""
        _data, sw = self.link.transmit(applet.verify(pin.encode("ascii")))
        if sw == applet.SW_OK:
            self._verified = True
            return
        if sw == applet.SW_BLOCKED or sw == 0x63C0:
            raise AgentError("pin_blocked")
        if sw & 0xFFF0 == 0x63C0:
            raise AgentError("pin_wrong", tries_left=sw & 0x0F)
        raise AgentError("agent_error", detail=f"VERIFY answered {sw:04X}")

    def certificate(self) -> bytes:
        """The certificate read from file 1001."""
        return self._cert

    def sign(self, data: bytes) -> tuple[bytes, str]:
        """PSO over DigestInfo (RSA) or the hash (EC, r ‖ s turned into DER)."""
        return _pso(self.link, self._cert, data)

    def nhi_card(self) -> dict:
        """The basic data read from file 1003."""
        if self.card_type not in protocol.PASSWORD_CARDS:
            raise AgentError("wrong_card_type")
        return dict(self._nhi)

    def close(self) -> None:
        """Disconnect; reset the card if the PIN was verified so it is not left open for others."""
        self.link.close(reset=self._verified)


class SamModule(Module):
    """A security module card (type=sam): signs without a PIN."""

    def __init__(self, link: Link):
        self.link = link
        try:
            link.select_applet()
            if applet.parse_info(link.read_file(applet.FID_INFO)).get("type") != "sam":
                raise AgentError("module_missing")
            self._cert = link.read_file(applet.FID_CERT)
        except AgentError:
            raise AgentError("module_missing") from None

    def certificate(self) -> bytes:
        """The SAM's certificate."""
        return self._cert

    def sign(self, data: bytes) -> tuple[bytes, str]:
        """PSO, no PIN needed."""
        return _pso(self.link, self._cert, data)

    def close(self) -> None:
        """Disconnect from the SAM slot."""
        self.link.close()


def _pso(link: Link, cert: bytes, data: bytes) -> tuple[bytes, str]:
    """PSO: COMPUTE DIGITAL SIGNATURE with the key the certificate names."""
    algorithm = certificate_algorithm(cert)
    if algorithm == "rsa-pkcs1v15-sha256":
        return link.command(applet.compute_signature(digest_info(data))), algorithm
    raw = link.command(applet.compute_signature(hashlib.sha256(data).digest()))
    return raw_to_der(raw), algorithm
