"""Fixtures for the card agent: TEST certificates, soft cards, a running agent, the PC/SC test bed."""

from __future__ import annotations

import contextlib

import pytest

from portal.cardagent.backend import make_backend
from portal.cardagent.server import AgentServer
from portal.cardagent.soft import SoftBackend
from tests.cardagent.helpers import Client, agent_config, running
from tests.cardbed.cards import NHI_LIN, make_pki, sam_card, write_cloud_module, write_soft_card
from tests.cardbed.fixtures import pcsc_bed

__all__ = ["pcsc_bed"]  # the session fixture of the PC/SC test bed, made visible to these tests


@pytest.fixture(scope="session")
def pki():
    """TEST CAs and card certificates, made once (RSA keys are slow)."""
    return make_pki()


@pytest.fixture
def soft_dirs(tmp_path, pki):
    """A soft card folder with one card of every type, and the cloud module."""
    cards = tmp_path / "cards"
    write_soft_card(cards, "staff-1-wang", "medical-staff", "王大明", pki.staff_rsa, label="醫事人員卡：王大明")
    write_soft_card(cards, "staff-2-chen", "medical-staff", "陳美玲", pki.staff_ec, pin="654321", label="醫事人員卡：陳美玲")
    write_soft_card(cards, "lin-citizen", "citizen", "林志明", pki.citizen)
    write_soft_card(cards, "clinic", "medical-org", "TEST 幸福診所", pki.org)
    write_soft_card(cards, "health-bureau", "government", "TEST 臺北市政府衛生局", pki.gov)
    write_soft_card(cards, "lin-nhi", "nhi", NHI_LIN.name, nhi=NHI_LIN, label="健保卡：林小美")
    module = write_cloud_module(tmp_path / "module", pki.cloud)
    return cards, module


@pytest.fixture
def soft_agent(soft_dirs):
    """A running agent on the soft backend."""
    cards, module = soft_dirs
    config = agent_config(BACKEND="soft", SOFT_CARDS_DIR=str(cards), CLOUD_MODULE=str(module))
    with running(AgentServer(config, SoftBackend(cards, module))) as server:
        yield server


@pytest.fixture
def soft(soft_agent):
    """A client of the soft agent."""
    return Client(soft_agent.port)


NHI_READER = {"match": "Virtual PCD 00 00", "type": "nhi-reader", "sam": "Virtual PCD 00 01"}
CHIP_READER = {"match": "Virtual PCD 00 00", "type": "chip-reader"}


@pytest.fixture
def bed(pcsc_bed, pki):
    """The session's PC/SC test bed: slot 0 empty, the SAM in slot 1; slot 0 emptied again after the test."""
    pcsc_bed.eject(0)
    if pcsc_bed.slots[1].card is None:
        pcsc_bed.insert(1, sam_card(pki.sam))
    yield pcsc_bed
    pcsc_bed.eject(0)


@pytest.fixture
def pcsc_agent(bed, tmp_path, pki):
    """start(*READERS entries) → a client of a running agent on the PC/SC backend (stopped after the test)."""
    module = write_cloud_module(tmp_path / "module", pki.cloud)
    with contextlib.ExitStack() as stack:
        def start(*readers: dict) -> Client:
            """An agent mapping these readers, stopped with the test."""
            config = agent_config(BACKEND="pcsc", READERS=list(readers), CLOUD_MODULE=str(module))
            server = stack.enter_context(running(AgentServer(config, make_backend(config))))
            return Client(server.port)

        yield start
