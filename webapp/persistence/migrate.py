"""Run the Alembic migrations on a connection, without Flask (tests, benchmarks)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from webapp.config import PROJECT_ROOT


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the schema only ever comes from here)."""
    with engine.connect() as connection:  # the environment opens the transaction
        command.upgrade(alembic_config(connection), revision)
