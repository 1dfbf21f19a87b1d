"""Keyword input is cleaned and bounded before it reaches a query."""

from portal.logic.keywords import MAX_KEYWORD_CHARS, parse_keyword


def test_whitespace_is_collapsed():
    assert parse_keyword("  雲端   安全模組 ").text == "雲端 安全模組"


def test_empty_input_is_no_keyword():
    assert not parse_keyword(None) and not parse_keyword("   ")


def test_over_long_input_is_cut_and_says_so():
    keyword = parse_keyword("字" * 10000)
    assert len(keyword.text) == MAX_KEYWORD_CHARS and keyword.truncated
    assert "100" in keyword.notice
