"""Page numbers from the query string never break a page."""

import pytest

from portal.logic.pagination import paginate_list, parse_page

ITEMS = list(range(1, 26))  # 25 items -> 3 pages of 10


@pytest.mark.parametrize("raw, number", [
    (None, 1), ("", 1), ("abc", 1), ("-1", 1), ("0", 1), ("1.5", 1), ("  2 ", 2), ("3", 3), (10**20, 10**20),
])
def test_parse_page(raw, number):
    assert parse_page(raw) == number


@pytest.mark.parametrize("raw, number, first", [("1", 1, 1), ("2", 2, 11), ("3", 3, 21), ("999999", 3, 21), ("x", 1, 1)])
def test_pages_past_the_end_show_the_last_page(raw, number, first):
    page = paginate_list(ITEMS, raw, 10)
    assert page.number == number and page.items[0] == first and page.pages == 3


def test_empty_result_is_one_empty_page():
    page = paginate_list([], "5", 10)
    assert (page.number, page.pages, page.items, page.has_prev, page.has_next) == (1, 1, [], False, False)


def test_page_number_window_stays_within_bounds():
    many = list(range(500))
    assert paginate_list(many, "1", 10).numbers == list(range(1, 11))
    assert paginate_list(many, "25", 10).numbers == list(range(20, 30))
    assert paginate_list(many, "50", 10).numbers == list(range(41, 51))
    assert paginate_list(ITEMS, "2", 10).numbers == [1, 2, 3]


def test_exactly_full_pages():
    page = paginate_list(list(range(20)), "2", 10)
    assert page.pages == 2 and not page.has_next and page.first_index == 11
