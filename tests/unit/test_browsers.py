"""The 「您正使用 … 瀏覽器 (版本: …)」 line from User-Agent strings."""

import pytest

from portal.logic.browsers import EDGE_IE_MODE, IE, browser_line, detect

TABLE = [
    # IE11 on Windows 7: the real Internet Explorer
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", IE, "11.0"),
    # Trident on Windows 10/11: standalone IE11 is retired there, so this is Edge's IE mode
    ("Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; rv:11.0) like Gecko", EDGE_IE_MODE, "11.0"),
    # Compatibility View (IE7 document mode) reports MSIE 7.0: what support staff need to see
    ("Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0)", IE, "7.0"),
    ("Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)", IE, "10.0"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70", "Edge", "131.0.2903.70"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/70.0.3538.102 Safari/537.36 Edge/18.18363", "Edge", "18.18363"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/156.0.8078.79 Safari/537.36", "Chrome", "156.0.8078.79"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/156.0.8078.79 Safari/537.36", "Chrome", "156.0.8078.79"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox", "128.0"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Safari/605.1.15", "Safari", "17.1"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Mobile/15E148 Safari/604.1", "Safari", "17.1"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0", "Opera", "106.0.0.0"),
]


@pytest.mark.parametrize("ua, name, version", TABLE)
def test_known_browsers(ua, name, version):
    browser = detect(ua)
    assert (browser.name, browser.version) == (name, version)


def test_both_ie_variants_count_as_legacy_ie():
    assert detect(TABLE[0][0]).is_legacy_ie and detect(TABLE[1][0]).is_legacy_ie
    assert not detect(TABLE[6][0]).is_legacy_ie


def test_line_as_shown_in_the_header():
    assert browser_line(TABLE[6][0]) == "您正使用 Chrome 瀏覽器 (版本: 156.0.8078.79)"
    assert browser_line(TABLE[0][0]) == "您正使用 Internet Explorer 瀏覽器 (版本: 11.0)"


@pytest.mark.parametrize("ua", [None, "", "curl/8.4.0", "Wget/1.21"])
def test_unknown_agents_get_a_sensible_fallback(ua):
    assert not detect(ua).known
    assert "無法辨識" in browser_line(ua)
