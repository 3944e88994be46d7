"""Writes for different customers of one business never wait on each other's rows.

Regression: system accounts used to take a (no-op) row update on every transfer, so
on PostgreSQL every order of a business queued behind one lock, and a close (locks
redeemed, then issued) could deadlock with a refund (issued, then redeemed).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from webapp.domain.actor import Actor, Role
from webapp.persistence.models import Branch
from webapp.services.business import setup as businesses
from webapp.services.counter import orders
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.ledger import operations as ledger
from webapp.services.ledger.invariants import check
from webapp.services.staff import accounts as staff

ROUNDS = 15


@pytest.mark.slow
def test_closes_and_refunds_on_different_customers_run_side_by_side(
        fresh_engine: Engine) -> None:
    sessions = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with sessions() as db:
        business = businesses.create_business(db, name="Гараж")
        member = staff.create_staff(db, business_id=business.id, login="boss",
                                    password="a long password", role="manager")
        boss = Actor.staff(business.id, member.id, Role.MANAGER)
        branch_id = db.scalar(select(Branch.id).where(Branch.business_id == business.id))
        people = [customers.join(db, Actor.system(business.id),
                                 phone=f"+7916555{i:04d}").customer.id for i in range(6)]
        for n, customer_id in enumerate(people):
            ledger.accrue(db, boss, f"seed-{n:04d}", customer_id=customer_id, points=10_000)
    errors: list[BaseException] = []
    start = threading.Barrier(len(people))

    def run(worker: int, customer_id: int) -> None:
        try:
            with sessions() as db:
                start.wait()
                for n in range(ROUNDS):
                    closed = orders.close_order(
                        db, boss, f"close-{worker}-{n:04d}", customer_id=customer_id,
                        branch_id=branch_id, total_minor=100_000, accrue_points=50,
                        redeem_points=20)
                    if worker % 2:  # half the workers refund what they just closed
                        ledger.reverse(db, boss, f"refund-{worker}-{n:04d}",
                                       order_id=closed["order_id"], refund_minor=100_000)
        except BaseException as error:  # surfaced below with its type
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w, c)) for w, c in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with sessions() as db:
        report = check(db)
        assert report.ok, [(f.invariant, f.violations) for f in report.findings if not f.ok]
        refunded = [balances.balance(db, boss, c).available for c in people[1::2]]
        kept = [balances.balance(db, boss, c).available for c in people[0::2]]
    assert refunded == [10_000] * 3
    assert kept == [10_000 + ROUNDS * 30] * 3


