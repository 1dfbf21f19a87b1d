"""Every public page through the page helper, and each fragment view three ways."""

import pytest

from portal.models import Announcement, ContactGroup, Faq, PolicySection
from tests.pages import check_page, is_fragment, parse

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.8078.79 Safari/537.36"

PAGES = [
    "/", "/?page=2", "/professionals", "/announcements/business", "/announcements/system",
    "/announcements/realtime", "/announcements/security", "/downloads", "/downloads?service=all",
    "/downloads?service=all&sort=date", "/downloads?q=DNS", "/contacts", "/contacts?q=資訊組", "/links", "/sitemap",
    "/guide", "/guide/system", "/guide/security", "/guide/setup", "/guide/faq", "/guide/manuals",
    "/policies/privacy", "/policies/security", "/policies/open-data", "/login", "/login?card=nhi",
    "/login?card=nhi&reader=chip-reader",
]


@pytest.mark.parametrize("url", PAGES)
def test_every_public_page_is_well_formed(demo_client, url):
    response = demo_client.get(url, headers={"User-Agent": CHROME})
    assert response.status_code == 200
    soup = check_page(response)
    assert "您正使用 Chrome 瀏覽器 (版本: 156.0.8078.79)" in soup.select_one(".browser").get_text()
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    footer = [a.get_text() for a in soup.select("footer a")]
    assert footer == ["隱私權政策", "資訊安全政策", "政府網站資料開放宣告"]


def test_pages_with_ids_in_the_url(demo_client):
    business = Announcement.select().where(Announcement.kind == "business").first()
    service = ContactGroup.select().where(ContactGroup.parent.is_null(False)).first()
    faq = Faq.select().first()
    for url in (f"/announcements/{business.id}", f"/contacts?service={service.id}", f"/guide/faq/{faq.id}",
                f"/guide/faq?open={faq.id}", "/downloads?service=1"):
        check_page(demo_client.get(url))


def _fragment_cases():
    """(url, id of the element the fragment replaces) for every htmx fragment view."""
    business = Announcement.select().where(Announcement.kind == "business").first()
    faq = Faq.select().first()
    section = PolicySection.select().where(PolicySection.collapsible).first()
    return [
        ("/?page=2", "business"),
        ("/announcements/business?page=2", "ann-results"),
        ("/announcements/business?q=回收", "ann-results"),
        (f"/announcements/{business.id}", f"ann-{business.id}"),
        (f"/announcements/{business.id}?collapsed=1", f"ann-{business.id}"),
        ("/downloads?service=all", "download-results"),
        ("/downloads", "download-results"),
        ("/contacts?category=1", "contact-results"),
        ("/guide/system?page=1", "ann-results"),
        ("/guide/faq?q=密碼", "faq-results"),
        (f"/guide/faq/{faq.id}", f"faq-{faq.id}"),
        (f"/policies/privacy/sections/{section.id}", f"sec-{section.id}"),
    ]


def test_fragment_views_answer_plain_htmx_and_history_restore(demo_client):
    for url, target in _fragment_cases():
        plain = demo_client.get(url)
        swap = demo_client.get(url, headers={"HX-Request": "true"})
        restore = demo_client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
        for response in (plain, swap, restore):
            assert response.status_code == 200, url
            assert "HX-Request" in response.headers["Vary"], url
        check_page(plain)
        check_page(restore)
        assert is_fragment(swap), url
        root = parse(swap).find(True)
        assert root.get("id") == target, (url, root.name, root.get("id"))


def test_boosted_requests_get_full_pages(demo_client):
    response = demo_client.get("/?page=2", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert not is_fragment(response)


def test_collapse_link_returns_to_the_page_the_user_is_on(demo_client):
    business = Announcement.select().where(Announcement.kind == "business").first()
    swap = demo_client.get(f"/announcements/{business.id}",
                           headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/?page=2"})
    collapse = parse(swap).select_one("a.toggle")
    assert collapse.get_text() == "收合" and collapse["href"] == f"http://localhost/?page=2#ann-{business.id}"
    foreign = demo_client.get(f"/announcements/{business.id}",
                              headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/"})
    assert parse(foreign).select_one("a.toggle")["href"].startswith("/announcements/business")
