"""A live portal and a live card agent (soft backend) for the card-login journeys in chromium.

The portal is served on 127.0.0.1 and reached by the browser as http://localhost:<port>; the
agent answers on http://127.0.0.1:<port>. Two host names make two sites, so the agent's
post-back to /login/callback is a real cross-site POST and the `portal_login` cookie only
travels because it is SameSite=None (docs/card-login.md §1).

The instance is the integration tests' `world` (TEST CAs, 臺北虛擬診所 / 高屏虛擬醫院,
王大明 / 陳小華 / 林美玲, issued 雲端安全模組), rebuilt here because that fixture lives in
another conftest; its soft cards and the 臺北 module are written where the agent reads them.
"""

from __future__ import annotations

import contextlib
import random
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.cardagent.server import AgentServer
from portal.cardagent.soft import SoftBackend
from portal.identity import today
from portal.logic import national_id
from portal.logic.roc_dates import roc_compact, roc_date
from portal.pki import testca
from tests import world as world_kit
from tests.cardagent.helpers import agent_config, running
from tests.cardbed.cards import write_soft_card
from tests.conftest import _close, instance_overrides, migrated_app

PIN = "123456"
PORTAL_NAME = "健保資訊網服務系統 (VPN)"
TAIPEI = world_kit.TAIPEI
# 林美玲's 健保卡 (docs/card-login.md §3); her default portal password is 3458 + 0304.
LIN = {"name": "林美玲", "national_id": "B220003458", "birth": date(1992, 3, 4), "card_no": "22000345800"}


@dataclass
class LivePortal:
    """One portal + agent pair: where they answer, the app, and the folders the agent reads."""

    url: str                      # http://localhost:<port>, as the browser reaches the portal
    agent_url: str                # http://127.0.0.1:<port>
    app: object
    cas: dict
    cards_dir: Path
    module_dir: Path
    appointments: dict = field(default_factory=dict)

    def at(self, path: str) -> str:
        """An absolute URL of the portal."""
        return self.url + path

    def path_of(self, page) -> str:
        """The page's URL without the portal origin (or the full URL when it is elsewhere)."""
        return page.url.removeprefix(self.url)

    def add_staff_card(self, stem: str, person_name: str, person_id: str) -> Path:
        """A 醫事人員卡 (TEST HCA2) for someone, in the folder the agent offers cards from."""
        issued = testca.issue(self.cas["hca2"], serial=person_id, cn=person_name)
        return write_soft_card(self.cards_dir, stem, "medical-staff", person_name, issued,
                               label=f"醫事人員卡：{person_name}")


@pytest.fixture
def live_login(tmp_path, test_cas):
    """start(**settings) → a LivePortal with its own instance and agent; all stopped after the test."""
    with contextlib.ExitStack() as stack:
        count = 0

        def start(**settings) -> LivePortal:
            nonlocal count
            count += 1
            return stack.enter_context(_live_portal(tmp_path / f"portal-{count}", test_cas, settings))

        yield start


@contextlib.contextmanager
def _live_portal(base: Path, cas: dict, settings: dict):
    """Serve a freshly built world instance and its agent, then stop both and close the app."""
    base.mkdir(parents=True)
    cards_dir, module_dir = base / "agent-cards", base / "agent-module"
    cards_dir.mkdir()
    module_dir.mkdir()
    app_box: dict = {}

    def dispatch(environ, start_response):
        # The app needs the agent's URL (its CSP names it) and the agent the portal's origin:
        # the portal's socket is bound first, the app is built once both ports are known.
        return app_box["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    url = f"http://localhost:{server.server_port}"
    config = agent_config(ALLOWED_ORIGINS=[url], SOFT_CARDS_DIR=str(cards_dir), CLOUD_MODULE=str(module_dir))
    with running(AgentServer(config, SoftBackend(cards_dir, module_dir))) as agent:
        agent_url = f"http://127.0.0.1:{agent.port}"
        pki = base / "pki"
        overrides = {"PKI_DIR": str(pki), "CRL_DIR": str(pki / "crl"), "PAGE_CACHE_SECONDS": 0,
                     "CARD_AGENT_URL": agent_url, "PUBLIC_ORIGIN": url, **settings}
        app = migrated_app(instance_overrides(base, **overrides))
        try:
            live = LivePortal(url, agent_url, app, cas, cards_dir, module_dir)
            with app.app_context():
                _build_world(live, pki)
            app_box["app"] = app
            thread = threading.Thread(target=server.serve_forever, name="login-portal", daemon=True)
            thread.start()
            try:
                yield live
            finally:
                server.shutdown()
                thread.join(10)
        finally:
            server.server_close()
            _close(app)


def _build_world(live: LivePortal, pki: Path) -> None:
    """The integration `world` (tests/world.py), plus its soft cards and 臺北's module for the agent."""
    cas = live.cas
    world_kit.trust(live.app, cas)
    made = world_kit.populate(live.app, cas)
    live.appointments.update(made.appointments)
    # Soft cards, by file name: 王大明's 醫事人員卡 is the first (the one the PIN page preselects).
    cards = live.cards_dir
    live.add_staff_card("a-wang-staff", "王大明", "A123456789")
    write_soft_card(cards, "b-chen-citizen", "citizen", "陳小華", made.cards["chen"], label="自然人憑證：陳小華")
    write_soft_card(cards, "c-taipei-org", "medical-org", "臺北虛擬診所", made.cards["taipei-org"],
                    label="醫事機構卡：臺北虛擬診所")
    _write_nhi_card(cards / "d-lin-nhi.toml")
    module = made.modules[TAIPEI]
    (live.module_dir / "module-cert.pem").write_bytes(module.cert_pem)
    (live.module_dir / "module-key.pem").write_bytes(module.key_pem)


def _write_nhi_card(path: Path) -> None:
    """林美玲's 健保卡 as a soft card (no PIN, no key; basic data only)."""
    sex = "F" if LIN["national_id"][1] == "2" else "M"
    path.write_text(
        f'label = "健保卡：{LIN["name"]}"\ntype = "nhi"\nholder = "{LIN["name"]}"\n\n[nhi]\n'
        f'card_no = "{LIN["card_no"]}"\nname = "{LIN["name"]}"\nnational_id = "{LIN["national_id"]}"\n'
        f'birth_roc = "{roc_compact(LIN["birth"])}"\nsex = "{sex}"\n', encoding="utf-8")


def new_national_id(rng: random.Random | None = None, taken: set[str] = frozenset()) -> str:
    """A national ID nobody in the world has, whose checksum portal.logic.national_id accepts."""
    rng = rng or random.Random()
    while True:
        head = rng.choice("ABCDEFGHJKLMNPQRSTUV") + rng.choice("12") + f"{rng.randrange(10 ** 7):07d}"
        for last in "0123456789":
            candidate = head + last
            if national_id.is_valid(candidate) and candidate not in taken:
                return candidate


def today_roc() -> str:
    """Taipei's today as users type it (115/01/28)."""
    return roc_date(today())

