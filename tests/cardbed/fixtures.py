"""The PC/SC test bed: a private pcscd with one vpcd entry, and our emulator in its two slots.

Debian's pcscd 1.9.9 ignores PCSCLITE_CSOCK_NAME (its socket is compiled in as
/run/pcscd/pcscd.comm); only the client library reads it. So pcscd runs in a
private mount namespace (`unshare`) with a folder of ours bind-mounted on /run,
and this process points libpcsclite at that folder's socket. libpcsclite reads
the variable once, at the first PC/SC call of the process: this fixture must run
before anything else in the test process talks to PC/SC.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cardbed.applet import TestCard
from tests.cardbed.emulator import Slot
from tests.conftest import need

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER, SAM_READER = "Virtual PCD 00 00", "Virtual PCD 00 01"
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"
# sh inside the namespace: our folder on /run, then pcscd in the foreground as the same process.
START = 'mount --bind "$0" /run && exec "$1" --foreground --config "$2"'
SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")


@dataclass
class Bed:
    """The running test bed: slot 0 takes the user's card, slot 1 the SAM."""

    socket: Path
    slots: list[Slot]
    names: tuple[str, str] = (READER, SAM_READER)
    log: Path | None = None

    def insert(self, index: int, card: TestCard) -> None:
        """Insert a card and wait until pcscd reports it present."""
        self.slots[index].insert(card)
        self.wait(index, present=True)

    def eject(self, index: int) -> None:
        """Pull the card and wait for SCARD_STATE_EMPTY (vpcd notices at its next poll)."""
        if self.slots[index].card is not None:
            self.slots[index].eject()
        self.wait(index, present=False)

    def wait(self, index: int, present: bool, timeout: float = 10) -> None:
        """Poll pcscd until the slot's presence is as wanted."""
        deadline = time.monotonic() + timeout
        while card_present(self.names[index]) != present:
            if time.monotonic() > deadline:
                pytest.fail(f"{self.names[index]} not {'present' if present else 'empty'} after {timeout} s")
            time.sleep(0.02)


def card_present(name: str) -> bool:
    """What pcscd says about a reader right now."""
    from smartcard import scard as sc

    hresult, context = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    if hresult != sc.SCARD_S_SUCCESS:
        return False
    try:
        hresult, states = sc.SCardGetStatusChange(context, 0, [(name, sc.SCARD_STATE_UNAWARE)])
        return hresult == sc.SCARD_S_SUCCESS and bool(states[0][1] & sc.SCARD_STATE_PRESENT)
    finally:
        sc.SCardReleaseContext(context)


def reader_names() -> list[str]:
    """Readers pcscd lists (empty while it is not up)."""
    from smartcard import scard as sc

    hresult, context = sc.SCardEstablishContext(sc.SCARD_SCOPE_USER)
    if hresult != sc.SCARD_S_SUCCESS:
        return []
    try:
        hresult, names = sc.SCardListReaders(context, [])
        return list(names) if hresult == sc.SCARD_S_SUCCESS else []
    finally:
        sc.SCardReleaseContext(context)


def namespace_command() -> list[str] | None:
    """unshare arguments that give pcscd its own /run (root, else a user namespace); None if neither works."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    candidates = [[unshare, "--user", "--map-root-user", "--mount", "--propagation", "private"]]
    if os.geteuid() == 0:
        candidates.insert(0, [unshare, "--mount", "--propagation", "private"])
    for command in candidates:
        probe = subprocess.run([*command, "sh", "-c", "mount -t tmpfs none /mnt"], capture_output=True)
        if probe.returncode == 0:
            return command
    return None


def free_port_pair() -> int:
    """A port p with p and p+1 free on all addresses (vpcd binds INADDR_ANY, one port per slot)."""
    for _ in range(100):
        port = random.randrange(20000, 60000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("0.0.0.0", port))
                b.bind(("0.0.0.0", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two adjacent free ports")


@pytest.fixture(scope="session")
def pcsc_bed():
    """pcscd + vpcd (two slots) + our emulator, for the whole session; stopped cleanly at the end."""
    pcscd = shutil.which("pcscd") or shutil.which("pcscd", path="/usr/sbin:/sbin")
    need(pcscd is not None, "pcscd is not installed (apt-get install pcscd)")
    need(VPCD_DRIVER.exists(), f"the vpcd driver is missing: {VPCD_DRIVER} (apt-get install vsmartcard-vpcd)")
    need(importlib.util.find_spec("smartcard") is not None, "pyscard is not installed (pip install pyscard==2.3.1)")
    prefix = namespace_command()
    # Without namespaces, root on a machine with no pcscd of its own can let ours use the real /run.
    shared_run = prefix is None and os.geteuid() == 0 and not SYSTEM_SOCKET.exists()
    need(prefix is not None or shared_run,
         "cannot give pcscd a private /run: `unshare --mount` (root) or user namespaces needed")
    base = Path(tempfile.mkdtemp(prefix="cardbed-"))
    (base / "conf").mkdir()
    (base / "run" / "pcscd").mkdir(parents=True)
    port = free_port_pair()
    # pcscd parses every file in --config: this folder holds exactly one vpcd entry (server mode).
    (base / "conf" / "vpcd").write_text(
        f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:{port}\nLIBPATH      {VPCD_DRIVER}\n')
    sock = SYSTEM_SOCKET if shared_run else base / "run" / "pcscd" / "pcscd.comm"
    previous = os.environ.get(SOCKET_ENV)
    os.environ[SOCKET_ENV] = str(sock)
    log_path = base / "pcscd.log"
    command = ([pcscd, "--foreground", "--config", str(base / "conf")] if shared_run
               else [*prefix, "sh", "-c", START, str(base / "run"), pcscd, str(base / "conf")])
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    slots = [Slot(port), Slot(port + 1)]
    try:
        _wait_for_readers(process, log_path)
        yield Bed(sock, slots, log=log_path)
    finally:
        for slot in slots:
            slot.eject()
        gc.collect()  # pyscard objects still holding a context keep pcscd from exiting promptly
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if previous is None:
            os.environ.pop(SOCKET_ENV, None)
        else:
            os.environ[SOCKET_ENV] = previous
        shutil.rmtree(base, ignore_errors=True)


def _wait_for_readers(process: subprocess.Popen, log_path: Path, seconds: float = 15) -> None:
    """Until pcscd lists both vpcd slots; fail with its log otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if {READER, SAM_READER} <= set(reader_names()):
            return
        time.sleep(0.05)
    tail = log_path.read_text(errors="replace")[-2000:]
    pytest.fail(f"pcscd did not list the vpcd readers within {seconds} s (exit {process.poll()}). "
                f"If this process used PC/SC before the fixture, libpcsclite kept the old socket name.\n{tail}")
