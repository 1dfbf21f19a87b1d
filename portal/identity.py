"""Who is logged in: flask-login's current_user, loaded from our server-side session on each request.

Access (roles, usable services) is recomputed per request, so removing a role
or a grant takes effect on the user's very next click.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from htmx_flask import make_response

from portal.extensions import login_manager
from portal.logic import audit, authority, cards, sessions
from portal.logic.audit import Actor
from portal.logic.roc_dates import to_taipei
from portal.memo import memo
from portal.models.authority import PasswordCredential
from portal.models.base import utcnow
from portal.models.sessions import UserSession

SESSION_COOKIE = "portal_session"
LOGIN_COOKIE = "portal_login"
ROLE_NAMES = {"representative": "機構代表", "manager": "機構管理者", "user": "機構使用者"}
# Where a user who must replace the default password may still go.
PASSWORD_CHANGE_ENDPOINTS = {"auth.change_password", "auth.logout", "static", "public.favicon"}


@dataclass
class PortalUser:
    """The logged-in person (or institution representative) with today's access."""

    session: UserSession
    access: authority.Access

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """flask-login's id (the session row)."""
        return str(self.session.id)

    @property
    def institution(self):
        """The institution of this session."""
        return self.session.institution

    @property
    def person(self):
        """The person, or None for 機構代表."""
        return self.session.person

    @property
    def display_name(self) -> str:
        """The name in 「{機構} {姓名} 您好」."""
        return self.person.name if self.person else ROLE_NAMES["representative"]

    @property
    def roles(self) -> list[str]:
        """zh-TW names of the roles held now."""
        names = []
        if self.access.representative:
            names.append(ROLE_NAMES["representative"])
        if self.access.manager:
            names.append(ROLE_NAMES["manager"])
        if self.access.user:
            names.append(ROLE_NAMES["user"])
        return names

    @property
    def uses_password(self) -> bool:
        """Logged in with 健保卡 + portal password (修改密碼 shows in the header)."""
        return self.session.login_method == "nhi-password"

    @property
    def must_change_password(self) -> bool:
        """Still on the default 健保卡 password."""
        if not self.uses_password:
            return False
        credential = PasswordCredential.get_or_none(PasswordCredential.person == self.session.person_id)
        return bool(credential and credential.must_change)

    def has(self, role: str) -> bool:
        """Whether the session holds a role now."""
        return {"representative": self.access.representative, "manager": self.access.manager is not None,
                "user": self.access.user is not None}[role]

    def actor(self) -> Actor:
        """This user as the author of a change (audit log)."""
        if self.person:
            who = f"{self.person.name}（{ROLE_NAMES['manager'] if self.access.manager else ROLE_NAMES['user']}）"
        else:
            card = cards.find_card(self.session.card_type)
            who = f"{ROLE_NAMES['representative']}（{card['name'] if card else self.session.card_type}）"
        return Actor(who, self.session.person_id, self.session.institution_id,
                     client_ip(), request.headers.get("User-Agent", ""))


def client_ip() -> str:
    """The client address (a reverse proxy must set REMOTE_ADDR correctly, e.g. ProxyFix)."""
    return request.remote_addr or ""


def anonymous_actor(label: str = "未登入使用者") -> Actor:
    """A not-yet-identified client, for auditing login attempts."""
    return Actor(label, None, None, client_ip(), request.headers.get("User-Agent", ""))


def today() -> date:
    """Taipei's date now (appointments run by Taipei dates)."""
    return to_taipei(utcnow()).date()


def session_access(row) -> authority.Access:
    """What the session may do today; reused while the institution's access_version stays the same."""
    day = today()
    key = ("access", row.institution_id, row.person_id, row.representative, day, row.institution.access_version)
    return memo(key, lambda: authority.access_for(row.institution_id, row.person_id, row.representative, day))


def load_from_cookie(req) -> PortalUser | None:
    """The session of the request's cookie, if alive and still allowed to do anything."""
    token = req.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    row = sessions.resume(current_app.config, token)
    if row is None:
        g.session_expired = True  # the cookie was a session that has ended: say so on the login page
        return None
    access = session_access(row)
    if not access.any:
        sessions.end(row, "access_removed")
        return None
    return PortalUser(row, access)


def unauthorized():
    """Not logged in: htmx gets 401 + HX-Redirect, scripts 401 JSON, pages a redirect to the login page."""
    wanted = request.full_path.rstrip("?") if request.method == "GET" else None
    target = url_for("auth.login_page", next=wanted, expired="1" if g.get("session_expired") else None)
    if request.headers.get("HX-Request") == "true":
        return make_response("請先登入。", 401, redirect=target)
    if request.accept_mimetypes.best == "application/json":
        return {"error": "login_required", "login_url": target}, 401
    return redirect(target)


def roles_required(*roles: str):
    """Allow the view to sessions holding any of the roles (403 otherwise, audited by the caller)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return unauthorized()
            if not any(current_user.has(r) for r in roles):
                deny_access()
            return view(*args, **kwargs)

        return wrapper

    return decorate


def deny_access():
    """403 for a logged-in user without the role, written to the audit log first."""
    audit.record("access_denied", current_user.actor(), result="denied",
                 detail={"endpoint": request.endpoint, "method": request.method, "path": request.path})
    abort(403)


def init_app(app) -> None:
    """Load users from our sessions; force the password change before anything else."""
    login_manager.request_loader(load_from_cookie)
    login_manager.unauthorized_handler(unauthorized)

    @app.before_request
    def _force_password_change():
        if (request.endpoint not in PASSWORD_CHANGE_ENDPOINTS and current_user.is_authenticated
                and current_user.must_change_password):
            return redirect(url_for("auth.change_password"))
        return None

    @app.context_processor
    def _user_context():
        # The user itself rather than flask-login's proxy, which looks the user up on each of
        # a page's twenty-odd uses (registered after flask-login's, so this one wins).
        return {"ROLE_NAMES": ROLE_NAMES, "member_menu": member_menu,
                "current_user": current_user._get_current_object()}


def member_menu() -> list[tuple[str, str]]:
    """The 機構授權作業 items of the logged-in user's roles (label, endpoint)."""
    items = []
    if current_user.has("representative"):
        items.append(("機構管理者維護作業", "authority.managers"))
    if current_user.has("manager"):
        items += [("健保服務申請作業", "authority.services"), ("機構使用者維護作業", "authority.users"),
                  ("使用者授權管理作業", "authority.grants")]
    if current_user.has("representative") or current_user.has("manager"):
        items += [("雲端安全模組申請、下載", "authority.module_list"), ("允入HIS廠商申請作業", "authority.his_vendor_list"),
                  ("稽核紀錄查詢", "authority.audit_log")]
    return items
