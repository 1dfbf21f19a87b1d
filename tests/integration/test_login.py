"""Card login on the portal side: transactions, callback verification, sessions, 健保卡 password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.cardagent import protocol
from portal.logic import audit
from portal.models.audit import AuditEvent
from portal.models.modules import SecurityModule
from portal.models.sessions import UserSession
from portal.pki import testca
from tests.integration.conftest import agent_answer, csrf_token, start_login
from tests.pages import check_page


def login(client, world, card_name: str, card_type: str, reader="chip-reader", module="3501200000", **answer):
    """A whole card login; returns the callback response."""
    fields = start_login(client, card_type, reader)
    form = agent_answer(fields, world.cards.get(card_name), world.modules[module], **answer)
    return client.post("/login/callback", data=form)


def last_audit(action: str) -> AuditEvent:
    return AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id.desc()).first()


def test_login_form_hands_over_to_the_agent_with_a_dedicated_cookie(world):
    client = world.app.test_client()
    fields = start_login(client, "medical-staff", "chip-reader")
    assert set(fields) >= {"return_url", "nonce", "card_type", "reader_type", "portal_name"}
    assert fields["return_url"] == "http://localhost/login/callback" and len(fields["nonce"]) >= 40
    cookie = client.get_cookie("portal_login", path="/login")
    assert cookie.secure and cookie.http_only and cookie.same_site == "None"


def test_medical_staff_card_logs_in_and_sees_their_institution(world):
    client = world.app.test_client()
    response = login(client, world, "wang", "medical-staff")
    assert response.status_code == 303 and response.headers["Location"].endswith("/home")
    session_cookie = client.get_cookie("portal_session")
    assert session_cookie.http_only and session_cookie.same_site == "Lax"
    home = check_page(client.get("/home"))
    assert "臺北虛擬診所 王大明 您好" in home.select_one(".greeting").get_text()
    assert "機構管理者、機構使用者" in home.get_text()
    menu = [a.get_text() for a in home.select("nav[aria-label=服務項目] a")]
    assert {"O.02.01 健保服務申請作業", "O.02.02 機構使用者維護作業", "O.02.03 使用者授權管理作業"} <= set(menu)
    assert "O.01.01 機構管理者維護作業" not in menu
    event = last_audit("login")
    assert event.result == "ok" and event.actor == "王大明" and event.institution_id is not None


def test_citizen_card_with_ec_key(world):
    client = world.app.test_client()
    assert login(client, world, "chen", "citizen").status_code == 303
    assert "陳小華 您好" in client.get("/home").get_data(as_text=True)


def test_institution_card_is_the_representative(world):
    client = world.app.test_client()
    assert login(client, world, "taipei-org", "medical-org").status_code == 303
    home = client.get("/home").get_data(as_text=True)
    assert "機構代表" in home and "機構管理者維護作業" in home


def test_the_module_decides_the_institution(world):
    client = world.app.test_client()
    assert login(client, world, "wang", "medical-staff", module="0702010015").status_code == 303
    assert "高屏虛擬醫院 王大明 您好" in client.get("/home").get_data(as_text=True)


def test_institution_card_with_another_institutions_module_is_refused(world):
    response = login(world.app.test_client(), world, "taipei-org", "medical-org", module="0702010015")
    assert response.status_code == 400 and "不屬於同一個機構" in response.get_data(as_text=True)


def test_a_nonce_works_once(world):
    client = world.app.test_client()
    fields = start_login(client, "medical-staff", "chip-reader")
    form = agent_answer(fields, world.cards["wang"], world.modules["3501200000"])
    assert client.post("/login/callback", data=form).status_code == 303
    replay = client.post("/login/callback", data=form)
    assert replay.status_code == 400 and "已經使用過" in replay.get_data(as_text=True)
    assert last_audit("login_failed").detail.count('"unknown"') == 1


def test_callback_without_the_transaction_cookie_is_refused(world):
    client = world.app.test_client()
    fields = start_login(client, "medical-staff", "chip-reader")
    other = world.app.test_client()
    response = other.post("/login/callback", data=agent_answer(fields, world.cards["wang"], world.modules["3501200000"]))
    assert response.status_code == 400 and "來自這個瀏覽器" in response.get_data(as_text=True)
    assert UserSession.select().count() == 0


def test_expired_transaction(world, monkeypatch):
    client = world.app.test_client()
    fields = start_login(client, "medical-staff", "chip-reader")
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=5)
    monkeypatch.setattr("portal.logic.login.utcnow", lambda: later)
    signed = protocol.utc_timestamp(later.replace(tzinfo=UTC))
    response = client.post("/login/callback", data=agent_answer(fields, world.cards["wang"], world.modules["3501200000"],
                                                                 signed_at=signed))
    assert response.status_code == 400 and "逾時" in response.get_data(as_text=True)


@pytest.mark.parametrize("change, message", [
    ({"origin": "http://evil.example"}, "簽章驗證失敗"),
    ({"claimed_card_type": "citizen"}, "卡片種類與登入時選擇的不符"),
    ({"signed_at": "2001-01-01T00:00:00Z"}, "電腦時間與伺服器相差過大"),
    ({"signed_at": "yesterday"}, "登入資料不完整"),
])
def test_answers_that_do_not_match_the_transaction(world, change, message):
    response = login(world.app.test_client(), world, "wang", "medical-staff", **change)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.update(certificate="%%%not base64%%%"), "登入資料不完整"),
    (lambda f: f.update(certificate=f["certificate"][:40]), "憑證格式錯誤"),
    (lambda f: f.update(certificate=protocol.b64encode(b"\x30" * 20000)), "憑證資料過大"),
    (lambda f: f.update(signature=protocol.b64encode(b"\x00" * 256)), "簽章驗證失敗"),
    (lambda f: f.update(algorithm="md5"), "不支援的簽章演算法"),
    (lambda f: f.pop("module_certificate"), "未收到安全模組的簽章"),
    (lambda f: f.update(module_signature=f["signature"]), "簽章驗證失敗"),
    (lambda f: f.pop("nonce"), "登入資料不完整"),
    (lambda f: f.update(error="pin_blocked"), "卡片已鎖住"),
    (lambda f: f.update(error="<script>"), "讀卡元件發生錯誤"),
])
def test_forged_or_broken_fields(world, mutate, message):
    client = world.app.test_client()
    fields = start_login(client, "medical-staff", "chip-reader")
    form = agent_answer(fields, world.cards["wang"], world.modules["3501200000"])
    mutate(form)
    response = client.post("/login/callback", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert "<script>" not in response.get_data(as_text=True)
    assert UserSession.select().count() == 0 and last_audit("login_failed").result == "denied"


def _certificate_case(world, case: str):
    cas, now = world.cas, datetime.now(UTC)
    return {
        "expired": testca.issue(cas["hca2"], serial="A123456789", cn="王大明", not_before=now - timedelta(days=800)),
        "not_yet_valid": testca.issue(cas["hca2"], serial="A123456789", cn="王大明",
                                      not_before=now + timedelta(days=3)),
        "wrong_ca": testca.issue(cas["moica"], serial="A123456789", cn="王大明"),
        "wrong_usage": testca.issue(cas["hca2"], serial="A123456789", cn="王大明", digital_signature=False),
        "self_signed": testca.self_signed(serial="A123456789", cn="王大明"),
    }[case]


@pytest.mark.parametrize("case, message", [
    ("expired", "憑證已過期"),
    ("not_yet_valid", "憑證尚未生效"),
    ("wrong_ca", "不是由這種卡片的核發單位所簽發"),
    ("wrong_usage", "不能用於數位簽章登入"),
    ("self_signed", "不是由這種卡片的核發單位所簽發"),
])
def test_certificates_that_are_refused(world, case, message):
    world.cards["case"] = _certificate_case(world, case)
    response = login(world.app.test_client(), world, "case", "medical-staff")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_revoked_card(world):
    world.publish_crls({"hca2": [world.cards["wang"].cert]})
    response = login(world.app.test_client(), world, "wang", "medical-staff")
    assert response.status_code == 400 and "憑證已被廢止" in response.get_data(as_text=True)


def test_no_crl_means_no_login_while_crls_are_required(world):
    from portal.models.pki import CrlCache

    CrlCache.delete().execute()
    response = login(world.app.test_client(), world, "wang", "medical-staff")
    assert response.status_code == 400 and "廢止清冊未更新" in response.get_data(as_text=True)


def test_revoked_module_stops_working_at_once(world):
    SecurityModule.update(status="revoked").where(SecurityModule.module_no.is_null(False)).execute()
    response = login(world.app.test_client(), world, "wang", "medical-staff")
    assert response.status_code == 400 and "雲端安全模組已撤銷" in response.get_data(as_text=True)


def test_person_without_a_role_here_cannot_log_in(world):
    response = login(world.app.test_client(), world, "stranger", "medical-staff")
    assert response.status_code == 400 and "尚未被設定為本機構的管理者或使用者" in response.get_data(as_text=True)


def test_wrong_reader_for_the_card_is_refused_before_the_agent(world):
    client = world.app.test_client()
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"card": "nhi", "reader": "chip-reader", "csrf_token": token})
    assert response.status_code == 400 and "所選的讀卡機無法讀取這種卡片" in response.get_data(as_text=True)
    assert client.get_cookie("portal_login", path="/login") is None


def nhi_login(client, world, nhi_card="000012345678|林美玲|B220003458|0810304|F"):
    fields = start_login(client, "nhi", "nhi-reader")
    return client.post("/login/callback", data=agent_answer(fields, None, world.modules["3501200000"], nhi_card=nhi_card))


def test_nhi_card_then_portal_password_then_forced_change(world):
    client = world.app.test_client()
    response = nhi_login(client, world)
    assert response.status_code == 303 and response.headers["Location"].endswith("/login/password")
    page = check_page(client.get("/login/password"))
    assert "林美玲（B22****458）" in page.get_text()
    token = page.select_one("input[name=csrf_token]")["value"]
    wrong = client.post("/login/password", data={"password": "nope-nope", "csrf_token": token})
    assert wrong.status_code == 400 and "再錯 4 次" in wrong.get_data(as_text=True)
    ok = client.post("/login/password", data={"password": "34580304", "csrf_token": token})
    assert ok.status_code == 303
    forced = client.get("/home")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/account/password")
    form = check_page(client.get("/account/password"))
    token = form.select_one("input[name=csrf_token]")["value"]
    weak = client.post("/account/password", data={"current": "34580304", "new": "12345678", "again": "12345678",
                                                  "csrf_token": token})
    assert weak.status_code == 400 and "太常見" in weak.get_data(as_text=True)
    good = client.post("/account/password", data={"current": "34580304", "new": "藍天白雲2026", "again": "藍天白雲2026",
                                                  "csrf_token": token})
    assert good.status_code == 303
    assert client.get("/home").status_code == 200
    assert "修改密碼" in client.get("/home").get_data(as_text=True)


def test_nhi_card_data_must_match_the_person(world):
    response = nhi_login(world.app.test_client(), world, nhi_card="000012345678|林美玲|B220003458|0810101|F")
    assert response.status_code == 400 and "健保卡資料" in response.get_data(as_text=True)
    broken = nhi_login(world.app.test_client(), world, nhi_card="only|three|parts")
    assert broken.status_code == 400


def test_five_wrong_passwords_lock_the_account(world):
    client = world.app.test_client()
    for attempt in range(5):
        if attempt == 0 or client.get("/login/password").status_code != 200:
            nhi_login(client, world)
        token = csrf_token(client, "/login/password")
        last = client.post("/login/password", data={"password": f"wrong-{attempt}", "csrf_token": token})
    assert "暫停使用" in last.get_data(as_text=True)
    token = csrf_token(client, "/login/password")
    still = client.post("/login/password", data={"password": "34580304", "csrf_token": token})
    assert still.status_code == 400 and "暫停使用" in still.get_data(as_text=True)
    assert UserSession.select().count() == 0


def test_logout_ends_the_session(world):
    client = world.app.test_client()
    login(client, world, "wang", "medical-staff")
    token = csrf_token(client, "/home")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/home").status_code == 302
    assert UserSession.get().end_reason == "logout" and last_audit("logout") is not None


def test_logging_in_again_replaces_the_old_session(world):
    client = world.app.test_client()
    login(client, world, "wang", "medical-staff")
    login(client, world, "chen", "citizen")
    reasons = [s.end_reason for s in UserSession.select().order_by(UserSession.id)]
    assert reasons == ["replaced", ""]


def test_htmx_request_without_login_gets_401_and_a_redirect(world):
    response = world.app.test_client().get("/home", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_audit_chain_stays_intact_through_logins(world):
    client = world.app.test_client()
    login(client, world, "wang", "medical-staff")
    login(client, world, "stranger", "medical-staff")
    assert audit.verify_chain() is None
