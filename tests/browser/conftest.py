"""Browser fixtures: the demo portal served over HTTP, Debian's chromium driven by Playwright, axe-core.

Plain Playwright (sync API), not pytest-playwright. Never run `playwright install`:
the browser is /usr/bin/chromium from Debian.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from portal import create_app
from tests.conftest import instance_overrides


@pytest.fixture(scope="session")
def live_server(demo_dir):
    """The demo portal on 127.0.0.1:<free port> in a daemon thread; yields its base URL."""
    app = create_app(instance_overrides(demo_dir))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
