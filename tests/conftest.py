"""Shared fixtures: apps on throwaway instances, the demo instance, real Redis and PostgreSQL.

Parts that need a program (redis-server, initdb, chromium) skip with a reason
when it is missing, except under CI=true, where a missing part fails the run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from portal import create_app, schema
from portal.db import database
from tests import pgcluster

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
ARTIFACTS = ROOT / "test-artifacts"


def need(available: bool, reason: str) -> None:
    """Skip a test whose part is missing; under CI=true, fail it instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this part must be installed)")
    pytest.skip(reason)


def instance_overrides(base: Path, **extra) -> dict:
    """Settings for an app whose every file lives under `base`."""
    return {
        "INSTANCE_DIR": str(base / "instance"),
        "DATABASE_URL": f"sqlite:///{base / 'portal.db'}",
        "STORAGE_DIR": str(base / "storage"),
        # Unreachable unless a test starts Redis: enqueue then goes to the outbox.
        "REDIS_URL": f"unix://{base / 'no-redis.sock'}",
        "SECRET_KEY": "test-secret",
        "PUBLIC_ORIGIN": "http://portal.test",
        **extra,
    }


def migrated_app(overrides: dict):
    """An app whose database has every migration applied."""
    app = create_app(overrides)
    database.initialize(app.extensions["database"])
    with database.connection_context():
        schema.migrate(database.obj)
    return app


@pytest.fixture
def app(tmp_path):
    """An empty, migrated portal on SQLite; the proxy stays bound to it for the test."""
    application = migrated_app(instance_overrides(tmp_path))
    yield application
    _close(application)


@pytest.fixture
def client(app):
    """A test client of the empty app."""
    return app.test_client()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    """An instance with the demo content loaded once per session (read-only for tests)."""
    from portal import demo
    from portal.storage import storage_for

    base = tmp_path_factory.mktemp("demo")
    application = migrated_app(instance_overrides(base))
    with database.connection_context():
        demo.load_all(storage_for(application.config))
    return base


@pytest.fixture
def demo_app(demo_dir):
    """An app over the demo instance; do not write to it."""
    application = create_app(instance_overrides(demo_dir))
    database.initialize(application.extensions["database"])
    yield application
    _close(application)


@pytest.fixture
def demo_client(demo_app):
    """A test client of the demo app."""
    return demo_app.test_client()


# --- Redis -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server on a unix socket (no TCP), for the whole session."""
    binary = shutil.which("redis-server")
    if binary is None:
        need(False, "redis-server is not installed (apt-get install redis-server)")
    base = tmp_path_factory.mktemp("redis")
    sock = base / "redis.sock"
    proc = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(base), "--save", "", "--appendonly", "no", "--logfile", str(base / "redis.log")],
    )
    _wait(lambda: sock.exists(), "redis-server socket")
    yield {"url": f"unix://{sock}", "socket": sock, "process": proc}
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis_url(redis_server):
    """The session Redis, emptied for this test."""
    import redis

    connection = redis.Redis(unix_socket_path=str(redis_server["socket"]))
    connection.flushall()
    yield redis_server["url"]
    connection.flushall()
    connection.close()


# --- PostgreSQL --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on a unix socket (initdb + pg_ctl), for the session."""
    need(pgcluster.available(), "PostgreSQL is not installed (apt-get install postgresql)")
    with pgcluster.cluster() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database in the session cluster, dropped after the test."""
    name = "t_" + uuid.uuid4().hex[:12]
    yield pgcluster.create_database(postgres_server, name)
    pgcluster.drop_database(postgres_server, name)


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_app(request, tmp_path):
    """The empty migrated app on SQLite and again on PostgreSQL (same tests, both backends)."""
    overrides = instance_overrides(tmp_path)
    if request.param == "postgres":
        overrides["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    application = migrated_app(overrides)
    yield application
    _close(application)


# --- Browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """One headless Debian chromium for the whole session (Playwright's sync API allows one)."""
    from tests.browsing import AXE_JS, CHROMIUM, CHROMIUM_ARGS

    need(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    need(AXE_JS.exists(), f"{AXE_JS} is missing (npm ci in tests/tooling)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page_for(browser):
    """A factory: page_for(js) opens a page in a fresh zh-TW context, JavaScript on or off; closed after the test.

    bypass_csp=True lets axe_check() inject axe-core despite the portal's `script-src 'self'`.
    """
    contexts = []

    def open_page(js: bool, bypass_csp: bool = False):
        context = browser.new_context(java_script_enabled=js, locale="zh-TW", bypass_csp=bypass_csp,
                                      viewport={"width": 1280, "height": 900}, accept_downloads=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


# --- helpers ---------------------------------------------------------------------------------

def _close(app) -> None:
    """Close what a test left open: the proxy's connection and the app's connection pool."""
    if database.obj is not None and not database.is_closed():
        database.close()
    pool = app.extensions["database"]
    if hasattr(pool, "close_all"):
        pool.close_all()


def _free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, seconds: float = 15) -> None:
    """Poll until check() is true or fail the test."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not come up within {seconds} s")


@pytest.fixture(scope="session")
def test_cas():
    """TEST CAs for the whole session (key generation is the slow part)."""
    from tests.world import make_cas

    return make_cas()
