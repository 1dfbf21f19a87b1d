"""Public pages are served from a short-lived per-process cache without mixing up responses."""

from datetime import timedelta

from portal import pagecache
from portal.logic import announcements
from portal.models.base import utcnow
from tests.conftest import instance_overrides, migrated_app
from tests.pages import is_fragment, parse

IE11 = "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _announce(title):
    return announcements.save(kind="business", title=title, publish_at=utcnow() - timedelta(hours=1))


def test_an_edit_shows_once_the_cache_is_cleared(app, client):
    _announce("第一則公告")
    assert "第一則公告" in client.get("/").get_data(as_text=True)
    _announce("第二則公告")
    assert "第二則公告" not in client.get("/").get_data(as_text=True), "served from the cache until it expires"
    pagecache.clear(app)
    assert "第二則公告" in client.get("/").get_data(as_text=True)


def test_with_the_cache_off_edits_show_at_once(tmp_path):
    app = migrated_app(instance_overrides(tmp_path, PAGE_CACHE_SECONDS=0))
    client = app.test_client()
    _announce("第一則公告")
    client.get("/")
    _announce("第二則公告")
    assert "第二則公告" in client.get("/").get_data(as_text=True)


def test_page_and_fragment_of_the_same_url_are_kept_apart(demo_client):
    page = demo_client.get("/?page=2")
    fragment = demo_client.get("/?page=2", headers={"HX-Request": "true"})
    again = demo_client.get("/?page=2")
    assert not is_fragment(page) and is_fragment(fragment) and not is_fragment(again)
    assert again.get_data() == page.get_data()


def test_each_browser_keeps_its_own_header_line(demo_client):
    def line(ua):
        return parse(demo_client.get("/", headers={"User-Agent": ua})).select_one(".browser").get_text()

    assert line(IE11) == "您正使用 Internet Explorer 瀏覽器 (版本: 11.0)"
    assert line(FIREFOX) == "您正使用 Firefox 瀏覽器 (版本: 128.0)"
    assert line(IE11) == "您正使用 Internet Explorer 瀏覽器 (版本: 11.0)"


def test_cached_responses_keep_their_headers(demo_client):
    demo_client.get("/links")
    cached = demo_client.get("/links")
    assert cached.headers["Cache-Control"] == "no-store" and "HX-Request" in cached.headers["Vary"]
    assert cached.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert cached.headers.getlist("Vary").count("HX-Request") <= 1
