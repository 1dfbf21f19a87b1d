"""聯絡窗口, 友善連結, 網站地圖, 常見問答 and the policy pages."""

from portal.models import ContactGroup, Faq, FaqCategory, PolicySection
from tests.pages import check_page


def test_contacts_grouped_then_filtered_then_listed(demo_client):
    soup = check_page(demo_client.get("/contacts"))
    groups = [h.get_text() for h in soup.select("#contact-results h2")]
    assert groups[:3] == ["網頁登入諮詢", "醫事人員服務", "定時上傳"]
    category = ContactGroup.get(ContactGroup.name == "醫事人員服務")
    filtered = check_page(demo_client.get(f"/contacts?category={category.id}"))
    assert [h.get_text() for h in filtered.select("#contact-results h2")] == ["醫事人員服務"]
    link = next(a for a in filtered.select("#contact-results a") if a.get_text() == "醫事人員溝通平台")
    people = check_page(demo_client.get(link["href"]))
    assert [th.get_text() for th in people.select("thead th")] == ["機關", "單位", "聯絡窗口", "連絡電話", "電子信箱"]
    assert people.select("tbody tr")
    back = next(a for a in people.select("#contact-results a") if a.get_text() == "回服務項目查詢")
    assert f"category={category.id}" in back["href"]


def test_contact_keyword_matches_service_names_and_contact_units(demo_client):
    by_name = check_page(demo_client.get("/contacts?q=溝通平台"))
    assert [a.get_text() for a in by_name.select("#contact-results .svc-list a")] == ["醫事人員溝通平台"]
    by_unit = check_page(demo_client.get("/contacts?q=高屏業務組"))
    assert "網頁諮詢服務" in [a.get_text() for a in by_unit.select("#contact-results .svc-list a")]


def test_web_help_contacts_cover_every_region(demo_client):
    service = ContactGroup.get(ContactGroup.name == "網頁諮詢服務")
    soup = check_page(demo_client.get(f"/contacts?service={service.id}"))
    units = {tr.select("td")[1].get_text() for tr in soup.select("tbody tr")}
    assert {"臺北業務組", "北區業務組", "中區業務組", "南區業務組", "高屏業務組", "東區業務組"} <= units


def test_friendly_links_and_their_contact_table(demo_client):
    soup = check_page(demo_client.get("/links"))
    titles = [h.get_text() for h in soup.select("main h2")]
    assert "其它應用系統" in titles and "其它應用系統聯絡窗口" in titles
    rows = soup.select("#links-contacts ~ table tbody tr")
    assert len(rows) == 12
    assert [td.get_text() for td in rows[0].select("td")] == ["國民健康署兒童健康管理系統", "施小姐", "(04)22172200分機2430"]
    assert all(a["href"].startswith("https://") for a in soup.select("main .linklist a"))


def test_sitemap_lists_every_public_area(demo_client):
    soup = check_page(demo_client.get("/sitemap"))
    texts = [a.get_text().replace("（另開新視窗）", "") for a in soup.select("main a")]
    for expected in ("網站使用說明", "系統公告", "資安專區", "電腦設定", "常見問答", "業務公告", "醫事人員專區",
                     "醫事機構登入", "健保卡", "下載專區", "聯絡窗口", "友善連結", "其它應用系統",
                     "隱私權政策", "X光影像AI自動偵測"):
        assert expected in texts, expected


def test_faq_by_category_and_keyword(demo_client):
    soup = check_page(demo_client.get("/guide/faq"))
    assert len(soup.select(".faq")) == Faq.select().count()
    category = FaqCategory.get(FaqCategory.name == "權限類")
    only = check_page(demo_client.get(f"/guide/faq?category={category.id}"))
    questions = [a.get_text() for a in only.select(".faq a.q")]
    assert len(questions) == 8 and questions[1] == "Q2.同一個人是否可為機構管理者及機構使用者？"
    searched = check_page(demo_client.get("/guide/faq?q=機構管理者"))
    assert searched.select(".faq") and all(
        "機構管理者" in (f.question + f.answer)
        for f in Faq.select().where(Faq.id.in_([int(li["id"][4:]) for li in searched.select(".faq")])))


def test_faq_answer_opens_without_javascript(demo_client):
    faq = Faq.select().first()
    closed = check_page(demo_client.get("/guide/faq"))
    assert not closed.select(f"#faq-{faq.id} .answer")
    opened = check_page(demo_client.get(f"/guide/faq?open={faq.id}"))
    assert opened.select_one(f"#faq-{faq.id} .answer").get_text(strip=True)
    assert opened.select_one(f"#faq-{faq.id} a.q")["aria-expanded"] == "true"


def test_policy_pages_with_update_dates_and_folding_sections(demo_client):
    dates = {"privacy": "108-01-15", "security": "105-11-15", "open-data": "106-11-15"}
    for slug, updated in dates.items():
        soup = check_page(demo_client.get(f"/policies/{slug}"))
        assert soup.select_one(".updated").get_text() == f"更新日期：{updated}"
    section = PolicySection.select().where(PolicySection.collapsible).first()
    folded = check_page(demo_client.get("/policies/privacy"))
    assert not folded.select(f"#sec-{section.id} .answer")
    unfolded = check_page(demo_client.get(f"/policies/privacy?open={section.id}"))
    assert unfolded.select_one(f"#sec-{section.id} .answer").get_text(strip=True)


def test_login_page_offers_every_card_and_reader(demo_client):
    soup = check_page(demo_client.get("/login?card=nhi"))
    assert [label.get_text(strip=True) for label in soup.select(".login-form fieldset")[0].select("label")] == [
        "醫事人員卡", "健保卡", "自然人憑證", "醫事機構卡", "政府單位憑證卡"]
    assert soup.select_one("input[name=card][value=nhi]").has_attr("checked")
    assert soup.select_one("iframe.agent-status")["src"] == "http://127.0.0.1:17777/v1/status"
