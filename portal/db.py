"""The database: one Peewee proxy, bound to SQLite or PostgreSQL by DATABASE_URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import DatabaseProxy, PostgresqlDatabase, SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

database = DatabaseProxy()


def open_database(url: str, busy_timeout_seconds: int = 10, pooled: bool = False):
    """Build (not connect) the Database object for a DATABASE_URL.

    Web processes use a pool: a request's close() hands the connection back, so
    the next request skips connecting (and SQLite's pragmas, ~1 ms; PostgreSQL's
    handshake, more). Workers fork per job and keep plain connections.
    """
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Pragmas run on every new connection: WAL lets readers work while the
        # worker writes; busy_timeout turns short lock waits into waits, not errors.
        sqlite_class = PooledSqliteDatabase if pooled else SqliteDatabase
        # A pooled connection moves between threads, but only one uses it at a time.
        extra = {"stale_timeout": 300, "check_same_thread": False} if pooled else {}
        return sqlite_class(
            path,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": busy_timeout_seconds * 1000,
                "synchronous": "normal",
            },
            **extra,
        )
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        query = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p)
        postgres_class = PooledPostgresqlDatabase if pooled else PostgresqlDatabase
        # psycopg prepares a statement run 5 times, and PostgreSQL then plans it once for
        # any institution; the data is skewed (a hospital has 100x a clinic's files), and
        # such a generic plan made a clinic's 下載捷徑專區 3x slower after a hospital's.
        query.setdefault("options", "-c plan_cache_mode=force_custom_plan")
        if pooled:
            query.setdefault("stale_timeout", 300)
        return postgres_class(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=query.pop("host", None) or parsed.hostname,
            port=parsed.port or query.pop("port", None),
            **query,
        )
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgresql://, not {url!r}")


def bind_database(config: dict, pooled: bool = False):
    """Point the proxy at the configured database and return it."""
    db = open_database(config["DATABASE_URL"], config.get("SQLITE_BUSY_TIMEOUT_SECONDS", 10), pooled)
    database.initialize(db)
    return db


def is_postgres() -> bool:
    """True when the proxy is bound to PostgreSQL (search and locking differ)."""
    return isinstance(database.obj, PostgresqlDatabase)


def init_app(app) -> None:
    """Bind the database; a request connects on its first query and closes at teardown."""
    db = bind_database(app.config, pooled=True)
    app.extensions["database"] = db

    @app.before_request
    def _bind():
        # One app per process in production; tests run several, so each request re-points the proxy.
        if database.obj is not db:
            database.initialize(db)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()


def write_transaction():
    """A transaction that will write: on SQLite it takes the write lock at BEGIN (IMMEDIATE),
    so two writers queue on busy_timeout instead of deadlocking when both upgrade a read lock."""
    if isinstance(database.obj, SqliteDatabase) and not database.in_transaction():
        return database.atomic(lock_type="IMMEDIATE")
    return database.atomic()
