"""The schema comes only from the migrations, and they produce exactly the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from webapp.persistence.base import Base


def test_migrations_produce_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_check_constraints_from_the_models_exist_in_the_database(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        wanted = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
        present = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert wanted <= present, (table.name, wanted - present)


def test_migrations_are_at_head(engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from webapp.persistence.migrate import alembic_config

    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == ScriptDirectory.from_config(alembic_config()).get_current_head()
