"""Configuration and database access for code running inside a worker or scheduler."""

from __future__ import annotations

from contextlib import contextmanager

from portal.config import load_config
from portal.db import bind_database, database

_config: dict | None = None


def config() -> dict:
    """The settings this process works with (loaded once from config.toml and env)."""
    global _config
    if _config is None:
        use_config(load_config())
    return _config


def use_config(settings: dict, bind: bool = True) -> None:
    """Adopt settings for this process and bind their database (tests share the app's binding)."""
    global _config
    _config = dict(settings)
    if bind:
        bind_database(_config)


@contextmanager
def job_database():
    """A connection for the duration of one job, closed afterwards (forked horses never share one)."""
    config()
    with database.connection_context():
        yield
