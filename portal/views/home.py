"""我的首頁 after login (issue 4 turns it into the layered announcement page of seed 000 第二章)."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user, login_required

from portal.htmx import render_page
from portal.identity import today
from portal.logic import catalogue, reminders

bp = Blueprint("home", __name__, url_prefix="/home")


@bp.get("")
@login_required
def index():
    """Greeting, roles, reminders, and the functions and services this user may use."""
    services = catalogue.by_code()
    return render_page(
        "home/index.html",
        reminders=reminders.for_session(current_user.institution, current_user.access, today(),
                                        current_app.config["APPOINTMENT_REMINDER_DAYS"]),
        granted=[services[c] for c in sorted(current_user.access.services) if c in services],
    )
