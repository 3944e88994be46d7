"""Engine set-up: SQLite pragmas and BEGIN IMMEDIATE; idempotency key retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain.actor import Actor
from webapp.persistence.database import make_engine
from webapp.persistence.migrate import upgrade
from webapp.persistence.models import Customer, IdempotencyKey
from webapp.services import unit_of_work
from webapp.services.ledger import operations as ledger


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'pragmas.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(sqlite_file: str) -> None:
    engine = make_engine(sqlite_file)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    with pytest.raises(IntegrityError), engine.begin() as connection:  # foreign keys enforced
        connection.execute(text("INSERT INTO branches (business_id, name, created_at)"
                                " VALUES (999, 'x', '2026-01-01')"))
    engine.dispose()


def test_sqlite_transactions_take_the_write_lock_at_begin(sqlite_file: str) -> None:
    """BEGIN IMMEDIATE: a second writer waits at BEGIN, not at its first write,
    so two read-then-write transactions can never deadlock on a lock upgrade."""
    first = make_engine(sqlite_file)
    impatient = make_engine(sqlite_file, connect_args={"timeout": 0.2})
    with first.connect() as holder, holder.begin():
        holder.execute(text("SELECT 1"))  # a read is enough to hold the write lock
        with impatient.connect() as other, pytest.raises(OperationalError, match="locked"):
            other.begin()
            other.execute(text("SELECT 1"))
    first.dispose()
    impatient.dispose()


def test_idempotency_keys_are_kept_at_least_thirty_days(
        session: Session, system: Actor, customer: Customer, keys: Callable[[], str]) -> None:
    old, recent = keys(), keys()
    ledger.accrue(session, system, old, customer_id=customer.id, points=5, now=T0)
    ledger.accrue(session, system, recent, customer_id=customer.id, points=5, now=T0)
    session.execute(IdempotencyKey.__table__.update()
                    .where(IdempotencyKey.key == old).values(created_at=T0 - timedelta(days=40)))
    session.execute(IdempotencyKey.__table__.update()
                    .where(IdempotencyKey.key == recent).values(created_at=T0 - timedelta(days=30)))
    assert unit_of_work.purge_expired_keys(session, now=T0) == 1
    remaining = set(session.scalars(select(IdempotencyKey.key)))
    assert remaining == {recent}
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
