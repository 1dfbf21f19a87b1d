"""Pure rules of institution files: states by day, filters, the 查詢下載 form, ZIP entry names, passwords."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.logic import file_queries, institution_files, packaging

PROVIDED = datetime(2026, 11, 2, 1, 30)  # 09:30 Taipei
KEEP = timedelta(days=14)


def row(**fields):
    return SimpleNamespace(**{"request_state": "", "available_from": PROVIDED, **fields})


@pytest.mark.parametrize("day, code, days_left, colour", [
    (0, "ready", 14, "green"),
    (13, "ready", 1, "green"),
    (14, "expired", None, "grey"),
    (15, "expired", None, "grey"),
])
def test_state_by_day_of_the_window(day, code, days_left, colour):
    state = institution_files.state_of(row(), PROVIDED + timedelta(days=day), KEEP, downloaded=False)
    assert (state.code, state.days_left, state.colour) == (code, days_left, colour)
    assert state.downloadable == (code == "ready")


def test_the_window_closes_on_the_second():
    now = PROVIDED + KEEP
    assert institution_files.state_of(row(), now - timedelta(seconds=1), KEEP, False).days_left == 1
    assert institution_files.state_of(row(), now, KEEP, False).code == "expired"


def test_downloaded_pending_refused_and_resent():
    day1 = PROVIDED + timedelta(days=1)
    assert institution_files.state_of(row(), day1, KEEP, True).colour == "blue"
    assert institution_files.state_of(row(request_state="pending"), day1, KEEP, False).label == "申請中"
    refused = institution_files.state_of(row(request_state="refused"), day1, KEEP, False)
    assert (refused.label, refused.colour, refused.downloadable) == ("請洽所屬轄區承辦同仁", "orange", False)
    assert institution_files.state_of(row(request_state="served"), day1, KEEP, False).label == "申請重送，可下載"


def test_filters_default_and_none_ticked():
    assert institution_files.parse_filters({}) == (("resent", "pending"), "")
    assert institution_files.parse_filters({"q": "1"}) == ((), "請勾選一個以上查詢條件")
    assert institution_files.parse_filters({"q": "1", "recent": "1", "bogus": "1"}) == (("recent",), "")


NOW = datetime(2026, 11, 23, 2, 0)


@pytest.mark.parametrize("args, field", [
    ({"fee_from": "11412", "fee_to": "11401"}, "fee_to"),
    ({"fee_from": "08402"}, "fee_from"),
    ({"fee_to": "11601"}, "fee_to"),  # after this month
    ({"fee_from": "1140"}, "fee_from"),
    ({"fee_from": "11400"}, "fee_from"),
    ({"fee_from": "abcde"}, "fee_from"),
    ({"medical_category": "<script>"}, "medical_category"),
])
def test_query_form_errors(args, field):
    _, errors = file_queries.parse_query(args, NOW)
    assert list(errors) == [field]


def test_query_form_defaults_and_bounds():
    query, errors = file_queries.parse_query({"fee_from": "08403", "fee_to": "11511", "within": "x", "sort": "y"}, NOW)
    assert errors == {} and (query.fee_from, query.fee_to) == (199503, 202611)
    assert (query.within, query.sort) == ("7", "provided")


def test_zip_entry_names_stay_flat_and_unique():
    assert packaging.safe_arcname("../../etc/passwd") == "_.._etc_passwd"  # one entry, no folders
    assert packaging.safe_arcname("C:\\x\\報表.txt") == "C_x_報表.txt"
    assert packaging.safe_arcname("a\x00b\n.txt") == "a_b_.txt"
    assert packaging.safe_arcname("...") == "file"
    taken: set = set()
    assert [packaging._unique(n, taken) for n in ("a.txt", "A.TXT", "a.txt", "manifest.csv", "b")] == [
        "a.txt", "A (2).TXT", "a (3).txt", "manifest (2).csv", "b"]


def test_password_is_the_id_with_an_upper_case_first_letter():
    assert packaging.password_for(SimpleNamespace(national_id="a123456789")) == b"A123456789"
    assert packaging.password_for(SimpleNamespace(national_id=" F228001521 ")) == b"F228001521"


def test_package_key_follows_content_mode_and_owner():
    stored = SimpleNamespace(sha256="aa", name="x.txt")
    file_row = SimpleNamespace(id=1, stored_file=stored, description_file=None, available_from=PROVIDED)
    base = packaging.package_key("aes", 7, [file_row], bulk=False)
    assert packaging.package_key("aes", 8, [file_row], bulk=False) != base  # another person's ID
    assert packaging.package_key("plain", 7, [file_row], False) == packaging.package_key("plain", 8, [file_row], False)
    stored.sha256 = "bb"
    assert packaging.package_key("aes", 7, [file_row], bulk=False) != base  # new content, new package
