"""機構授權作業 screens (SPEC L2–L7) as the representative, a manager and a plain user see them."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest

from portal.identity import today
from portal.logic import authority, his_vendors, modules
from portal.logic.audit import SYSTEM
from portal.logic.roc_dates import roc_date
from portal.models.audit import AuditEvent
from portal.models.authority import Appointment, Grant, HisVendor, Institution, PasswordCredential, Person
from portal.models.modules import SecurityModule
from portal.models.sessions import UserSession
from portal.storage import storage_for
from tests.integration.test_login import login, nhi_login
from tests.pages import check_page, fetch, is_fragment
from tests.world import module_from_package

TAIPEI, KAOPING = "3501200000", "0702010015"
NEW_MANAGER = {"name": "張志明", "national_id": "B123456780", "birth_date": "075/03/04", "valid_from": "2025-01-28"}
STRANGER = {"name": "路人甲", "national_id": "K219876541", "birth_date": "070/01/01", "valid_from": "113/01/01"}


# --- helpers --------------------------------------------------------------------------------

def signed_in(world, card="wang", card_type="medical-staff", module=TAIPEI):
    """A client logged in with a card (default: 王大明, manager and user at 臺北)."""
    client = world.app.test_client()
    response = login(client, world, card, card_type, module=module)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


def as_representative(world):
    """臺北虛擬診所's 機構代表 (醫事機構卡)."""
    return signed_in(world, "taipei-org", "medical-org")


def as_chen(world):
    """陳小華, a plain 機構使用者 (自然人憑證)."""
    return signed_in(world, "chen", "citizen")


def view(client, url, status=200):
    """GET a page, check its status and HTML; returns the parsed page."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.headers.get("Location"))
    return check_page(response)


def token(client) -> str:
    """The CSRF token of the client's session (from whatever page /home leads to)."""
    html = client.get("/home", follow_redirects=True).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def submit(client, url, data=None):
    """POST a form with the session's CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": token(client)})


def followed(client, response):
    """The page a 303 answer leads to, checked."""
    assert response.status_code == 303, (response.status_code, response.get_data(as_text=True)[:800])
    return view(client, response.headers["Location"])


def errors_of(soup) -> str:
    """The text of a form's error summary."""
    box = soup.select_one(".error-box")
    return box.get_text(" ", strip=True) if box else ""


def events(action: str, result: str | None = None) -> list[AuditEvent]:
    """Audit events of an action (and result), oldest first."""
    query = AuditEvent.select().where(AuditEvent.action == action)
    if result:
        query = query.where(AuditEvent.result == result)
    return list(query.order_by(AuditEvent.id))


def appointment(code: str, role: str, name: str) -> Appointment:
    """The live appointment of a person by name at an institution."""
    return (Appointment.select().join(Person).switch(Appointment).join(Institution)
            .where((Institution.code == code) & (Appointment.role == role) & (Person.name == name)
                   & Appointment.removed_at.is_null()).get())


def table_rows(soup, selector="table.data") -> list[list[str]]:
    """Cell texts of a table's body rows."""
    table = soup.select_one(selector)
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.select("tbody tr")]


def granted_on_home(client) -> set[str]:
    """業務代號 listed under 您可使用的健保服務 on /home."""
    home = view(client, "/home")
    return {tr.td.get_text(strip=True) for tr in home.select("section[aria-labelledby=granted-h] tbody tr")}


def reminders_on_home(client) -> list[str]:
    """The texts of 提醒事項 on /home."""
    return [li.get_text(strip=True) for li in view(client, "/home").select("ul.reminders li")]


def redirected_to_login(client) -> bool:
    """Whether the client's next request is sent to the login page (its session ended)."""
    response = client.get("/home")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def grant_codes(appointment_row) -> set[str]:
    """The user's grants as stored."""
    return {g.service_code for g in Grant.select().where(Grant.appointment == appointment_row)}


def add_person(client, kind: str, fields: dict):
    """Submit 新增 on 機構管理者/使用者維護作業."""
    return submit(client, f"/authority/{kind}/new", fields)


def roc(day: date) -> str:
    return roc_date(day)


# --- 機構管理者維護作業 ----------------------------------------------------------------------

def test_representative_adds_a_manager_with_roc_and_ad_dates(world):
    """ROC birth date and AD start date are accepted; the list shows a masked ID and ROC dates."""
    client = as_representative(world)
    listing = view(client, "/authority/managers")
    assert listing.h1.get_text() == "機構管理者維護作業"
    form = view(client, "/authority/managers/new")
    assert "預設為身分證字號後四碼加出生月日四碼" in form.get_text()
    done = followed(client, add_person(client, "managers", {**NEW_MANAGER, "national_id": "b123456780"}))
    assert "已新增機構管理者 張志明" in done.select_one(".flash").get_text()
    rows = {r[0]: r for r in table_rows(done)}
    assert rows["張志明"][1:5] == ["B12****780", "114/01/28", "不限", "生效中"]
    assert "B123456780" not in done.get_text()
    person = Person.get(Person.national_id == "B123456780")
    assert person.birth_date == date(1986, 3, 4)
    event = events("appointment_add", "ok")[-1]
    assert json.loads(event.detail)["national_id"] == "B12****780" and event.actor.startswith("機構代表")


def test_new_manager_uses_the_default_nhi_password_and_must_change_it(world):
    """The 健保卡 password of a new person is ID last 4 + birth MMDD and is changed at first login."""
    representative = as_representative(world)
    assert add_person(representative, "managers", NEW_MANAGER).status_code == 303
    credential = PasswordCredential.get(PasswordCredential.person == Person.get(Person.national_id == "B123456780"))
    assert credential.must_change
    client = world.app.test_client()
    assert nhi_login(client, world, "000011112222|張志明|B123456780|0750304|M").status_code == 303
    answered = client.post("/login/password", data={"password": "67800304", "csrf_token": token(client)})
    assert answered.status_code == 303
    forced = client.get("/authority/users")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/account/password")
    page = view(client, "/account/password")
    assert page.select_one("nav[aria-label=使用者功能]").find("a", string="修改密碼")


@pytest.mark.parametrize("change, field, message", [
    ({"national_id": "B123456781"}, "national_id", "身分證字號檢查碼錯誤，請確認是否輸入正確。"),
    ({"national_id": "12345"}, "national_id", "身分證字號格式錯誤"),
    ({"birth_date": "075/13/04"}, "birth_date", "出生年月日：日期「075/13/04」不存在，請確認月份與日期。"),
    ({"valid_from": "明天"}, "valid_from", "生效起日：日期「明天」格式錯誤"),
    ({"valid_to": "114/01/27"}, "valid_to", "生效迄日不可早於生效起日。"),
    ({"name": "  "}, "name", "請輸入姓名。"),
    ({"valid_from": ""}, "valid_from", "請輸入生效起日。"),
])
def test_manager_form_errors_store_nothing(world, change, field, message):
    """Each bad field gets its zh-TW message next to it; nothing is stored; the refusal is audited."""
    client = as_representative(world)
    before = (Person.select().count(), Appointment.select().count())
    response = add_person(client, "managers", {**NEW_MANAGER, **change})
    assert response.status_code == 400
    page = check_page(response)
    assert message in errors_of(page) and message in page.select_one(f"#e-{field}").get_text()
    if field != "name":
        assert page.select_one("#f-name")["value"] == NEW_MANAGER["name"]
    assert (Person.select().count(), Appointment.select().count()) == before
    assert json.loads(events("appointment_add", "denied")[-1].detail)["errors"][field].startswith(message[:6])


@pytest.mark.parametrize("fields, message", [
    ({"name": "王大明", "national_id": "A123456789", "birth_date": "064/05/15", "valid_from": "113/01/01"},
     "王大明 已是本機構的機構管理者。"),
    ({"name": "王小明", "national_id": "A123456789", "birth_date": "064/05/15", "valid_from": "113/01/01"},
     "無法以這組資料新增人員"),
])
def test_the_same_person_cannot_be_appointed_twice_or_under_another_name(world, fields, message):
    """A second appointment of the same role, or a registered ID with other data, is refused."""
    client = as_representative(world)
    before = Appointment.select().count()
    response = add_person(client, "managers", fields)
    assert response.status_code == 400 and message in errors_of(check_page(response))
    assert Appointment.select().count() == before and Person.get(Person.national_id == "A123456789").name == "王大明"
    assert events("appointment_add", "denied")


def test_full_width_digits_do_not_make_the_same_person_a_second_time(world):
    """王大明's ID typed with full-width digits is still 王大明: refused (or normalised), no new person."""
    client = as_representative(world)
    before = Person.select().count()
    fields = {"name": "王大明", "national_id": "A1２３４５６７８９", "birth_date": "064/05/15", "valid_from": "113/01/01"}
    response = add_person(client, "managers", fields)
    assert Person.select().count() == before
    assert response.status_code == 400


def test_editing_the_period(world):
    """資料維護 shows the period in ROC and saves a new 生效迄日; a reversed period is refused."""
    client = as_representative(world)
    wang = appointment(TAIPEI, "manager", "王大明")
    url = f"/authority/managers/{wang.id}"
    form = view(client, url)
    assert form.select_one("#f-valid_from")["value"] == "113/01/01" and "A12****789" in form.get_text()
    until = today() + timedelta(days=60)
    listing = followed(client, submit(client, url, {"valid_from": "113/01/01", "valid_to": roc(until)}))
    assert table_rows(listing)[0][:4] == ["王大明", "A12****789", "113/01/01", roc(until)]
    assert Appointment.get_by_id(wang.id).valid_to == until
    refused = submit(client, url, {"valid_from": "113/01/01", "valid_to": "112/12/31"})
    assert refused.status_code == 400 and "生效迄日不可早於生效起日。" in errors_of(check_page(refused))
    assert Appointment.get_by_id(wang.id).valid_to == until
    assert [e.result for e in events("appointment_update")] == ["ok", "denied"]


def test_ending_a_managers_period_ends_their_session(world):
    """A 生效迄日 in the past takes effect at once: the manager's open session ends."""
    manager = signed_in(world)
    representative = as_representative(world)
    wang = appointment(TAIPEI, "manager", "王大明")
    yesterday = today() - timedelta(days=1)
    response = submit(representative, f"/authority/managers/{wang.id}",
                      {"valid_from": "113/01/01", "valid_to": roc(yesterday)})
    assert "已到期" in table_rows(followed(representative, response))[0]
    assert redirected_to_login(manager)


def test_removing_a_manager_ends_their_open_session(world):
    """The removed manager's next request goes to the login page, and they cannot log in again."""
    representative = as_representative(world)
    assert add_person(representative, "managers", STRANGER).status_code == 303
    manager = signed_in(world, "stranger")
    assert "機構管理者" in view(manager, "/home").get_text()
    appointed = appointment(TAIPEI, "manager", "路人甲")
    done = followed(representative, submit(representative, f"/authority/managers/{appointed.id}/remove"))
    assert "已移除機構管理者 路人甲" in done.select_one(".flash").get_text()
    assert "路人甲" not in [r[0] for r in table_rows(done)]
    assert redirected_to_login(manager)
    assert UserSession.select().where(UserSession.end_reason == "access_removed").count() == 1
    again = login(world.app.test_client(), world, "stranger", "medical-staff")
    assert again.status_code == 400 and "權限已停用或尚未生效" in again.get_data(as_text=True)
    assert events("appointment_remove", "ok")


def test_a_manager_who_starts_tomorrow_cannot_log_in_yet(world):
    """生效起日 in the future: listed as 尚未生效 and the login is refused until then."""
    client = as_representative(world)
    tomorrow = today() + timedelta(days=1)
    listing = followed(client, add_person(client, "managers", {**STRANGER, "valid_from": roc(tomorrow)}))
    assert {r[0]: r for r in table_rows(listing)}["路人甲"][2:5] == [roc(tomorrow), "不限", "尚未生效"]
    refused = login(world.app.test_client(), world, "stranger", "medical-staff")
    assert refused.status_code == 400 and "權限已停用或尚未生效" in refused.get_data(as_text=True)


def test_removing_the_manager_role_keeps_the_user_role(world):
    """王大明 is manager and user; without the manager role he logs in again as a user only."""
    representative = as_representative(world)
    wang = appointment(TAIPEI, "manager", "王大明")
    submit(representative, f"/authority/managers/{wang.id}/remove")
    client = signed_in(world)
    home = view(client, "/home")
    assert "您的身分：機構使用者。" in home.get_text() and granted_on_home(client) == {"RWM", "IWF"}
    links = [a.get_text() for a in home.select("nav[aria-label=服務項目] a")]
    assert "A.01 醫療費用申報" in links and "機構授權作業" not in links
    assert "O機構授權作業（無權限）" in [s.get_text() for s in home.select("nav[aria-label=服務項目] .off")]
    view(client, "/authority/users", status=403)


def test_names_are_shown_as_text_not_markup(world):
    """A name with markup is escaped in the list and in the flash message."""
    client = signed_in(world)
    fields = {**STRANGER, "name": "<b>路人</b>"}
    listing = followed(client, add_person(client, "users", fields))
    assert "<b>路人</b>" in listing.select_one(".flash").get_text() and not listing.select("main b, .flash b")
    assert "<b>路人</b>" in [r[0] for r in table_rows(listing)]


def test_a_manager_cannot_open_manager_maintenance(world):
    """機構管理者維護作業 belongs to the representative: 403, written to the audit log."""
    client = signed_in(world)
    menu = [a.get_text() for a in view(client, "/home").select("nav[aria-label=服務項目] a")]
    assert "機構管理者維護作業" not in menu
    denied = view(client, "/authority/managers", status=403)
    assert "您沒有使用這個功能的權限" in denied.get_text()
    view(client, "/authority/managers/new", status=403)
    before = Appointment.select().count()
    assert add_person(client, "managers", NEW_MANAGER).status_code == 403
    assert Appointment.select().count() == before
    rows = events("access_denied", "denied")
    assert len(rows) == 3 and rows[0].actor == "王大明（機構管理者）"
    assert json.loads(rows[0].detail)["endpoint"] == "authority.managers"


def test_a_plain_user_cannot_maintain_users_or_grants(world):
    """陳小華 gets 403 on 機構使用者維護 and 使用者授權管理, and cannot grant herself anything."""
    client = as_chen(world)
    home = view(client, "/home")
    menu = [a.get_text() for a in home.select("nav[aria-label=服務項目] a")]
    assert not [label for label in menu if label.startswith("O")]
    assert "O機構授權作業（無權限）" in [s.get_text() for s in home.select("nav[aria-label=服務項目] .off")]
    for url in ("/authority/users", "/authority/grants", "/authority/services", "/authority/audit"):
        view(client, url, status=403)
    chen = appointment(TAIPEI, "user", "陳小華")
    response = submit(client, "/authority/grants", {"user": chen.id, "grant": ["RWM", "IWF", "IPA"]})
    assert response.status_code == 403 and grant_codes(chen) == {"IPA"}
    assert len(events("access_denied", "denied")) == 5
    assert events("access_denied")[-1].actor == "陳小華（機構使用者）"


def test_another_institutions_appointment_is_not_found(world):
    """An appointment id of 高屏虛擬醫院 in 臺北's URLs is 404 for every action, and stays unchanged."""
    client = signed_in(world)
    other = appointment(KAOPING, "user", "王大明")
    view(client, f"/authority/users/{other.id}", status=404)
    assert submit(client, f"/authority/users/{other.id}", {"valid_from": "113/01/01",
                                                           "valid_to": "113/01/02"}).status_code == 404
    assert submit(client, f"/authority/users/{other.id}/remove").status_code == 404
    assert submit(client, "/authority/grants", {"user": other.id, "grant": ["RWM"]}).status_code == 404
    kept = Appointment.get_by_id(other.id)
    assert kept.valid_to is None and kept.removed_at is None and grant_codes(kept) == set()
    representative = as_representative(world)
    view(representative, f"/authority/managers/{other.id}", status=404)


# --- 健保服務申請作業 -----------------------------------------------------------------------

def test_services_save_applies_and_withdraws(world):
    """Ticked services are applied, unticked ones withdrawn; both audited."""
    client = signed_in(world)
    page = view(client, "/authority/services")
    assert {box["value"] for box in page.select("input[name=service][checked]")} == {"RWM", "IWF", "IPA"}
    done = followed(client, submit(client, "/authority/services", {"service": ["RWM", "IWF", "QB4", "NOPE"]}))
    assert "新申請 1 項、取消 1 項" in done.select_one(".flash").get_text()
    assert {box["value"] for box in done.select("input[name=service][checked]")} == {"RWM", "IWF", "QB4"}
    assert authority.applied_services(Institution.get(Institution.code == TAIPEI)) == {"RWM", "IWF", "QB4"}
    assert json.loads(events("service_apply")[-1].detail) == {"services": ["QB4"]}
    assert json.loads(events("service_withdraw")[-1].detail) == {"services": ["IPA"]}


def test_withdrawing_a_service_ends_the_session_of_its_user(world):
    """陳小華 uses IPA; withdrawing IPA logs her out at once, and afterwards she has no services."""
    chen = as_chen(world)
    assert granted_on_home(chen) == {"IPA"}
    manager = signed_in(world)
    assert submit(manager, "/authority/services", {"service": ["RWM", "IWF"]}).status_code == 303
    assert redirected_to_login(chen)
    assert view(manager, "/home")
    again = as_chen(world)
    assert granted_on_home(again) == set()
    assert "尚未授權您使用任何健保服務" in view(again, "/home").get_text()


# --- 使用者授權管理作業 ---------------------------------------------------------------------

def test_grants_tick_and_untick_show_on_the_users_home(world):
    """Choose 陳小華, tick RWM and IWF, untick IPA, 存檔: her /home lists exactly RWM and IWF."""
    client = signed_in(world)
    chooser = view(client, "/authority/grants")
    names = [o.get_text() for o in chooser.select("#g-user option")]
    assert "陳小華（F22****521）" in names and not chooser.select("input[name=grant]")
    chen = appointment(TAIPEI, "user", "陳小華")
    page = view(client, f"/authority/grants?user={chen.id}")
    assert [th.get_text() for th in page.select("#grant-table thead th")] == ["授權", "業務代號", "業務別"]
    assert [r[1:] for r in table_rows(page)] == [["RWM", "醫療費用申報"], ["IWF", "醫療費用支付"],
                                                 ["IPA", "IC卡就醫上傳檢核結果查詢"]]
    assert {b["value"] for b in page.select("input[name=grant][checked]")} == {"IPA"}
    response = submit(client, "/authority/grants", {"user": chen.id, "page": 1, "grant": ["RWM", "IWF"]})
    saved = followed(client, response)
    assert "已儲存 陳小華 的授權" in saved.select_one(".flash").get_text()
    assert {b["value"] for b in saved.select("input[name=grant][checked]")} == {"RWM", "IWF"}
    assert granted_on_home(as_chen(world)) == {"RWM", "IWF"}
    assert json.loads(events("grants_save")[-1].detail)["removed"] == ["IPA"]


def test_unticking_a_grant_ends_the_users_session(world):
    """Taking a service away from a logged-in user ends their session; adding one does not."""
    chen_client = as_chen(world)
    client = signed_in(world)
    chen = appointment(TAIPEI, "user", "陳小華")
    submit(client, "/authority/grants", {"user": chen.id, "grant": ["IPA", "RWM"]})
    assert granted_on_home(chen_client) == {"IPA", "RWM"}
    submit(client, "/authority/grants", {"user": chen.id, "grant": ["RWM"]})
    assert redirected_to_login(chen_client)


def test_granting_a_service_the_institution_has_not_applied_is_refused_by_the_rule(world):
    """save_grants itself refuses codes outside the applied services, with a zh-TW message."""
    chen = appointment(TAIPEI, "user", "陳小華")
    with pytest.raises(authority.AuthorityError, match="只能授權本機構已申請的健保服務：QB4"):
        authority.save_grants(chen, {"IPA", "QB4"}, SYSTEM)
    assert grant_codes(chen) == {"IPA"}


def test_granting_a_service_the_institution_has_not_applied_is_refused_on_the_screen(world):
    """A forged tick for QB4 (not applied by 臺北) → 400 and an audit row; grants unchanged."""
    client = signed_in(world)
    chen = appointment(TAIPEI, "user", "陳小華")
    response = submit(client, "/authority/grants", {"user": chen.id, "page": 1, "grant": ["IPA", "QB4"]})
    assert grant_codes(chen) == {"IPA"}
    assert response.status_code == 400
    assert events("grants_save", "denied")


def test_grants_can_still_be_saved_after_a_granted_service_was_withdrawn(world):
    """陳小華 had IPA; after IPA is withdrawn the manager can still save her grants."""
    client = signed_in(world)
    assert submit(client, "/authority/services", {"service": ["RWM", "IWF"]}).status_code == 303
    chen = appointment(TAIPEI, "user", "陳小華")
    response = submit(client, "/authority/grants", {"user": chen.id, "page": 1, "grant": ["RWM"]})
    assert response.status_code == 303, response.status_code
    assert grant_codes(chen) == {"RWM"}


def test_grant_pages_keep_the_grants_on_other_pages(world):
    """With every service applied the table has several pages; saving one page keeps the other's grants."""
    client = signed_in(world)
    every = [box["value"] for box in view(client, "/authority/services").select("input[name=service]")]
    assert len(every) > 10
    submit(client, "/authority/services", {"service": every})
    chen = appointment(TAIPEI, "user", "陳小華")
    first = view(client, f"/authority/grants?user={chen.id}")
    assert len(table_rows(first)) == 10
    assert f"共 {len(every)} 筆，第 1/{-(-len(every) // 10)} 頁" in first.select_one("#grant-table .pager").get_text()
    second = view(client, f"/authority/grants?user={chen.id}&page=2")
    on_second = [r[1] for r in table_rows(second)]
    assert "IPA" in on_second and not {"RWM", "IWF"} & set(on_second)
    response = submit(client, "/authority/grants", {"user": chen.id, "page": 1, "grant": ["RWM", "IWF"]})
    assert response.headers["Location"].endswith("page=1") and grant_codes(chen) == {"RWM", "IWF", "IPA"}
    submit(client, "/authority/grants", {"user": chen.id, "page": 2, "grant": ["IPA", "IEA"]})
    assert grant_codes(chen) == {"RWM", "IWF", "IPA", "IEA"}
    submit(client, "/authority/grants", {"user": chen.id, "page": 2})
    assert grant_codes(chen) == {"RWM", "IWF"}
    assert granted_on_home(as_chen(world)) == {"RWM", "IWF"}


def test_a_manager_appoints_themself_as_user_and_grants_themself_services(world):
    """FAQ Q2/Q3: one person may be manager and user; the menu then has both sets of functions."""
    representative = as_representative(world)
    assert add_person(representative, "managers", STRANGER).status_code == 303
    client = signed_in(world, "stranger")
    home = view(client, "/home")
    assert "您的身分：機構管理者。" in home.get_text() and not home.select("#granted-h")
    users = followed(client, add_person(client, "users", STRANGER))
    assert "路人甲" in [r[0] for r in table_rows(users)]
    myself = appointment(TAIPEI, "user", "路人甲")
    assert submit(client, "/authority/grants", {"user": myself.id, "grant": ["RWM", "IPA"]}).status_code == 303
    home = view(client, "/home")
    assert "您的身分：機構管理者、機構使用者。" in home.get_text()
    assert granted_on_home(client) == {"RWM", "IPA"}
    assert events("grants_save")[-1].actor == "路人甲（機構管理者）"


# --- 提醒事項 -----------------------------------------------------------------------------

def test_representative_is_prompted_to_appoint_a_second_manager(world):
    """With one manager the representative's home suggests a second; with two the prompt goes."""
    client = as_representative(world)
    prompt = [r for r in reminders_on_home(client) if "建議至少設定 2 位" in r]
    assert prompt == ["本機構目前有 1 位機構管理者，建議至少設定 2 位，以免管理者請假或離職時無人可維護權限。"]
    assert view(client, "/home").select_one("ul.reminders a")["href"] == "/authority/managers"
    add_person(client, "managers", NEW_MANAGER)
    assert not [r for r in reminders_on_home(client) if "建議至少設定 2 位" in r]


def test_manager_is_reminded_of_appointments_ending_within_14_days(world):
    """陳小華 ends in 14 days (reminded); 林美玲 in 15 days (not yet)."""
    client = signed_in(world)
    soon, later = today() + timedelta(days=14), today() + timedelta(days=15)
    for name, until in (("陳小華", soon), ("林美玲", later)):
        row = appointment(TAIPEI, "user", name)
        assert submit(client, f"/authority/users/{row.id}", {"valid_from": "113/01/01",
                                                            "valid_to": roc(until)}).status_code == 303
    assert reminders_on_home(client) == [f"機構使用者 陳小華 的授權將於 {roc(soon)} 到期。"]


# --- 雲端安全模組申請、下載 -------------------------------------------------------------------

def issue_pending(world):
    """Run the on-the-hour issuing job now."""
    return modules.issue_pending(world.app.config, storage_for(world.app.config))


def module_rows(client) -> dict[str, list[str]]:
    """The modules table keyed by 申請單號 (without the routine note)."""
    return {r[0].split("（")[0]: r for r in table_rows(view(client, "/authority/modules"))}


def test_module_application_form_errors(world):
    """Missing contact, a bad phone and a bad e-mail are refused with zh-TW messages; nothing applied."""
    client = signed_in(world)
    view(client, "/authority/modules/new")
    before = SecurityModule.select().count()
    response = submit(client, "/authority/modules/new", {"contact_name": "", "contact_phone": "call me",
                                                         "email": "not-an-address"})
    assert response.status_code == 400
    text = errors_of(check_page(response))
    for message in ("請輸入聯絡人姓名", "請輸入聯絡電話", "電子郵件格式不正確。"):
        assert message in text
    assert SecurityModule.select().count() == before and events("module_apply", "denied")


def test_module_apply_issue_and_download(world):
    """申請 → 申請中; the hourly job → 可下載 with 審核日期 and 模組編號; the download is the module ZIP."""
    client = signed_in(world)
    response = submit(client, "/authority/modules/new", {"contact_name": "王大明", "contact_phone": "(02)2345-6789",
                                                         "email": "wang@example.com"})
    done = followed(client, response)
    number = re.search(r"申請單號 (\w+)", done.select_one(".flash").get_text()).group(1)
    row = module_rows(client)[number]
    assert row[1:5] == [roc(today()), "申請中", "", ""] and "下載" not in row[5]
    issue_pending(world)
    row = module_rows(client)[number]
    assert row[2] == "可下載" and row[3] == roc(today()) and re.fullmatch(r"\d{12}", row[4])
    module = SecurityModule.get(SecurityModule.application_no == number)
    page = view(client, "/authority/modules")
    link = page.find("a", href=f"/authority/modules/{module.id}/download")
    download = fetch(client, link["href"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert sorted(archive.namelist()) == ["README.txt", "module-cert.pem", "module-key.pem"]
        assert row[4] in archive.read("README.txt").decode("utf-8")
    assert json.loads(events("module_download")[-1].detail) == {"module_no": row[4]}


def test_another_institutions_module_is_not_found(world):
    """高屏's module id cannot be downloaded or revoked from 臺北."""
    client = signed_in(world)
    other = SecurityModule.select().join(Institution).where(Institution.code == KAOPING).get()
    assert fetch(client, f"/authority/modules/{other.id}/download").status_code == 404
    assert submit(client, f"/authority/modules/{other.id}/revoke").status_code == 404
    assert SecurityModule.get_by_id(other.id).status == "issued"


def test_revoked_module_is_refused_at_login(world):
    """A fresh module logs in; after 撤銷 it shows 已撤銷, cannot be downloaded and its logins are refused."""
    client = signed_in(world)
    submit(client, "/authority/modules/new", {"contact_name": "王大明", "contact_phone": "02-23456789"})
    [fresh] = issue_pending(world)
    world.modules["fresh"] = module_from_package(storage_for(world.app.config), fresh)
    assert login(world.app.test_client(), world, "wang", "medical-staff", module="fresh").status_code == 303
    done = followed(client, submit(client, f"/authority/modules/{fresh.id}/revoke"))
    assert f"已撤銷雲端安全模組 {fresh.module_no}" in done.select_one(".flash").get_text()
    row = module_rows(client)[fresh.application_no]
    assert row[2] == "已撤銷" and "下載" not in row[5]
    assert fetch(client, f"/authority/modules/{fresh.id}/download").status_code == 404
    refused = login(world.app.test_client(), world, "wang", "medical-staff", module="fresh")
    assert refused.status_code == 400 and "此雲端安全模組已撤銷" in refused.get_data(as_text=True)
    assert events("module_revoke")[-1].actor == "王大明（機構管理者）"


# --- 允入HIS廠商申請作業 ------------------------------------------------------------------

@pytest.mark.parametrize("fields, message", [
    ({"vendor_name": "好醫資訊", "vendor_tax_id": "04595253"}, "統一編號應為 8 位數字且檢查碼正確。"),
    ({"vendor_name": "好醫資訊", "vendor_tax_id": "0459525"}, "統一編號應為 8 位數字且檢查碼正確。"),
    ({"vendor_name": "", "vendor_tax_id": "04595257"}, "請輸入廠商名稱"),
])
def test_his_vendor_with_bad_input_is_refused(world, fields, message):
    """A bad 統一編號 or a missing name: 400, message, nothing stored, audited."""
    client = signed_in(world)
    response = submit(client, "/authority/his-vendors", fields)
    assert response.status_code == 400 and message in errors_of(check_page(response))
    assert HisVendor.select().count() == 0 and events("his_allow", "denied")


def test_his_vendor_allow_shows_who_and_when_and_revoke_moves_it_to_history(world):
    """Allowing records the manager and time; a second allowance is refused; 撤銷 moves it to history."""
    client = signed_in(world)
    assert "目前沒有允入的 HIS 廠商" in view(client, "/authority/his-vendors").get_text()
    fields = {"vendor_name": "好醫資訊股份有限公司", "vendor_tax_id": "04595257", "note": "申報系統維護"}
    page = followed(client, submit(client, "/authority/his-vendors", fields))
    [row] = table_rows(page)
    assert row[:3] == ["好醫資訊股份有限公司", "04595257", "申報系統維護"]
    assert row[3].startswith(roc(today())) and row[4] == "王大明（機構管理者）"
    twice = submit(client, "/authority/his-vendors", fields)
    assert twice.status_code == 400 and "已在允入名單中" in errors_of(check_page(twice))
    vendor = HisVendor.get()
    assert submit(client, f"/authority/his-vendors/{vendor.id + 1}/revoke").status_code == 404
    page = followed(client, submit(client, f"/authority/his-vendors/{vendor.id}/revoke"))
    assert "目前沒有允入的 HIS 廠商" in page.get_text()
    [old] = table_rows(page, "h2 ~ table.data")
    assert old[0] == "好醫資訊股份有限公司" and old[3].startswith(roc(today())) and old[4] == "王大明（機構管理者）"
    assert [e.action for e in AuditEvent.select().where(AuditEvent.action.startswith("his_"))
            .order_by(AuditEvent.id)] == ["his_allow", "his_allow", "his_revoke"]


def test_his_vendor_tax_id_with_a_superscript_digit_gets_a_message(world):
    """Odd digits in 統一編號 are a 400 with the field message, not a system error."""
    client = signed_in(world)
    response = submit(client, "/authority/his-vendors", {"vendor_name": "好醫資訊", "vendor_tax_id": "0459525²"})
    assert response.status_code == 400, response.status_code
    assert "統一編號應為 8 位數字且檢查碼正確。" in errors_of(check_page(response))


def test_the_same_vendor_typed_in_full_width_digits_is_not_allowed_twice(world):
    """04595257 and ０４５９５２５７ are one 統一編號: the second allowance is refused."""
    client = signed_in(world)
    submit(client, "/authority/his-vendors", {"vendor_name": "好醫資訊", "vendor_tax_id": "04595257"})
    again = submit(client, "/authority/his-vendors", {"vendor_name": "好醫資訊", "vendor_tax_id": "０４５９５２５７"})
    assert HisVendor.select().where(HisVendor.revoked_at.is_null()).count() == 1
    assert again.status_code == 400


def test_the_representative_is_named_in_chinese_as_who_allowed_a_vendor(world):
    """允入者 reads 機構代表（醫事機構卡）, not an internal code."""
    client = as_representative(world)
    page = followed(client, submit(client, "/authority/his-vendors",
                                   {"vendor_name": "好醫資訊", "vendor_tax_id": "04595257"}))
    assert table_rows(page)[0][4] == "機構代表（醫事機構卡）"


def test_another_institutions_his_vendor_cannot_be_revoked(world):
    """A vendor of 高屏 is not found from 臺北."""
    kaoping = Institution.get(Institution.code == KAOPING)
    row = his_vendors.allow(kaoping, his_vendors.VendorForm("高屏資訊", "04595257"), SYSTEM)
    assert submit(signed_in(world), f"/authority/his-vendors/{row.id}/revoke").status_code == 404
    assert HisVendor.get_by_id(row.id).revoked_at is None


# --- 稽核紀錄查詢 --------------------------------------------------------------------------

def busy_day(world):
    """Logins by 王大明 and 陳小華 at 臺北 and by 王大明 at 高屏; returns the representative's client."""
    signed_in(world)
    as_chen(world)
    signed_in(world, module=KAOPING)
    return as_representative(world)


def audit_rows(client, query="") -> list[list[str]]:
    """The audit table (時間 / 操作者 / 動作 / 結果 / 來源 IP) for a query string."""
    page = view(client, "/authority/audit" + query)
    return table_rows(page) if page.select_one("#audit-rows table") else []


def test_audit_log_filters_by_date_person_and_action(world):
    """Only 臺北's events; filters by ROC date, person and action; a bad date gets a zh-TW error."""
    client = busy_day(world)
    everything = audit_rows(client)
    assert {r[1] for r in everything} >= {"王大明", "陳小華", "機構代表"}
    taipei = Institution.get(Institution.code == TAIPEI).id
    assert len(everything) == min(20, AuditEvent.select().where(AuditEvent.institution_id == taipei).count())
    logins = audit_rows(client, "?action=login")
    assert [r[1] for r in logins] == ["機構代表", "陳小華", "王大明"] and {r[2] for r in logins} == {"登入"}
    chen = Person.get(Person.name == "陳小華")
    assert {r[1] for r in audit_rows(client, f"?person={chen.id}")} == {"陳小華"}
    day = roc(today())
    assert len(audit_rows(client, f"?date_from={day}&date_to={day}&action=login")) == 3
    assert len(audit_rows(client, "?date_from=2020-01-01&action=login")) == 3
    assert audit_rows(client, f"?date_from={roc(today() + timedelta(days=1))}") == []
    assert "查無資料" in view(client, f"/authority/audit?date_from={roc(today() + timedelta(days=1))}").get_text()
    bad = view(client, "/authority/audit?date_from=115/02/30")
    assert "日期起：日期「115/02/30」不存在，請確認月份與日期。" in bad.select_one("#audit-rows .error-box").get_text()
    assert bad.select_one("#a-from")["value"] == "115/02/30"


def test_audit_rows_come_as_a_fragment_for_htmx(world):
    """The search form's htmx request gets only the #audit-rows fragment, with Vary: HX-Request."""
    client = busy_day(world)
    response = client.get("/authority/audit?action=login", headers={"HX-Request": "true"})
    assert is_fragment(response) and "HX-Request" in response.headers["Vary"]
    assert response.get_data(as_text=True).lstrip().startswith('<div id="audit-rows">')


def test_a_manager_reads_the_audit_log_and_a_user_cannot(world):
    """機構管理者 may read the institution's log; 機構使用者 may not."""
    busy_day(world)
    assert audit_rows(signed_in(world), "?action=login")
    view(as_chen(world), "/authority/audit", status=403)
    assert fetch(as_chen(world), "/authority/audit.csv").status_code == 403


def test_audit_csv_export_has_the_header_and_the_filtered_rows(world):
    """匯出 CSV keeps the filters: UTF-8 with BOM, zh-TW header, only the matching events."""
    client = busy_day(world)
    link = view(client, "/authority/audit?action=login").find("a", string="匯出 CSV")["href"]
    assert link == "/authority/audit.csv?action=login"
    response = fetch(client, link)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f"attachment; filename=audit_{TAIPEI}.csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["序號", "時間（台北）", "時間（UTC）", "操作者", "動作", "結果", "來源IP", "內容"]
    assert [r[3] for r in rows[1:]] == ["機構代表", "陳小華", "王大明"] and {r[4] for r in rows[1:]} == {"登入"}
    assert all(r[2].endswith("Z") and r[1].startswith(roc(today())) for r in rows[1:])
    assert json.loads(events("audit_export")[-1].detail) == {"action": "login"}
    chen = Person.get(Person.name == "陳小華")
    only_chen = fetch(client, f"/authority/audit.csv?person={chen.id}").get_data(as_text=True)
    assert {r[3] for r in list(csv.reader(io.StringIO(only_chen[1:])))[1:]} == {"陳小華"}


def test_audit_csv_with_a_bad_date_is_refused(world):
    """A bad date in the export link is a 400 and nothing is exported."""
    client = busy_day(world)
    response = client.get("/authority/audit.csv?date_from=115/02/30")
    assert response.status_code == 400 and not events("audit_export")
    check_page(response)


def test_audit_csv_with_a_bad_date_says_which_date(world):
    """The 400 page names the bad date, as the view's abort message does."""
    response = busy_day(world).get("/authority/audit.csv?date_from=115/02/30")
    assert "日期起：日期「115/02/30」不存在" in response.get_data(as_text=True)


def test_audit_log_with_an_odd_person_value_is_not_a_system_error(world):
    """A junk person filter is ignored (or a 400), never a 500."""
    client = busy_day(world)
    response = client.get("/authority/audit?person=²")
    assert response.status_code in (200, 400), response.status_code
