"""Splitting a large adjustment into small ones does not go around the owner (review
finding D3), on both engines: a manager's day total, and the day total of managers'
adjustments on one customer, send the rest to the owner as requests saying why."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import T0
from tests.integration.test_adjustment_requests import REASON, assert_clean, available, count
from webapp.domain.actor import Actor, Role
from webapp.domain.adjustments import ApprovalRequired, Why
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import AdjustmentRequest, AuditEvent, Business, Customer, Operation
from webapp.services.abuse import flags as abuse_flags
from webapp.services.business import setup as businesses
from webapp.services.customers import accounts as customers
from webapp.services.ledger import adjustment_requests
from webapp.services.ledger import operations as ledger
from webapp.services.staff import accounts as staff

Keys = Callable[[], str]
NOON = T0 + timedelta(hours=3)  # 15:00 in Moscow, the business's zone


@pytest.fixture
def give(session: Session, keys: Keys) -> Callable[..., adjustment_requests.Submitted]:
    """Submit a correction as the page does, at ``at`` (noon of the test day)."""

    def submit(actor: Actor, customer: Customer, points: int,
               at: Any = NOON) -> adjustment_requests.Submitted:
        return adjustment_requests.submit(session, actor, keys(), customer_id=customer.id,
                                          points=points, reason=REASON, now=at)

    return submit


def test_forty_adjustments_of_5000_in_a_day_apply_20000_and_ask_for_the_rest(
    session: Session, manager: Actor, business: Business, keys: Keys,
    make_customer: Callable[..., Customer], give: Callable[..., Any],
) -> None:
    """The review's proof of concept: 40 x 5,000 = 200,000 points credited in one day."""
    people = [make_customer(business) for _ in range(40)]
    done = [give(manager, person, 5000) for person in people]
    assert [d.request_id is None for d in done] == [True] * 4 + [False] * 36
    asked = done[4]
    assert (asked.why, asked.total, asked.limit, asked.available) == ("staff_day", 25_000,
                                                                     20_000, 0)
    assert {(d.why, d.total) for d in done[5:]} == {("staff_day", 25_000)}  # applied only
    assert sum(available(session, manager, p) for p in people) == 20_000
    assert count(session, AdjustmentRequest, AdjustmentRequest.status == "pending") == 36
    # The request says why in the audit trail as well.
    event = session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "adjustment_request.create").order_by(AuditEvent.id)).first()
    assert event is not None and '"why": "staff_day"' in event
    # Debits count as much as credits, and the ledger refuses what the owner must approve.
    with pytest.raises(ApprovalRequired) as refused:
        ledger.adjust(session, manager, keys(), customer_id=people[0].id, points=-1,
                      reason=REASON, now=NOON)
    assert (refused.value.why, refused.value.total) == (Why.STAFF_DAY, 20_001)
    # The day is the business's local day: the next one starts again from zero.
    assert give(manager, people[0], 5000, at=NOON + timedelta(days=1)).request_id is None
    assert_clean(session)


def test_small_adjustments_on_one_customer_add_up_to_the_approval_limit(
    session: Session, manager: Actor, business: Business, customer: Customer,
    make_staff: Callable[..., Actor], give: Callable[..., Any],
) -> None:
    colleague = make_staff(business, Role.MANAGER)
    assert give(manager, customer, 3000).request_id is None
    assert give(manager, customer, -2000).request_id is None  # 5,000 today: at the limit
    asked = give(colleague, customer, 1)  # anyone's: two managers do not make 10,000
    assert asked.request_id is not None
    assert (asked.why, asked.total, asked.limit) == ("customer_day", 5001, 5000)
    assert available(session, manager, customer) == 1000
    # Another day, another total.
    assert give(colleague, customer, 1, at=NOON + timedelta(days=1)).request_id is None


def test_what_the_owner_applies_or_approves_is_not_a_managers_total(
    session: Session, manager: Actor, owner: Actor, business: Business,
    make_customer: Callable[..., Customer], give: Callable[..., Any],
) -> None:
    mine, asked_for = make_customer(business), make_customer(business)
    assert give(owner, mine, 9000).request_id is None  # the owner's own: applied
    assert give(owner, mine, 30_000).request_id is None  # no day total for the owner
    assert give(manager, mine, 100).request_id is None
    request = give(manager, asked_for, 6000)
    assert request.request_id is not None and request.why == "large"
    adjustment_requests.approve(session, owner, request.request_id, now=NOON)
    assert give(manager, asked_for, 100).request_id is None
    assert available(session, owner, asked_for) == 6100


def test_the_owner_sets_the_day_total(
    session: Session, manager: Actor, owner: Actor, business: Business,
    make_customer: Callable[..., Customer], give: Callable[..., Any],
) -> None:
    abuse_flags.save_limits(session, owner, AbuseLimits(adjustment_day_total_above=300))
    one, two = make_customer(business), make_customer(business)
    assert give(manager, one, 200).request_id is None
    assert give(manager, two, 100).request_id is None
    asked = give(manager, two, -1)
    assert (asked.why, asked.total, asked.limit) == ("staff_day", 301, 300)


@pytest.mark.slow
def test_parallel_adjustments_by_one_manager_stay_within_the_day_total(
    fresh_engine: Engine,
) -> None:
    """On PostgreSQL each adjustment locks only its own customer: without the lock on
    the manager's row, six at once would each see nothing applied yet."""
    sessions = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with sessions() as db:
        business_id = businesses.create_business(db, name="Гараж").id
        member = staff.create_staff(db, business_id=business_id, login="manager",
                                    password="correct horse battery", role="manager")
        actor = Actor.staff(business_id, member.id, Role.MANAGER)
        people = [customers.join(db, Actor.system(business_id),
                                 phone=f"+7916123450{i}").customer.id for i in range(6)]
    barrier = threading.Barrier(len(people))
    results: list[Any] = []

    def adjust(customer_id: int) -> None:
        with sessions() as mine:
            barrier.wait()
            try:
                results.append(adjustment_requests.submit(
                    mine, actor, f"parallel-{customer_id:08d}", customer_id=customer_id,
                    points=5000, reason=REASON, now=NOON))
            except Exception as error:  # collected, asserted below
                results.append(error)

    threads = [threading.Thread(target=adjust, args=(c,)) for c in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.request_id is None for r in results) == [False, False] + [True] * 4, results
    with sessions() as db:
        applied = db.scalar(select(func.sum(Operation.points))
                            .where(Operation.kind == Op.ADJUSTMENT))
        assert applied == 20_000
        assert_clean(db)
