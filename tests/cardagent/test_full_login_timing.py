"""How long a whole card login takes: portal transaction → agent (sign, PIN) → portal callback → session cookie.

Prints a table (no assertions on time; only that every login succeeded), once over the soft
backend and once over the PC/SC test bed (pcscd + vpcd + our emulator: the 醫事人員卡 in slot 0,
the SAM in slot 1). The portal side runs through a Flask test client on http://portal.test (the
origin the test agents allow); the agent side is real HTTP to an in-process agent.

PC/SC: the `bed` fixture (the session's pcsc_bed) must start before anything else in the process
talks to PC/SC; as in test_pcsc_login.py only the bed and pcsc_agent fixtures touch it, and the
soft-backend test does not use PC/SC at all.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization

from portal.cardagent import protocol
from portal.cardagent.server import AgentServer
from portal.cardagent.soft import SoftBackend
from portal.logic import authority, modules
from portal.logic.audit import SYSTEM
from portal.models.authority import Institution
from portal.pki import crl, testca
from portal.pki.verify import load_trust
from portal.storage import storage_for
from tests.cardagent.conftest import NHI_READER
from tests.cardagent.helpers import PORTAL, RETURN_URL, Client, agent_config, running
from tests.cardbed.cards import pki_card, write_soft_card
from tests.conftest import _close, instance_overrides, migrated_app
from tests.world import module_from_package

RUNS = 20
CARD_TYPE, READER_TYPE = "medical-staff", "nhi-reader"
INSTITUTION = "3501234567"  # the institution of the card bed's SAM and TEST 幸福診所 certificates
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


@dataclass
class Timing:
    """Wall-clock seconds of each login, split into the portal's and the agent's share."""

    total: list[float] = field(default_factory=list)
    portal: list[float] = field(default_factory=list)
    agent: list[float] = field(default_factory=list)


@pytest.fixture
def portal_app(tmp_path, pki):
    """A migrated portal trusting the card bed's TEST HCA and SAM roots, with 王大明 as user of 幸福診所."""
    base = tmp_path / "portal"
    anchors = base / "pki" / "anchors"
    overrides = {"PKI_DIR": str(base / "pki"), "CRL_DIR": str(base / "pki" / "crl"), "PAGE_CACHE_SECONDS": 0}
    app = migrated_app(instance_overrides(base, **overrides))
    try:
        for kind, root in (("medical-staff", "hca"), ("module", "sam")):
            (anchors / kind).mkdir(parents=True)
            (anchors / kind / f"{root}.pem").write_bytes(pki.roots[root].pem)
        (base / "pki" / "crl").mkdir()
        for root in ("hca", "sam"):
            (base / "pki" / "crl" / f"{root}.crl").write_bytes(
                testca.crl(pki.roots[root]).public_bytes(serialization.Encoding.DER))
        crl.refresh(crl.sources(app.config), load_trust(base / "pki"))
        clinic = Institution.create(code=INSTITUTION, name="TEST 幸福診所", region="taipei", kind="診所")
        authority.save_services(clinic, ["RWM"], SYSTEM)
        form = authority.PersonForm(name="王大明", national_id="A123456789", birth_date=date(1975, 5, 15),
                                    valid_from=date(2024, 1, 1))
        authority.save_grants(authority.appoint(clinic, "user", form, SYSTEM), ["RWM"], SYSTEM)
        yield app
    finally:
        _close(app)


def cloud_module(app, folder):
    """The clinic's 雲端安全模組 as the portal issues it (portal CA), unpacked for the agent."""
    clinic = Institution.get(Institution.code == INSTITUTION)
    modules.apply(clinic, modules.ApplicationForm("聯絡人", "(02)1234-5678"), SYSTEM)
    storage = storage_for(app.config)
    row = next(r for r in modules.issue_pending(app.config, storage) if r.institution_id == clinic.id)
    issued = module_from_package(storage, row)
    folder.mkdir(parents=True)
    (folder / "module-cert.pem").write_bytes(issued.cert_pem)
    (folder / "module-key.pem").write_bytes(issued.key_pem)
    return folder


def one_login(app, agent: Client, timing: Timing) -> None:
    """POST /login → POST /v1/sign → POST /v1/sign/pin → POST /login/callback; asserts the session cookie."""
    portal = app.test_client()
    form = portal.get("/login", base_url=PORTAL).get_data(as_text=True)  # the page the user starts from
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)

    start = time.perf_counter()
    handed = portal.post("/login", base_url=PORTAL, data={"card": CARD_TYPE, "reader": READER_TYPE,
                                                          "csrf_token": token})
    assert handed.status_code == 200, handed.get_data(as_text=True)[:500]
    fields = dict(HIDDEN.findall(handed.get_data(as_text=True)))
    assert set(fields) == set(protocol.REQUEST_FIELDS) and fields["return_url"] == RETURN_URL, fields
    to_agent = time.perf_counter()

    pin_page = agent.post(protocol.AGENT_PATH_SIGN, fields, origin=PORTAL)
    assert pin_page.status == 200 and 'id="pin"' in pin_page.text, pin_page.text
    answer = agent.pin(pin_page, "123456").post_back()
    assert "error" not in answer, answer
    back = time.perf_counter()

    done = portal.post("/login/callback", base_url=PORTAL, data=answer)
    end = time.perf_counter()
    assert done.status_code == 303 and done.headers["Location"].endswith("/home"), done.get_data(as_text=True)[:800]
    assert portal.get_cookie("portal_session", domain="portal.test") is not None
    timing.portal.append((to_agent - start) + (end - back))
    timing.agent.append(back - to_agent)
    timing.total.append(end - start)


def measure(app, agent: Client) -> Timing:
    """RUNS full logins, each from a fresh browser (test client)."""
    timing = Timing()
    for _ in range(RUNS):
        one_login(app, agent, timing)
    assert len(timing.total) == RUNS
    return timing


def p90(values: list[float]) -> float:
    """The 90th percentile (inclusive method)."""
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


_printed_header: list[bool] = []


def report(capsys, backend: str, timing: Timing) -> None:
    """One row of the table (the header before the first row), printed even without -s."""
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f}"

    with capsys.disabled():
        if not _printed_header:
            _printed_header.append(True)
            print(f"\n[full card login] {'backend':<44} {'median ms':>10} {'p90 ms':>8} {'n':>3}  "
                  f"median portal / agent ms")
        else:
            print()
        print(f"[full card login] {backend:<44} {ms(statistics.median(timing.total)):>10} {ms(p90(timing.total)):>8} "
              f"{len(timing.total):>3}  {ms(statistics.median(timing.portal))} / {ms(statistics.median(timing.agent))}")


def test_full_login_time_soft_backend(portal_app, pki, tmp_path, capsys):
    cards = tmp_path / "cards"
    write_soft_card(cards, "wang", CARD_TYPE, "王大明", pki.staff_rsa, label="醫事人員卡：王大明")
    module = cloud_module(portal_app, tmp_path / "module")
    config = agent_config(SOFT_CARDS_DIR=str(cards), CLOUD_MODULE=str(module))
    with running(AgentServer(config, SoftBackend(cards, module))) as server:
        timing = measure(portal_app, Client(server.port))
    report(capsys, "soft: RSA card + cloud module (EC)", timing)


def test_full_login_time_over_pcsc(bed, pcsc_agent, portal_app, pki, capsys):
    agent = pcsc_agent(NHI_READER)
    bed.insert(0, pki_card(CARD_TYPE, pki.staff_rsa))
    timing = measure(portal_app, agent)
    report(capsys, "PC/SC bed: RSA card slot 0 + SAM (EC) slot 1", timing)
