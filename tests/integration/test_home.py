"""The home page shows what seed 000 第一章 shows, from the demo content."""

from portal.models import Announcement
from tests.pages import check_page, fetch


def test_home_shows_banner_links_logins_business_and_system(demo_client):
    soup = check_page(demo_client.get("/"))
    assert soup.select_one(".realtime h2").get_text() == "即時公告"
    assert "暫停服務" in soup.select_one(".realtime").get_text()
    logins = {a.get_text(): a["href"] for a in soup.select("#login-h ~ ul a")}
    assert list(logins) == ["醫事人員卡", "健保卡", "自然人憑證", "醫事機構卡", "政府單位憑證卡"]
    assert logins["健保卡"] == "/login?card=nhi"
    pro = [a.get_text().replace("（另開新視窗）", "") for a in soup.select("#pro-h ~ ul a")]
    assert pro[:5] == ["健保醫療資訊雲端查詢系統(首頁版)", "保險對象特定醫療資訊查詢作業", "醫事人員溝通平台",
                       "院所申報醫師別概況作業", "住院病例組合編審查詢作業"]
    business = soup.select("#business li.ann")
    assert len(business) == 10
    first_meta = business[0].select_one(".ann-meta").get_text(" ", strip=True)
    assert first_meta == "醫審及藥材組 / 110.05.12"
    assert len(soup.select(".carousel li.ann")) == 5
    pager = soup.select_one("#business .pager")
    assert [a.get_text() for a in pager.select("a")][:2] == ["2", "3"]
    assert pager.select_one("span.cur").get_text() == "1" and pager.select_one("input[name=page]")
    assert soup.select_one(".infobox a[href^=mailto]")["href"] == "mailto:ic_service@nhi.gov.tw"
    feeds = [link["href"] for link in soup.select('link[rel=alternate][type="application/atom+xml"]')]
    assert feeds == ["/feeds/realtime.atom", "/feeds/business.atom", "/feeds/system.atom"]


def test_business_announcements_are_newest_first_across_pages(demo_client):
    seen = []
    for page in (1, 2, 3):
        soup = check_page(demo_client.get(f"/?page={page}"))
        seen += [li.select_one(".ann-date").get_text() for li in soup.select("#business li.ann")]
    total = Announcement.select().where(Announcement.kind == "business").count()
    assert len(seen) == total
    as_numbers = [tuple(int(p) for p in d.split(".")) for d in seen]
    assert as_numbers == sorted(as_numbers, reverse=True)


def test_long_titles_are_cut_with_detail_link(demo_client):
    soup = check_page(demo_client.get("/announcements/business?page=1"))
    cut = [li for li in soup.select("li.ann") if "…" in li.select_one(".ann-title").get_text()]
    assert cut, "the demo has long business titles"
    link = cut[0].select_one("a.toggle")
    assert link.get_text().startswith("詳細資料") and link["href"] == link["hx-get"]
    full = check_page(demo_client.get(link["href"]))
    assert "…" not in full.select_one(".ann-title").get_text()


def test_announcement_page_shows_content_and_attachments(demo_client):
    with_files = [a for a in Announcement.select() if a.attachments.count()]
    soup = check_page(demo_client.get(f"/announcements/{with_files[0].id}"))
    links = soup.select(".attachments a")
    assert links and links[0]["href"].startswith(f"/announcements/{with_files[0].id}/attachments/")
    download = fetch(demo_client, links[0]["href"])
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert download.data[:4] in (b"%PDF", b"PK\x03\x04")
