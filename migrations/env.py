"""Alembic environment: the schema comes only from these migrations (both engines).

Run through Flask-Migrate (``regulars db upgrade``), the app's engine is used;
tests may hand a connection in ``config.attributes["connection"]``.
"""

import logging
from logging.config import fileConfig

from alembic import context

from webapp.persistence import models  # noqa: F401  (registers the tables)
from webapp.persistence.base import Base

config = context.config
if config.config_file_name and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")
target_metadata = Base.metadata


def _connectable():
    given = config.attributes.get("connection")
    if given is not None:
        return given
    from flask import current_app

    return current_app.extensions["migrate"].db.engine


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = _connectable()
    if hasattr(connectable, "connect") and not hasattr(connectable, "execute"):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    # SQLite alters a table by copying it, which a foreign key pointing at it refuses
    # while foreign keys are on; the pragma only takes effect outside a transaction,
    # so it is set on the raw connection, every key is checked before the commit, and
    # the pragma is restored after it (alembic leaves SQLite's transaction to us).
    relax = connection.dialect.name == "sqlite" and not connection.in_transaction()
    raw = connection.connection.driver_connection if relax else None
    if raw is not None:
        raw.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        if raw is not None:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
            connection.commit()
    except BaseException:
        if raw is not None and connection.in_transaction():
            connection.rollback()
        raise
    finally:
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
