"""The database: one Peewee proxy, bound to SQLite or PostgreSQL by DATABASE_URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import DatabaseProxy, PostgresqlDatabase, SqliteDatabase

database = DatabaseProxy()


def open_database(url: str, busy_timeout_seconds: int = 10):
    """Build (not connect) the Database object for a DATABASE_URL."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Pragmas run on every new connection: WAL lets readers work while the
        # worker writes; busy_timeout turns short lock waits into waits, not errors.
        return SqliteDatabase(
            path,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": busy_timeout_seconds * 1000,
                "synchronous": "normal",
            },
        )
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        query = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p)
        return PostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=query.pop("host", None) or parsed.hostname,
            port=parsed.port or query.pop("port", None),
            **query,
        )
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgresql://, not {url!r}")


def bind_database(config: dict):
    """Point the proxy at the configured database and return it."""
    db = open_database(config["DATABASE_URL"], config.get("SQLITE_BUSY_TIMEOUT_SECONDS", 10))
    database.initialize(db)
    return db


def is_postgres() -> bool:
    """True when the proxy is bound to PostgreSQL (search and locking differ)."""
    return isinstance(database.obj, PostgresqlDatabase)


def init_app(app) -> None:
    """Bind the database; a request connects on its first query and closes at teardown."""
    db = bind_database(app.config)
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
