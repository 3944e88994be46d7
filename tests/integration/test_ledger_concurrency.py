"""Many threads writing for one customer at once, with real commits (DESIGN.md I3, I4).

Each thread has its own session from the same engine and all start together at a
barrier, so the database's locking (BEGIN IMMEDIATE on SQLite, FOR UPDATE and the
idempotency key's unique index on PostgreSQL) is what keeps the ledger right.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.concurrency import race, unexpected
from webapp.domain.actor import Actor
from webapp.domain.errors import IdempotencyConflict, InsufficientPoints
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import IdempotencyKey, Operation, Transfer
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.ledger import invariants as ledger_check
from webapp.services.ledger import operations as ledger

pytestmark = pytest.mark.slow

def open_customer(engine: Engine) -> tuple[Actor, int]:
    """A committed business with one customer; the actor is the system (no staff row)."""
    with Session(engine, expire_on_commit=False) as db:
        business = businesses.create_business(db, name="Concurrency")
        actor = Actor.system(business.id)
        return actor, customers.join(db, actor, phone="+79160000001").customer.id


def count(engine: Engine, *where: Any, of: Any = Operation) -> int:
    with Session(engine) as db:
        return db.scalar(select(func.count()).select_from(of).where(*where)) or 0


def assert_clean(engine: Engine) -> None:
    with Session(engine) as db:
        report = ledger_check.check(db)
    failed = [f"{f.invariant} {f.title}: {f.violations}" for f in report.findings if not f.ok]
    assert report.ok, "\n".join(failed)


def available(engine: Engine, actor: Actor, customer_id: int) -> int:
    with Session(engine) as db:
        return balances.balance(db, actor, customer_id).available


def test_fifty_redemptions_of_a_tenth_of_the_balance(fresh_engine: Engine) -> None:
    actor, customer_id = open_customer(fresh_engine)
    with Session(fresh_engine) as db:
        ledger.accrue(db, actor, "fund-0001", customer_id=customer_id, points=1_000)

    outcomes = race(fresh_engine, 50, lambda db, i: ledger.redeem(
        db, actor, f"redeem-{i:04d}", customer_id=customer_id, points=100))

    assert unexpected(outcomes, InsufficientPoints) == []
    succeeded = [o for o in outcomes if isinstance(o, dict)]
    assert len(succeeded) == 10
    assert sum(isinstance(o, InsufficientPoints) for o in outcomes) == 40
    # Each success saw the balance its own redemption left, so all ten are distinct.
    assert sorted(o["available"] for o in succeeded) == list(range(0, 1_000, 100))
    assert available(fresh_engine, actor, customer_id) == 0
    assert count(fresh_engine, Operation.kind == Op.REDEMPTION) == 10
    assert_clean(fresh_engine)


def test_same_key_same_request_is_written_once(fresh_engine: Engine) -> None:
    actor, customer_id = open_customer(fresh_engine)

    outcomes = race(fresh_engine, 20, lambda db, _i: ledger.accrue(
        db, actor, "same-key-0001", customer_id=customer_id, points=250))

    assert unexpected(outcomes) == []
    results = [o for o in outcomes if isinstance(o, dict)]
    assert {r["operation_id"] for r in results} == {results[0]["operation_id"]}
    assert {(r["available"], r["points"]) for r in results} == {(250, 250)}
    assert count(fresh_engine, Operation.kind == Op.ACCRUAL) == 1
    assert count(fresh_engine, of=Transfer) == 1
    assert count(fresh_engine, IdempotencyKey.key == "same-key-0001", of=IdempotencyKey) == 1
    assert available(fresh_engine, actor, customer_id) == 250
    assert_clean(fresh_engine)


def test_same_key_different_request_is_a_conflict(fresh_engine: Engine) -> None:
    actor, customer_id = open_customer(fresh_engine)
    # Even threads ask for 100 points, odd ones for 200, all under one key: whichever
    # request lands first wins, every request unlike it gets a conflict.
    outcomes = race(fresh_engine, 20, lambda db, i: ledger.accrue(
        db, actor, "shared-key-01", customer_id=customer_id, points=100 * (1 + i % 2)))

    assert unexpected(outcomes, IdempotencyConflict) == []
    results = [o for o in outcomes if isinstance(o, dict)]
    won = results[0]["points"]
    assert {(r["operation_id"], r["points"]) for r in results} == {
        (results[0]["operation_id"], won)}
    assert len(results) == 10
    for i, outcome in enumerate(outcomes):  # the losing request's ten threads, exactly
        assert isinstance(outcome, IdempotencyConflict) == (100 * (1 + i % 2) != won)
    assert count(fresh_engine, Operation.kind == Op.ACCRUAL) == 1
    assert available(fresh_engine, actor, customer_id) == won

    with Session(fresh_engine) as db, pytest.raises(IdempotencyConflict):
        ledger.accrue(db, actor, "shared-key-01", customer_id=customer_id, points=300)
    assert count(fresh_engine, Operation.kind == Op.ACCRUAL) == 1
    assert_clean(fresh_engine)
