"""Keyword search over a million announcements (SPEC H3): `python -m tests.perf.search_bench`.

Seeds ROWS 署本部/分區 announcements into a throwaway SQLite file and a throwaway
PostgreSQL cluster, then times, through the same functions the 公告事項查詢 view
calls (member_news.search + paginate with the view's count cap), the first page
of a keyword search: CJK 2- and 4-character words and ASCII codes, common and
rare. Beside it, in the same run, a primary-key lookup (member_news.get_readable,
the detail page's query). It prints p50/p95 and the ratio to the lookup's p50;
the target is a ratio of at most 10.

The text is drawn from the demo generator's notices (portal/demo/member_news.py),
so word frequencies are those of NHIA-style prose: 「健保」 is in most notices,
「透析」 in a few percent, a contact's name in a handful.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from peewee import PostgresqlDatabase

from portal.logic.sanitize import plain_text

SCOPE_WEIGHTS = {"hq": 40, "regional": 60}
# (label, keyword, scope): what a clinic types into 公告事項查詢.
QUERIES = [
    ("CJK 2 字（常見）", "健保", "hq"),
    ("CJK 2 字（少見）", "透析", "hq"),
    ("CJK 4 字（常見）", "醫療費用", "hq"),
    ("CJK 4 字（少見）", "重大傷病", "hq"),
    ("CJK 2 字（分區）", "說明", "regional"),
    ("ASCII（常見）", "RWM", "hq"),
    ("ASCII（少見）", "DRGs", "hq"),
    ("不存在的詞", "量子糾纏", "hq"),
]
REGION = "taipei"
TARGET_RATIO = 10.0
COLUMNS = ("kind", "department", "title", "content", "keywords", "category", "region", "contact_name",
           "contact_phone", "search_text", "search_grams", "publish_at", "expire_at", "created_at", "updated_at")


def corpus(rng: random.Random, size: int) -> list[dict]:
    """`size` distinct generated notices (plain text), the pool the million rows are drawn from."""
    from portal.demo import member_news as gen

    categories, weights = zip(*gen.HQ_QUOTA.items(), strict=True)
    pool = []
    for _ in range(size):
        if rng.random() * 100 < SCOPE_WEIGHTS["hq"]:
            entry = gen._hq_entry(rng, rng.choices(categories, weights)[0])
        else:
            entry = gen._regional_entry(rng, rng.choice(list(gen.REGIONS)))
        entry["title"], entry["content"] = plain_text(entry["title"]), plain_text(entry["content"])
        pool.append(entry)
    return pool


def rows(rng: random.Random, count: int, pool: list[dict], now: datetime):
    """`count` announcement rows in publish order (as an archive grows), ~5% out of order."""
    from portal.logic.announcements import search_fields

    span = timedelta(days=10 * 365).total_seconds()
    start = now - timedelta(seconds=span)
    step = span / count
    for i in range(count):
        entry = rng.choice(pool)
        offset = i * step if rng.random() > 0.05 else rng.random() * span
        publish = (start + timedelta(seconds=offset)).replace(microsecond=0)
        expire = publish + timedelta(days=30) if rng.random() < 0.03 else None
        parts = (entry["title"], entry["content"], entry.get("keywords", ""), entry.get("contact_name", ""),
                 entry.get("contact_phone", ""))
        fields = search_fields(*parts)
        yield (entry["kind"], entry.get("department", ""), entry["title"], entry["content"],
               entry.get("keywords", ""), entry.get("category", ""), entry.get("region", ""),
               entry.get("contact_name", ""), entry.get("contact_phone", ""), fields["search_text"],
               fields["search_grams"], publish, expire, publish, publish)


def seed(app, count: int, rng: random.Random) -> float:
    """Insert `count` rows in bulk; returns the seconds it took (including index builds)."""
    from portal.db import database

    began = time.perf_counter()
    pool = corpus(rng, 20_000)
    now = datetime.utcnow().replace(microsecond=0)
    with database.connection_context():
        conn = database.obj.connection()
        if isinstance(database.obj, PostgresqlDatabase):
            with conn.cursor() as cur, cur.copy(f"COPY announcement ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows(rng, count, pool, now):
                    copy.write_row(row)
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE announcement")
            conn.autocommit = False
        else:
            conn.execute("PRAGMA synchronous=OFF")
            marks = ", ".join("?" * len(COLUMNS))
            with database.atomic():
                batch = []
                for row in rows(rng, count, pool, now):
                    batch.append(tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in row))
                    if len(batch) == 10_000:
                        conn.executemany(f"INSERT INTO announcement ({', '.join(COLUMNS)}) VALUES ({marks})", batch)
                        batch = []
                if batch:
                    conn.executemany(f"INSERT INTO announcement ({', '.join(COLUMNS)}) VALUES ({marks})", batch)
            conn.execute("ANALYZE")
            conn.execute("PRAGMA synchronous=NORMAL")
    return time.perf_counter() - began


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds of `repeat` calls after two warm-up calls."""
    fn(), fn()
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def p95(samples: list[float]) -> float:
    """The 95th percentile of the samples."""
    return statistics.quantiles(samples, n=20)[-1]


def measure(app, repeat: int, rng: random.Random) -> list[tuple[str, str, int, list[float]]]:
    """Time the PK lookup and every query; rows of (label, keyword, results on page 1 / count, samples)."""
    from portal.db import database
    from portal.logic import member_news
    from portal.logic.keywords import Keyword
    from portal.logic.pagination import paginate
    from portal.models import Announcement
    from portal.views.news import PER_PAGE, SEARCH_COUNT_CAP

    results = []
    with app.app_context(), database.connection_context():
        top = Announcement.select(Announcement.id).order_by(Announcement.id.desc()).scalar()
        ids = [rng.randint(1, top) for _ in range(repeat + 2)]
        picks = iter(ids)
        results.append(("主鍵查詢（詳細資料）", "—", 1,
                        timed(lambda: member_news.get_readable(next(picks), REGION), repeat)))
        for label, keyword, scope in QUERIES:
            def page(keyword=keyword, scope=scope):
                found = paginate(member_news.search(scope, REGION, Keyword(keyword), enough=SEARCH_COUNT_CAP + 1), 1, PER_PAGE,
                                 cap=SEARCH_COUNT_CAP)
                return found
            first = page()
            shown = f"{first.total}{'+' if first.capped else ''}"
            results.append((label, f"{keyword}（{scope}，{shown} 筆）", len(first.items), timed(page, repeat)))
    return results


def report(title: str, seconds: float, count: int, results) -> None:
    """Print one backend's table."""
    base = statistics.median(results[0][3])
    print(f"\n{title}: {count:,} announcements seeded in {seconds:.0f} s; first page of 10, count capped "
          f"at the view's cap; target ratio <= {TARGET_RATIO:.0f}")
    print(f"{'query':<16}{'keyword (scope, matches)':<36}{'p50 ms':>9}{'p95 ms':>9}{'ratio':>8}  target")
    for label, keyword, _, samples in results:
        p50 = statistics.median(samples)
        ratio = p50 / base if base else 0.0
        verdict = "baseline" if label == results[0][0] else ("met" if ratio <= TARGET_RATIO else "MISSED")
        print(f"{label:<16}{keyword:<36}{p50:>9.2f}{p95(samples):>9.2f}{ratio:>8.1f}  {verdict}")


def run_backend(name: str, database_url: str | None, base: Path, count: int, repeat: int) -> None:
    """Migrate, seed, measure and report one backend."""
    from portal import create_app, schema
    from portal.db import database

    settings = {"INSTANCE_DIR": str(base / "instance"), "STORAGE_DIR": str(base / "storage"),
                "DATABASE_URL": database_url or f"sqlite:///{base / 'bench.db'}",
                "REDIS_URL": f"unix://{base / 'no-redis.sock'}", "SECRET_KEY": "bench"}
    app = create_app(settings)
    database.initialize(app.extensions["database"])
    with database.connection_context():
        schema.migrate(database.obj)
    rng = random.Random(20261122)
    seconds = seed(app, count, rng)
    report(name, seconds, count, measure(app, repeat, rng))
    database.close()


def main(argv: list[str] | None = None) -> int:
    """Run on SQLite, then on PostgreSQL when it is installed."""
    from tests import pgcluster

    parser = argparse.ArgumentParser(prog="python -m tests.perf.search_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="announcements to seed (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=40, help="timed runs per query (default 40)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="portal-search-bench-") as tmp:
        base = Path(tmp)
        if args.backend in ("sqlite", "both"):
            run_backend("SQLite (FTS5 bigrams)", None, base / "sqlite", args.rows, args.repeat)
        if args.backend in ("postgres", "both"):
            if not pgcluster.available():
                print("search_bench: PostgreSQL is not installed; skipped", file=sys.stderr)
                return 1
            with pgcluster.cluster("-c shared_buffers=512MB") as server:
                url = pgcluster.create_database(server, "bench")
                run_backend("PostgreSQL (GIN tsvector bigrams)", url, base / "pg", args.rows, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
