"""Login with cards (SPEC L1), the 健保卡 password step, password change, logout, keep-alive."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, redirect, request, url_for
from flask_login import current_user, login_required

from portal.cardagent import protocol
from portal.db import write_transaction
from portal.extensions import csrf
from portal.htmx import render_page
from portal.identity import LOGIN_COOKIE, SESSION_COOKIE, anonymous_actor, client_ip
from portal.logic import audit, cards, login, passwords, sessions
from portal.logic.audit import Actor
from portal.models.authority import PasswordCredential
from portal.models.base import utcnow

bp = Blueprint("auth", __name__)


def _origin() -> str:
    """This portal's origin as the agent derives it from return_url (the same function on both sides)."""
    return protocol.origin_of(url_for(".callback", _external=True)) or ""


@bp.get("/login")
def login_page():
    """Card type and reader type, with the agent's status so users can fix problems first."""
    return _login_form(request.args.get("card"), request.args.get("reader"))


def _login_form(card_code, reader_code, error: str = "", status: int = 200):
    """The login page, with an optional error from a failed attempt."""
    card = cards.find_card(card_code)
    reader = next((r for r in cards.readers() if r["code"] == reader_code), None)
    if reader is None and card is not None:
        reader = cards.readers_for(card["code"])[0]
    return render_page(
        "auth/login.html", status=status, cards=cards.card_types(), readers=cards.readers(), card=card,
        reader=reader, error=error, agent_url=current_app.config["CARD_AGENT_URL"],
        expired=request.args.get("expired") == "1", next_url=login.safe_next(request.values.get("next")),
    )


@bp.post("/login")
def start():
    """Create a login transaction and hand the browser to the card agent."""
    card_type, reader_type = request.form.get("card", ""), request.form.get("reader", "")
    try:
        tx, cookie = login.start(current_app.config, card_type, reader_type, client_ip(),
                                 next_url=request.form.get("next"))
    except login.LoginError as error:
        return _login_form(card_type, reader_type, str(error), 400)
    response = render_page(
        "auth/to_agent.html", action=current_app.config["CARD_AGENT_URL"] + protocol.AGENT_PATH_SIGN,
        fields={"return_url": url_for(".callback", _external=True), "nonce": tx.nonce, "card_type": card_type,
                "reader_type": reader_type, "portal_name": "健保資訊網服務系統 (VPN)"},
    )
    _set_cookie(response, LOGIN_COOKIE, cookie, current_app.config["LOGIN_TRANSACTION_SECONDS"], login=True)
    # Under the site-wide same-origin policy a cross-origin form POST carries "Origin: null",
    # which the agent rightly refuses; this page may tell the agent the portal's origin.
    response.headers["Referrer-Policy"] = "origin"
    return response


@bp.post("/login/callback")
@csrf.exempt  # a cross-site POST from the card agent: the transaction cookie, nonce and signatures protect it
def callback():
    """Verify what the agent sent; start the session (or ask the 健保卡 password)."""
    config, form = current_app.config, request.form
    try:
        tx = login.consume(form.get("nonce", ""), request.cookies.get(LOGIN_COOKIE))
        verified = login.verify_callback(config, form, tx, _origin())
    except login.LoginError as error:
        _audit_failure(error, form.get("card_type", ""), institution_id=error.detail.get("institution_id"))
        return _login_form(form.get("card_type"), form.get("reader_type"), str(error), 400)
    if verified.needs_password:
        login.hold_for_password(tx, verified)
        response = redirect(url_for(".password"), 303)
        _set_cookie(response, LOGIN_COOKIE, request.cookies.get(LOGIN_COOKIE), 120, login=True)
        return response
    return _begin_session(verified, "card", json.loads(tx.detail or "{}").get("next"))


def _begin_session(verified: login.Verified, method: str, next_url: str | None = None):
    """Audit the login, start a fresh session (new id) and go to 我的首頁."""
    with write_transaction():
        token, row = sessions.start(
            current_app.config, institution=verified.institution, person=verified.person,
            representative=verified.representative, card_type=verified.card_type, login_method=method,
            certificate_serial=verified.certificate_serial, module_no=verified.module_no, ip=client_ip(),
            user_agent=request.headers.get("User-Agent", ""))
        who = verified.person.name if verified.person else "機構代表"
        actor = Actor(who, verified.person.id if verified.person else None, verified.institution.id, client_ip(),
                      request.headers.get("User-Agent", ""))
        audit.record("login", actor, detail={"card_type": verified.card_type, "method": method,
                                             "module_no": verified.module_no, "session": row.id})
    response = redirect(login.safe_next(next_url) or url_for("home.index"), 303)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        previous = sessions.resume(current_app.config, old)
        if previous is not None:
            sessions.end(previous, "replaced")
    _set_cookie(response, SESSION_COOKIE, token, current_app.config["SESSION_ABSOLUTE_SECONDS"])
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@bp.route("/login/password", methods=["GET", "POST"])
def password():
    """健保卡 login, second step: the portal password on the portal's own page."""
    cookie = request.cookies.get(LOGIN_COOKIE)
    tx = login.awaiting_password(cookie)
    if tx is None:
        return _login_form("nhi", None, "登入逾時或尚未讀取健保卡，請重新登入。", 400)
    if request.method == "GET":
        return render_page("auth/password.html", person=tx.person, error="")
    try:
        login.check_password(current_app.config, tx, request.form.get("password", ""), client_ip())
        login.consume(tx.nonce, cookie, state="password")
    except login.LoginError as error:
        _audit_failure(error, "nhi", person_id=tx.person_id, institution_id=tx.institution_id)
        if error.code in ("unknown", "expired", "cookie"):
            return _login_form("nhi", None, str(error), 400)
        return render_page("auth/password.html", status=400, person=tx.person, error=str(error))
    # A default password is replaced before anything else: portal.identity enforces must_change.
    detail = json.loads(tx.detail or "{}")
    return _begin_session(login.Verified(tx.institution, tx.person, False, "nhi", module_no=detail.get("module_no", "")),
                          "nhi-password", detail.get("next"))


def _audit_failure(error: login.LoginError, card_type: str, person_id=None, institution_id=None) -> None:
    """Every failed attempt goes to the audit log with its reason."""
    audit.record("login_failed", anonymous_actor(), result="denied", institution_id=institution_id,
                 detail={"reason": error.code, "card_type": card_type, "person_id": person_id or error.detail.get(
                     "person_id")})


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """修改密碼 (the 健保卡 password); forced after a default password."""
    person = current_user.person
    if person is None:
        return render_page("auth/change_password.html", status=400, errors=["機構代表沒有健保卡密碼。"], done=False)
    if request.method == "GET":
        return render_page("auth/change_password.html", errors=[], done=request.args.get("done") == "1")
    credential = PasswordCredential.get_or_none(PasswordCredential.person == person)
    current, new, again = (request.form.get(k, "") for k in ("current", "new", "again"))
    errors = []
    if credential is None or not passwords.verify_password(current, credential.password_hash):
        errors.append("目前的密碼不正確。")
    if new != again:
        errors.append("兩次輸入的新密碼不一致。")
    errors += passwords.problems(new, national_id=person.national_id, birth_date=person.birth_date)
    if errors:
        return render_page("auth/change_password.html", status=400, errors=errors, done=False)
    with write_transaction():
        credential.password_hash, credential.must_change, credential.changed_at = passwords.hash_password(new), False, utcnow()
        credential.save()
        audit.record("password_change", current_user.actor())
    return redirect(url_for(".change_password", done=1), 303)


@bp.post("/logout")
def logout():
    """End the session everywhere this browser used it and return to the public home page."""
    if current_user.is_authenticated:
        sessions.end(current_user.session, "logout")
        audit.record("logout", current_user.actor())
    response = redirect(url_for("public.home", bye=1), 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@bp.post("/session/keepalive")
@login_required
def keepalive():
    """「繼續使用」: record activity and say how long the session now has."""
    sessions.touch(current_user.session)
    deadline = sessions.idle_deadline(current_app.config, current_user.session)
    seconds = max(0, int((deadline - utcnow()).total_seconds()))
    if request.headers.get("HX-Request") == "true" or request.accept_mimetypes.best == "application/json":
        return {"seconds_left": seconds}
    return redirect(request.referrer or url_for("home.index"), 303)


def _set_cookie(response, name: str, value: str, max_age: int, login: bool = False) -> None:
    """Session cookie: Lax; login cookie: SameSite=None + Secure so the agent's cross-site POST carries it."""
    if login:
        response.set_cookie(name, value, max_age=max_age, path="/login", httponly=True, secure=True, samesite="None")
    else:
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                            secure=current_app.config["HTTPS"], samesite="Lax")
