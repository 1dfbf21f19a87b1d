"""The Flask application factory (kept out of portal/__init__ so the card agent needs no Flask)."""

from __future__ import annotations

from flask import Flask
from flask.globals import _cv_request
from werkzeug.routing import IntegerConverter

from portal import db, upload_limits
from portal.config import ROOT, load_config, secret_key
from portal.cookie_session import RememberingSessionInterface
from portal.extensions import csrf, htmx_extension, login_manager


class BoundedInteger(IntegerConverter):
    """Werkzeug's int converter with the largest value a database id can hold."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


class PortalFlask(Flask):
    """Flask whose url_for remembers the relative URLs it has built.

    A logged-in page builds thirty-odd links from a few hundred possible
    ones, and Werkzeug spends ~25 µs on each; a dictionary lookup answers
    the same question for the same arguments.
    """

    URL_CACHE_ENTRIES = 10_000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._built_urls: dict = {}
        self._sync_checked: dict = {}

    def ensure_sync(self, func):
        # Flask asks inspect whether each view and hook is a coroutine, on every call
        # (fifteen times a request here); the answer never changes for a function.
        known = self._sync_checked.get(func)
        if known is None:
            if len(self._sync_checked) >= 1000:  # after_this_request callbacks are new functions each time
                self._sync_checked.clear()
            known = self._sync_checked[func] = super().ensure_sync(func)
        return known

    def url_for(self, endpoint, /, *, _anchor=None, _method=None, _scheme=None, _external=None, **values):
        # External URLs depend on the host, relative endpoints on the blueprint: build those every time.
        context = _cv_request.get(None)
        if _anchor or _method or _scheme or _external or endpoint.startswith(".") or context is None:
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                                   _external=_external, **values)
        try:
            key = (endpoint, context.request.script_root, frozenset((k, type(v), v) for k, v in values.items()))
            url = self._built_urls.get(key)
        except TypeError:  # a list of values: not a dictionary key
            return super().url_for(endpoint, **values)
        if url is None:
            url = super().url_for(endpoint, **values)
            if len(self._built_urls) >= self.URL_CACHE_ENTRIES:
                self._built_urls.clear()
            self._built_urls[key] = url
        return url


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from config.toml, PORTAL_* environment variables and test overrides."""
    config = load_config(overrides)
    app = PortalFlask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=config["INSTANCE_DIR"],
    )
    app.config.update(config)
    app.config.update(
        SECRET_KEY=secret_key(config),
        MAX_CONTENT_LENGTH=config["MAX_CONTENT_LENGTH_BYTES"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config["HTTPS"],
        WTF_CSRF_TIME_LIMIT=None,
        SEND_FILE_MAX_AGE_DEFAULT=None,
    )
    app.json.ensure_ascii = False

    htmx_extension.init_app(app)
    upload_limits.install(app)
    app.session_interface = RememberingSessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)
    # Users come from our server-side session rows (portal.identity), never from Flask's cookie session.
    login_manager.user_loader(lambda user_id: None)
    # Its session protection guards logins kept in Flask's cookie session, which we never use;
    # left on, it hashes IP and User-Agent on every request and rewrites that cookie.
    login_manager.session_protection = None
    db.init_app(app)

    from portal import cli, errors, identity, memo, navigation, pagecache, security, templating
    from portal.views import register_blueprints

    identity.init_app(app)
    navigation.init_app(app)
    # <int:…> in URLs stops at 64 bits: a longer id is a 404 like any unknown one, not a database error.
    app.url_map.converters["int"] = BoundedInteger
    register_blueprints(app)
    templating.init_app(app)
    pagecache.init_app(app)
    memo.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
