"""下載專區: browse, 全部服務項目, keyword, sort by date, real files."""

from portal.models import DownloadDocument, DownloadService
from tests.pages import check_page, fetch


def _rows(soup):
    """The result table as lists of cell texts."""
    return [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in soup.select("#download-results tbody tr")]


def test_landing_shows_service_items_under_their_categories(demo_client):
    soup = check_page(demo_client.get("/downloads"))
    headings = [h.get_text() for h in soup.select("#download-results h2")]
    assert "共通作業" in headings
    items = [a.get_text() for a in soup.select("#download-results .svc-list a")]
    assert "網站介紹" in items and "電腦設定" in items


def test_a_service_item_lists_its_files_without_the_service_column(demo_client):
    service = DownloadService.get(DownloadService.name == "電腦設定")
    soup = check_page(demo_client.get(f"/downloads?service={service.id}"))
    header = [th.get_text() for th in soup.select("#download-results thead th")]
    assert header == ["檔案說明", "檔案類型", "更新日期"]
    rows = _rows(soup)
    assert any(r[0] == "DNS 設定說明" and r[1].startswith("PDF") and "ODT" in r[1] and r[2] == "110.03.10" for r in rows)
    assert soup.select_one("#download-results a[href='/downloads']").get_text() == "回服務項目查詢"


def test_all_items_with_keyword_and_newest_first(demo_client):
    soup = check_page(demo_client.get("/downloads?service=all&q=手冊&sort=date"))
    rows = _rows(soup)
    assert rows and all("手冊" in r[1] for r in rows)
    dates = [tuple(int(p) for p in r[3].split(".")) for r in rows]
    assert dates == sorted(dates, reverse=True)


def test_the_file_downloads_as_the_format_clicked(demo_client):
    doc = DownloadDocument.get(DownloadDocument.slug == "dns-setting")
    pdf = fetch(demo_client, f"/downloads/{doc.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "filename*=UTF-8''DNS_" in pdf.headers["Content-Disposition"]
    odt = fetch(demo_client, f"/downloads/{doc.id}/odt")
    assert odt.mimetype == "application/vnd.oasis.opendocument.text" and odt.data.startswith(b"PK")
    again = fetch(demo_client, f"/downloads/{doc.id}/pdf", headers={"If-None-Match": pdf.headers["ETag"]})
    assert again.status_code == 304


def test_unknown_files_and_formats_are_404(demo_client):
    doc = DownloadDocument.get(DownloadDocument.slug == "dns-setting")
    for url in (f"/downloads/{doc.id}/exe", "/downloads/999999/pdf", f"/downloads/{doc.id}/..%2F..%2Fconfig.toml",
                "/downloads/-1/pdf", "/downloads/abc/pdf"):
        assert demo_client.get(url).status_code == 404, url


def test_setup_guide_links_the_well_known_documents(demo_client):
    soup = check_page(demo_client.get("/guide/setup"))
    text = soup.select_one(".steps").get_text()
    assert "STEP 1" in text and "STEP 2" in text and "STEP 3" in text
    assert "[健保讀卡機] 適用：醫事人員卡、健保卡、醫事機構卡" in text
    assert "[晶片讀卡機] 適用：醫事人員卡、自然人憑證、醫事機構卡、政府單位憑證卡" in text
    assert soup.select_one("#step1 ~ p a.ft-pdf")["href"].startswith("/downloads/")
