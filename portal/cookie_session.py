"""Flask's signed-cookie session, verified once per cookie value instead of on every request.

The only things this portal keeps in Flask's own session are the CSRF secret and
flash messages; the login lives in our server-side session table. A browser
sends the same Flask cookie on every request until something changes it, yet
Flask base64-decodes it, derives a key, checks the HMAC and parses the JSON
each time (~0.09 ms of a logged-in page's ~1.6 ms). The result of verifying an
exact cookie value never changes, so it is remembered for a short while; a
forged or altered cookie is a different value and is verified (and refused) as
before. The signature's age limit is checked again after REVERIFY_SECONDS.
"""

from __future__ import annotations

import time

from flask.sessions import SecureCookieSessionInterface


class RememberingSessionInterface(SecureCookieSessionInterface):
    """SecureCookieSessionInterface with a bounded memo of cookie value -> session data."""

    MAX_ENTRIES = 10_000
    REVERIFY_SECONDS = 60.0

    def __init__(self):
        self._verified: dict[str, tuple[float, dict]] = {}

    def open_session(self, app, request):
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return super().open_session(app, request)
        known = self._verified.get(value)
        now = time.monotonic()
        if known is not None and known[0] > now:
            # A copy: a request that changes its session must not change the remembered one.
            return self.session_class(known[1])
        session = super().open_session(app, request)
        # Only a verified, non-empty session of plain strings (the CSRF secret): a bad signature opens
        # empty, and lists such as pending flash messages are changed in place by Flask.
        if session and all(isinstance(v, str) for v in session.values()):
            if len(self._verified) >= self.MAX_ENTRIES:
                self._verified.clear()
            self._verified[value] = (now + self.REVERIFY_SECONDS, dict(session))
        return session
