"""Manual adjustments on both engines: a real reason, the owner's approval above the
business's limit (applied once, or rejected with nothing applied), who may decide,
the flags a large or frequent adjustment raises, and a clean ledger throughout."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.conftest import committed_staff
from webapp.domain.actor import Actor, Role
from webapp.domain.adjustments import ApprovalRequired, InvalidReason
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import (
    AlreadyResolved,
    InsufficientPoints,
    NotFound,
    PermissionDenied,
    UnknownCustomer,
)
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import (
    AbuseFlag,
    AdjustmentRequest,
    AuditEvent,
    Business,
    Customer,
    Operation,
)
from webapp.services.abuse import flags as abuse_flags
from webapp.services.customers import accounts as customers
from webapp.services.ledger import adjustment_request_list, adjustment_requests, balances
from webapp.services.ledger import invariants as ledger_check
from webapp.services.ledger import operations as ledger

Keys = Callable[[], str]
REASON = "Компенсация за сорванный ремонт"


def count(session: Session, model: type, *where: Any) -> int:
    found = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    session.rollback()
    return int(found)


def adjustments(session: Session, customer: Customer) -> int:
    return count(session, Operation, Operation.kind == Op.ADJUSTMENT,
                 Operation.customer_id == customer.id)


def available(session: Session, actor: Actor, customer: Customer) -> int:
    return balances.balance(session, actor, customer.id).available


def flags(session: Session, kind: str) -> list[AbuseFlag]:
    found = list(session.scalars(select(AbuseFlag).where(AbuseFlag.kind == kind)
                                 .order_by(AbuseFlag.id)))
    session.rollback()
    return found


def assert_clean(session: Session) -> None:
    report = ledger_check.check(session)
    assert report.ok, [(f.invariant, f.violations) for f in report.findings if not f.ok]


def submit(session: Session, actor: Actor, key: str, customer: Customer, points: int,
           reason: str = REASON) -> adjustment_requests.Submitted:
    return adjustment_requests.submit(session, actor, key, customer_id=customer.id,
                                      points=points, reason=reason)


def test_a_huge_adjustment_with_reason_x_is_refused_for_the_reason(
    session: Session, manager: Actor, owner: Actor, customer: Customer, keys: Keys
) -> None:
    for actor in (manager, owner):
        with pytest.raises(InvalidReason):
            submit(session, actor, keys(), customer, 999_999_999, reason="x")
        with pytest.raises(InvalidReason):
            ledger.adjust(session, actor, keys(), customer_id=customer.id,
                          points=999_999_999, reason="x")
    assert adjustments(session, customer) == 0
    assert count(session, AdjustmentRequest) == 0 and count(session, AbuseFlag) == 0
    assert available(session, manager, customer) == 0


def test_a_managers_large_adjustment_waits_for_the_owner(
    session: Session, manager: Actor, owner: Actor, customer: Customer, keys: Keys
) -> None:
    key = keys()
    asked = submit(session, manager, key, customer, 6000)
    assert asked.request_id is not None and asked.limit == 5000
    assert submit(session, manager, key, customer, 6000) == asked  # a double submit: one request
    assert count(session, AdjustmentRequest) == 1
    assert adjustments(session, customer) == 0 and available(session, manager, customer) == 0
    (pending,) = adjustment_request_list.requests(session, manager, customer_id=customer.id)
    assert (pending.id, pending.points, pending.reason, pending.status) == (
        asked.request_id, 6000, REASON, "pending")
    # The manager cannot go around it through the ledger.
    with pytest.raises(ApprovalRequired):
        ledger.adjust(session, manager, keys(), customer_id=customer.id, points=6000,
                      reason=REASON)
    assert adjustments(session, customer) == 0

    done = adjustment_requests.approve(session, owner, asked.request_id)
    assert (done.status, done.available, done.already) == ("approved", 6000, False)
    again = adjustment_requests.approve(session, owner, asked.request_id)
    assert again.already and again.status == "approved"
    assert available(session, manager, customer) == 6000
    (op,) = session.scalars(select(Operation).where(Operation.kind == Op.ADJUSTMENT)).all()
    assert (op.points, op.reason, op.staff_id) == (6000, REASON, owner.staff_id)
    row = session.get(AdjustmentRequest, asked.request_id)
    assert row is not None
    assert (row.status, row.operation_id, row.decided_by, row.requested_by) == (
        "approved", op.id, owner.staff_id, manager.staff_id)
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["adjustment_request.create", "adjustment_request.approve"]
    with pytest.raises(AlreadyResolved):
        adjustment_requests.reject(session, owner, asked.request_id, "Передумал, не надо")
    assert_clean(session)


def test_a_rejected_request_applies_nothing(
    session: Session, manager: Actor, owner: Actor, customer: Customer, keys: Keys
) -> None:
    asked = submit(session, manager, keys(), customer, 7000)
    assert asked.request_id is not None
    with pytest.raises(InvalidReason):  # a rejection needs a real reason too
        adjustment_requests.reject(session, owner, asked.request_id, "нет")
    done = adjustment_requests.reject(session, owner, asked.request_id,
                                      "Ремонт не срывался, компенсации нет")
    assert (done.status, done.already) == ("rejected", False)
    assert adjustment_requests.reject(session, owner, asked.request_id,
                                      "Ремонт не срывался, компенсации нет").already
    with pytest.raises(AlreadyResolved):
        adjustment_requests.approve(session, owner, asked.request_id)
    assert adjustments(session, customer) == 0 and available(session, owner, customer) == 0
    (decided,) = adjustment_request_list.requests(session, owner, pending=False)
    assert (decided.status, decided.note, decided.by_system) == (
        "rejected", "Ремонт не срывался, компенсации нет", False)
    assert not adjustment_request_list.requests(session, owner)
    assert_clean(session)


def test_only_the_owner_decides_and_only_their_business(
    session: Session, manager: Actor, owner: Actor, cashier: Actor, customer: Customer,
    keys: Keys, make_business: Callable[..., Business], make_staff: Callable[..., Actor],
) -> None:
    asked = submit(session, manager, keys(), customer, 6000)
    assert asked.request_id is not None
    for actor in (cashier, manager):
        with pytest.raises(PermissionDenied):
            adjustment_requests.approve(session, actor, asked.request_id)
        with pytest.raises(PermissionDenied):
            adjustment_requests.reject(session, actor, asked.request_id, "Не согласен с этим")
    with pytest.raises(PermissionDenied):
        submit(session, cashier, keys(), customer, 10)
    with pytest.raises(PermissionDenied):
        adjustment_request_list.requests(session, cashier)
    other_owner = make_staff(make_business("Чужой сервис"), Role.OWNER)
    with pytest.raises(NotFound):
        adjustment_requests.approve(session, other_owner, asked.request_id)
    with pytest.raises(NotFound):
        adjustment_requests.reject(session, other_owner, asked.request_id, "Не согласен с этим")
    assert not adjustment_request_list.requests(session, other_owner)
    with pytest.raises(UnknownCustomer):  # their manager asking for our customer
        submit(session, make_staff(session.get(Business, other_owner.business_id)), keys(),
               customer, 6000)
    assert adjustments(session, customer) == 0
    assert count(session, AdjustmentRequest, AdjustmentRequest.status == "pending") == 1


def test_the_owners_own_large_adjustment_is_applied_and_flagged(
    session: Session, owner: Actor, customer: Customer, keys: Keys
) -> None:
    done = submit(session, owner, keys(), customer, 8000)
    assert (done.request_id, done.available) == (None, 8000)
    (flag,) = flags(session, "large_adjustment")
    op_id = session.scalar(select(Operation.id).where(Operation.kind == Op.ADJUSTMENT))
    assert (flag.subject, flag.customer_id, flag.staff_id) == (
        f"operation:{op_id}", customer.id, owner.staff_id)
    assert '"count": 8000' in flag.details and '"limit": 5000' in flag.details
    assert submit(session, owner, keys(), customer, -6000).available == 2000
    assert len(flags(session, "large_adjustment")) == 2  # one per adjustment
    assert_clean(session)


def test_a_managers_large_request_is_flagged(
    session: Session, manager: Actor, customer: Customer, keys: Keys
) -> None:
    asked = submit(session, manager, keys(), customer, 5001)
    (flag,) = flags(session, "large_adjustment")
    assert flag.subject == f"request:{asked.request_id}" and flag.staff_id == manager.staff_id
    submit(session, manager, keys(), customer, 5000)  # at the limit: applied, no flag
    assert len(flags(session, "large_adjustment")) == 1
    assert available(session, manager, customer) == 5000


def test_a_debit_the_customer_cannot_cover_is_refused_or_stays_pending(
    session: Session, manager: Actor, owner: Actor, customer: Customer, keys: Keys
) -> None:
    with pytest.raises(InsufficientPoints):  # it could never be approved
        submit(session, manager, keys(), customer, -6000)
    assert count(session, AdjustmentRequest) == 0
    submit(session, owner, keys(), customer, 6500)
    asked = submit(session, manager, keys(), customer, -6000)
    assert asked.request_id is not None
    submit(session, manager, keys(), customer, -1000)  # spent meanwhile
    with pytest.raises(InsufficientPoints):
        adjustment_requests.approve(session, owner, asked.request_id)
    assert count(session, AdjustmentRequest, AdjustmentRequest.status == "pending") == 1
    assert available(session, owner, customer) == 5500
    assert_clean(session)


def test_the_limit_is_the_businesss_own(
    session: Session, manager: Actor, owner: Actor, customer: Customer, keys: Keys
) -> None:
    abuse_flags.save_limits(session, owner, AbuseLimits(adjustment_approval_above=100))
    assert submit(session, manager, keys(), customer, 100).request_id is None
    assert submit(session, manager, keys(), customer, 101).request_id is not None
    submit(session, owner, keys(), customer, 500)
    assert submit(session, manager, keys(), customer, -101).request_id is not None
    assert available(session, manager, customer) == 600


def test_frequent_adjustments_are_flagged(
    session: Session, manager: Actor, make_staff: Callable[..., Actor], owner: Actor,
    business: Business, make_customer: Callable[..., Customer], keys: Keys
) -> None:
    abuse_flags.save_limits(session, owner, AbuseLimits(adjustments_per_staff_day=3,
                                                        adjustments_per_customer_day=2))
    one, two = make_customer(business), make_customer(business)
    other = make_staff(business, Role.MANAGER)
    submit(session, manager, keys(), one, 10)
    submit(session, other, keys(), one, 10)
    assert not flags(session, "customer_adjustments_day")
    submit(session, manager, keys(), one, 6000)  # a request counts as well
    (on_customer,) = flags(session, "customer_adjustments_day")
    assert (on_customer.subject, on_customer.customer_id) == (f"customer:{one.id}", one.id)
    assert not flags(session, "staff_adjustments_day")
    submit(session, manager, keys(), two, 10)  # the manager's third today: at the limit
    assert not flags(session, "staff_adjustments_day")
    submit(session, manager, keys(), two, 10)
    (by_staff,) = flags(session, "staff_adjustments_day")
    assert (by_staff.subject, by_staff.staff_id) == (f"staff:{manager.staff_id}",
                                                      manager.staff_id)
    assert '"count": 4' in by_staff.details and '"limit": 3' in by_staff.details
    submit(session, manager, keys(), two, 10)  # one flag per day
    assert len(flags(session, "staff_adjustments_day")) == 1
    # The owner's approval ends a request already counted: no new count for anyone.
    pending = adjustment_request_list.requests(session, owner)[0]
    adjustment_requests.approve(session, owner, pending.id)
    assert len(flags(session, "staff_adjustments_day")) == 1
    assert_clean(session)


def test_every_step_is_in_the_audit_trail(
    session: Session, manager: Actor, owner: Actor, customer: Customer, keys: Keys
) -> None:
    there = dataclasses.replace(manager, ip="203.0.113.7")
    first = submit(session, there, keys(), customer, 6000)
    second = submit(session, there, keys(), customer, 7000)
    assert first.request_id and second.request_id
    adjustment_requests.approve(session, owner, first.request_id)
    adjustment_requests.reject(session, owner, second.request_id, "Слишком щедро, хватит")
    events = session.execute(select(AuditEvent.action, AuditEvent.staff_id, AuditEvent.ip,
                                    AuditEvent.customer_id, AuditEvent.details)
                             .order_by(AuditEvent.id)).all()
    assert [(e.action, e.staff_id) for e in events] == [
        ("adjustment_request.create", manager.staff_id),
        ("adjustment_request.create", manager.staff_id),
        ("adjustment_request.approve", owner.staff_id),
        ("adjustment_request.reject", owner.staff_id),
    ]
    assert events[0].ip == "203.0.113.7" and {e.customer_id for e in events} == {customer.id}
    assert json.loads(events[2].details)["requested_by"] == manager.staff_id
    assert json.loads(events[3].details)["note"] == "Слишком щедро, хватит"


@pytest.mark.slow
def test_two_approvals_at_once_apply_it_once(fresh_engine: Engine) -> None:
    sessions = sessionmaker(bind=fresh_engine, expire_on_commit=False)
    with sessions() as db:
        actors = committed_staff(db, (Role.MANAGER, Role.OWNER))
        business_id = actors[Role.OWNER].business_id
        customer_id = customers.join(db, Actor.system(business_id),
                                     phone="+79161234567").customer.id
        asked = adjustment_requests.submit(db, actors[Role.MANAGER], "concurrent-request-1",
                                           customer_id=customer_id, points=9000,
                                           reason=REASON)
    assert asked.request_id is not None
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def approve() -> None:
        with sessions() as mine:
            barrier.wait()
            try:
                results.append(adjustment_requests.approve(mine, actors[Role.OWNER],
                                                           asked.request_id or 0))
            except Exception as error:  # collected, asserted below
                results.append(error)

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.already for r in results) == [False, True, True, True], results
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Operation)
                         .where(Operation.kind == Op.ADJUSTMENT)) == 1
        assert balances.balance(db, Actor.system(business_id), customer_id).available == 9000
        assert_clean(db)
