"""Browser fixtures: the demo portal served over HTTP, Debian's chromium driven by Playwright, axe-core.

Plain Playwright (sync API), not pytest-playwright. Never run `playwright install`:
the browser is /usr/bin/chromium from Debian.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from tests.conftest import ROOT, instance_overrides, need

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / "tests" / "tooling" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("critical", "serious")


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


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the whole session."""
    need(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    need(AXE_JS.exists(), f"{AXE_JS} is missing (npm install axe-core in tests/tooling)")
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


def axe_check(page) -> None:
    """Run axe-core (WCAG 2.0/2.1 A and AA) on the page; fail on any critical or serious violation.

    The page must come from a context with JavaScript on (injected scripts do not run otherwise)
    and bypass_csp=True (the portal's Content-Security-Policy forbids inline scripts).
    """
    page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            }));
        }""",
        AXE_TAGS,
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe violations on {page.url}:\n" + "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']} — {', '.join(v['targets'])}" for v in blocking
    )
