"""Response headers every page carries (DESIGN.md §6)."""

from __future__ import annotations

from urllib.parse import urlparse

# No inline script anywhere; inline style attributes are allowed because
# sanitized announcements may carry color/font-size spans (P10). The card agent
# on the user's PC is the one other origin: the login page frames its status
# page and hands the login over to it with a form.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "frame-src {agent}; form-action 'self' {agent}"
)


def content_security_policy(agent_url: str) -> str:
    """The CSP with the card agent's origin filled in."""
    parts = urlparse(agent_url)
    return CSP.format(agent=f"{parts.scheme}://{parts.netloc}")


def remembered_csrf(app, max_entries: int = 10_000):
    """Flask-WTF's csrf_token(), signing each session's secret once instead of on every page.

    Signing derives a key and runs HMAC (~0.1 ms), and a logged-in page has two forms.
    Tokens carry a timestamp only for a time limit, which this portal does not set
    (WTF_CSRF_TIME_LIMIT = None): an earlier signature of the same secret is as valid.
    """
    from flask import session
    from flask_wtf.csrf import generate_csrf

    if app.config["WTF_CSRF_TIME_LIMIT"] is not None:  # an explicit check: asserts vanish under python -O
        raise RuntimeError("WTF_CSRF_TIME_LIMIT is set: a remembered CSRF token would outlive it")
    signed: dict[str, str] = {}

    def csrf_token() -> str:
        secret = session.get("csrf_token")
        token = signed.get(secret) if secret else None
        if token is None:
            token = generate_csrf()
            if len(signed) >= max_entries:
                signed.clear()
            signed[session["csrf_token"]] = token
        return token

    return csrf_token


def init_app(app) -> None:
    """Add security and caching headers to every response; remember signed CSRF tokens."""
    csrf_token = remembered_csrf(app)
    # Flask-WTF offers its own as a global and through a context processor; this one comes later and wins.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
    https = app.config["HTTPS"]
    csp = content_security_policy(app.config["CARD_AGENT_URL"])

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            # IE11 would otherwise show intranet sites in IE7 mode, where htmx cannot run.
            headers.setdefault("X-UA-Compatible", "IE=edge")
            headers.setdefault("Cache-Control", "no-store")
            response.vary.add("HX-Request")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
