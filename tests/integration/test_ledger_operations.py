"""Every ledger operation and its errors, on the real database (I1-I8)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain.actor import Actor
from webapp.domain.errors import (
    AlreadyResolved,
    DuplicateAccrual,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PermissionDenied,
    UnknownCustomer,
    UnknownOrder,
)
from webapp.persistence.models import Branch, Customer, Entry, IdempotencyKey, Operation, Transfer
from webapp.services.counter import orders
from webapp.services.ledger import balances
from webapp.services.ledger import operations as ledger
from webapp.services.ledger.invariants import check

Keys = Callable[[], str]
DAY = timedelta(days=1)


def assert_clean(session: Session) -> None:
    report = check(session, now=T0 + 1000 * DAY)
    assert report.ok, [(f.invariant, f.violations) for f in report.findings if not f.ok]


def rows(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_accrue_and_redeem_move_points_both_ways(session: Session, system: Actor,
                                                  customer: Customer, keys: Keys) -> None:
    assert ledger.accrue(session, system, keys(), customer_id=customer.id, points=500,
                         now=T0)["available"] == 500
    result = ledger.redeem(session, system, keys(), customer_id=customer.id, points=120, now=T0)
    assert (result["kind"], result["points"], result["available"]) == ("redemption", 120, 380)
    assert balances.balance(session, system, customer.id, now=T0).available == 380
    assert_clean(session)


def test_redeeming_more_than_available_writes_nothing(session: Session, system: Actor,
                                                      customer: Customer, keys: Keys) -> None:
    ledger.accrue(session, system, keys(), customer_id=customer.id, points=100, now=T0)
    before = (rows(session, Operation), rows(session, Entry), rows(session, IdempotencyKey))
    with pytest.raises(InsufficientPoints):
        ledger.redeem(session, system, keys(), customer_id=customer.id, points=101, now=T0)
    assert (rows(session, Operation), rows(session, Entry), rows(session, IdempotencyKey)) == before
    assert balances.balance(session, system, customer.id).available == 100


@pytest.mark.parametrize("points", [0, -5, 2.5, "100", 10**12])
def test_bad_amounts_are_refused_before_anything_is_written(
        session: Session, system: Actor, customer: Customer, keys: Keys, points: object) -> None:
    for operation in (ledger.accrue, ledger.redeem):
        with pytest.raises(InvalidAmount):
            operation(session, system, keys(), customer_id=customer.id, points=points)
    assert rows(session, Operation) == 0


def test_unknown_and_foreign_customers_are_not_found(
        session: Session, make_business: Callable, make_customer: Callable, system: Actor,
        keys: Keys) -> None:
    other = make_customer(make_business("Чужой сервис"))
    for customer_id in (other.id, 999_999):
        with pytest.raises(UnknownCustomer):
            ledger.accrue(session, system, keys(), customer_id=customer_id, points=10)
        with pytest.raises(UnknownCustomer):
            balances.balance(session, system, customer_id)
    assert rows(session, Operation) == 0


def test_same_key_same_request_returns_the_stored_result(session: Session, system: Actor,
                                                         customer: Customer) -> None:
    first = ledger.accrue(session, system, "order-42-accrual", customer_id=customer.id,
                          points=70, now=T0)
    again = ledger.accrue(session, system, "order-42-accrual", customer_id=customer.id,
                          points=70, now=T0)
    assert again == first
    assert rows(session, Operation) == 1
    assert balances.balance(session, system, customer.id).available == 70


def test_same_key_different_request_is_a_conflict(session: Session, system: Actor,
                                                  customer: Customer) -> None:
    ledger.accrue(session, system, "order-43-accrual", customer_id=customer.id, points=70)
    with pytest.raises(IdempotencyConflict):
        ledger.accrue(session, system, "order-43-accrual", customer_id=customer.id, points=71)
    with pytest.raises(IdempotencyConflict):
        ledger.redeem(session, system, "order-43-accrual", customer_id=customer.id, points=70)
    assert rows(session, Operation) == 1


def test_a_failed_request_can_be_retried_with_its_key(session: Session, system: Actor,
                                                      customer: Customer, keys: Keys) -> None:
    with pytest.raises(InsufficientPoints):
        ledger.redeem(session, system, "retry-me-1", customer_id=customer.id, points=50)
    ledger.accrue(session, system, keys(), customer_id=customer.id, points=50)
    assert ledger.redeem(session, system, "retry-me-1", customer_id=customer.id,
                         points=50)["available"] == 0


def test_hold_release_and_cancel_resolve_exactly_once(session: Session, system: Actor,
                                                      customer: Customer, keys: Keys) -> None:
    held = ledger.hold(session, system, keys(), customer_id=customer.id, points=40,
                       release_at=T0 + 14 * DAY, now=T0)
    assert (held["pending"], held["available"]) == (40, 0)
    balance = balances.balance(session, system, customer.id, now=T0)
    assert balance.pending_releases == [(T0 + 14 * DAY, 40)]
    released = ledger.release(session, system, keys(), hold_id=held["operation_id"],
                              now=T0 + 14 * DAY)
    assert (released["pending"], released["available"]) == (0, 40)
    with pytest.raises(AlreadyResolved):
        ledger.cancel(session, system, keys(), hold_id=held["operation_id"])
    with pytest.raises(AlreadyResolved):
        ledger.release(session, system, keys(), hold_id=held["operation_id"])

    second = ledger.hold(session, system, keys(), customer_id=customer.id, points=25,
                         release_at=T0 + 30 * DAY, now=T0)
    cancelled = ledger.cancel(session, system, keys(), hold_id=second["operation_id"])
    assert (cancelled["pending"], cancelled["available"]) == (0, 40)
    with pytest.raises(NotFound):
        ledger.release(session, system, keys(), hold_id=released["operation_id"])
    assert_clean(session)


def test_expiry_takes_oldest_lots_and_expired_points_cannot_be_spent(
        session: Session, system: Actor, customer: Customer, keys: Keys) -> None:
    ledger.accrue(session, system, keys(), customer_id=customer.id, points=100, now=T0,
                  expires_at=T0 + 30 * DAY)
    ledger.accrue(session, system, keys(), customer_id=customer.id, points=60, now=T0 + DAY,
                  expires_at=T0 + 365 * DAY)
    soon = balances.balance(session, system, customer.id, now=T0 + 10 * DAY)
    assert soon.expiring == [(T0 + 30 * DAY, 100)] and soon.expiring_total == 100
    later = T0 + 31 * DAY
    with pytest.raises(InsufficientPoints):  # the first lot is past expiry even before the job
        ledger.redeem(session, system, keys(), customer_id=customer.id, points=61, now=later)
    assert ledger.expire_due(session, system, now=later) == 100
    assert ledger.expire_due(session, system, now=later) == 0  # nothing twice
    assert balances.balance(session, system, customer.id, now=later).available == 60
    assert_clean(session)


def test_adjustments_need_a_manager_and_a_reason(session: Session, customer: Customer,
                                                 manager: Actor, cashier: Actor,
                                                 system: Actor, keys: Keys) -> None:
    with pytest.raises(PermissionDenied):
        ledger.adjust(session, cashier, keys(), customer_id=customer.id, points=10, reason="x")
    with pytest.raises(PermissionDenied):  # the platform itself never adjusts silently
        ledger.adjust(session, system, keys(), customer_id=customer.id, points=10, reason="x")
    for reason in ("", "   ", "x", "Ошибка", "x" * 501):
        with pytest.raises(InvalidInput):
            ledger.adjust(session, manager, keys(), customer_id=customer.id, points=10,
                          reason=reason)
    assert ledger.adjust(session, manager, keys(), customer_id=customer.id, points=30,
                         reason="Гарантийный случай")["available"] == 30
    with pytest.raises(InsufficientPoints):
        ledger.adjust(session, manager, keys(), customer_id=customer.id, points=-31,
                      reason="Ошибка кассира")
    assert ledger.adjust(session, manager, keys(), customer_id=customer.id, points=-30,
                         reason="Ошибка кассира")["available"] == 0
    op = session.scalars(select(Operation).order_by(Operation.id.desc())).first()
    assert op is not None and op.reason == "Ошибка кассира" and op.staff_id == manager.staff_id
    assert_clean(session)


def close(session: Session, actor: Actor, key: str, customer: Customer, branch: Branch,
          total: int, accrue: int = 0, redeem: int = 0) -> dict:
    return orders.close_order(session, actor, key, customer_id=customer.id, branch_id=branch.id,
                              total_minor=total, accrue_points=accrue, redeem_points=redeem,
                              now=T0)


def test_full_refund_reverses_earned_and_gives_back_redeemed(
        session: Session, system: Actor, manager: Actor, customer: Customer, branch: Branch,
        keys: Keys) -> None:
    ledger.accrue(session, system, keys(), customer_id=customer.id, points=300, now=T0)
    order = close(session, system, keys(), customer, branch, 1_000_000, accrue=500, redeem=200)
    assert order["available"] == 600
    refunded = ledger.reverse(session, manager, keys(), order_id=order["order_id"],
                              refund_minor=1_000_000)
    assert (refunded["available"], refunded["owed"]) == (300, 0)
    with pytest.raises(InvalidAmount):  # nothing left to refund
        ledger.reverse(session, manager, keys(), order_id=order["order_id"], refund_minor=1)
    assert_clean(session)


def test_partial_refunds_are_proportional_and_add_up(
        session: Session, system: Actor, manager: Actor, customer: Customer, branch: Branch,
        keys: Keys) -> None:
    order = close(session, system, keys(), customer, branch, 300_000, accrue=100)
    first = ledger.reverse(session, manager, keys(), order_id=order["order_id"],
                           refund_minor=100_000)
    assert first["available"] == 67  # a third of 100 is 33.3: the customer keeps the fraction
    second = ledger.reverse(session, manager, keys(), order_id=order["order_id"],
                            refund_minor=200_000)
    assert second["available"] == 0
    assert_clean(session)


def test_refund_of_spent_points_goes_to_clawback_and_is_settled_later(
        session: Session, system: Actor, manager: Actor, customer: Customer, branch: Branch,
        keys: Keys) -> None:
    order = close(session, system, keys(), customer, branch, 500_000, accrue=250)
    ledger.redeem(session, system, keys(), customer_id=customer.id, points=200)
    refunded = ledger.reverse(session, manager, keys(), order_id=order["order_id"],
                              refund_minor=500_000)
    assert (refunded["available"], refunded["owed"]) == (0, 200)
    settled = ledger.accrue(session, system, keys(), customer_id=customer.id, points=150)
    assert (settled["available"], settled["owed"]) == (0, 50)
    settled = ledger.accrue(session, system, keys(), customer_id=customer.id, points=80)
    assert (settled["available"], settled["owed"]) == (30, 0)
    assert_clean(session)


def test_refund_before_release_takes_from_pending(
        session: Session, system: Actor, manager: Actor, customer: Customer, branch: Branch,
        keys: Keys) -> None:
    order = close(session, system, keys(), customer, branch, 200_000)
    held = ledger.hold(session, system, keys(), customer_id=customer.id, points=100,
                       release_at=T0 + 14 * DAY, order_id=order["order_id"], now=T0)
    ledger.reverse(session, manager, keys(), order_id=order["order_id"], refund_minor=100_000)
    balance = balances.balance(session, system, customer.id)
    assert balance.pending == 50
    assert balance.pending_releases == [(T0 + 14 * DAY, 50)]
    released = ledger.release(session, system, keys(), hold_id=held["operation_id"])
    assert (released["pending"], released["available"]) == (0, 50)
    assert_clean(session)


def test_refunds_need_a_manager_and_a_real_order(
        session: Session, system: Actor, cashier: Actor, manager: Actor, customer: Customer,
        branch: Branch, make_business: Callable, keys: Keys) -> None:
    order = close(session, system, keys(), customer, branch, 100_000, accrue=10)
    with pytest.raises(PermissionDenied):
        ledger.reverse(session, cashier, keys(), order_id=order["order_id"], refund_minor=1)
    other = Actor.system(make_business("Другой").id)
    with pytest.raises(UnknownOrder):
        ledger.reverse(session, other, keys(), order_id=order["order_id"], refund_minor=1)
    for bad in (0, -100, 100_001):
        with pytest.raises(InvalidAmount):
            ledger.reverse(session, manager, keys(), order_id=order["order_id"],
                           refund_minor=bad)


def test_an_order_accrues_once(session: Session, system: Actor, customer: Customer,
                               branch: Branch, keys: Keys) -> None:
    order = close(session, system, keys(), customer, branch, 100_000, accrue=50)
    with pytest.raises(DuplicateAccrual):
        ledger.accrue(session, system, keys(), customer_id=customer.id, points=50,
                      order_id=order["order_id"])
    with pytest.raises(DuplicateAccrual):
        ledger.hold(session, system, keys(), customer_id=customer.id, points=50,
                    order_id=order["order_id"], release_at=T0)


def test_order_refs_must_belong_to_the_business(
        session: Session, system: Actor, customer: Customer, make_business: Callable,
        make_customer: Callable, keys: Keys) -> None:
    other_business = make_business("Другой")
    foreign_branch = session.scalars(
        select(Branch).where(Branch.business_id == other_business.id)).first()
    with pytest.raises(InvalidInput):
        close(session, system, keys(), customer, foreign_branch, 1000)
    assert rows(session, Operation) == 0


@pytest.mark.parametrize("table", ["entries", "transfers", "operations"])
def test_ledger_rows_cannot_be_updated_or_deleted(session: Session, system: Actor,
                                                  customer: Customer, keys: Keys,
                                                  table: str) -> None:
    ledger.accrue(session, system, keys(), customer_id=customer.id, points=10)
    column = {"entries": "amount", "transfers": "amount", "operations": "points"}[table]
    for statement in (f"UPDATE {table} SET {column} = {column} + 1", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))
    assert rows(session, Transfer) == 1
