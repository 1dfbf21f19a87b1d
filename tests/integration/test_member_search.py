"""公告事項查詢 after login (SPEC H3, H5): one keyword against keywords, title, content (and 聯絡人 /
連絡電話), the same answers on SQLite (FTS5 bigrams) and PostgreSQL (GIN tsvector bigrams).

The oracle is the contract of portal/logic/textsearch.py: a keyword matches when its normalised
form is a substring of the announcement's normalised text; the index may only narrow, never add
or lose a match.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from portal.logic import announcements, member_news, textsearch
from portal.logic.keywords import parse_keyword
from portal.logic.pagination import paginate
from portal.models import Announcement
from portal.models.base import utcnow
from tests.integration.test_member_portal import post

pytestmark = pytest.mark.usefixtures("any_db_app")


def _post(kind, title, hours_ago=24.0, **fields):
    return post(kind, title, days_ago=hours_ago / 24, **fields)


def found(text, scope="hq", region="taipei", category=""):
    """Titles a reader of `region` finds with the keyword, in the order the list shows them."""
    return [a.title for a in member_news.search(scope, region, parse_keyword(text), category=category)]


CORPUS = [
    dict(kind="hq", title="全民健保卡上傳作業說明", content="<p>請於每月十日前完成健保卡 上傳檢核。</p>",
         keywords="RWM"),
    dict(kind="hq", title="ＩＣＤ－１０ 編碼更新", content="<p>自 ２０２５ 年起適用</p>"),
    dict(kind="hq", title="事前審查案件 Excel 格式", category="B", keywords="QB1"),
    dict(kind="hq", title="醫療，療費說明", content="<p>兩段文字</p>"),
    dict(kind="regional", title="臺北分區說明會", contact_name="林美惠", contact_phone="(02)2191-2006",
         content="<p>地點：臺北市信義路</p>"),
    dict(kind="regional", title="高屏分區說明會", region="kaoping", contact_name="蘇先生",
         contact_phone="(07)231-5151"),
    dict(kind="hq", title="Crème brûlée 與 résumé 範例", category="M"),
]


def _corpus():
    for n, entry in enumerate(CORPUS):
        _post(hours_ago=24 + n, **entry)


def test_keywords_match_cjk_fragments_codes_and_contacts():
    _corpus()
    assert found("健保") == ["全民健保卡上傳作業說明"]
    assert found("民健保卡") == ["全民健保卡上傳作業說明"]
    assert found("健保卡 上傳") == ["全民健保卡上傳作業說明"]          # a phrase across two runs
    assert found("健保卡　上傳") == ["全民健保卡上傳作業說明"]         # with an ideographic space
    assert found("上傳 健保卡") == []                              # the words, but not in this order
    for code in ("rwm", "RWM", "RwM", "ＲＷＭ", "ｒｗｍ"):
        assert found(code) == ["全民健保卡上傳作業說明"], code
    for code in ("ICD-10", "icd－10", "ｉｃｄ－１０", "icd"):
        assert found(code) == ["ＩＣＤ－１０ 編碼更新"], code
    assert found("2025") == ["ＩＣＤ－１０ 編碼更新"]
    assert found("excel") == ["事前審查案件 Excel 格式"]
    assert found("審查", category="B") == ["事前審查案件 Excel 格式"]
    assert found("卡") == ["全民健保卡上傳作業說明"]                 # one character: LIKE alone
    assert found("審") == ["事前審查案件 Excel 格式"]
    assert found("醫療，療費") == ["醫療，療費說明"] == found("醫療,療費")
    assert found("醫療費") == []                                   # bigrams of two runs, not a substring
    assert found("療費說") == ["醫療，療費說明"]
    # 分區公告: 聯絡人 and 連絡電話 are searched too, in the reader's own region only.
    assert found("林美惠", "regional") == ["臺北分區說明會"]
    assert found("林", "regional") == ["臺北分區說明會"]
    assert found("2191-2006", "regional") == ["臺北分區說明會"]
    assert found("2191", "regional") == ["臺北分區說明會"]
    assert found("信義路", "regional") == ["臺北分區說明會"]
    assert found("說明會", "regional") == ["臺北分區說明會"]
    assert found("說明會", "regional", region="kaoping") == ["高屏分區說明會"]
    assert found("林美惠", "regional", region="kaoping") == []
    assert found("蘇先生", "regional") == []
    assert found("說明會") == []                                   # 署本部 search never lists 分區公告


def test_accented_latin_is_matched_exactly(request):
    """Exact substrings: 're' is not in 'résumé' (the FTS5 tokenizer folds accents; LIKE must not)."""
    _corpus()
    assert found("résumé") == ["Crème brûlée 與 résumé 範例"]
    assert found("re") == []
    assert found("cre") == []
    assert found("br") == ["Crème brûlée 與 résumé 範例"]


WILD = ["達成率100%說明", "代碼A_B說明", "代碼AxB說明", 'He said "quoted" text', "SELECT * FROM 說明",
        "A AND B 規則", "NEAR 規則", "(括號) 說明", "星號*說明", "減號-說明", "冒號:說明", "脫字^說明",
        "反斜線\\路徑", "單引號'說明"]


LITERAL = [
    ("%", ["達成率100%說明"]),
    ("100%", ["達成率100%說明"]),
    ("_", ["代碼A_B說明"]),
    ("A_B", ["代碼A_B說明"]),
    ("%_%", []),
    ('"', ['He said "quoted" text']),
    ('"quoted"', ['He said "quoted" text']),
    ('"quoted', ['He said "quoted" text']),
    ("*", ["SELECT * FROM 說明", "星號*說明"]),
    ("*說明", ["星號*說明"]),
    ("說明*", []),
    ("a and b", ["A AND B 規則"]),
    ("AND", ["A AND B 規則"]),
    ("OR", []),
    ("說明 OR 規則", []),
    ("NOT 說明", []),
    ("NEAR", ["NEAR 規則"]),
    ("NEAR(說明 規則)", []),
    ("NEAR/2", []),
    ("(括號)", ["(括號) 說明"]),
    ("(", ["(括號) 說明"]),
    (")", ["(括號) 說明"]),
    ("-", ["減號-說明"]),
    ("-說明", ["減號-說明"]),
    (":", ["冒號:說明"]),
    ("search_grams:說明", []),
    ("search_grams : 說明", []),
    ("scope : hq", []),
    ("hq", []),
    ("regional taipei", []),
    ("^", ["脫字^說明"]),
    ("\\", ["反斜線\\路徑"]),
    ("'", ["單引號'說明"]),
    ("' OR 1=1 --", []),
    ("'; DROP TABLE announcement; --", []),
    ("{col}", []),
    ("說明 +", []),
]


def test_search_syntax_characters_are_literal_never_errors():
    for n, title in enumerate(WILD):
        _post("hq", title, hours_ago=1 + n)
    for keyword, expected in LITERAL:
        assert sorted(found(keyword)) == sorted(expected), keyword
    assert Announcement.select().count() == len(WILD)


def test_control_characters_in_keywords_are_ignored_not_errors():
    """A NUL or other control character pasted into 關鍵字 is dropped, on either database."""
    _post("hq", "控制字元 測試", hours_ago=2)
    _post("hq", "其他公告", hours_ago=1)
    assert found("控制\x00字元") == ["控制字元 測試"]
    assert found("控制字元\x00") == ["控制字元 測試"]
    assert found("\x00") == ["其他公告", "控制字元 測試"]
    assert found("控制\x07字元\x1b") == ["控制字元 測試"]


def test_search_is_exactly_substring_matching_on_normalised_text():
    """Random fragments of real-looking titles: the index narrows, LIKE decides, nothing is lost or added."""
    titles = ["全民健康保險醫療費用申報與核付作業", "健保卡就醫資料上傳檢核結果查詢", "ICD-10-CM/PCS 有效碼檢測",
              "住院病例組合(Tw-DRGs)編審服務", "雲端藥歷系統 v2.3 更新", "醫療，療費說明", "保險對象特定醫療資訊",
              "藥品 A1B2 價格調整", "口腔癌篩檢系統停機公告", "健保 卡片 上傳"]
    rows = [_post("hq", title, hours_ago=1 + n, content=f"<p>第{n}則內容，代號 X{n}Y</p>")
            for n, title in enumerate(titles)]
    texts = {row.title: Announcement.get_by_id(row.id).search_text for row in rows}
    rng = random.Random(20261122)
    queries = set()
    for title in titles:
        for size in (1, 2, 3, 4, 6):
            for start in range(0, max(1, len(title) - size + 1), 2):
                queries.add(title[start:start + size])
    alphabet = "".join(sorted(set("".join(titles))))
    queries |= {rng.choice(alphabet) + rng.choice(alphabet) for _ in range(60)}
    queries |= {"醫療費", "保卡", "健保卡上", "卡 上", "x3y", "X3Y", "-10-", "v2.3", "(tw-drgs)", "a1b2"}
    for query in sorted(queries):
        if not query.strip():
            continue
        wanted = textsearch.normalise(query)
        expected = sorted(t for t, text in texts.items() if wanted in text)
        assert sorted(found(query)) == expected, query


def test_scope_region_category_publish_window_and_edits_hold_in_search():
    now = utcnow()
    _post("hq", "共同字 署本部A", category="A", hours_ago=3)
    _post("hq", "共同字 署本部E", category="E", hours_ago=2)
    _post("regional", "共同字 臺北", hours_ago=1)
    _post("regional", "共同字 高屏", region="kaoping", hours_ago=4)
    _post("hq", "共同字 未來", publish_at=now + timedelta(hours=1))
    _post("hq", "共同字 過期", publish_at=now - timedelta(days=2), expire_at=now - timedelta(hours=1))
    _post("regional", "共同字 臺北未來", publish_at=now + timedelta(minutes=5))
    assert found("共同字") == ["共同字 署本部E", "共同字 署本部A"]
    assert found("共同字", category="A") == ["共同字 署本部A"]
    assert found("共同", category="E") == ["共同字 署本部E"]
    assert found("共同字", "regional") == ["共同字 臺北"]
    assert found("共", "regional", region="kaoping") == ["共同字 高屏"]
    assert found("共同字", "regional", region="east") == []
    assert found("未來") == [] and found("過期") == [] and found("未來", "regional") == []
    # get_readable: same rules by id.
    ids = {a.title: a.id for a in Announcement.select()}
    assert member_news.get_readable(ids["共同字 高屏"], "taipei") is None
    assert member_news.get_readable(ids["共同字 高屏"], "kaoping") is not None
    assert member_news.get_readable(ids["共同字 署本部E"], "east") is not None
    for hidden in ("共同字 未來", "共同字 過期", "共同字 臺北未來"):
        assert member_news.get_readable(ids[hidden], "taipei") is None, hidden

    # The index follows edits of the text, the category, the publish time, and deletion.
    row = _post("hq", "舊標題 甲乙丙")
    announcements.save(kind="hq", title="新標題 丁戊己", category="A", publish_at=row.publish_at, announcement=row)
    assert found("甲乙") == [] and found("丁戊") == ["新標題 丁戊己"]
    announcements.save(kind="hq", title="新標題 丁戊己", category="B", publish_at=row.publish_at, announcement=row)
    assert found("丁戊", category="A") == [] and found("丁戊", category="B") == ["新標題 丁戊己"]
    announcements.save(kind="hq", title="新標題 丁戊己", category="B", publish_at=utcnow() + timedelta(days=1),
                       announcement=row)
    assert found("丁戊") == []
    other = _post("hq", "另一則 丁戊")
    Announcement.delete_by_id(row.id)
    assert found("丁戊") == ["另一則 丁戊"]
    assert found("丁戊己") == [] and other.id != row.id


def test_search_results_page_and_clamp_and_long_keywords_are_cut():
    for n in range(23):
        _post("hq", f"分頁測試 {n:02d}", hours_ago=n + 1)
    _post("hq", "不相干")
    query = member_news.search("hq", "taipei", parse_keyword("分頁測試"))
    first = paginate(query, "1", 10, cap=1000)
    assert first.total == 23 and [a.title for a in first.items][:2] == ["分頁測試 00", "分頁測試 01"]
    for raw, number in (("999999", 3), ("-1", 1), ("0", 1), ("abc", 1), ("1e9", 1), ("3", 3), (" 2 ", 2)):
        page = paginate(member_news.search("hq", "taipei", parse_keyword("分頁測試")), raw, 10, cap=1000)
        assert page.number == number, raw
    last = paginate(member_news.search("hq", "taipei", parse_keyword("分頁")), "3", 10, cap=1000)
    assert [a.title for a in last.items] == ["分頁測試 20", "分頁測試 21", "分頁測試 22"]
    capped = paginate(member_news.search("hq", "taipei", parse_keyword("分頁測試")), "9", 10, cap=20)
    assert capped.capped and capped.total == 20 and capped.number == 2

    # An over-long keyword is cut to 100 characters and still searched.
    _post("hq", "長關鍵字" + "測" * 120)
    keyword = parse_keyword("長關鍵字" + "測" * 200)
    assert keyword.truncated and len(keyword.text) == 100 and "100" in keyword.notice
    assert [a.title for a in member_news.search("hq", "taipei", keyword)] == ["長關鍵字" + "測" * 120]


def test_the_newest_matches_come_first_across_weeks_years_and_decades():
    """Search stops once it has what a page and its count need (PostgreSQL looks week block by week
    block, newest first, migration 0005); the answer must be the newest matches in order, however far
    apart in time, with the same rules as the plain list."""
    days = [0.01, 0.5, 3, 6.9, 7.1, 13, 20, 45, 200, 370, 400, 800, 1500, 3000, 7000, 15000]
    for n, day in enumerate(days):
        _post("hq", f"跨週 {n:02d}", hours_ago=day * 24, category="C" if n % 3 == 0 else "A")
        _post("hq", f"無關 {n:02d}", hours_ago=day * 24 + 1)
        _post("regional", f"跨週 分區 {n:02d}", hours_ago=day * 24 + 2,
              region="taipei" if n % 2 else "kaoping")
    _post("hq", "跨週 明天才公告", publish_at=utcnow() + timedelta(days=1))
    _post("hq", "跨週 已下架", publish_at=utcnow() - timedelta(days=30), expire_at=utcnow() - timedelta(days=1))
    everything = [f"跨週 {n:02d}" for n in range(len(days))]
    for enough in (1, 2, 3, 5, 8, 13, None):
        titles = [a.title for a in member_news.search("hq", "taipei", parse_keyword("跨週"), enough=enough)]
        assert titles[:enough] == everything[:enough], enough
        page = paginate(member_news.search("hq", "taipei", parse_keyword("跨週"), enough=enough or 1000),
                        "1", 4, cap=(enough or 1000) - 1 if enough and enough > 1 else 1000)
        assert [a.title for a in page.items] == everything[:len(page.items)], enough
    in_c = [a.title for a in member_news.search("hq", "taipei", parse_keyword("跨週"), category="C", enough=4)]
    assert in_c[:4] == [t for n, t in enumerate(everything) if n % 3 == 0][:4]
    regional = [a.title for a in member_news.search("regional", "taipei", parse_keyword("跨週"), enough=5)]
    assert regional[:5] == [f"跨週 分區 {n:02d}" for n in range(len(days)) if n % 2][:5]
    assert found("週 1") == ["跨週 10", "跨週 11", "跨週 12", "跨週 13", "跨週 14", "跨週 15"]
    assert member_news.search("hq", "taipei", parse_keyword("從未出現"), enough=201).count() == 0


def test_postgres_week_tokens_agree_with_python_at_week_edges():
    """The database function (migration 0005) and member_news.pg_week must number weeks alike,
    also a microsecond before and after Monday 00:00, or a search would skip whole weeks."""
    from datetime import datetime

    from peewee import PostgresqlDatabase

    from portal.db import database

    if not isinstance(database.obj, PostgresqlDatabase):
        pytest.skip("SQLite orders its index by publish time and needs no week tokens")
    monday = datetime(2026, 11, 16)
    for moment in (monday, monday - timedelta(microseconds=1), monday + timedelta(microseconds=1),
                   datetime(1999, 12, 31, 23, 59, 59), datetime(2038, 1, 19, 3, 14, 8), datetime(1900, 1, 1)):
        week = member_news.pg_week(moment)
        for kind, region in (("hq", ""), ("regional", "taipei"), ("regional", "Kao-Ping 2")):
            (tokens,) = database.execute_sql("SELECT to_tsvector('simple', announcement_search_tokens(%s, %s, %s))",
                                             (kind, region, moment)).fetchone()
            scope = member_news.pg_scope(kind, region)
            expected = {f"'zt{scope}{chr(97 + level)}{week >> level}'" for level in range(12)}
            assert {t.split(":")[0] for t in tokens.split()} == expected, (moment, kind, region)


def test_newest_first_holds_on_a_monday_morning_when_the_current_week_is_nearly_empty():
    """Early in a week the current week has next to no announcements; the first window then also
    takes the last week, and later windows are sized by the elapsed part, not a whole week."""
    from datetime import datetime

    monday = datetime(2026, 11, 16, 0, 10)
    hours = [0.05, 1, 30, 100, 170, 200, 400, 2000, 9000, 30000]
    for n, hour in enumerate(hours):
        _post("hq", f"週一 {n:02d}", publish_at=monday - timedelta(hours=hour))
    _post("hq", "週一 稍後才公告", publish_at=monday + timedelta(hours=2))
    expected = [f"週一 {n:02d}" for n in range(len(hours))]
    for enough in (1, 2, 4, 7, None):
        titles = [a.title for a in member_news.search("hq", "taipei", parse_keyword("週一"), now=monday,
                                                      enough=enough)]
        assert titles[:enough] == expected[:enough], enough
