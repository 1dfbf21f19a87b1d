"""ROC calendar display and input parsing (users type ROC or AD dates)."""

from datetime import date, datetime, time

import pytest

from portal.logic.roc_dates import (
    DateInputError,
    describe_conversion,
    fee_month,
    parse_date,
    parse_fee_month,
    roc_compact,
    roc_date,
    roc_datetime,
    taipei_to_utc,
)


@pytest.mark.parametrize("day, shown", [
    (date(2021, 7, 15), "110/07/15"),
    (date(2010, 12, 31), "099/12/31"),
    (date(1912, 1, 1), "001/01/01"),
])
def test_roc_date_display(day, shown):
    assert roc_date(day) == shown


def test_public_lists_use_dots_and_stored_utc_is_shown_in_taipei_time():
    late_evening_utc = datetime(2021, 5, 11, 17, 30)  # 01:30 on 5/12 in Taipei
    assert roc_date(late_evening_utc, ".") == "110.05.12"
    assert roc_datetime(late_evening_utc) == "110/05/12 01:30"


def test_taipei_wall_clock_is_stored_as_utc():
    assert taipei_to_utc(date(2021, 5, 12), time(9, 0)) == datetime(2021, 5, 12, 1, 0)


@pytest.mark.parametrize("typed", ["114/01/28", "114.1.28", "114-01-28", "1140128", "2025-01-28", "2025/1/28", "20250128"])
def test_roc_and_ad_input_mean_the_same_day(typed):
    assert parse_date(typed) == date(2025, 1, 28)


@pytest.mark.parametrize("day", [date(2024, 2, 29), date(1999, 12, 31), date(2026, 11, 22)])
def test_display_and_parse_round_trip(day):
    assert parse_date(roc_date(day)) == day
    assert parse_date(roc_compact(day)) == day
    assert parse_date(day.isoformat()) == day


@pytest.mark.parametrize("typed, says", [
    ("110/02/30", "不存在"),
    ("113/13/01", "不存在"),
    ("2023-02-29", "不存在"),
    ("0/01/01", "年份"),
    ("abc", "格式錯誤"),
    ("", "格式錯誤"),
    ("110/1", "格式錯誤"),
])
def test_impossible_dates_get_a_zh_tw_message(typed, says):
    with pytest.raises(DateInputError) as error:
        parse_date(typed)
    assert says in str(error.value)


def test_conversion_is_echoed_to_the_user():
    assert describe_conversion("2025-01-28", date(2025, 1, 28)) == "民國 114/01/28（西元 2025-01-28）"


def test_fee_month_round_trip():
    assert fee_month(2021, 7) == "11007"
    assert parse_fee_month("11007") == (2021, 7)
    for bad in ("11013", "1100", "abcde", "00001"):
        with pytest.raises(DateInputError):
            parse_fee_month(bad)
