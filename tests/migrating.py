"""Migrating a database step by step: an empty one per test, downgrades, raw rows.

The ``empty_engine`` fixture lives in ``tests/integration/conftest.py``; the migration
tests (0012's backfill, 0014's order lines) share these helpers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, text

from webapp.persistence.database import make_engine
from webapp.persistence.migrate import alembic_config


def empty_database(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """An empty database to migrate step by step: a new SQLite file, or a new schema
    of the PostgreSQL test database (dropped afterwards)."""
    if engine.dialect.name == "sqlite":
        fresh = make_engine(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")
        yield fresh
        fresh.dispose()
        return
    schema = f"migrate_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    fresh = make_engine(url.render_as_string(hide_password=False))
    try:
        yield fresh
    finally:
        fresh.dispose()
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate ``engine``'s database down to ``revision``."""
    with engine.connect() as connection:  # as migrate.upgrade: the environment commits
        command.downgrade(alembic_config(connection), revision)


def insert(connection: Connection, table: str, **row: Any) -> None:
    """Insert one raw row, as an older schema holds it (no models involved)."""
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
