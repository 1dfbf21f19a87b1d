"""The login journey on the soft backend: PIN page, wrong PINs, blocking, signatures, 健保卡, tokens."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.cardagent import __version__, protocol
from tests.cardagent.helpers import PORTAL, PORTAL_NAME, RETURN_URL, check_login
from tests.cardbed.cards import NHI_LIN


def test_pin_page_names_portal_card_and_holder(soft):
    page = soft.sign("medical-staff", "nhi-reader")
    assert page.status == 200
    soup = page.soup
    choices = [label.get_text(strip=True) for label in soup.select("fieldset label")]
    if len(choices) > 1:  # several soft cards of this type: the radio list names the holders
        assert soup.find(id="holder").get_text() == "請在下方選擇卡片" and any("王大明" in c for c in choices)
    else:
        assert soup.find(id="holder").get_text() == "王大明"
    text = soup.get_text()
    assert PORTAL_NAME in text and PORTAL in text and "醫事人員卡" in text
    assert soup.find("input", attrs={"name": "pin", "type": "password"}) is not None
    assert soup.find(id="notice") is None  # no tries used yet
    assert f"版本 {__version__}" in text
    assert [b.get_text() for b in soup.find_all("button")] == ["確認", "取消"]


def test_wrong_pin_shows_two_tries_left_and_keeps_the_token(soft):
    page = soft.sign("medical-staff", "nhi-reader")
    again = soft.pin(page, "000000")
    assert again.status == 200
    assert again.soup.find(id="notice").get_text() == "PIN 碼錯誤，剩餘 2 次"
    assert again.form(action="/v1/sign/pin")[1]["token"] == page.form(action="/v1/sign/pin")[1]["token"]
    # A new login on the same card says tries were used before any PIN is typed.
    assert "PIN 碼剩餘 2 次" in soft.sign("medical-staff", "nhi-reader").soup.find(id="notice").get_text()


def test_third_wrong_pin_posts_back_pin_blocked_and_the_card_stays_blocked(soft):
    page = soft.sign("medical-staff", "nhi-reader")
    page = soft.pin(page, "000000")
    page = soft.pin(page, "111111")
    fields = soft.pin(page, "222222").post_back()
    assert fields["error"] == "pin_blocked"
    assert fields["nonce"] and fields["agent_version"] == __version__
    # Blocked until the agent restarts: the next request posts back at once, without a PIN page.
    again = soft.sign("medical-staff", "nhi-reader").post_back()
    assert again["error"] == "pin_blocked"


def test_right_pin_resets_the_tries_like_a_card(soft):
    page = soft.pin(soft.sign("medical-staff", "nhi-reader"), "000000")
    check_login(soft.pin(page, "123456").post_back())
    assert soft.sign("medical-staff", "nhi-reader").soup.find(id="notice") is None


def test_pin_in_the_wrong_format_costs_no_try(soft):
    page = soft.pin(soft.sign("medical-staff", "nhi-reader"), "12")
    assert "請輸入 4 到 12 位的 PIN 碼" in page.soup.find(id="notice").get_text()
    page = soft.pin(page, "")
    check_login(soft.pin(page, "123456").post_back())


@pytest.mark.parametrize(("card_type", "reader_type", "algorithm"), [
    ("medical-staff", "nhi-reader", "rsa-pkcs1v15-sha256"),
    ("medical-staff", "chip-reader", "rsa-pkcs1v15-sha256"),
    ("medical-org", "nhi-reader", "rsa-pkcs1v15-sha256"),
    ("citizen", "chip-reader", "rsa-pkcs1v15-sha256"),
    ("government", "chip-reader", "ecdsa-p256-sha256"),
])
def test_right_pin_posts_back_signatures_over_the_agents_own_text(soft, pki, card_type, reader_type, algorithm):
    before = datetime.now(UTC).replace(microsecond=0)
    page = soft.sign(card_type, reader_type, nonce="n" * 43)
    fields = soft.pin(page, "123456").post_back()
    text = check_login(fields, nonce="n" * 43)
    assert text.decode().splitlines()[:5] == [protocol.TEXT_VERSION, PORTAL, "n" * 43, card_type, reader_type]
    signed_at = protocol.parse_timestamp(fields["signed_at"])
    assert before <= signed_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert fields["algorithm"] == algorithm
    assert protocol.b64decode(fields["certificate"]) == pki.for_type(card_type).der
    assert protocol.b64decode(fields["module_certificate"]) == pki.cloud.der
    assert fields["module_algorithm"] == "rsa-pkcs1v15-sha256"
    assert set(fields) == {"nonce", "card_type", "reader_type", "signed_at", "agent_version", "certificate",
                           "signature", "algorithm", "module_certificate", "module_signature", "module_algorithm"}


def test_post_back_page_submits_itself_and_has_a_visible_button(soft):
    page = soft.pin(soft.sign("citizen", "chip-reader"), "123456")
    assert page.form(form_id="postback")[0] == RETURN_URL
    assert page.soup.find("script")["src"] == "/v1/static/submit.js"
    assert "卡片簽章完成" in page.text


def test_another_soft_card_can_be_chosen(soft, pki):
    page = soft.sign("medical-staff", "nhi-reader")
    radios = page.soup.find_all("input", attrs={"type": "radio"})
    assert [r["value"] for r in radios] == ["staff-1-wang", "staff-2-chen"]
    fields = soft.pin(page, "654321", card="staff-2-chen").post_back()
    check_login(fields)
    assert protocol.b64decode(fields["certificate"]) == pki.staff_ec.der
    assert fields["algorithm"] == "ecdsa-p256-sha256"


def test_nhi_card_sends_basic_data_without_a_pin(soft, pki):
    page = soft.sign("nhi", "nhi-reader")
    soup = page.soup
    assert soup.find(id="holder").get_text() == "林小美"
    assert soup.find("input", attrs={"name": "pin"}) is None
    assert "基本資料" in soup.get_text()
    fields = soft.pin(page).post_back()
    assert fields["nhi_card"] == protocol.nhi_card_field(NHI_LIN.card_no, NHI_LIN.name, NHI_LIN.national_id,
                                                         NHI_LIN.birth_roc, NHI_LIN.sex)
    text = check_login(fields)
    assert text.decode().splitlines()[-1] == fields["nhi_card"]
    assert not {"certificate", "signature", "algorithm"} & set(fields)


def test_cancel_posts_back_cancelled(soft):
    fields = soft.pin(soft.sign("medical-staff", "nhi-reader"), action="cancel").post_back()
    assert fields["error"] == "cancelled"
    assert "signature" not in fields


@pytest.mark.parametrize(("card_type", "reader_type"), [
    ("citizen", "nhi-reader"), ("government", "nhi-reader"), ("nhi", "chip-reader")])
def test_wrong_reader_for_the_card_offers_only_a_way_back(soft, card_type, reader_type):
    page = soft.sign(card_type, reader_type)
    assert page.status == 200
    assert protocol.ERRORS["wrong_reader"] in page.text
    action, fields = page.form(action=RETURN_URL)
    assert fields["error"] == "wrong_reader" and fields["card_type"] == card_type
    assert [f["action"] for f in page.soup.find_all("form")] == [RETURN_URL]
    assert page.soup.find("script") is None  # the user reads why before going back


def test_unknown_token_gets_an_error_page(soft):
    reply = soft.post("/v1/sign/pin", {"token": "nope", "pin": "123456"}, origin=f"http://127.0.0.1:{soft.port}")
    assert reply.status == 400
    assert "已逾時或已使用" in reply.text
    assert reply.soup.find("form") is None


def test_token_expires_after_120_seconds(soft, soft_agent):
    now = [1000.0]
    soft_agent.agent.pending.clock = lambda: now[0]
    page = soft.sign("medical-staff", "nhi-reader")
    now[0] += 120.5
    reply = soft.pin(page, "123456")
    assert reply.status == 400 and "已逾時" in reply.text


def test_token_is_used_once(soft):
    page = soft.sign("medical-staff", "nhi-reader")
    check_login(soft.pin(page, "123456").post_back())
    assert soft.pin(page, "123456").status == 400


def test_markup_in_portal_name_is_escaped(soft):
    page = soft.sign("medical-staff", "nhi-reader", portal_name='<script>alert("x")</script>')
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text


def test_missing_cloud_module_offers_retry_and_cancel(soft, soft_dirs):
    _cards, module = soft_dirs
    (module / "module-key.pem").unlink()
    page = soft.sign("citizen", "chip-reader")
    assert protocol.ERRORS["module_missing"] in page.text
    action, retry = page.form(action="/v1/sign")
    assert retry["card_type"] == "citizen" and retry["return_url"] == RETURN_URL
    assert page.form(action=RETURN_URL)[1]["error"] == "cancelled"


def test_no_soft_card_of_that_type_is_a_wrong_card(soft, soft_dirs):
    cards, _module = soft_dirs
    (cards / "clinic.toml").unlink()
    assert protocol.ERRORS["wrong_card_type"] in soft.sign("medical-org", "nhi-reader").text


def test_no_soft_cards_at_all_is_no_card(soft, soft_dirs):
    cards, _module = soft_dirs
    for path in cards.glob("*.toml"):
        path.unlink()
    assert protocol.ERRORS["card_absent"] in soft.sign("medical-staff", "nhi-reader").text
