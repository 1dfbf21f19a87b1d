"""The HTML allow-list of announcements (P10): what survives and what is removed."""

import pytest

from portal.logic.sanitize import clean_html, plain_text, shorten


@pytest.mark.parametrize("html", [
    "<p>段落</p>",
    "<b>粗體</b><i>斜體</i><u>底線</u><br>",
    '<span style="color:#c00">紅字</span>',
    '<span style="font-size:18px">大字</span>',
    "<ul><li>一</li></ul><ol><li>二</li></ol>",
    "<table><thead><tr><th>欄</th></tr></thead><tbody><tr><td>值</td></tr></tbody></table>",
])
def test_allowed_markup_is_kept(html):
    assert clean_html(html) == html


def test_links_keep_http_targets_and_get_a_safe_rel():
    cleaned = clean_html('<a href="https://www.nhi.gov.tw/">健保署</a>')
    assert 'href="https://www.nhi.gov.tw/"' in cleaned and 'rel="noopener noreferrer"' in cleaned


@pytest.mark.parametrize("html, gone", [
    ("<script>alert(1)</script>公告", "alert"),
    ('<img src=x onerror="alert(1)">公告', "onerror"),
    ('<a href="javascript:alert(1)">點我</a>', "javascript"),
    ('<a href="/relative">相對</a>', "href"),
    ('<span style="position:fixed;top:0">蓋版</span>', "position"),
    ('<span style="background:url(https://x/)">背景</span>', "url("),
    ('<p onclick="x()">文字</p>', "onclick"),
    ("<iframe src=https://evil.example></iframe>", "iframe"),
    ("<style>body{display:none}</style>文字", "display"),
    ('<div class="x" id="main">文字</div>', "id="),
])
def test_dangerous_markup_is_removed(html, gone):
    assert gone not in clean_html(html)


def test_plain_text_and_shortening():
    text = plain_text("<p>第一段&amp;</p>\n<p>第二段</p>")
    assert text == "第一段& 第二段"
    assert shorten("一二三四五", 3) == ("一二三…", True)
    assert shorten("一二三", 3) == ("一二三", False)
