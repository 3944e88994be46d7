"""Engine set-up for SQLite and PostgreSQL, shared by the app, the CLI and the tests."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled PostgreSQL connection idle longer than this is pinged before it is handed
# out (and replaced if the server dropped it); one used more recently is not: a ping
# per checkout was a round trip more per request (two per counter close).
PING_IDLE_SECONDS = 5.0
_CHECKED_IN = "regulars.checked_in"


def engine_options(url: str) -> dict[str, Any]:
    """Options for ``create_engine`` (also handed to Flask-SQLAlchemy)."""
    if make_url(url).get_backend_name() == "sqlite":
        # sqlite3's timeout is SQLite's busy timeout: writers wait for the lock this long.
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    # Prepare every statement on first use (psycopg's default waits for the 5th): a
    # counter close's statements recur on every pooled connection, and PostgreSQL then
    # skips parsing and planning them (-0.3 ms of its CPU per close, counter_close.md).
    return {"pool_size": 10, "max_overflow": 20, "connect_args": {"prepare_threshold": 0}}


def configure_engine(engine: Engine) -> Engine:
    """Apply the SQLite pragmas and BEGIN IMMEDIATE; on PostgreSQL, ping connections
    that were idle (:data:`PING_IDLE_SECONDS`) before handing them out."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_connect):
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    if engine.dialect.name == "postgresql" and not event.contains(engine.pool, "checkin",
                                                                  _checked_in):
        event.listen(engine.pool, "checkin", _checked_in)
        event.listen(engine.pool, "checkout", _ping_if_idle(engine))
    return engine


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    """A pool ``checkout`` listener: SQLAlchemy's pre-ping, only after an idle spell.

    Raising DisconnectionError makes the pool drop the connection and hand out
    another (SQLAlchemy's documented pessimistic disconnect handling).
    """
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is not None and time.monotonic() - since < PING_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError() from error
            raise

    return checkout


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
