"""The schema comes only from the migrations, and they produce exactly the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from webapp.persistence.base import Base
from webapp.persistence.database import make_engine
from webapp.persistence.migrate import upgrade


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


def test_upgrading_a_database_with_orders_keeps_them(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it; rows that other tables point at must survive."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0001")
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO businesses VALUES (1, 'Гараж', 'RUB', 'Europe/Moscow', 'ru', 'RU',"
            " '2026-01-01')",
            "INSERT INTO branches VALUES (1, 1, 'Центр', NULL, '2026-01-01')",
            "INSERT INTO customers (id, business_id, phone, marketing_consent, referral_code,"
            " card_number, status, created_at) VALUES (1, 1, '+79161234567', 0, 'ABCDEF',"
            " '123456789', 'active', '2026-01-01')",
            "INSERT INTO orders (id, business_id, branch_id, customer_id, total_minor,"
            " refunded_minor, status, created_at) VALUES (1, 1, 1, 1, 1000, 0, 'closed',"
            " '2026-01-01')",
            "INSERT INTO operations (id, business_id, customer_id, kind, points, order_id,"
            " created_at) VALUES (1, 1, 1, 'accrual', 0, 1, '2026-01-01')",
        ):
            connection.exec_driver_sql(statement)
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT discount_minor FROM orders").all() == [(0,)]
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
