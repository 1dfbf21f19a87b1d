"""PostgreSQL keyword search that returns the newest matches without sorting them all.

GIN cannot return rows in date order, so a common word's page used to fetch and
sort every match (0.1–0.5 s at a million notices). The search vector now also
holds, beside the bigrams, tokens for the time blocks the announcement was
published in (its week, fortnight, 4 weeks, … 2048 weeks), named for its kind
and, for 分區公告, its region: "zthqa6620" is 署本部 week 6620, "ztrtaipeic1654"
臺北 weeks 6616–6619. A search asks GIN for the bigrams AND a few blocks of its
own scope, newest first, and widens the blocks only until a page and its count
are filled (portal/logic/member_news.py). GIN's fast scan then reads the rare
side of the AND, so a narrow window costs little even for a word in most
notices. (Separate scope tokens were tried first: ANDing a list as long as all
署本部 notices made GIN slower than filtering rows.)

Tokens are at least three characters: a query only ever asks for bigrams (and
single letters never reach the index), so no typed word can hit a token.
SQLite needs none of this: its FTS5 rowid is already the publish time.
"""
from peewee import *

# 1900-01-01 was a Monday: weeks counted from it are positive for any real date.
EPOCH_OFFSET_SECONDS = 2208988800
WEEK_SECONDS = 604800
LEVELS = 12  # blocks of 1, 2, 4 … 2048 weeks (~39 years): any range needs few tokens

TOKENS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION announcement_search_tokens(kind text, region text, publish_at timestamp)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (SELECT string_agg('zt' || scope || chr(97 + level) || (week >> level), ' ')
          FROM generate_series(0, {LEVELS - 1}) AS level)
  FROM (SELECT floor((extract(epoch FROM publish_at) + {EPOCH_OFFSET_SECONDS}) / {WEEK_SECONDS})::bigint AS week,
               regexp_replace(lower(CASE WHEN kind = 'regional' THEN 'r' || region ELSE kind END),
                              '[^a-z0-9]', '', 'g') AS scope) w
$$"""

VECTOR = ("to_tsvector('simple', search_grams || ' ' || "
          "announcement_search_tokens(kind, region, publish_at))")


def up(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        return
    db.execute_sql(TOKENS_FUNCTION)
    db.execute_sql("DROP INDEX IF EXISTS announcement_search_vector")
    db.execute_sql("ALTER TABLE announcement DROP COLUMN IF EXISTS search_vector")
    db.execute_sql(f"ALTER TABLE announcement ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED")
    db.execute_sql("CREATE INDEX announcement_search_vector ON announcement USING gin (search_vector)")


def down(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        return
    db.execute_sql("DROP INDEX IF EXISTS announcement_search_vector")
    db.execute_sql("ALTER TABLE announcement DROP COLUMN IF EXISTS search_vector")
    db.execute_sql("ALTER TABLE announcement ADD COLUMN search_vector tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('simple', search_grams)) STORED")
    db.execute_sql("CREATE INDEX announcement_search_vector ON announcement USING gin (search_vector)")
    db.execute_sql("DROP FUNCTION IF EXISTS announcement_search_tokens(text, text, timestamp)")
