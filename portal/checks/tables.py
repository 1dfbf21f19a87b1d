"""Reference tables of the upload checkers, shipped as files under portal/data/checks/ (FORMATS §7).

Each table is a UTF-8 CSV with one header row; lines starting with '#' before the header record
where the data came from and how sure we are of it ([S]/[C]/[I]/[G]). An empty cell means
"not applicable". The ICD-10 code lists are gzip text files, one code per line, without dots.
"""

from __future__ import annotations

import csv
import gzip
import io
from functools import cache
from pathlib import Path

_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "checks"
_ICD_FILES = {"cm": "icd10cm.txt.gz", "pcs": "icd10pcs.txt.gz"}


def data_dir() -> Path:
    """The folder holding the checkers' reference tables (portal/data/checks)."""
    return _DATA_DIR


@cache
def _load(name: str) -> tuple[dict[str, str], ...]:
    """Parse one table once per process; a malformed row is a data bug, so it raises."""
    path = _DATA_DIR / f"{name}.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        start += 1
    reader = csv.reader(io.StringIO("\n".join(lines[start:])))
    header = [cell.strip() for cell in next(reader)]
    table = []
    for number, cells in enumerate(reader, start=start + 2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise ValueError(f"{path.name}:{number}: {len(cells)} cells for {len(header)} columns")
        cells += [""] * (len(header) - len(cells))
        table.append(dict(zip(header, (cell.strip() for cell in cells), strict=True)))
    return tuple(table)


def rows(name: str) -> list[dict[str, str]]:
    """All rows of a table (name without .csv, e.g. "case_types" or "demo_masters/drugs"), header order kept."""
    # Copies, so a caller that edits a row cannot change what the next caller reads.
    return [dict(row) for row in _load(name)]


@cache
def by_code(name: str, key: str = "code") -> dict[str, dict[str, str]]:
    """A table indexed by one column; the key must be unique (a duplicate is a data bug and raises)."""
    index: dict[str, dict[str, str]] = {}
    for row in _load(name):
        value = row[key]
        if value in index:
            raise ValueError(f"{name}.csv: duplicate {key} {value!r}")
        index[value] = row
    return index


@cache
def codes(name: str, key: str = "code") -> frozenset[str]:
    """The set of values of one column, for membership checks."""
    return frozenset(row[key] for row in _load(name))


@cache
def icd_codes(kind: str) -> frozenset[str]:
    """Valid ICD-10 codes without dots: kind "cm" (diagnoses) or "pcs" (procedures); read once."""
    if kind not in _ICD_FILES:
        raise ValueError(f"unknown ICD-10 list {kind!r} (use 'cm' or 'pcs')")
    with gzip.open(_DATA_DIR / _ICD_FILES[kind], "rt", encoding="ascii") as handle:
        return frozenset(line.strip() for line in handle if line.strip() and not line.startswith("#"))
