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
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
