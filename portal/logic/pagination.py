"""Pages of query results, forgiving of whatever arrives in ?page=."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_PAGE_NUMBERS = 10


def parse_page(raw) -> int:
    """A page number from user input: anything not a positive whole number is page 1."""
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):
        return 1
    return number if number >= 1 else 1


@dataclass
class Page:
    """One page of results plus what a pager needs to draw itself."""

    items: list
    number: int
    size: int
    total: int
    numbers: list[int] = field(default_factory=list)
    # True when there are more than `total` results and counting stopped there.
    capped: bool = False

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so an empty result still has page 1)."""
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        """Whether a previous page exists."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether a next page exists."""
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item on this page (for 序號 columns)."""
        return (self.number - 1) * self.size + 1


def paginate(query, raw_page, size: int, cap: int | None = None, total: int | None = None,
             fetch: bool = True) -> Page:
    """Run one page of a Peewee query; page numbers past the end show the last page.

    With a cap, counting stops after `cap` results (a search over a million rows
    need not count them all); the pages beyond stay unreachable, as in search engines.
    A caller that can count more cheaply than the query passes `total`; with
    fetch=False the page's items are the limited query itself, to be run by the caller.
    """
    if total is None:
        total = query.limit(cap + 1).count() if cap else query.count()
    capped = bool(cap) and total > cap
    total = min(total, cap) if cap else total
    pages = max(1, -(-total // size))
    number = min(parse_page(raw_page), pages)
    items = query.paginate(number, size)
    return Page(list(items) if fetch else items, number, size, total, _window(number, pages), capped)


def paginate_list(items: list, raw_page, size: int) -> Page:
    """The same as paginate() for a list already in memory."""
    total = len(items)
    pages = max(1, -(-total // size))
    number = min(parse_page(raw_page), pages)
    start = (number - 1) * size
    return Page(items[start:start + size], number, size, total, _window(number, pages))


def _window(number: int, pages: int) -> list[int]:
    """Up to MAX_PAGE_NUMBERS page numbers around the current one."""
    start = max(1, min(number - MAX_PAGE_NUMBERS // 2, pages - MAX_PAGE_NUMBERS + 1))
    return list(range(start, min(pages, start + MAX_PAGE_NUMBERS - 1) + 1))
