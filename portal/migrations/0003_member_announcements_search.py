"""Logged-in announcements (署本部/分區: category, region, contact), read marks, keyword search index."""
from peewee import *

def up(migrator, db):
    class ReadMark(Model):
        reader = CharField(unique=True)
        session_id = IntegerField(default=0)
        since = DateTimeField(null=True)
        seen_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'read_mark'
    db.create_tables([ReadMark])

    migrator.migrate(migrator.add_column('announcement', 'category', CharField(max_length=1, default='')))
    migrator.migrate(migrator.add_column('announcement', 'region', CharField(max_length=16, default='')))
    migrator.migrate(migrator.add_column('announcement', 'contact_name', CharField(default='')))
    migrator.migrate(migrator.add_column('announcement', 'contact_phone', CharField(default='')))
    migrator.migrate(migrator.add_column('announcement', 'search_text', TextField(default='')))
    migrator.migrate(migrator.add_column('announcement', 'search_grams', TextField(default='')))
    migrator.migrate(migrator.add_column('contact_group', 'child_label', CharField(default='')))
    migrator.migrate(migrator.add_index('announcement', ('kind', 'category', 'publish_at')))
    migrator.migrate(migrator.add_index('announcement', ('kind', 'region', 'publish_at')))
    _backfill_search_text(db)
    for statement in PG_SEARCH_INDEX if isinstance(db, PostgresqlDatabase) else SQLITE_SEARCH:
        db.execute_sql(statement)


# PostgreSQL: the bigrams (portal/logic/textsearch.py) as a stored tsvector with a GIN index.
# Stored, not an expression index: a common word's matches are rechecked row by row,
# and recomputing to_tsvector for each was most of a search's time.
PG_SEARCH_INDEX = [
    "ALTER TABLE announcement ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_grams)) STORED",
    "CREATE INDEX announcement_search_vector ON announcement USING gin (search_vector)",
]

# SQLite: a contentless FTS5 table whose rowid is the announcement's place in time,
# publish second * 10^8 + id, so "newest first" is the index's own order and a search
# stops after the rows a page needs instead of sorting every match (at a million rows a
# common word matches hundreds of thousands). `scope` holds the kind and its category or
# region ("hq a", "regional taipei"), so the index narrows by scope too.
# Kept in step by triggers; portal/logic/member_news.py reads it.
SEARCH_KEY = "(CAST(strftime('%s', {row}.publish_at) AS INTEGER) * 100000000 + {row}.id)"
SEARCH_SCOPE = "({row}.kind || ' ' || lower({row}.category) || {row}.region)"


def _fts_insert(row):
    return (f"INSERT INTO announcement_search(rowid, search_grams, scope) VALUES "
            f"({SEARCH_KEY.format(row=row)}, {row}.search_grams, {SEARCH_SCOPE.format(row=row)});")


def _fts_delete(row):
    return (f"INSERT INTO announcement_search(announcement_search, rowid, search_grams, scope) VALUES "
            f"('delete', {SEARCH_KEY.format(row=row)}, {row}.search_grams, {SEARCH_SCOPE.format(row=row)});")


SQLITE_SEARCH = [
    # remove_diacritics 0: the index must not match more than LIKE would ("re" is not in "résumé").
    "CREATE VIRTUAL TABLE announcement_search USING fts5(search_grams, scope, content='', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER announcement_search_ai AFTER INSERT ON announcement BEGIN {_fts_insert('new')} END",
    f"CREATE TRIGGER announcement_search_ad AFTER DELETE ON announcement BEGIN {_fts_delete('old')} END",
    "CREATE TRIGGER announcement_search_au AFTER UPDATE OF search_grams, publish_at, kind, category, region "
    f"ON announcement BEGIN {_fts_delete('old')} {_fts_insert('new')} END",
    "INSERT INTO announcement_search(rowid, search_grams, scope) SELECT "
    f"{SEARCH_KEY.format(row='announcement')}, search_grams, {SEARCH_SCOPE.format(row='announcement')} "
    "FROM announcement",
]


def _backfill_search_text(db):
    """Existing announcements get their search text and bigrams (title, content, keywords)."""
    from portal.logic.announcements import search_fields
    from portal.logic.sanitize import plain_text

    rows = db.execute_sql("SELECT id, title, content, keywords FROM announcement").fetchall()
    for row_id, title, content, keywords in rows:
        fields = search_fields(plain_text(title or ""), plain_text(content or ""), keywords or "")
        db.execute_sql(f"UPDATE announcement SET search_text = {db.param}, search_grams = {db.param} "
                       f"WHERE id = {db.param}", (fields["search_text"], fields["search_grams"], row_id))


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP INDEX IF EXISTS announcement_search_vector")
        db.execute_sql("ALTER TABLE announcement DROP COLUMN IF EXISTS search_vector")
    else:
        for name in ("announcement_search_ai", "announcement_search_ad", "announcement_search_au"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
        db.execute_sql("DROP TABLE IF EXISTS announcement_search")
    migrator.migrate(migrator.drop_index('announcement', 'announcement_kind_region_publish_at'))
    migrator.migrate(migrator.drop_index('announcement', 'announcement_kind_category_publish_at'))
    migrator.migrate(migrator.drop_column('contact_group', 'child_label'))
    migrator.migrate(migrator.drop_column('announcement', 'search_grams'))
    migrator.migrate(migrator.drop_column('announcement', 'search_text'))
    migrator.migrate(migrator.drop_column('announcement', 'contact_phone'))
    migrator.migrate(migrator.drop_column('announcement', 'contact_name'))
    migrator.migrate(migrator.drop_column('announcement', 'region'))
    migrator.migrate(migrator.drop_column('announcement', 'category'))
    migrator.migrate(migrator.drop_table('read_mark'))
