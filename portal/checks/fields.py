"""Field specs read from the data tables, and the value checks every format shares (FORMATS §1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from portal.checks import tables

PASSED_MAX = 1024
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One tag of a format: where it sits, its type X/9, Big5 byte length and whether it must be there."""

    tag: str
    section: str
    name: str
    numeric: bool
    length: int | None
    fixed: bool
    decimals: int | None
    required: bool
    signed: bool
    order: int
    fast: re.Pattern | None = None  # an ASCII value matching this needs no further form check
    # values seen to match `fast` (a field's codes, dates and amounts recur): a set lookup instead of
    # a regex; shared by the checks of a process, at most PASSED_MAX each
    passed: set = field(default_factory=set, compare=False, repr=False)


def _fast_pattern(numeric: bool, length: int | None, fixed: bool, decimals: int | None, signed: bool):
    """One regex deciding the common case (ASCII, right type, right length) in a single C call."""
    size = f"{{{length}}}" if fixed and length else (f"{{1,{length}}}" if length else "+")
    # \Z, not $: $ also matches before a final line break, and such a value must be stripped first
    if numeric:
        number = ("-?" if signed else "") + "[0-9]+" + (f"(?:\\.[0-9]{{1,{decimals}}})?" if decimals else "")
        return re.compile(f"(?=.{size}\\Z){number}\\Z")
    # no space at either end: such a value goes the slow way, which strips it first
    return re.compile(f"(?=.{size}\\Z)\\S(?:.*\\S)?\\Z", re.S)


def _int(text: str) -> int | None:
    """An optional integer cell."""
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


@lru_cache(maxsize=8)
def load(table: str) -> dict[str, FieldSpec]:
    """tag -> FieldSpec from a *_fields table."""
    specs = {}
    for row in tables.rows(table):
        tag = row["tag"]
        digits = re.sub(r"\D", "", tag)
        numeric, length, fixed = row.get("type") == "9", _int(row.get("length", "")), row.get("fixed") == "1"
        decimals, signed = _int(row.get("decimals", "")), row.get("signed") == "1"
        specs[tag] = FieldSpec(
            tag=tag, section=row["section"], name=row.get("name", ""), numeric=numeric, length=length, fixed=fixed,
            decimals=decimals, required=row.get("required") == "*", signed=signed, order=int(digits or 0),
            fast=_fast_pattern(numeric, length, fixed, decimals, signed))
    return specs


def big5_length(value: str) -> int:
    """Length in Big5 bytes: a CJK (or 造字) character counts 2 (FORMATS §1.1 E8)."""
    if value.isascii():
        return len(value)
    return len(value) + sum(1 for c in value if c > "\x7f")


def value_problem(spec: FieldSpec, value: str) -> str | None:
    """'fixed', 'long' or 'type' when the value breaks its spec, else None."""
    if spec.fast is not None and value.isascii() and spec.fast.match(value):
        return None
    if spec.numeric:
        if not _NUMBER.match(value) or (value[0] == "-" and not spec.signed):
            return "type"
        point = value.find(".")
        if point >= 0 and (spec.decimals is None or len(value) - point - 1 > spec.decimals):
            return "type"
    if spec.length is not None:
        size = big5_length(value)
        if spec.fixed and size != spec.length:
            return "fixed"
        if size > spec.length:
            return "long"
    return None


def number_format(spec: FieldSpec) -> str:
    """How a numeric field is written, for R210's message, e.g. 9(6)，小數2位."""
    text = f"9({spec.length})" if spec.length else "9"
    return text + (f"，小數{spec.decimals}位" if spec.decimals else "，整數")


@lru_cache(maxsize=4096)  # visit and birth dates recur case after case
def roc_date(text: str | None) -> date | None:
    """YYYMMDD → date, None when missing or not a calendar day."""
    if not text or len(text) != 7 or not text.isdigit():
        return None
    try:
        return date(int(text[:3]) + 1911, int(text[3:5]), int(text[5:7]))
    except ValueError:
        return None


def roc_datetime(text: str | None) -> datetime | None:
    """YYYMMDDHHMM or YYYMMDDHHMMSS → naive Taipei datetime, None when invalid."""
    if not text or len(text) not in (11, 13) or not text.isdigit():
        return None
    day = roc_date(text[:7])
    if day is None:
        return None
    try:
        return datetime(day.year, day.month, day.day, int(text[7:9]), int(text[9:11]),
                        int(text[11:13]) if len(text) == 13 else 0)
    except ValueError:
        return None


def roc_month(text: str | None) -> tuple[int, int] | None:
    """YYYMM → (AD year, month), None when invalid."""
    if not text or len(text) != 5 or not text.isdigit() or not 1 <= int(text[3:]) <= 12:
        return None
    return int(text[:3]) + 1911, int(text[3:])


def to_roc_month(day: date) -> str:
    """date → YYYMM."""
    return f"{day.year - 1911:03d}{day.month:02d}"


def decimal(text: str | None, default: str = "0") -> Decimal:
    """A numeric field as Decimal (never float); junk counts as the default (type errors are reported apart)."""
    try:
        return Decimal(text) if text else Decimal(default)
    except InvalidOperation:
        return Decimal(default)


def points(text: str | None) -> int:
    """An integer points field (missing = 0)."""
    if text and text.isdigit() and text.isascii():
        return int(text)
    return int(decimal(text))


def round_half_up(value: Decimal) -> int:
    """NHIA rounding for 點數: half away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
