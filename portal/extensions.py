"""Flask extensions, created once and bound to the app in portal.factory.create_app."""

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

csrf = CSRFProtect()
login_manager = LoginManager()
htmx_extension = Htmx()
