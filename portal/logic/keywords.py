"""Keyword search input: normalised, bounded, matched as substrings.

Users type fragments of CJK text, so matching is substring matching. Peewee's
contains() escapes % and _ in the keyword and uses ILIKE on PostgreSQL, so a
keyword is always taken literally and case-insensitively.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from functools import reduce

MAX_KEYWORD_CHARS = 100
_SPACE = re.compile(r"\s+")
# Control characters left after whitespace is collapsed are dropped; PostgreSQL refuses a NUL outright.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Keyword:
    """A cleaned keyword and whether it had to be cut to MAX_KEYWORD_CHARS."""

    text: str
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.text)

    @property
    def notice(self) -> str:
        """A zh-TW note to show when the keyword was cut."""
        return f"關鍵字過長，僅以前 {MAX_KEYWORD_CHARS} 個字查詢。" if self.truncated else ""


def parse_keyword(raw) -> Keyword:
    """Collapse whitespace and cut over-long input."""
    text = _CONTROL.sub("", _SPACE.sub(" ", str(raw or ""))).strip()
    if len(text) > MAX_KEYWORD_CHARS:
        return Keyword(text[:MAX_KEYWORD_CHARS].rstrip(), True)
    return Keyword(text)


def matches_any(fields, keyword: Keyword):
    """A Peewee expression: the keyword occurs in at least one of the fields."""
    return reduce(operator.or_, [f.contains(keyword.text) for f in fields])
