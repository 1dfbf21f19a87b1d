"""The vendored htmx is exactly 1.9.12 (the last release that supports IE11)."""

import hashlib

from tests.conftest import ROOT

HTMX_1_9_12_SHA256 = "449317ade7881e949510db614991e195c3a099c4c791c24dacec55f9f4a2a452"


def test_vendored_htmx_is_the_pinned_release():
    data = (ROOT / "static" / "vendor" / "htmx-1.9.12.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == HTMX_1_9_12_SHA256


def test_our_scripts_do_not_use_htmx_features_that_need_eval():
    # allowEval is off in htmx-config (CSP without unsafe-eval), so hx-on / js: values would silently fail
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "hx-on" not in text and "js:" not in text, template
