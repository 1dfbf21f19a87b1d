"""ROC (民國) calendar: display, parsing of ROC and AD input, Asia/Taipei conversion.

Stored times are naive UTC; users see Taipei local ROC dates such as 110/07/15
(110.07.15 in public announcement lists) and fee months such as 11007.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

TAIPEI = ZoneInfo("Asia/Taipei")
ROC_OFFSET = 1911


class DateInputError(ValueError):
    """Input that is not a date; str(error) is a zh-TW message for the user."""


def to_taipei(moment: datetime) -> datetime:
    """A stored (naive UTC) or aware datetime as Taipei local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TAIPEI)


def taipei_to_utc(day: date, at: time = time(0, 0)) -> datetime:
    """Naive UTC datetime for a Taipei wall-clock date and time (for storing)."""
    local = datetime.combine(day, at, tzinfo=TAIPEI)
    return local.astimezone(UTC).replace(tzinfo=None)


def roc_date(value: date | datetime | None, sep: str = "/") -> str:
    """110/07/15 (or with another separator); datetimes are shown in Taipei time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_taipei(value).date()
    return f"{value.year - ROC_OFFSET:03d}{sep}{value.month:02d}{sep}{value.day:02d}"


def roc_datetime(value: datetime | None) -> str:
    """110/07/15 13:45 in Taipei time."""
    if value is None:
        return ""
    local = to_taipei(value)
    return f"{roc_date(local.date())} {local:%H:%M}"


def roc_compact_stamp(value: datetime) -> str:
    """YYYMMDDHHMMSS in Taipei time, as NHIA names files (1021209154845)."""
    local = to_taipei(value)
    return f"{local.year - ROC_OFFSET:03d}{local:%m%d%H%M%S}"


def roc_compact(value: date) -> str:
    """YYYMMDD as in NHIA file formats (1130702)."""
    return roc_date(value, sep="")


def fee_month(year: int, month: int) -> str:
    """費用年月 YYYMM from an AD year and month (2021, 7 -> 11007)."""
    return f"{year - ROC_OFFSET:03d}{month:02d}"


def parse_fee_month(text: str) -> tuple[int, int]:
    """YYYMM -> (AD year, month); raises DateInputError with a zh-TW message."""
    text = (text or "").strip()
    if not re.fullmatch(r"\d{5}", text) or not 1 <= int(text[3:]) <= 12 or int(text[:3]) < 1:
        raise DateInputError(f"費用年月「{text}」格式錯誤，請輸入民國年月共 5 碼，例如 11007。")
    return int(text[:3]) + ROC_OFFSET, int(text[3:])


_SEPARATED = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,2})$")


def parse_date(text: str) -> date:
    """A date typed by a user: ROC (114/01/28, 114.1.28, 1140128) or AD (2025-01-28, 20250128).

    A year of up to 3 digits is ROC, 4 digits is AD. Raises DateInputError.
    """
    raw = (text or "").strip()
    match = _SEPARATED.match(raw)
    if match:
        year_text, month, day = match.group(1), int(match.group(2)), int(match.group(3))
    elif re.fullmatch(r"\d{7}", raw):
        year_text, month, day = raw[:3], int(raw[3:5]), int(raw[5:])
    elif re.fullmatch(r"\d{8}", raw):
        year_text, month, day = raw[:4], int(raw[4:6]), int(raw[6:])
    else:
        raise DateInputError(f"日期「{raw}」格式錯誤，請輸入民國年月日（例如 114/01/28）或西元日期（例如 2025-01-28）。")
    year = int(year_text) if len(year_text) == 4 else int(year_text) + ROC_OFFSET
    if year <= ROC_OFFSET:
        raise DateInputError(f"日期「{raw}」的年份不正確，民國年須大於 0。")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateInputError(f"日期「{raw}」不存在，請確認月份與日期。") from None


def describe_conversion(text: str, value: date) -> str:
    """The echo shown next to a date field: 民國 114/01/28（西元 2025-01-28）."""
    return f"民國 {roc_date(value)}（西元 {value.isoformat()}）"
