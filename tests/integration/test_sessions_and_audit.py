"""Sessions (idle 15 min, absolute 12 h), keep-alive, the hash-chained audit log and login throttles (SPEC L8)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.db import write_transaction
from portal.logic import audit, login, sessions, throttle
from portal.logic.audit import Actor
from portal.models.audit import AuditEvent, AuditHead
from portal.models.authority import Institution, Person
from portal.models.base import utcnow
from portal.models.sessions import UserSession
from tests.integration.conftest import csrf_token
from tests.integration.test_login import login as card_login
from tests.integration.test_login import nhi_login
from tests.pages import check_page

T0 = datetime(2026, 1, 5, 1, 0, 0)
MINUTE = timedelta(minutes=1)


# --- helpers --------------------------------------------------------------------------------

def clinic() -> Institution:
    """A clinic for sessions made directly with portal.logic.sessions."""
    return Institution.get_or_create(code="3501200000", defaults={"name": "臺北虛擬診所", "region": "taipei"})[0]


def person(national_id="A123456789", name="王大明") -> Person:
    return Person.get_or_create(national_id=national_id, defaults={"name": name, "birth_date": T0.date()})[0]


def open_session(app, now=T0, **kw) -> tuple[str, UserSession]:
    """A session started at `now` (a card login without the card)."""
    return sessions.start(app.config, institution=kw.pop("institution", clinic()), card_type="medical-staff",
                          now=now, **kw)


def idle(app) -> timedelta:
    return timedelta(seconds=app.config["SESSION_IDLE_SECONDS"])


def lifetime(app) -> timedelta:
    return timedelta(seconds=app.config["SESSION_ABSOLUTE_SECONDS"])


def reason(row: UserSession) -> str:
    """Why a session ended, as stored now ('' while open)."""
    return UserSession.get_by_id(row.id).end_reason


def wang_client(world, **environ):
    """王大明 logged in with his 醫事人員卡 (optionally from another address or browser)."""
    client = world.app.test_client()
    client.environ_base.update(environ)
    assert card_login(client, world, "wang", "medical-staff").status_code == 303
    return client


def set_last_seen(ago: timedelta) -> None:
    """Pretend the only open session was last used `ago` before now."""
    UserSession.update(last_seen_at=utcnow() - ago).where(UserSession.ended_at.is_null()).execute()


def record_many(count: int) -> list[AuditEvent]:
    """Append `count` events by a few actors."""
    actors = [Actor("王大明", 1, 1, "10.0.0.1", "IE11"), Actor("陳小華", 2, 1, "10.0.0.2", "Edge"), audit.SYSTEM]
    return [audit.record("login" if i % 2 else "grants_save", actors[i % 3], detail={"n": i}) for i in range(count)]


# --- session expiry with a controllable clock ---------------------------------------------------

def test_idle_expiry_after_session_idle_seconds(app):
    """Untouched for SESSION_IDLE_SECONDS the session ends ('idle'); a second earlier it lives."""
    token_a, _ = open_session(app)
    token_b, row_b = open_session(app)
    assert app.config["SESSION_IDLE_SECONDS"] == 900
    assert sessions.resume(app.config, token_a, now=T0 + idle(app) - timedelta(seconds=1)) is not None
    assert sessions.resume(app.config, token_b, now=T0 + idle(app)) is None
    assert reason(row_b) == "idle" and UserSession.get_by_id(row_b.id).ended_at == T0 + idle(app)


def test_touching_extends_the_idle_deadline(app):
    """A request 10 minutes in moves the idle deadline to 10 + 15 minutes."""
    token, row = open_session(app)
    assert sessions.resume(app.config, token, now=T0 + 10 * MINUTE) is not None
    assert UserSession.get_by_id(row.id).last_seen_at == T0 + 10 * MINUTE
    assert sessions.idle_deadline(app.config, UserSession.get_by_id(row.id)) == T0 + 10 * MINUTE + idle(app)
    assert sessions.resume(app.config, token, now=T0 + 10 * MINUTE + idle(app) - timedelta(seconds=1)) is not None
    assert reason(row) == ""


def test_last_seen_is_written_at_most_every_30_seconds(app):
    """Requests within TOUCH_EVERY do not rewrite the row."""
    token, row = open_session(app)
    sessions.resume(app.config, token, now=T0 + timedelta(seconds=10))
    assert UserSession.get_by_id(row.id).last_seen_at == T0
    sessions.resume(app.config, token, now=T0 + sessions.TOUCH_EVERY)
    assert UserSession.get_by_id(row.id).last_seen_at == T0 + sessions.TOUCH_EVERY


def test_absolute_expiry_even_when_active(app):
    """A session used every 10 minutes still ends SESSION_ABSOLUTE_SECONDS after login ('absolute')."""
    token, row = open_session(app)
    assert app.config["SESSION_ABSOLUTE_SECONDS"] == 12 * 3600
    moment = T0
    while moment + 10 * MINUTE < T0 + lifetime(app):
        moment += 10 * MINUTE
        assert sessions.resume(app.config, token, now=moment) is not None, moment
    assert sessions.idle_deadline(app.config, UserSession.get_by_id(row.id)) == T0 + lifetime(app)
    assert sessions.resume(app.config, token, now=T0 + lifetime(app)) is None
    assert reason(row) == "absolute"


@pytest.mark.parametrize("ending", ["idle", "absolute", "logout"])
def test_ended_sessions_stay_ended(app, ending):
    """Once ended, a token never works again, even with an earlier clock."""
    token, row = open_session(app)
    if ending == "idle":
        sessions.resume(app.config, token, now=T0 + idle(app))
    elif ending == "absolute":
        sessions.resume(app.config, token, now=T0 + lifetime(app) + MINUTE)
    else:
        sessions.end(row, "logout", now=T0 + MINUTE)
    assert reason(row) == ending
    assert sessions.resume(app.config, token, now=T0 + timedelta(seconds=1)) is None
    sessions.end(row, "other")
    assert reason(row) == ending


def test_each_session_gets_a_new_token_and_only_its_hash_is_stored(app):
    """Logging in always rotates the id; the database never holds the cookie's token."""
    token_a, row_a = open_session(app)
    token_b, _ = open_session(app)
    assert token_a != token_b and len(token_a) >= 40
    assert row_a.token_hash == sessions.token_hash(token_a) and token_a not in row_a.token_hash
    assert sessions.resume(app.config, "forged-token", now=T0) is None
    assert sessions.resume(app.config, "", now=T0) is None


def test_end_for_person_ends_only_that_persons_sessions_at_the_institution(app):
    """Revoking access ends the person's sessions there, not elsewhere and not other people's."""
    wang, chen = person(), person("F228001521", "陳小華")
    other = Institution.create(code="0702010015", name="高屏虛擬醫院", region="kaoping")
    here = [open_session(app, person=wang)[1] for _ in range(2)]
    elsewhere = open_session(app, person=wang, institution=other)[1]
    colleague = open_session(app, person=chen)[1]
    assert sessions.end_for_person(wang.id, clinic().id, "access_removed") == 2
    assert [reason(r) for r in here] == ["access_removed", "access_removed"]
    assert reason(elsewhere) == "" and reason(colleague) == ""
    assert sessions.end_for_person(wang.id, None, "access_removed") == 1


# --- sessions through the web ------------------------------------------------------------------

def test_a_request_after_the_idle_time_goes_to_the_login_page(world, monkeypatch):
    """After 15 quiet minutes the next click lands on /login and the session row says 'idle'."""
    client = wang_client(world)
    assert client.get("/home").status_code == 200
    later = utcnow() + timedelta(seconds=world.app.config["SESSION_IDLE_SECONDS"] + 1)
    monkeypatch.setattr("portal.logic.sessions.utcnow", lambda: later)
    response = client.get("/authority/services")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "next=/authority/services" in response.headers["Location"]
    assert UserSession.get().end_reason == "idle"
    check_page(client.get(response.headers["Location"]))


def test_logging_in_rotates_the_session_id(world):
    """A second login gives a new cookie; the old one no longer opens anything."""
    client = wang_client(world)
    old = client.get_cookie("portal_session").value
    assert card_login(client, world, "wang", "medical-staff").status_code == 303
    assert client.get_cookie("portal_session").value != old
    stale = world.app.test_client()
    stale.set_cookie("portal_session", old)
    assert stale.get("/home").status_code == 302 and client.get("/home").status_code == 200


def test_a_quiet_session_just_under_the_limit_still_works_and_is_touched(world):
    """14 minutes of quiet is fine, and the request resets the clock."""
    client = wang_client(world)
    set_last_seen(timedelta(seconds=world.app.config["SESSION_IDLE_SECONDS"]) - MINUTE)
    assert client.get("/home").status_code == 200
    assert utcnow() - UserSession.get().last_seen_at < MINUTE


def test_idle_session_in_the_database_ends_on_the_next_htmx_request(world):
    """An htmx request of an expired session gets 401 with HX-Redirect to /login."""
    client = wang_client(world)
    set_last_seen(timedelta(seconds=world.app.config["SESSION_IDLE_SECONDS"]))
    response = client.get("/authority/audit", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_absolute_lifetime_ends_an_active_web_session(world):
    """12 hours after login the session ends however busy it was."""
    client = wang_client(world)
    UserSession.update(created_at=utcnow() - timedelta(hours=13), expires_at=utcnow() - MINUTE).execute()
    response = client.get("/home")
    assert response.status_code == 302 and UserSession.get().end_reason == "absolute"


def test_keepalive_returns_seconds_left_as_json(world):
    """「繼續使用」 with Accept: application/json answers {"seconds_left": …} after touching the session."""
    client = wang_client(world)
    token = csrf_token(client, "/home")
    set_last_seen(10 * MINUTE)
    response = client.post("/session/keepalive", headers={"Accept": "application/json", "X-CSRFToken": token})
    assert response.status_code == 200 and response.mimetype == "application/json"
    seconds = response.get_json()["seconds_left"]
    assert world.app.config["SESSION_IDLE_SECONDS"] - 5 <= seconds <= world.app.config["SESSION_IDLE_SECONDS"]
    htmx = client.post("/session/keepalive", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert set(htmx.get_json()) == {"seconds_left"}


def test_keepalive_without_javascript_goes_back_to_the_page(world):
    """The plain form post answers 303 to the page it came from."""
    client = wang_client(world)
    token = csrf_token(client, "/home")
    response = client.post("/session/keepalive", data={"csrf_token": token},
                           headers={"Referer": "http://localhost/authority/grants"})
    assert response.status_code == 303 and response.headers["Location"] == "http://localhost/authority/grants"


def test_keepalive_of_an_ended_session_does_not_revive_it(world):
    """After expiry the script's keep-alive gets 401 (not a redirect it would follow) and the login URL."""
    client = wang_client(world)
    token = csrf_token(client, "/home")
    set_last_seen(timedelta(hours=1))
    response = client.post("/session/keepalive", headers={"Accept": "application/json", "X-CSRFToken": token})
    assert response.status_code == 401 and UserSession.get().end_reason == "idle"
    assert response.get_json()["login_url"].startswith("/login") and "expired=1" in response.get_json()["login_url"]


# --- the audit log -------------------------------------------------------------------------

def test_audit_chain_verifies_after_many_writes(app):
    """Hundreds of appends keep a chain that verifies, with the head at the last row."""
    written = record_many(300)
    assert audit.verify_chain() is None
    head = AuditHead.get_by_id(1)
    assert head.last_id == written[-1].id == 300 and head.last_hash == written[-1].hash
    assert written[1].prev_hash == written[0].hash and written[0].prev_hash == audit.GENESIS


@pytest.mark.parametrize("column, value", [
    ("actor", "別人"), ("result", "denied"), ("ip", "192.0.2.1"), ("detail", "{}"), ("action", "logout"),
    ("at", datetime(2020, 1, 1)),
])
def test_a_changed_row_is_detected(app, column, value):
    """UPDATE of any field of row 120 makes verify_chain point at row 120."""
    record_many(200)
    AuditEvent.update({getattr(AuditEvent, column): value}).where(AuditEvent.id == 120).execute()
    assert audit.verify_chain() == 120


def test_a_changed_row_with_a_recomputed_hash_breaks_the_next_link(app):
    """Rewriting a row and its own hash still fails at the following row."""
    record_many(50)
    row = AuditEvent.get_by_id(20)
    row.actor = "別人"
    AuditEvent.update(actor=row.actor, hash=audit.chain_hash(row)).where(AuditEvent.id == 20).execute()
    assert audit.verify_chain() == 21


def test_a_deleted_middle_row_is_detected(app):
    """Deleting row 77 of 150 is reported as 77."""
    record_many(150)
    AuditEvent.delete().where(AuditEvent.id == 77).execute()
    assert audit.verify_chain() == 77


def test_a_deleted_last_row_is_detected(app):
    """Deleting the newest rows is caught by the chain head."""
    record_many(30)
    AuditEvent.delete().where(AuditEvent.id == 30).execute()
    assert audit.verify_chain() == 30
    AuditEvent.delete().where(AuditEvent.id >= 25).execute()
    assert audit.verify_chain() == 25


def test_an_event_written_inside_a_failed_change_is_rolled_back_with_it(app):
    """record() joins the caller's transaction: a failed change leaves no event and an intact chain."""
    record_many(3)
    with pytest.raises(RuntimeError), write_transaction():
        audit.record("grants_save", audit.SYSTEM, detail={"n": "lost"})
        raise RuntimeError("the change failed")
    assert AuditEvent.select().count() == 3 and audit.verify_chain() is None
    assert audit.record("logout", audit.SYSTEM).id == 4 and audit.verify_chain() is None


def test_login_events_carry_utc_time_actor_institution_ip_and_user_agent(world):
    """Successful and failed logins are audited with who, where from and which browser."""
    before = datetime.now(UTC).replace(tzinfo=None)
    wang_client(world, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; Trident/7.0)")
    refused = world.app.test_client()
    refused.environ_base.update(REMOTE_ADDR="203.0.113.8")
    assert card_login(refused, world, "stranger", "medical-staff").status_code == 400
    ok = AuditEvent.get(AuditEvent.action == "login")
    assert before - timedelta(seconds=1) <= ok.at <= datetime.now(UTC).replace(tzinfo=None)
    assert (ok.actor, ok.ip, ok.result) == ("王大明", "203.0.113.7", "ok")
    assert ok.user_agent == "Mozilla/5.0 (Windows NT 10.0; Trident/7.0)"
    assert ok.institution_id == Institution.get(Institution.code == "3501200000").id
    assert ok.actor_person_id == Person.get(Person.national_id == "A123456789").id
    failed = AuditEvent.get(AuditEvent.action == "login_failed")
    assert (failed.ip, failed.result, json.loads(failed.detail)["reason"]) == ("203.0.113.8", "denied", "person_unknown")
    assert audit.verify_chain() is None


# --- failed passwords and the per-address throttle ----------------------------------------------

def wrong_passwords(client, world, count: int, nhi_card=None):
    """Type `count` wrong 健保卡 passwords (re-reading the card when the page asks); returns the last answer."""
    answer = None
    for attempt in range(count):
        if client.get("/login/password").status_code != 200:
            nhi_login(client, world, **({"nhi_card": nhi_card} if nhi_card else {}))
        token = csrf_token(client, "/login/password")
        answer = client.post("/login/password", data={"password": f"wrong-{attempt}", "csrf_token": token})
    return answer


def test_failures_from_one_address_throttle_every_account_there(world):
    """IP_FAILURE_LIMIT failures from one address refuse even a right password of another person."""
    world.app.config["IP_FAILURE_LIMIT"] = 3
    client = world.app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    last = wrong_passwords(client, world, 3)
    assert last.status_code == 400 and "再錯 2 次" in last.get_data(as_text=True)
    nhi_login(client, world, nhi_card="000012345678|王大明|A123456789|0640515|M")
    token = csrf_token(client, "/login/password")
    refused = client.post("/login/password", data={"password": "67890515", "csrf_token": token})
    assert refused.status_code == 400
    assert "這台電腦的登入失敗次數過多" in check_page(refused).get_text()
    assert UserSession.select().count() == 0
    reasons = [json.loads(e.detail)["reason"] for e in AuditEvent.select().where(AuditEvent.action == "login_failed")]
    assert reasons == ["password", "password", "password", "throttled"]
    other = world.app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.21"
    nhi_login(other, world, nhi_card="000012345678|王大明|A123456789|0640515|M")
    right = other.post("/login/password", data={"password": "67890515",
                                                "csrf_token": csrf_token(other, "/login/password")})
    assert right.status_code == 303


def test_the_configured_ip_limit_throttles_the_password_check(app):
    """With the shipped IP_FAILURE_LIMIT, that many failures from an address stop the next check."""
    limit = app.config["IP_FAILURE_LIMIT"]
    tx = SimpleNamespace(person_id=person().id)
    for _ in range(limit - 1):
        throttle.fail("ip:10.9.9.9", limit=limit, window_seconds=900, lock_seconds=900)
    assert throttle.locked_until("ip:10.9.9.9") is None
    throttle.fail("ip:10.9.9.9", limit=limit, window_seconds=900, lock_seconds=900)
    with pytest.raises(login.LoginError) as refused:
        login.check_password(app.config, tx, "whatever", "10.9.9.9")
    assert refused.value.code == "throttled" and str(refused.value) == "這台電腦的登入失敗次數過多，請稍後再試。"


def test_an_account_lock_lasts_15_minutes(app):
    """5 failures lock the account for LOGIN_LOCK_SECONDS; afterwards the count starts again."""
    config = app.config
    args = {"limit": config["LOGIN_LOCK_FAILURES"], "window_seconds": config["LOGIN_LOCK_SECONDS"],
            "lock_seconds": config["LOGIN_LOCK_SECONDS"]}
    for n in range(1, 5):
        assert throttle.fail("person:1", now=T0 + n * MINUTE, **args) == n
    assert throttle.locked_until("person:1", now=T0 + 4 * MINUTE) is None
    throttle.fail("person:1", now=T0 + 5 * MINUTE, **args)
    opens = T0 + 5 * MINUTE + timedelta(seconds=config["LOGIN_LOCK_SECONDS"])
    assert opens == T0 + 20 * MINUTE
    assert throttle.locked_until("person:1", now=opens - timedelta(seconds=1)) == opens
    assert throttle.locked_until("person:1", now=opens) is None
    assert throttle.fail("person:1", now=opens + MINUTE, **args) == 1


def test_locked_account_message_names_the_time_it_opens(app):
    """The locked message shows the ROC date and Taipei time the account opens again."""
    wang = person()
    config = app.config
    for _ in range(config["LOGIN_LOCK_FAILURES"]):
        throttle.fail(f"person:{wang.id}", limit=config["LOGIN_LOCK_FAILURES"],
                      window_seconds=config["LOGIN_LOCK_SECONDS"], lock_seconds=config["LOGIN_LOCK_SECONDS"], now=T0)
    with pytest.raises(login.LoginError) as locked:
        login.check_password(config, SimpleNamespace(person_id=wang.id), "x", "10.0.0.1", now=T0 + MINUTE)
    assert locked.value.code == "locked"
    assert re.search(r"請於 115/01/05 09:15 後再試", str(locked.value)), str(locked.value)


def test_a_refused_card_login_shows_in_the_institutions_audit_log(world):
    """路人甲 tries 臺北's PC (臺北's module); 臺北's representative sees the 登入失敗 row."""
    assert card_login(world.app.test_client(), world, "stranger", "medical-staff").status_code == 400
    representative = world.app.test_client()
    assert card_login(representative, world, "taipei-org", "medical-org").status_code == 303
    page = check_page(representative.get("/authority/audit?action=login_failed"))
    assert page.select("#audit-rows tbody tr"), "no 登入失敗 row for 臺北"
