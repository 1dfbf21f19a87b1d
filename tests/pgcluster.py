"""A throwaway PostgreSQL cluster on a unix socket (initdb + pg_ctl): for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program from Debian's layout (the PATH may hold wrappers)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return shutil.which(name)


def available() -> bool:
    """Whether initdb and pg_ctl are installed."""
    return bool(pg_bin("initdb") and pg_bin("pg_ctl"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def cluster(*extra_options: str):
    """Start a cluster for the block; yields {"host": socket dir, "port": port}. Durability is off."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    # pytest's tmp dirs are private to root; initdb refuses root, so the cluster gets its own dir.
    base = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(base, "postgres")
    data, port = base / "data", _free_port()
    subprocess.run([*as_postgres, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--no-sync", "--locale=C.UTF-8"], check=True, capture_output=True)
    options = " ".join((f"-k {base} -p {port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                        "-c full_page_writes=off", *extra_options))
    subprocess.run([*as_postgres, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-o", options, "start"],
                   check=True, capture_output=True)
    try:
        yield {"host": str(base), "port": port}
    finally:
        subprocess.run([*as_postgres, pg_ctl, "-D", str(data), "-w", "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def create_database(server: dict, name: str) -> str:
    """An empty database in the cluster; returns its DATABASE_URL."""
    import psycopg

    admin = f"host={server['host']} port={server['port']} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@/{name}?host={server['host']}&port={server['port']}"


def drop_database(server: dict, name: str) -> None:
    """Drop a database of the cluster, whoever is still connected."""
    import psycopg

    admin = f"host={server['host']} port={server['port']} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
