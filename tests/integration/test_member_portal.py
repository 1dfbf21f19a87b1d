"""The logged-in portal (SPEC H1–H9) as 王大明, 陳小華 and the 機構代表 see it: 我的首頁 with its two
announcement boxes, 公告事項查詢, the A–O 服務項目 menu with grey-out, layers 2 and 3, 網站地圖,
聯絡窗口查詢, region isolation and the 「新」 marks.

The login world (TEST CAs, 臺北虛擬診所 / 高屏虛擬醫院, their people and modules) is built once per
session and copied for each test, so every test starts from the same data and stays fast.
"""

from __future__ import annotations

import copy
import shutil
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from jinja2 import BytecodeCache

from portal import create_app
from portal.db import database
from portal.logic import announcements, menu
from portal.models import Contact, ContactGroup, DownloadCategory, DownloadDocument, DownloadService
from portal.models.announcements import ReadMark
from portal.models.audit import AuditEvent
from portal.models.authority import Appointment, Grant, Institution, InstitutionService, Person
from portal.models.base import utcnow
from portal.models.files import StoredFile
from portal.storage import storage_for
from tests import world as world_kit
from tests.conftest import _close, instance_overrides, migrated_app
from tests.integration.conftest import World
from tests.integration.test_authority_screens import as_chen, as_representative, signed_in, view
from tests.pages import check_page, fetch, is_fragment, parse

TAIPEI, KAOPING = world_kit.TAIPEI, world_kit.KAOPING
ALL_CODES = "ABCDEFGHIJKLMNO"

# Categories each person may open at 臺北虛擬診所 (world.populate: 王大明 manager + user with RWM, IWF;
# 陳小華 user with IPA; the representative by role only).
OPEN_CATEGORIES = {
    "wang": {"A", "B", "E", "O"},     # RWM: A.01, A.04, A.05, A.07, B.05; IWF: E; manager: A.01.03, O.01.02-03, O.02
    "chen": {"H"},                    # IPA: H.01, H.02
    "representative": {"A", "O"},     # A.01.03 允入HIS廠商 and O.01
}


# --- the world, once per session --------------------------------------------------------------

_SNAPSHOT: dict = {}


class _SharedTemplates(BytecodeCache):
    """Compiled templates shared by the apps of these tests (each test's app would compile them again)."""

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _SharedTemplates()


def _overrides(base, **extra):
    return instance_overrides(base, PKI_DIR=str(base / "pki"), CRL_DIR=str(base / "pki" / "crl"),
                              **{"PAGE_CACHE_SECONDS": 0, **extra})


def world_snapshot(tmp_path_factory, test_cas):
    """The login world of tests/world.py built once: its directory and what populate() made."""
    if "base" not in _SNAPSHOT:
        base = tmp_path_factory.mktemp("member-world")
        app = migrated_app(_overrides(base))
        world_kit.trust(app, test_cas)
        _SNAPSHOT["made"] = world_kit.populate(app, test_cas)
        _close(app)
        _SNAPSHOT["base"] = base
    return _SNAPSHOT["base"], _SNAPSHOT["made"]


def _copied_world(tmp_path_factory, tmp_path, test_cas, **settings):
    base, made = world_snapshot(tmp_path_factory, test_cas)
    instance = tmp_path / "world"
    shutil.copytree(base, instance)
    app = create_app(_overrides(instance, **settings))
    app.jinja_env.bytecode_cache = _TEMPLATES
    database.initialize(app.extensions["database"])
    return World(app, dict(test_cas), made.cards, made.modules)


@pytest.fixture
def world(tmp_path_factory, tmp_path, test_cas):
    """What tests/integration/conftest.py's `world` is (same people, cards, modules), copied from a snapshot."""
    made = _copied_world(tmp_path_factory, tmp_path, test_cas)
    yield made
    _close(made.app)


@pytest.fixture
def cached_world(tmp_path_factory, tmp_path, test_cas):
    """The same world with the per-process page cache and memos on, as in production."""
    made = _copied_world(tmp_path_factory, tmp_path, test_cas, PAGE_CACHE_SECONDS=30)
    yield made
    _close(made.app)


# --- helpers --------------------------------------------------------------------------------

def post(kind: str, title: str, days_ago: float = 1, **fields):
    """A published 署本部 (category A unless given) or 分區 (臺北 unless given) announcement."""
    if kind == "hq":
        fields.setdefault("category", "A")
    else:
        fields.setdefault("region", "taipei")
    fields.setdefault("publish_at", utcnow() - timedelta(days=days_ago))
    return announcements.save(kind=kind, title=title, **fields)


def attach(app, announcement, name="附件.pdf", data=b"%PDF-1.4 test attachment"):
    """A small stored file attached to an announcement."""
    storage = storage_for(app.config)
    blob = storage.write(storage.new_key("test", "pdf"), data)
    stored = StoredFile.create(key=blob.key, name=name, content_type="application/pdf", size=blob.size,
                               sha256=blob.sha256)
    return announcements.attach(announcement, stored)


def fragment(client, url, target, current="http://localhost/home"):
    """An htmx GET swapping #target; checks it is a fragment whose root is that element."""
    response = client.get(url, headers={"HX-Request": "true", "HX-Target": target, "HX-Current-URL": current})
    assert response.status_code == 200, (url, response.status_code)
    assert is_fragment(response), f"{url} answered htmx with a whole page"
    soup = parse(response)
    root = soup.find(True)
    assert root is not None and root.get("id") == target, (url, root.name if root else None, root.get("id"))
    return soup


def crumbs(soup) -> list[str]:
    """The 所在位置 trail after its label."""
    return [li.get_text(strip=True) for li in soup.select("nav.breadcrumb li")][1:]


def crumb_links(soup) -> dict[str, str]:
    return {a.get_text(strip=True): a["href"] for a in soup.select("nav.breadcrumb a")}


def side_menu(soup):
    return soup.select_one("nav.svc-menu")


def side_top(soup) -> list[str]:
    """The top level of the left 服務項目 tree: labels."""
    return [li.find(["a", "span"]).get_text(strip=True).replace("（無權限）", "").replace("（另開視窗）", "")
            for li in side_menu(soup).select("ul.menu.tree > li")]


def side_codes(soup) -> list[str]:
    return [label.split(" ")[0] if "." in label.split(" ")[0] else label[0] for label in side_top(soup)]


def open_and_grey(soup) -> tuple[set[str], set[str]]:
    """Top-level categories of the side menu that are links, and those shown grey (.off, no link)."""
    links, grey = set(), set()
    for li in side_menu(soup).select("ul.menu.tree > li.lv1"):
        first = li.find(["a", "span"])
        code = first.get_text(strip=True)[0]
        if first.name == "a":
            links.add(code)
        else:
            assert "off" in first.get("class", []) and "is-off" in li.get("class", []) and not li.find("a"), li
            grey.add(code)
    return links, grey


def grid(soup) -> tuple[set[str], set[str]]:
    """The 15-icon grid of 我的首頁: categories that are links (to their layer-2 page), and those grey."""
    links, grey = set(), set()
    for li in soup.select("ul.svc-grid > li"):
        code = li.select_one(".icon").get_text(strip=True)
        (links if li.find("a") else grey).add(code)
        if li.find("a"):
            assert li.find("a")["href"] == f"/services/{code}", li
        else:
            assert li.select_one("span.off"), li
    return links, grey


def _summary(tr) -> str:
    """What a collapsed row says, without its 「新」 mark and 詳細資料 link."""
    body = copy.copy(tr.select_one("td.body"))
    for extra in body.select("span.new, a.toggle"):
        extra.decompose()
    return body.get_text(" ", strip=True)


def rows(soup, box="") -> list[str]:
    """Summaries of the announcement rows of a box (#news-hq / #news-regional) or the whole page."""
    scope = soup.select_one(f"#{box}") if box else soup
    return [_summary(tr) for tr in scope.select("tr.news-row")]


def new_marked(soup, box="") -> list[str]:
    """Rows carrying 「新」."""
    scope = soup.select_one(f"#{box}") if box else soup
    return [_summary(tr) for tr in scope.select("tr.news-row") if tr.select_one("span.new")]


def unread(soup) -> int:
    """The unread count on 我的首頁 (0 when it says there is none)."""
    line = soup.select_one("p.unread")
    strong = line.find("strong")
    if strong is None:
        assert "沒有新公告" in line.get_text(), line
        return 0
    return int(strong.get_text())


def as_wang_at_kaoping(world):
    """王大明 logged in with 高屏虛擬醫院's module: a 機構使用者 there (region kaoping), no grants."""
    return signed_in(world, module=KAOPING)


def member_contacts():
    """A 聯絡窗口查詢 tree: 服務類別 → 機關 → 單位 with contacts; one category with 23 contacts."""
    fee = ContactGroup.create(audience="member", name="醫療費用申報", child_label="機關")
    bureau = ContactGroup.create(audience="member", parent=fee, name="健保署", child_label="單位")
    taipei = ContactGroup.create(audience="member", parent=bureau, name="臺北業務組")
    north = ContactGroup.create(audience="member", parent=bureau, name="北區業務組", position=1)
    Contact.create(group=taipei, agency="健保署", unit="臺北業務組", name="丁小姐", phone="02-23486991")
    Contact.create(group=taipei, agency="健保署", unit="臺北業務組", name="汪先生", phone="02-23486325", position=1)
    Contact.create(group=north, agency="健保署", unit="北區業務組", name="黃小姐", phone="03-4339111#2212")
    it = ContactGroup.create(audience="member", name="資訊服務", child_label="機關", position=1)
    it_agency = ContactGroup.create(audience="member", parent=it, name="健保署資訊組", child_label="科別")
    desk = ContactGroup.create(audience="member", parent=it_agency, name="網路服務科")
    for n in range(23):
        Contact.create(group=desk, agency="健保署", unit="資訊組", name=f"承辦人{n:02d}",
                       phone=f"02-2706-58{n:02d}", position=n)
    public = ContactGroup.create(audience="public", name="公開類別")
    return {"fee": fee, "bureau": bureau, "taipei": taipei, "north": north, "it": it, "it_agency": it_agency,
            "desk": desk, "public": public}


def options(soup, param) -> list[str]:
    select = soup.select_one(f"select[name={param}]")
    return [o.get_text(strip=True) for o in select.find_all("option") if o.get("value")]


def selected(soup, param) -> str:
    chosen = soup.select_one(f"select[name={param}] option[selected]")
    return chosen.get_text(strip=True) if chosen else ""


def contact_rows(soup) -> list[list[str]]:
    table = soup.select_one("#contact-lookup table.data")
    if table is None:
        return []
    return [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.select("tbody tr")]


# --- 1. every logged-in screen passes the page helper ---------------------------------------

def test_every_logged_in_screen_passes_the_page_helper(world):
    """Full pages: valid, one h1, unique ids, labelled controls, htmx with plain fallbacks."""
    for n in range(7):
        hq = post("hq", f"署本部公告{n}", days_ago=n + 1, content="<p>說明內容</p>" if n == 0 else "")
        regional = post("regional", f"臺北分區公告{n}", days_ago=n + 1, content="<p>分區內容</p>",
                        contact_name="林小姐", contact_phone="(02)2191-2006")
        if n == 0:
            attach(world.app, hq)
            attach(world.app, regional, name="分區附件.xlsx")
    groups = member_contacts()
    client = signed_in(world)
    fee, bureau = groups["fee"].id, groups["bureau"].id
    urls = [
        "/home", "/home?rpage=2&hpage=3",
        "/news/hq", "/news/hq?page=2", "/news/hq?q=公告", "/news/hq?category=A", "/news/hq?q=沒有這種字",
        "/news/regional", "/news/regional?q=林小姐",
        f"/news/item/{hq.id}", f"/news/item/{regional.id}",
        "/services/A", "/services/A?q=署本部&page=1", "/services/A.01", "/services/E.01",
        "/services/A.01.01",   # an external NHIA system (另開視窗)
        "/services/A.05.01",   # a leaf whose subsystem screen does not exist yet
        "/payments/E.01.01", "/payments/A.01.10?within=all",   # 查詢下載 screens (SPEC D4)
        "/payments/E.01.02?fee_from=11001&fee_to=11412&within=all&sort=fee_month",
        "/payments/E.01.02?fee_from=11412&fee_to=11001",   # reversed: the error summary
        "/services/sitemap", "/files/", "/files/?q=1&resent=1&pending=1&recent=1", "/files/?q=1",
        "/home/contacts", f"/home/contacts?type={fee}", f"/home/contacts?type={fee}&p1={fee}&l1={bureau}",
        f"/home/contacts?type={fee}&p1={fee}&l1={bureau}&search=1", "/home/contacts?topic=醫療費用申報",
        f"/home/contacts?type={groups['it'].id}&search=1&page=2",
    ]
    for url in urls:
        soup = view(client, url)
        assert soup.select_one("nav.svc-menu h2").get_text() == "服務項目", url
        assert "臺北虛擬診所 王大明 您好" in soup.select_one(".greeting").get_text(), url
        assert soup.select_one("nav.breadcrumb li").get_text() == "所在位置", url


def test_error_pages_after_login_pass_the_page_helper(world):
    client = as_chen(world)
    view(client, "/services/A", status=403)
    view(client, "/services/Z", status=404)
    view(client, "/news/item/999999", status=404)


def test_htmx_fragments_are_the_swapped_element_only(world):
    """Each htmx request gets the element it swaps, without the page around it."""
    for n in range(7):
        post("hq", f"署本部公告{n}", days_ago=n + 1)
        post("regional", f"臺北分區公告{n}", days_ago=n + 1, content="<p>內容</p>", contact_name="林小姐")
    item = post("regional", "臺北展開測試", days_ago=0.5, content="<p>展開內容</p>", contact_name="林小姐",
                contact_phone="(02)2191-2006")
    attach(world.app, item)
    groups = member_contacts()
    client = signed_in(world)

    hq = fragment(client, "/home?hpage=2&rpage=3", "news-hq")
    assert rows(hq) == ["署本部公告3", "署本部公告4", "署本部公告5"]
    assert hq.select_one("#news-regional") is None and hq.select_one("ul.svc-grid") is None
    # The pager of one box keeps the other box's page.
    next_link = hq.select_one("nav.pager a[aria-label=下一頁]")["href"]
    assert parse_qs(urlsplit(next_link).query) == {"hpage": ["3"], "rpage": ["3"]}

    regional = fragment(client, "/home?rpage=2", "news-regional")
    assert rows(regional) == ["臺北分區公告2", "臺北分區公告3", "臺北分區公告4"]

    listing = fragment(client, "/news/hq?page=1&q=署本部", "news-hq")
    assert len(rows(listing)) == 7
    on_layer2 = fragment(client, "/services/A?q=公告3", "news-hq")
    assert rows(on_layer2) == ["署本部公告3"]
    assert len(rows(fragment(client, "/services/A.01?page=1", "news-hq"))) == 7
    assert rows(fragment(client, "/services/A.01.01?q=公告6", "news-hq")) == ["署本部公告6"]
    # Boosted navigation and history restores need the whole page.
    boosted = client.get("/home?hpage=2", headers={"HX-Request": "true", "HX-Boosted": "true",
                                                   "HX-Target": "news-hq"})
    assert not is_fragment(boosted) and check_page(boosted).select_one("#news-regional")

    opened = fragment(client, f"/news/item/{item.id}", f"news-{item.id}")
    assert "展開內容" in opened.get_text() and "聯絡人：林小姐" in opened.get_text()
    assert "連絡電話：(02)2191-2006" in opened.get_text()
    assert opened.select_one("ul.attachments a")["href"].startswith(f"/news/item/{item.id}/attachments/")
    collapse = opened.select_one("a.toggle")
    assert collapse.get_text(strip=True).startswith("收合") and collapse["href"].startswith("http://localhost/home")
    closed = fragment(client, f"/news/item/{item.id}?collapsed=1", f"news-{item.id}")
    assert "展開內容" not in closed.get_text() and closed.select_one("a.toggle")["aria-expanded"] == "false"
    # Another site's HX-Current-URL is never used as the 收合 link.
    foreign = fragment(client, f"/news/item/{item.id}", f"news-{item.id}", current="http://evil.example/x")
    assert foreign.select_one("a.toggle")["href"].startswith("/news/regional#")

    lookup = fragment(client, f"/home/contacts?type={groups['fee'].id}", "contact-lookup")
    assert options(lookup, "l1") == ["健保署"]


# --- 2. grey-out, 網站地圖, 403 and 404 --------------------------------------------------------

@pytest.mark.parametrize("who", ["wang", "chen", "representative"])
def test_categories_without_a_permitted_item_are_grey_and_do_not_open(world, who):
    client = {"wang": signed_in, "chen": as_chen, "representative": as_representative}[who](world)
    home = view(client, "/home")
    expected = OPEN_CATEGORIES[who]
    assert open_and_grey(home) == (expected, set(ALL_CODES) - expected)
    assert grid(home) == (expected, set(ALL_CODES) - expected)
    for code in ALL_CODES:
        response = client.get(f"/services/{code}")
        assert response.status_code == (200 if code in expected else 403), (who, code, response.status_code)


def test_a_user_without_grants_sees_every_category_grey(world):
    """王大明 at 高屏虛擬醫院 is a 機構使用者 without any grant: nothing opens."""
    client = as_wang_at_kaoping(world)
    home = view(client, "/home")
    assert open_and_grey(home) == (set(), set(ALL_CODES))
    assert grid(home) == (set(), set(ALL_CODES))
    assert "機構管理者尚未授權您使用任何健保服務" in home.get_text()
    sitemap = view(client, "/services/sitemap")
    assert [a.get_text() for a in sitemap.select(".sitemap-tree a.can")] == ["下載捷徑專區"]


def test_open_category_lists_only_permitted_items_below_it(world):
    """Below an open category the tree lists only what the user may open (A.02 needs RWP: not there)."""
    home = view(signed_in(world), "/home")
    a_branch = side_menu(home).select_one("ul.menu.tree > li.lv1")
    labels = [a.get_text(strip=True) for a in a_branch.select("li.lv2 > a")]
    assert labels == ["A.01 醫療費用申報", "A.04 中醫護理人員跟診時段維護", "A.05 巡迴醫療及自費醫療",
                      "A.07 醫療費用申報總表線上確認"]
    leaves = [a.get_text(strip=True) for a in a_branch.select("li.lv3 > a")]
    assert "A.01.05 費用抽審案件批次上傳（另開視窗）" not in leaves   # RWS, not granted
    assert "A.01.03 醫事機構固接網路及允入HIS廠商申請作業" in leaves    # manager role
    # A portal screen is linked directly; an external one through its function page.
    links = {a.get_text(strip=True): a["href"] for a in a_branch.select("li.lv3 > a")}
    assert links["A.01.03 醫事機構固接網路及允入HIS廠商申請作業"] == "/authority/his-vendors"
    assert links["A.01.01 未列項費用申報上傳（另開視窗）"] == "/services/A.01.01"


def sitemap_items(soup) -> tuple[dict[str, str], set[str]]:
    """網站地圖: green links (code → href) and black texts (codes)."""
    tree = soup.select_one("ul.sitemap-tree")
    green, black = {}, set()
    for a in tree.select("a.can"):
        text = a.get_text(strip=True)
        if text != "下載捷徑專區":
            green[_code_of(a)] = a["href"]
    for span in tree.select("span.cannot"):
        black.add(_code_of(span))
    return green, black


def _code_of(element) -> str:
    """The code of a site map entry (leaves show only their title; their group's code is above)."""
    text = element.get_text(strip=True)
    first = text.split(" ")[0]
    if first in menu.menu().by_code:
        return first
    group = element.find_parent("ul").find_parent("li").find(["a", "span"]).get_text(strip=True).split(" ")[0]
    matches = [leaf.code for leaf in menu.find(group).children if leaf.title == text]
    assert len(matches) == 1, (group, text)
    return matches[0]


@pytest.mark.parametrize("who, green_sample, black_sample", [
    ("wang", {"A", "A.01", "A.01.01", "A.01.03", "B.05.01", "E.01.01", "O.01.02", "O.02.01"},
     {"A.02", "A.02.01", "A.01.05", "C", "H.01.01", "O.01.01"}),
    ("chen", {"H", "H.01", "H.01.01", "H.02.03"}, {"A", "A.01.01", "O", "O.02.01", "E.01.01"}),
    ("representative", {"A", "A.01", "A.01.03", "O.01.01", "O.01.02"}, {"A.01.01", "O.02", "O.02.01", "H"}),
])
def test_site_map_is_green_for_what_the_user_may_use_and_black_for_the_rest(world, who, green_sample, black_sample):
    client = {"wang": signed_in, "chen": as_chen, "representative": as_representative}[who](world)
    soup = view(client, "/services/sitemap")
    green, black = sitemap_items(soup)
    every = set(menu.menu().by_code)
    assert set(green) | black == every and not set(green) & black, "every item once, green or black"
    assert green_sample <= set(green) and black_sample <= black
    assert {c for c in green if "." not in c} == OPEN_CATEGORIES[who]
    assert not soup.select(".sitemap-tree span.cannot a"), "black items are not links"
    assert green["O.01.02" if who != "chen" else "H.01.01"] == (
        "/authority/modules" if who != "chen" else "/ic-upload/results")
    # Every green category and group opens, and so do portal screens and one function of each group.
    followed = {c for c in green if c.count(".") < 2 or menu.find(c).endpoint}
    followed |= {min(c for c in green if c.startswith(group + ".")) for group in green if group.count(".") == 1}
    for code in sorted(followed):
        response = client.get(green[code])
        assert response.status_code == 200, (who, code, green[code], response.status_code)


def test_forbidden_items_answer_403_and_are_audited(world):
    client = signed_in(world)
    for url in ("/services/C", "/services/A.02", "/services/A.02.01", "/services/A.01.05", "/services/O.01.01"):
        response = client.get(url)
        assert response.status_code == 403, (url, response.status_code, response.headers.get("Location"))
    denied = [e for e in AuditEvent.select().where(AuditEvent.action == "access_denied")]
    assert "/services/O.01.01" in " ".join(e.detail for e in denied)
    # A leaf whose screen is a portal endpoint is only a redirect for those who may open it.
    allowed = client.get("/services/O.02.01")
    assert allowed.status_code == 302 and allowed.headers["Location"].endswith("/authority/services")



def test_refusals_after_login_keep_the_member_layout(world):
    """A 403 or 404 for a logged-in user still has 我的首頁, the greeting and 登出; anonymous ones do not."""
    client = signed_in(world)
    for url, status in (("/services/C", 403), ("/services/Z", 404), ("/authority/managers", 403)):
        page = check_page(client.get(url))
        assert page.select_one(".greeting").get_text() == "臺北虛擬診所 王大明 您好", url
        assert page.find("button", string="登出") and page.select_one("nav[aria-label=服務項目]"), url
        assert page.find("a", string="回我的首頁")["href"] == "/home", url
        assert client.get(url).status_code == status
    anonymous = check_page(world.app.test_client().get("/no-such-page"))
    assert anonymous.select_one(".greeting") is None and anonymous.find("a", string="回首頁")["href"] == "/"



def test_manuals_of_a_function_stay_in_the_member_layout(world):
    """現行作業區 → 操作手冊 lists 下載專區 files about the function's business, or says there are none."""
    category = DownloadCategory.create(name="醫療費用", position=0)
    service = DownloadService.create(category=category, name="醫療費用申報", position=0)
    DownloadDocument.create(service=service, description="醫療費用申報操作手冊", position=0, updated_on=date(2026, 1, 5))
    DownloadDocument.create(service=service, description="其他說明", position=1, updated_on=date(2026, 1, 6))
    client = signed_in(world)
    leaf = menu.find("A.01.01")  # 王大明 holds RWM, which opens A.01
    function = view(client, f"/services/{leaf.code}")
    button = function.select_one("nav[aria-label=現行作業區]").find("a", string="操作手冊")
    page = view(client, button["href"])
    assert page.h1.get_text() == f"操作手冊：{leaf.title}" and page.select_one(".greeting")
    assert [tr.select("td")[1].get_text() for tr in page.select("main table.data tbody tr")] == ["醫療費用申報操作手冊"]
    assert page.select("[aria-current=page]")[-1].get_text() == "操作手冊"
    view(client, "/services/A/manuals", status=404)
    view(client, "/services/Z.01.01/manuals", status=404)
    view(client, "/services/A.02.01/manuals", status=403)


UNKNOWN = (
    "/services/Z", "/services/P", "/services/a", "/services/A.99", "/services/A.99.99", "/services/A.01.01.01",
    "/services/A.", "/services/.A", "/services/A..01", "/services/..%2f", "/services/%2e%2e", "/services/A%00",
    "/services/%20A", "/services/A.1", "/news/other", "/news/hq?category=Z", "/news/hq?category=A.01",
    "/news/regional?category=A", "/news/item/abc", "/news/item/-1",
)


def test_unknown_menu_codes_and_scopes_are_404(world):
    client = signed_in(world)
    for url in UNKNOWN:
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)


def test_huge_announcement_ids_are_404(world):
    row = post("regional", "臺北公告", content="<p>內容</p>")
    stored = attach(world.app, row)
    client = signed_in(world)
    for url in ("/news/item/99999999999999999999", "/news/item/9223372036854775808",
                f"/news/item/{row.id}/attachments/99999999999999999999",
                f"/news/item/99999999999999999999/attachments/{stored.id}"):
        assert fetch(client, url).status_code == 404, url


def test_cached_parts_never_cross_users_regions_or_grants(cached_world):
    """With caching on, each person still gets their own region's lists and their own menu."""
    world = cached_world
    post("regional", "臺北限定通知")
    post("regional", "高屏限定通知", region="kaoping")
    post("hq", "署本部共同公告")
    wang, kaoping = signed_in(world), as_wang_at_kaoping(world)
    chen, representative = as_chen(world), as_representative(world)
    for _ in range(2):
        home = view(wang, "/home")
        assert rows(home, "news-regional") == ["臺北限定通知"] and open_and_grey(home)[0] == OPEN_CATEGORIES["wang"]
        there = view(kaoping, "/home")
        assert rows(there, "news-regional") == ["高屏限定通知"] and open_and_grey(there)[0] == set()
        assert rows(view(kaoping, "/news/regional")) == ["高屏限定通知"]
        assert rows(view(wang, "/news/regional")) == ["臺北限定通知"]
        assert grid(view(chen, "/home"))[0] == OPEN_CATEGORIES["chen"]
        assert grid(view(representative, "/home"))[0] == OPEN_CATEGORIES["representative"]
        assert side_codes(view(wang, "/services/A")) == ["A.01", "A.04", "A.05", "A.07"]
        assert side_codes(view(representative, "/services/A")) == ["A.01"]
        assert chen.get("/services/A").status_code == 403 and kaoping.get("/services/A").status_code == 403
        assert new_marked(view(chen, "/home")) == ["臺北限定通知", "署本部共同公告"]



def test_with_caching_on_taking_access_away_applies_on_the_very_next_request(cached_world):
    """Web processes reuse a session's access while the institution's access_version stands;
    the database bumps it with any change, however it is made."""
    world = cached_world
    wang, chen = signed_in(world), as_chen(world)
    assert grid(view(wang, "/home"))[0] == OPEN_CATEGORIES["wang"]
    assert grid(view(chen, "/home"))[0] == OPEN_CATEGORIES["chen"]
    # A bare delete, as a script or another tool might do it: no application code runs.
    wang_at_taipei = [a.id for a in Appointment.select().join(Person).switch(Appointment).join(Institution)
                      .where((Person.national_id == "A123456789") & (Institution.code == "3501200000"))]
    Grant.delete().where((Grant.appointment << wang_at_taipei) & (Grant.service_code == "IWF")).execute()
    assert grid(view(wang, "/home"))[0] == OPEN_CATEGORIES["wang"] - {"E"}
    InstitutionService.update(withdrawn_at=utcnow()).where(InstitutionService.service_code == "IPA").execute()
    assert grid(view(chen, "/home"))[0] == set()  # 陳小華 held IPA only: still a user, with nothing to open
    Appointment.update(removed_at=utcnow()).where(Appointment.id << wang_at_taipei).execute()
    response = wang.get("/home")
    assert response.status_code == 302 and "/login" in response.headers["Location"]

# --- 3. breadcrumb and the left menu by layer ---------------------------------------------------

def test_layer_1_shows_the_whole_a_to_o_tree(world):
    home = view(signed_in(world), "/home")
    assert crumbs(home) == ["我的首頁"]
    assert home.select_one("nav.breadcrumb li[aria-current=page]").get_text() == "我的首頁"
    assert side_codes(home) == list(ALL_CODES)
    assert side_top(home)[0] == "A費用申報及資料登錄" and side_top(home)[-1] == "O機構授權作業"
    assert side_menu(home).select_one("p.menu-up") is None
    assert side_menu(home).find("a", string="下載捷徑專區")["href"] == "/files/"
    assert len(home.select("ul.svc-grid > li")) == 15
    more = [a["href"] for a in home.select("section.news-section a.more")]
    assert more == ["/news/regional", "/news/hq"]
    assert [h.get_text() for h in home.select("section.news-section h2")] == ["分區業務公告事項", "署本部公告事項"]


def test_layer_2_menu_is_the_category_children_and_back_home(world):
    page = view(signed_in(world), "/services/A")
    assert crumbs(page) == ["我的首頁", "費用申報及資料登錄"]
    assert crumb_links(page) == {"我的首頁": "/home"}
    assert page.h1.get_text(strip=True) == "A. 費用申報及資料登錄"
    assert side_codes(page) == ["A.01", "A.04", "A.05", "A.07"]
    up = side_menu(page).select_one("p.menu-up a")
    assert up.get_text() == "回我的首頁" and up["href"] == "/home"
    assert page.select_one("section.news-section h2").get_text() == "署本部公告事項"
    assert page.select_one("a.more")["href"] == "/news/hq?category=A"


def test_group_page_lists_its_functions(world):
    page = view(signed_in(world), "/services/A.04")
    assert crumbs(page) == ["我的首頁", "費用申報及資料登錄", "中醫護理人員跟診時段維護"]
    assert crumb_links(page) == {"我的首頁": "/home", "費用申報及資料登錄": "/services/A"}
    assert side_codes(page) == ["A.04.01", "A.04.02", "A.04.03"]
    assert [a.get_text(strip=True) for a in page.select("ul.svc-list a")] == [
        "A.04.01 中醫護理人員跟診時段單筆維護作業（另開視窗）", "A.04.02 中醫護理人員跟診時段查詢作業（另開視窗）",
        "A.04.03 中醫護理人員跟診時段整批上傳作業（另開視窗）"]


def test_layer_3_menu_is_the_leaf_siblings_and_the_breadcrumb_the_path(world):
    client = signed_in(world)
    page = view(client, "/services/A.01.01")
    assert crumbs(page) == ["我的首頁", "費用申報及資料登錄", "醫療費用申報", "未列項費用申報上傳"]
    assert crumb_links(page) == {"我的首頁": "/home", "費用申報及資料登錄": "/services/A",
                                 "醫療費用申報": "/services/A.01"}
    assert side_codes(page) == ["A.01.01", "A.01.02", "A.01.03", "A.01.04", "A.01.07", "A.01.08", "A.01.09",
                                "A.01.10", "A.01.11", "A.01.14"]
    here = side_menu(page).select_one("a[aria-current=page]")
    assert here.get_text(strip=True).startswith("A.01.01 ")
    assert side_menu(page).select_one("p.menu-up a")["href"] == "/services/A"
    external = page.select_one("section.external a.button")
    assert external["href"].endswith("/iwpa0000/IWPA0101S01.aspx") and external["target"] == "_blank"
    assert "noopener" in external["rel"]
    assert "以下功能將另開視窗執行" in page.select_one("section.external h2").get_text()
    work = {a.get_text(strip=True): a["href"] for a in page.select("nav.work-area a")}
    assert work["公告事項"] == "/news/hq?category=A"
    assert parse_qs(urlsplit(work["聯絡窗口"]).query) == {"topic": ["醫療費用申報"]}

    # A leaf served by a screen of this portal links straight to it, with its code.
    assert side_menu(page).find("a", string="A.01.10 申報案件相關檔案下載")["href"] == "/payments/A.01.10"
    assert client.get("/services/A.01.10").headers["Location"] == "/payments/A.01.10"

    pending = view(client, "/services/A.05.01")
    assert pending.h1.get_text(strip=True) == "巡迴醫療及收容對象醫療資料登打及上傳"
    assert "巡迴醫療資料登打及上傳" in pending.select_one("section.pending").get_text()
    assert pending.select_one("section.external") is None


def test_portal_screens_in_the_menu_show_their_siblings(world):
    """A 機構授權作業 screen (a menu leaf served by this portal) switches the left menu to O.02's items."""
    page = view(signed_in(world), "/authority/services")
    assert side_codes(page) == ["O.02.01", "O.02.02", "O.02.03"]
    assert side_menu(page).select_one("a[aria-current=page]")["href"] == "/authority/services"


def test_layer_3_news_are_of_the_leaf_category_only(world):
    post("hq", "費用申報公告", category="A")
    post("hq", "支付公告", category="E")
    client = signed_in(world)
    assert rows(view(client, "/services/A.01.01")) == ["費用申報公告"]
    assert rows(view(client, "/services/E.01")) == ["支付公告"]
    assert rows(view(client, "/news/hq?category=E")) == ["支付公告"]
    assert rows(view(client, "/news/hq")) == ["支付公告", "費用申報公告"]


def test_rows_show_the_taipei_roc_date_and_expand_without_javascript(world):
    """日期 is the Taipei date (17:30 UTC is the next morning in Taipei); 詳細資料 is a plain link too."""
    late = post("regional", "跨日公告", publish_at=datetime(2025, 3, 4, 17, 30), content="<p>說明全文</p>",
                contact_name="林小姐", contact_phone="(02)2191-2006", keywords="RWM")
    early = post("hq", "署本部早上公告", publish_at=datetime(2025, 3, 4, 15, 59))
    attach(world.app, late, name="說明.odt")
    client = signed_in(world)
    home = view(client, "/home")
    row = home.select_one(f"#news-{late.id}")
    assert [td.get_text(strip=True) for td in row.find_all("td")][:2] == ["114/03/05", "RWM"]
    assert home.select_one(f"#news-{early.id} td.date").get_text() == "114/03/04"
    toggle = row.select_one("a.toggle")
    assert toggle["href"] == f"/news/item/{late.id}" == toggle["hx-get"] and toggle["aria-expanded"] == "false"
    assert home.select_one(f"#news-{early.id} a.toggle") is None, "nothing more to show: no 詳細資料"
    detail = view(client, toggle["href"])
    text = detail.get_text(" ", strip=True)
    assert "說明全文" in text and "聯絡人：林小姐" in text and "連絡電話：(02)2191-2006" in text
    assert detail.select_one("ul.attachments a").get_text(strip=True).endswith("說明.odt")
    assert detail.h1.get_text() == "分區業務公告事項"
    assert detail.find("a", string="回分區業務公告事項列表")["href"] == "/news/regional"
    from_home = check_page(client.get(toggle["href"], headers={"Referer": "http://localhost/home?rpage=2"}))
    assert from_home.find("a", string="回上一頁")["href"] == "http://localhost/home?rpage=2"
    elsewhere = check_page(client.get(toggle["href"], headers={"Referer": "https://evil.example/home"}))
    assert elsewhere.find("a", string="回分區業務公告事項列表")["href"] == "/news/regional"
    assert "聯絡人" not in view(client, f"/news/item/{early.id}").select_one("table.news").get_text()


# --- 4. region isolation and the publish window ------------------------------------------------

@pytest.fixture
def regions(world):
    """Two regions' announcements with attachments, and hidden ones of 臺北."""
    now = utcnow()
    own = post("regional", "臺北分區限定通知", content="<p>臺北獨有內容</p>", contact_name="林小姐",
               contact_phone="(02)2191-2006")
    other = post("regional", "高屏分區限定通知", region="kaoping", content="<p>高屏獨有內容 KPXONLY</p>",
                 contact_name="蘇先生", contact_phone="(07)231-5151")
    future = post("regional", "臺北尚未發布通知", publish_at=now + timedelta(days=1))
    expired = post("regional", "臺北已經下架通知", publish_at=now - timedelta(days=3),
                   expire_at=now - timedelta(days=1))
    future_hq = post("hq", "署本部尚未發布公告", publish_at=now + timedelta(hours=1))
    expired_hq = post("hq", "署本部已經下架公告", publish_at=now - timedelta(days=3), expire_at=now - timedelta(hours=1))
    hq = post("hq", "署本部共同公告")
    files = {name: attach(world.app, row, name=f"{name}.pdf") for name, row in [
        ("own", own), ("other", other), ("future", future), ("expired", expired), ("hq", hq),
        ("future_hq", future_hq), ("expired_hq", expired_hq)]}
    return {"own": own, "other": other, "future": future, "expired": expired, "future_hq": future_hq,
            "expired_hq": expired_hq, "hq": hq, "files": files}


def _without_echo(html: str) -> str:
    """A page without what repeats the user's own keyword (the search form, 查無符合「…」)."""
    soup = BeautifulSoup(html, "html.parser")
    for echo in soup.select("form[role=search], p.empty"):
        echo.decompose()
    return str(soup)


HIDDEN_FROM_TAIPEI = ("高屏分區限定通知", "高屏獨有內容", "KPXONLY", "蘇先生", "尚未發布", "已經下架")


def test_an_institution_never_sees_another_regions_announcements(world, regions):
    client = signed_in(world)
    pages = {url: client.get(url).get_data(as_text=True) for url in (
        "/home", "/news/regional", "/news/hq", "/services/A", "/news/regional?q=高屏", "/news/regional?q=KPXONLY",
        "/news/regional?q=蘇先生", "/news/regional?q=231-5151", "/news/hq?q=高屏", "/news/regional?q=通知")}
    for url, html in pages.items():
        shown = _without_echo(html)
        for secret in HIDDEN_FROM_TAIPEI:
            assert secret not in shown, (url, secret)
        assert f"/news/item/{regions['other'].id}" not in html, url
    home = check_page(client.get("/home"))
    assert rows(home, "news-regional") == ["臺北分區限定通知"]
    assert rows(home, "news-hq") == ["署本部共同公告"]
    assert rows(check_page(client.get("/news/regional?q=通知"))) == ["臺北分區限定通知"]
    assert "查無符合「KPXONLY」的公告" in pages["/news/regional?q=KPXONLY"]
    assert unread(home) == 2


def test_the_other_region_sees_its_own_and_not_ours(world, regions):
    client = as_wang_at_kaoping(world)
    home = view(client, "/home")
    assert rows(home, "news-regional") == ["高屏分區限定通知"]
    assert "臺北分區限定通知" not in home.get_text()
    assert rows(view(client, "/news/regional?q=林小姐")) == []
    assert rows(view(client, "/news/regional?q=蘇先生")) == ["高屏分區限定通知"]
    assert client.get(f"/news/item/{regions['own'].id}").status_code == 404
    assert client.get(f"/news/item/{regions['other'].id}").status_code == 200


def test_another_regions_announcement_and_its_files_are_404_by_url(world, regions):
    client = signed_in(world)
    own, other, files = regions["own"], regions["other"], regions["files"]
    assert client.get(f"/news/item/{other.id}").status_code == 404
    assert client.get(f"/news/item/{other.id}", headers={"HX-Request": "true"}).status_code == 404
    assert fetch(client, f"/news/item/{other.id}/attachments/{files['other'].id}").status_code == 404
    # An attachment id of another announcement never comes through an announcement one may read.
    assert fetch(client, f"/news/item/{own.id}/attachments/{files['other'].id}").status_code == 404
    assert fetch(client, f"/news/item/{own.id}/attachments/{files['hq'].id}").status_code == 404
    assert fetch(client, f"/news/item/{other.id}/attachments/{files['own'].id}").status_code == 404
    mine = fetch(client, f"/news/item/{own.id}/attachments/{files['own'].id}")
    assert mine.status_code == 200 and mine.get_data() == b"%PDF-1.4 test attachment"
    assert "attachment" in mine.headers["Content-Disposition"]
    shared = fetch(client, f"/news/item/{regions['hq'].id}/attachments/{files['hq'].id}")
    assert shared.status_code == 200


def test_unpublished_and_expired_announcements_are_invisible_everywhere(world, regions):
    client = signed_in(world)
    for key in ("future", "expired", "future_hq", "expired_hq"):
        row, stored = regions[key], regions["files"][key]
        assert client.get(f"/news/item/{row.id}").status_code == 404, key
        assert fetch(client, f"/news/item/{row.id}/attachments/{stored.id}").status_code == 404, key
    for url in ("/home", "/news/hq", "/news/regional", "/news/hq?q=尚未", "/news/regional?q=下架",
                "/news/hq?q=下架", "/services/A", "/services/A?q=尚未"):
        html = client.get(url).get_data(as_text=True)
        assert "尚未發布" not in html and "已經下架" not in html, url


def test_member_announcements_are_not_on_the_public_site(world, regions):
    """署本部/分區 announcements live behind login: no public list, page, file or feed shows them."""
    anonymous = world.app.test_client()
    for url in (f"/announcements/{regions['own'].id}", f"/announcements/{regions['hq'].id}",
                f"/announcements/{regions['own'].id}/attachments/{regions['files']['own'].id}",
                "/announcements/regional", "/announcements/hq", "/feeds/regional.atom", "/feeds/hq.atom"):
        assert fetch(anonymous, url).status_code == 404, url
    for url in (f"/news/item/{regions['own'].id}", "/news/regional", "/home", "/services/A", "/services/sitemap",
                "/home/contacts", f"/news/item/{regions['own'].id}/attachments/{regions['files']['own'].id}"):
        response = fetch(anonymous, url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    groups = member_contacts()
    for url in ("/contacts?q=健保署", "/contacts?q=02-23486991", f"/contacts?service={groups['taipei'].id}",
                f"/contacts?category={groups['fee'].id}", "/contacts"):
        shown = _without_echo(anonymous.get(url).get_data(as_text=True))
        assert "丁小姐" not in shown and "23486991" not in shown and "醫療費用申報" not in shown, url
    public_home = anonymous.get("/").get_data(as_text=True)
    assert "臺北分區限定通知" not in public_home and "署本部共同公告" not in public_home


# --- 5. search and paging on the pages (the queries themselves: test_member_search.py) ---------

def test_lists_page_10_and_3_and_forgive_any_page_number(world):
    for n in range(23):
        post("hq", f"分頁公告{n:02d}", days_ago=n + 1)
    for n in range(4):
        post("regional", f"分區分頁{n}", days_ago=n + 1)
    client = signed_in(world)
    first = view(client, "/news/hq")
    assert rows(first) == [f"分頁公告{n:02d}" for n in range(10)]
    goto = first.select_one("#news-hq nav.pager form")
    assert goto["action"] == "/news/hq" and goto.select_one("input[name=page]")["value"] == "1"
    assert goto.find("label").get_text() == "到第" and "共 23 筆" in first.select_one("#news-hq nav.pager").text
    last = [f"分頁公告{n:02d}" for n in range(20, 23)]
    for raw in ("999999", "3", "99999999999999999999999"):
        assert rows(view(client, f"/news/hq?page={raw}")) == last, raw
    for raw in ("-1", "0", "abc", "1e9", "", "%00", "1.5", "0x2", "%E4%B8%80"):
        assert rows(view(client, f"/news/hq?page={raw}"))[0] == "分頁公告00", raw
    home = view(client, "/home?hpage=999&rpage=abc")
    assert rows(home, "news-hq") == ["分頁公告21", "分頁公告22"]
    assert rows(home, "news-regional") == ["分區分頁0", "分區分頁1", "分區分頁2"]
    assert home.select_one("#news-hq nav.pager input[name=hpage]")["value"] == "8"
    assert rows(view(client, "/services/A?page=-1"))[0] == "分頁公告00"
    assert rows(view(client, "/services/A?page=3")) == last


def test_keyword_search_on_the_pages_keeps_the_keyword_across_pages(world):
    for n in range(12):
        post("hq", f"健保卡公告{n:02d}", days_ago=n + 1)
    post("hq", "其他公告")
    client = signed_in(world)
    page = view(client, "/news/hq?q=健保卡")
    assert len(rows(page)) == 10 and page.select_one("#news-hq-q")["value"] == "健保卡"
    nxt = page.select_one("#news-hq nav.pager a[aria-label=下一頁]")["href"]
    assert parse_qs(urlsplit(nxt).query) == {"q": ["健保卡"], "page": ["2"]}
    assert rows(view(client, nxt)) == ["健保卡公告10", "健保卡公告11"]
    hidden = {i["name"]: i["value"] for i in page.select("#news-hq nav.pager form input[type=hidden]")}
    assert hidden == {"q": "健保卡"}
    narrowed = view(client, "/services/A?q=健保卡公告1")
    assert rows(narrowed) == ["健保卡公告10", "健保卡公告11"]
    assert "查無符合「不存在的字」的公告" in view(client, "/news/hq?q=不存在的字").get_text()


def test_over_long_keywords_are_cut_with_a_notice(world):
    post("hq", "測" * 120)
    client = signed_in(world)
    page = view(client, "/news/hq?q=" + "測" * 150)
    assert "關鍵字過長，僅以前 100 個字查詢。" in page.select_one("#news-hq p.notice").get_text()
    assert page.select_one("#news-hq-q")["value"] == "測" * 100
    assert len(rows(page)) == 1 and rows(page)[0].startswith("測" * 39)


def test_search_syntax_in_the_keyword_box_never_breaks_a_page(world):
    post("hq", "A AND B 規則 (括號) 100% 代碼A_B")
    post("regional", "分區 NEAR 說明", contact_phone="(02)2191-2006")
    client = signed_in(world)
    for q in ('"', '""', "AND", "a and b", "*", "NEAR", "NEAR(a b)", "(", ")", "' OR 1=1 --", "%", "_", "%25",
              "\\", "^", ":", "search_grams:a", "-", "+", "{}", "[", "<script>", "%00", "%C0%AF", "%01%1b"):
        for url in (f"/news/hq?q={q}", f"/news/regional?q={q}", f"/services/A?q={q}"):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
    assert rows(view(client, "/news/hq?q=a and b")) == ["A AND B 規則 (括號) 100% 代碼A_B"]
    assert rows(view(client, "/news/hq?q=%25")) == ["A AND B 規則 (括號) 100% 代碼A_B"]
    assert rows(view(client, "/news/hq?q=_")) == ["A AND B 規則 (括號) 100% 代碼A_B"]
    assert rows(view(client, "/news/regional?q=NEAR")) == ["分區 NEAR 說明"]
    assert "&lt;script&gt;" in client.get("/news/hq?q=<script>").get_data(as_text=True)


# --- 6. 「新」 since the previous session --------------------------------------------------------

def test_first_visit_marks_the_last_30_days_as_new_and_counts_them(world):
    post("hq", "上週署本部公告", days_ago=7)
    post("hq", "兩個月前署本部公告", days_ago=60)
    post("regional", "昨天臺北公告", days_ago=1)
    post("regional", "昨天高屏公告", days_ago=1, region="kaoping")
    post("hq", "明天署本部公告", days_ago=-1)
    client = signed_in(world)
    home = view(client, "/home")
    assert new_marked(home) == ["昨天臺北公告", "上週署本部公告"]
    assert unread(home) == 2
    assert "您上次瀏覽後有 2 則新公告" in home.select_one("p.unread").get_text()


def test_new_marks_stay_for_the_whole_session(world):
    post("hq", "署本部新公告", days_ago=2)
    client = signed_in(world)
    first = view(client, "/home")
    assert new_marked(first) == ["署本部新公告"] and unread(first) == 1
    for url in ("/home", "/news/hq", "/services/A", "/home?hpage=1"):
        assert new_marked(view(client, url)) == ["署本部新公告"], url
    assert unread(view(client, "/home")) == 1


def _age_read_mark(hours: float) -> None:
    """Pretend the only read mark was written `hours` ago (the previous session looked then)."""
    mark = ReadMark.get()
    moved = mark.seen_at - timedelta(hours=hours)
    ReadMark.update(seen_at=moved).where(ReadMark.id == mark.id).execute()


def test_a_new_session_moves_the_mark_to_when_the_previous_one_looked(world):
    post("hq", "很久以前的公告", days_ago=3)
    view(signed_in(world), "/home")
    _age_read_mark(hours=2)          # the previous session looked two hours ago
    post("hq", "三小時前的公告", days_ago=3 / 24)
    post("hq", "一小時前的公告", days_ago=1 / 24)
    post("regional", "半小時前的臺北公告", days_ago=0.5 / 24)
    second = signed_in(world)
    home = view(second, "/home")
    assert new_marked(home) == ["半小時前的臺北公告", "一小時前的公告"]
    assert unread(home) == 2
    assert new_marked(view(second, "/news/hq")) == ["一小時前的公告"]


def test_other_readers_marks_are_their_own(world):
    """陳小華's visit does not move 王大明's mark; the same person at another institution has another."""
    post("hq", "署本部公告", days_ago=1)
    view(signed_in(world), "/home")
    _age_read_mark(hours=48)
    view(as_chen(world), "/home")
    view(as_wang_at_kaoping(world), "/home")
    view(as_representative(world), "/home")
    assert ReadMark.select().count() == 4
    assert new_marked(view(signed_in(world), "/home")) == ["署本部公告"]


def test_what_the_previous_session_saw_later_is_no_longer_new(world):
    """A session that opens 我的首頁, then again after a new announcement, has seen that announcement."""
    first = signed_in(world)
    view(first, "/home")
    _age_read_mark(hours=2)          # the session started two hours ago ...
    post("hq", "一小時前的公告", days_ago=1 / 24)
    seen = view(first, "/home")      # ... and looked again now, with the new one on screen
    assert new_marked(seen) == ["一小時前的公告"]
    again = view(signed_in(world), "/home")
    assert new_marked(again) == [] and unread(again) == 0


def test_unread_count_shows_99_plus(world):
    for n in range(101):
        post("hq", f"大量公告{n:03d}", days_ago=1 + n / 1000)
    home = view(signed_in(world), "/home")
    assert home.select_one("p.unread strong").get_text() == "99+"


# --- 7. 聯絡窗口查詢 ----------------------------------------------------------------------------

def test_contact_cascade_opens_one_dropdown_after_another(world):
    groups = member_contacts()
    client = signed_in(world)
    start = view(client, "/home/contacts")
    assert options(start, "type") == ["醫療費用申報", "資訊服務"]
    assert start.select_one("select[name=l1]") is None and contact_rows(start) == []
    assert start.select_one("label[for=ct-type]").get_text() == "服務類別"

    fee = groups["fee"].id
    second = view(client, f"/home/contacts?type={fee}")
    assert selected(second, "type") == "醫療費用申報"
    assert second.select_one("label[for=ct-l1]").get_text() == "機關" and options(second, "l1") == ["健保署"]
    assert second.select_one("input[name=p1]")["value"] == str(fee)
    assert contact_rows(second) == [], "choosing a dropdown does not search yet"

    bureau = groups["bureau"].id
    third = view(client, f"/home/contacts?type={fee}&p1={fee}&l1={bureau}")
    assert third.select_one("label[for=ct-l2]").get_text() == "單位"
    assert options(third, "l2") == ["臺北業務組", "北區業務組"]

    taipei = groups["taipei"].id
    found = view(client, f"/home/contacts?type={fee}&p1={fee}&l1={bureau}&p2={bureau}&l2={taipei}&search=1")
    header = [th.get_text() for th in found.select("#contact-lookup table.data thead th")]
    assert header == ["機關", "單位", "聯絡窗口", "連絡電話"]
    assert contact_rows(found) == [["健保署", "臺北業務組", "丁小姐", "02-23486991"],
                                   ["健保署", "臺北業務組", "汪先生", "02-23486325"]]
    everything = view(client, f"/home/contacts?type={fee}&search=1")
    assert [r[2] for r in contact_rows(everything)] == [
        "黃小姐", "丁小姐", "汪先生"]


def test_contact_choice_from_another_branch_is_reported_not_a_500(world):
    groups = member_contacts()
    client = signed_in(world)
    fee, it = groups["fee"].id, groups["it"].id
    # l1 claims to be under 醫療費用申報 but belongs to 資訊服務 (an edited URL).
    page = view(client, f"/home/contacts?type={fee}&p1={fee}&l1={groups['it_agency'].id}&search=1")
    assert "不屬於上一層的選擇" in page.select_one("#contact-lookup p.notice").get_text()
    assert contact_rows(page) == [] and selected(page, "l1") == ""
    # The user changed 服務類別: the old l1 (drawn under the old category) is dropped quietly.
    changed = view(client, f"/home/contacts?type={it}&p1={fee}&l1={groups['bureau'].id}")
    assert selected(changed, "type") == "資訊服務" and selected(changed, "l1") == ""
    assert options(changed, "l1") == ["健保署資訊組"] and changed.select_one("p.notice") is None
    # A non-root or public group as 服務類別 is not accepted.
    for bad in (groups["bureau"].id, groups["public"].id):
        wrong = view(client, f"/home/contacts?type={bad}&search=1")
        assert contact_rows(wrong) == [] and selected(wrong, "type") == ""
        assert "不屬於上一層的選擇" in wrong.get_text()


ODD_LOOKUPS = (
    "type=abc", "type=&search=1", "type=1e9&search=1", "type=-1", "type=%00", "type=99999999999999999999",
    "l1=abc&p1=abc", "type={fee}&p1={fee}&l1=abc&search=1", "type={fee}&p1=x&l1={bureau}", "p1={fee}&l1={bureau}",
    "type={fee}&p1={fee}&l1={bureau}&p2={bureau}&l2=%27%3B--&search=1", "type={fee}&search=1&page=abc",
    "type={fee}&search=1&page=-3", "type={fee}&search=1&page=1e9", "type={fee}&type=abc&search=1", "topic=%00",
    "topic=" + "長" * 500, "type={fee}&p1={fee}&l1={bureau}&p2={bureau}&l2={bureau}&p3={bureau}&l3=1&search=1",
)


def test_contact_lookup_survives_any_input(world):
    groups = member_contacts()
    client = signed_in(world)
    for query in ODD_LOOKUPS:
        url = "/home/contacts?" + query.format(fee=groups["fee"].id, bureau=groups["bureau"].id)
        soup = view(client, url)
        assert soup.select_one("#contact-lookup form select[name=type]"), url
    repeated = view(client, f"/home/contacts?type={groups['fee'].id}&type=abc&search=1")
    assert [r[2] for r in contact_rows(repeated)] == ["黃小姐", "丁小姐", "汪先生"]


def test_contact_topic_preselects_and_lists(world):
    """現行作業區's 聯絡窗口 button names the category; the lookup opens on it with its contacts."""
    member_contacts()
    client = signed_in(world)
    button = view(client, "/services/A.01.01").find("a", string="聯絡窗口")["href"]
    page = view(client, button)
    assert selected(page, "type") == "醫療費用申報"
    assert [r[2] for r in contact_rows(page)] == ["黃小姐", "丁小姐", "汪先生"]
    unknown = view(client, "/home/contacts?topic=沒有這個類別")
    assert contact_rows(unknown) == [] and "請先選擇服務類別" in unknown.get_text()


def test_contact_results_are_paginated(world):
    groups = member_contacts()
    client = signed_in(world)
    it = groups["it"].id
    first = view(client, f"/home/contacts?type={it}&search=1")
    assert [r[2] for r in contact_rows(first)] == [f"承辦人{n:02d}" for n in range(10)]
    pager = first.select_one("#contact-lookup nav.pager")
    assert "共 23 筆" in pager.get_text() and pager.select_one("input[name=page]")
    last = pager.select_one("a[aria-label=最後一頁]")["href"]
    assert parse_qs(urlsplit(last).query) == {"type": [str(it)], "search": ["1"], "page": ["3"]}
    third = view(client, last)
    assert [r[2] for r in contact_rows(third)] == ["承辦人20", "承辦人21", "承辦人22"]
    beyond = view(client, f"/home/contacts?type={it}&search=1&page=999999")
    assert [r[2] for r in contact_rows(beyond)] == ["承辦人20", "承辦人21", "承辦人22"]


# --- the menu and the app agree ------------------------------------------------------------------

def test_every_menu_endpoint_and_subsystem_exists(world):
    for item in menu.menu().by_code.values():
        if item.endpoint:
            assert item.endpoint in world.app.view_functions, item.code
        if item.subsystem:
            assert item.subsystem in menu.menu().subsystems, item.code
