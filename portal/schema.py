"""Apply numbered migrations and compare the result with the models."""

from __future__ import annotations

from pathlib import Path

from playhouse.migrations import Runner
from playhouse.schema_diff import diff_models

from portal.models import ALL_MODELS

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def migrate(db) -> list[str]:
    """Apply pending migrations in order; return the names applied."""
    return Runner(db, directory=str(MIGRATIONS_DIR)).up()


def pending(db) -> list[str]:
    """Names of migrations not yet applied."""
    return [m.name for m in Runner(db, directory=str(MIGRATIONS_DIR)).status() if not m.applied]


# Database objects migrations create on purpose that Peewee models cannot declare
# (PostgreSQL's full-text column and index, migration 0003).
SEARCH_INDEXES = {"announcement_search_vector"}
SEARCH_COLUMNS = {("announcement", "search_vector")}


def drift(db) -> str:
    """What the models declare that the database lacks (or has extra); '' when they agree."""
    diff = diff_models(db, ALL_MODELS)
    return str(diff._replace(drop_indexes=[i for i in diff.drop_indexes if i.name not in SEARCH_INDEXES],
                             drop_columns=[c for c in diff.drop_columns if tuple(c) not in SEARCH_COLUMNS]))
