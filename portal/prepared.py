"""Queries every logged-in request runs, turned into SQL once per dialect and reused.

Peewee rebuilds a query's SQL from its expression tree on every execution;
for the session lookup (three joined models) that costs ~0.6 ms, twenty times
what SQLite needs to answer it. A `Prepared` query is built once with marker
values, its SQL text kept, and later calls only swap the real values into the
parameter list. Rows still come back as model instances through the query's
own cursor wrapper, so callers see no difference.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from portal.db import database

# Markers no real argument takes: the builder's query is compiled with these,
# and wherever one shows up among the parameters, the real value goes there.
_INT_MARK = -(2**62)
_DATE_MARK_YEAR = 1


# peewee CursorWrapper attributes that belong to one execution, not to the SQL.
_PER_CURSOR = frozenset({"cursor", "count", "index", "initialized", "populated", "row_cache"})


def _marker(index: int, kind: type):
    if kind is int:
        return _INT_MARK - index
    if kind is str:
        return f"\x00prepared-{index}\x00"
    if kind is date:
        return date(_DATE_MARK_YEAR, 1, 1 + index)
    raise TypeError(f"Prepared supports int, str and date arguments, not {kind.__name__}")


class Prepared:
    """A query whose arguments are the only thing that changes between calls.

    `build(*args)` returns a peewee query; `kinds` gives each argument's type.
    The builder must pass every argument straight into a comparison (no
    arithmetic on it), so that its marker survives into the parameters.
    """

    def __init__(self, build: Callable[..., Any], *kinds: type):
        self.build = build
        self.kinds = kinds
        self._compiled: dict[type, tuple[Any, str, list, list[tuple[int, int]]]] = {}
        # What peewee's cursor wrapper works out from the columns on its first row (which
        # column feeds which model, converters): the same for every run of the same SQL.
        self._row_setup: dict[type, dict] = {}

    def _compile(self, dialect: type):
        markers = [_marker(i, kind) for i, kind in enumerate(self.kinds)]
        query = self.build(*markers)
        sql, params = query.sql()
        slots = []
        for position, value in enumerate(params):
            for index, marker in enumerate(markers):
                if type(value) is type(marker) and value == marker:
                    slots.append((position, index))
        missing = set(range(len(markers))) - {index for _, index in slots}
        if missing:
            raise ValueError(f"Prepared query lost its argument(s) {sorted(missing)} while compiling: {sql}")
        entry = (query, sql, list(params), slots)
        self._compiled[dialect] = entry
        return entry

    def __call__(self, *args) -> list:
        """The query's rows (model instances, joins attached) for these arguments."""
        if len(args) != len(self.kinds):
            raise TypeError(f"expected {len(self.kinds)} arguments, got {len(args)}")
        dialect = type(database.obj)
        entry = self._compiled.get(dialect) or self._compile(dialect)
        query, sql, params, slots = entry
        params = list(params)
        for position, index in slots:
            params[position] = args[index]
        wrapper = query._get_cursor_wrapper(database.execute_sql(sql, params))
        setup = self._row_setup.get(dialect)
        if setup is not None:
            wrapper.__dict__.update(setup)
            wrapper.initialized = True
        rows = list(wrapper)
        if setup is None and wrapper.initialized:
            self._row_setup[dialect] = {k: v for k, v in vars(wrapper).items() if k not in _PER_CURSOR}
        return rows

    def first(self, *args):
        """The first row, or None."""
        rows = self(*args)
        return rows[0] if rows else None
