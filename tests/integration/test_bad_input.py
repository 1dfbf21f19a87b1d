"""Bad input never gives a 500: clamped pages, literal keywords, zh-TW 404s."""

import pytest

from tests.pages import check_page

LISTS = ["/", "/announcements/business", "/guide/system", "/guide/security"]
WEIRD_PAGES = ["-1", "abc", "999999", "0", "1e9", "", "%00", "1;DROP TABLE announcement"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("page", WEIRD_PAGES)
def test_weird_page_numbers_show_a_normal_page(demo_client, url, page):
    response = demo_client.get(url, query_string={"page": page})
    assert response.status_code == 200
    soup = check_page(response)
    assert soup.select("li.ann"), "a clamped page still lists announcements"


@pytest.mark.parametrize("url", ["/announcements/business", "/downloads", "/contacts", "/guide/faq", "/guide/system"])
@pytest.mark.parametrize("keyword", ["字" * 10000, "%", "_", "'", '"', "\\", "%_%", "' OR 1=1 --", "<script>x</script>"])
def test_odd_keywords_give_a_normal_page(demo_client, url, keyword):
    response = demo_client.get(url, query_string={"q": keyword, "service": "all"})
    assert response.status_code == 200
    check_page(response)
    assert "<script>x</script>" not in response.get_data(as_text=True)
    if len(keyword) > 100:
        assert "關鍵字過長，僅以前 100 個字查詢。" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/downloads?service=999999", "/downloads?service=-1", "/downloads?service=abc",
    "/contacts?category=999999", "/contacts?service=999999", "/contacts?service=abc",
    "/guide/faq?category=999999", "/guide/faq?category=abc", "/guide/faq?open=abc",
    "/policies/privacy?open=zzz", "/login?card=nope&reader=nope",
])
def test_unknown_ids_in_filters_give_a_normal_page(demo_client, url):
    response = demo_client.get(url)
    assert response.status_code == 200
    check_page(response)


@pytest.mark.parametrize("url", [
    "/no-such-page", "/announcements/999999", "/announcements/nope", "/announcements/1/attachments/999999",
    "/feeds/unknown.atom", "/feeds/..%2Fsecret_key.atom", "/feeds/business.rss", "/downloads/1/..",
    "/policies/nope", "/policies/privacy/sections/999999", "/guide/faq/999999", "/static/../config.toml",
    "/downloads/999999/pdf",
])
def test_unknown_or_path_like_urls_are_a_zh_tw_404(demo_client, url):
    response = demo_client.get(url)
    assert response.status_code == 404
    soup = check_page(response)
    assert "找不到您要的網頁" in soup.get_text()
    assert soup.select_one(".error-box strong").get_text().isalnum()


def test_404_for_htmx_is_a_fragment(demo_client):
    response = demo_client.get("/announcements/999999", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert "<html" not in response.get_data(as_text=True) and "找不到" in response.get_data(as_text=True)


def test_wrong_method_is_refused_politely(demo_app):
    demo_app.config["WTF_CSRF_ENABLED"] = False  # past the CSRF check, the route itself answers
    response = demo_app.test_client().put("/downloads")
    assert response.status_code == 405
    assert "不支援這種操作方式" in response.get_data(as_text=True)


def test_every_post_needs_a_csrf_token(tmp_path):
    from flask_wtf.csrf import generate_csrf

    from tests.conftest import instance_overrides, migrated_app

    app = migrated_app(instance_overrides(tmp_path))
    app.add_url_rule("/__form", "form", lambda: generate_csrf(), methods=["GET"])
    app.add_url_rule("/__form", "form_post", lambda: "saved", methods=["POST"])
    client = app.test_client()
    refused = client.post("/__form", data={"anything": "x"})
    assert refused.status_code == 400
    assert "表單已逾時或來源無法確認" in refused.get_data(as_text=True)
    token = client.get("/__form").get_data(as_text=True)
    assert client.post("/__form", data={"csrf_token": token}).get_data(as_text=True) == "saved"
    assert client.post("/__form", headers={"X-CSRFToken": token}).get_data(as_text=True) == "saved"


def test_a_remembered_session_cookie_still_refuses_a_tampered_one_and_flashes_show_once(tmp_path):
    """Flask's session cookie is verified once per exact value (portal/cookie_session.py): a cookie
    changed by one character is verified again and opens empty, so its form is refused; a flash
    message, kept in the same cookie, is still shown once and then gone."""
    from flask import flash, get_flashed_messages
    from flask_wtf.csrf import generate_csrf

    from tests.conftest import instance_overrides, migrated_app

    app = migrated_app(instance_overrides(tmp_path))
    app.add_url_rule("/__form", "form", lambda: generate_csrf(), methods=["GET"])
    app.add_url_rule("/__form", "form_post", lambda: "saved", methods=["POST"])
    app.add_url_rule("/__flash", "flash", lambda: flash("已儲存。") or "ok", methods=["GET"])
    app.add_url_rule("/__show", "show", lambda: "|".join(get_flashed_messages()) or "none", methods=["GET"])
    client = app.test_client()
    token = client.get("/__form").get_data(as_text=True)
    cookie = client.get_cookie("session").value
    for _ in range(3):  # remembered after the first
        assert client.post("/__form", data={"csrf_token": token}).get_data(as_text=True) == "saved"
    payload, _, signature = cookie.rpartition(".")
    # The first character of each part: a base64 string's last character may carry
    # padding bits only, so changing it can leave the decoded bytes (and signature) as they were.
    for forged in (f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",
                   f"{'A' if payload[0] != 'A' else 'B'}{payload[1:]}.{signature}"):
        other = app.test_client()
        other.set_cookie("session", forged)
        assert other.post("/__form", data={"csrf_token": token}).status_code == 400, forged
    client.get("/__flash")
    assert client.get("/__show").get_data(as_text=True) == "已儲存。"
    assert client.get("/__show").get_data(as_text=True) == "none"
    assert client.post("/__form", data={"csrf_token": token}).get_data(as_text=True) == "saved"
