"""Bigram text search (portal/logic/textsearch.py): what is stored, what is asked, and that the index
only ever narrows: every true substring match survives the FTS5 / tsquery step."""

from __future__ import annotations

import random
import sqlite3

import pytest

from portal.logic.textsearch import fts5_match, grams, normalise, query_runs, runs, tsquery_text


@pytest.mark.parametrize("raw, expected", [
    ("ＲＷＭ", "rwm"),
    ("ＩＣＤ－１０", "icd-10"),
    ("  健保卡\t上傳\n檢核  ", "健保卡 上傳 檢核"),
    ("健保卡　上傳", "健保卡 上傳"),          # ideographic space
    ("醫療，費用", "醫療,費用"),              # full-width comma
    ("Ｅｘｃｅｌ", "excel"),
    ("ｶﾀｶﾅ", "カタカナ"),                   # half-width katakana
    ("①②", "12"),
    ("", ""),
    (None, ""),
])
def test_normalise_folds_width_case_and_space(raw, expected):
    assert normalise(raw) == expected


def test_normalise_is_idempotent():
    for text in ("ＩＣＤ－１０ 編碼", "全民健保 RWM", "Crème brûlée", "  a  b  "):
        assert normalise(normalise(text)) == normalise(text)


def test_runs_are_letters_and_digits_only():
    assert runs("健保卡 上傳,檢核(rwm)_a-b 10%") == ["健保卡", "上傳", "檢核", "rwm", "a", "b", "10"]
    assert runs("%_-()\"' *") == []


@pytest.mark.parametrize("text, expected", [
    ("全民健保", "全民 民健 健保"),
    ("健保 卡", "健保 卡"),
    ("rwm申報", "rw wm m申 申報"),
    ("(02)2191-2006", "02 21 19 91 20 00 06"),
    ("a", "a"),
    ("", ""),
    ("%_*", ""),
])
def test_grams_are_overlapping_bigrams_of_each_run(text, expected):
    assert grams(text) == expected


def test_query_runs_skip_one_character_runs():
    assert query_runs("健保 卡") == [["健保"]]
    assert query_runs("卡") == [] and query_runs("%") == [] and query_runs("") == []
    assert query_runs("健保卡 上傳") == [["健保", "保卡"], ["上傳"]]


def test_fts5_match_quotes_each_run_as_a_phrase():
    assert fts5_match("健保卡 上傳") == '"健保 保卡" AND "上傳"'
    assert fts5_match("rwm") == '"rw wm"'
    assert fts5_match("卡") == "" and fts5_match("") == ""


def test_tsquery_text_lists_every_bigram():
    assert tsquery_text("健保卡 上傳") == "健保 保卡 上傳"
    assert tsquery_text("卡") == "" and tsquery_text("") == ""


@pytest.mark.parametrize("hostile", [
    '"', '""', "AND", "a AND b", "OR", "NOT x", "NEAR", "NEAR(a b, 2)", "NEAR/3", "*", "a*", "^a", "(", ")",
    "a:b", "search_grams : x", "scope:hq", "-a", "+a", "{a b}", "' OR 1=1 --", "\\", "\x00", "a\x00b",
])
def test_fts_syntax_in_a_query_never_reaches_the_engine_as_syntax(hostile):
    """Only letters and digits end up in a MATCH expression, each run quoted as a string."""
    expression = fts5_match(normalise(hostile))
    for char in "()*^:{}+-'\\\x00":
        assert char not in expression, (hostile, expression)
    assert expression.count('"') % 2 == 0
    words = tsquery_text(normalise(hostile)).split()
    assert all(word.isalnum() for word in words), words


@pytest.fixture
def fts():
    """An in-memory FTS5 table like migration 0003's (unicode61 over the bigram text)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE t USING fts5(grams, tokenize='unicode61')")
    except sqlite3.OperationalError:
        pytest.skip("this sqlite3 has no FTS5")
    yield connection
    connection.close()


def _index(connection, texts):
    for rowid, text in enumerate(texts, start=1):
        connection.execute("INSERT INTO t(rowid, grams) VALUES (?, ?)", (rowid, grams(normalise(text))))


def _candidates(connection, query) -> set[int]:
    match = fts5_match(normalise(query))
    return {row[0] for row in connection.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,))}


TEXTS = ["全民健康保險醫療費用申報與核付作業", "健保卡就醫資料上傳檢核結果查詢 RWM", "ICD-10-CM/PCS 有效碼檢測",
         "住院病例組合(Tw-DRGs)編審服務", "雲端藥歷系統 v2.3 更新", "醫療，療費說明", "聯絡人 林小姐 (02)2191-2006",
         "ＩＣＤ－１０ 全形字", "藥品 A1B2 價格調整"]


def test_the_index_never_loses_a_substring_match(fts):
    """Every substring of two or more letters is found by its MATCH expression (the LIKE then decides)."""
    _index(fts, TEXTS)
    checked = 0
    for rowid, text in enumerate(TEXTS, start=1):
        normal = normalise(text)
        for size in range(2, 7):
            for start in range(len(normal) - size + 1):
                query = normal[start:start + size]
                if not fts5_match(query):
                    continue
                assert rowid in _candidates(fts, query), (text, query)
                checked += 1
    assert checked > 300


def test_the_index_narrows(fts):
    _index(fts, TEXTS)
    assert _candidates(fts, "健保卡") == {2}
    assert _candidates(fts, "ＲＷＭ") == {2}
    assert _candidates(fts, "icd-10") == {3, 8}
    assert _candidates(fts, "2191-2006") == {7}
    assert _candidates(fts, "不存在") == set()


def test_hostile_queries_are_valid_match_expressions(fts):
    _index(fts, TEXTS)
    rng = random.Random(7)
    alphabet = '"()*^:{}+-\' ANDORNEAR健保卡a1\\'
    for _ in range(300):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        match = fts5_match(normalise(query))
        if match:
            fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()



def test_postgres_week_blocks_cover_a_range_exactly_with_aligned_blocks():
    """The windows of PostgreSQL's newest-first search (member_news.pg_time_blocks): blocks of 2^k
    weeks aligned to 2^k, from the end downward, never past the start, at most `most` of them."""
    import random

    from portal.logic.member_news import pg_time_blocks

    rng = random.Random(7)
    for _ in range(2000):
        start = rng.randrange(0, 7000)
        end = start + rng.randrange(1, 3000)
        most = rng.choice((1, 3, 40))
        tokens, stop = pg_time_blocks(start, end, most)
        assert start <= stop < end and len(tokens) <= most
        cursor = end
        for token in tokens:
            assert token.startswith("zt") and len(token) >= 3
            level = ord(token[2]) - ord("a")
            first = int(token[3:]) << level
            assert first + (1 << level) == cursor  # contiguous, newest first, aligned to its size
            cursor = first
        assert cursor == stop
        if most == 40:
            assert stop == start
