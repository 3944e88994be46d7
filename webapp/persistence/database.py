"""Engine set-up for SQLite and PostgreSQL, shared by the app, the CLI and the tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 15_000


def engine_options(url: str) -> dict[str, Any]:
    """Options for ``create_engine`` (also handed to Flask-SQLAlchemy)."""
    if make_url(url).get_backend_name() == "sqlite":
        # sqlite3's timeout is SQLite's busy timeout: writers wait for the lock this long.
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def configure_engine(engine: Engine) -> Engine:
    """Apply the SQLite pragmas and BEGIN IMMEDIATE; PostgreSQL needs nothing."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_connect):
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_engine(url: str, **options: Any) -> Engine:
    """A configured engine for code that runs outside Flask (tests, benchmarks)."""
    return configure_engine(create_engine(url, **{**engine_options(url), **options}))


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented pysqlite recipe: let SQLAlchemy emit BEGIN itself,
    # so that write transactions take the lock at the start (no upgrade deadlocks).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
