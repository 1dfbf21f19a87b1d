"""Which browser a User-Agent names, for the line 「您正使用 Chrome 瀏覽器 (版本: …)」.

A table of rules, first match wins, because the tokens overlap (Edge and Opera
also say Chrome; Chrome also says Safari). A general UA library would not know
the one case this portal cares most about: Edge's IE mode, which sends IE11's
own Trident string. Standalone IE11 was retired on Windows 10/11 in 2022–2023,
so a Trident UA from Windows NT 10.0 is Edge in IE mode, while one from Windows
7/8.1 (NT 6.x) is the real IE11 still found on old clinic PCs. (Windows 10 LTSC
still ships IE11; it is rare enough to be shown as IE mode.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Browser:
    """A recognised browser: display name and version ('' when unknown)."""

    name: str
    version: str

    @property
    def known(self) -> bool:
        """False for the fallback."""
        return bool(self.name)

    @property
    def is_legacy_ie(self) -> bool:
        """IE11 or Edge IE mode: the Trident engine, which needs ES5 and no CSS grid."""
        return self.name in (IE, EDGE_IE_MODE)


IE = "Internet Explorer"
EDGE_IE_MODE = "Edge (IE 模式)"

_TRIDENT = re.compile(r"Trident/(\d+)\.\d+.*?rv:(\d+\.\d+)")
_OLD_IE = re.compile(r"MSIE (\d+\.\d+)")
_RULES = [
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/([\d.]+)")),
    ("Opera", re.compile(r"\bOPR/([\d.]+)")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/([\d.]+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/([\d.]+)")),
    ("Chrome", re.compile(r"\b(?:Headless)?(?:Chrome|CriOS)/([\d.]+)")),
    ("Safari", re.compile(r"\bVersion/([\d.]+)(?: Mobile/\S+)? Safari/")),
]


@lru_cache(maxsize=512)
def detect(user_agent: str | None) -> Browser:
    """The browser behind a User-Agent header; Browser('', '') when unrecognised."""
    ua = user_agent or ""
    trident = _TRIDENT.search(ua)
    if trident:
        name = EDGE_IE_MODE if "Windows NT 10.0" in ua else IE
        return Browser(name, trident.group(2))
    old_ie = _OLD_IE.search(ua)
    if old_ie:
        return Browser(IE, old_ie.group(1))
    for name, pattern in _RULES:
        match = pattern.search(ua)
        if match:
            return Browser(name, match.group(1))
    return Browser("", "")


@lru_cache(maxsize=512)
def browser_line(user_agent: str | None) -> str:
    """The header sentence shown on every page (a clinic's few browsers send the same few strings)."""
    browser = detect(user_agent)
    if not browser.known:
        return "無法辨識您使用的瀏覽器，建議使用 Edge、Chrome 或 Firefox 最新版本"
    return f"您正使用 {browser.name} 瀏覽器 (版本: {browser.version})"
