"""健保資訊網服務系統 (VPN): the Flask application factory."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from portal import db
from portal.config import ROOT, load_config, secret_key

csrf = CSRFProtect()
login_manager = LoginManager()
htmx_extension = Htmx()


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from config.toml, PORTAL_* environment variables and test overrides."""
    config = load_config(overrides)
    app = Flask(
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
    csrf.init_app(app)
    login_manager.init_app(app)
    # Card login arrives with issue 3; until then nobody is logged in.
    login_manager.user_loader(lambda user_id: None)
    db.init_app(app)

    from portal import cli, errors, pagecache, security, templating
    from portal.views import register_blueprints

    register_blueprints(app)
    templating.init_app(app)
    pagecache.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
