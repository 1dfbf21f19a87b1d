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
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(PG_SEARCH_INDEX)
    else:
        for statement in SQLITE_SEARCH:
            db.execute_sql(statement)


# The full-text index over announcement.search_grams (bigrams, see portal/logic/textsearch.py).
PG_SEARCH_INDEX = ("CREATE INDEX announcement_search_grams ON announcement "
                   "USING gin (to_tsvector('simple', search_grams))")
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE announcement_search USING fts5(search_grams, content='announcement', "
    "content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER announcement_search_ai AFTER INSERT ON announcement BEGIN "
    "INSERT INTO announcement_search(rowid, search_grams) VALUES (new.id, new.search_grams); END",
    "CREATE TRIGGER announcement_search_ad AFTER DELETE ON announcement BEGIN "
    "INSERT INTO announcement_search(announcement_search, rowid, search_grams) "
    "VALUES ('delete', old.id, old.search_grams); END",
    "CREATE TRIGGER announcement_search_au AFTER UPDATE OF search_grams ON announcement BEGIN "
    "INSERT INTO announcement_search(announcement_search, rowid, search_grams) "
    "VALUES ('delete', old.id, old.search_grams); "
    "INSERT INTO announcement_search(rowid, search_grams) VALUES (new.id, new.search_grams); END",
    "INSERT INTO announcement_search(announcement_search) VALUES ('rebuild')",
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
        db.execute_sql("DROP INDEX IF EXISTS announcement_search_grams")
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
