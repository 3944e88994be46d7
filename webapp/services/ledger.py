"""Points ledger use cases: accrue, redeem, hold/release/cancel, reverse, adjust,
expire, balance. No Flask here: callers pass the session, the actor and the key.

Every write runs through :func:`webapp.services.idempotency.run_once`, which owns
the transaction; each returns a dict with the operation id and the customer's
balances after it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain import ledger as rules
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import (
    AlreadyResolved,
    DuplicateAccrual,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PermissionDenied,
    UnknownOrder,
)
from webapp.domain.ledger import AccountKind as K
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.base import utcnow
from webapp.persistence.ledger_store import LedgerStore
from webapp.persistence.models import Lot, Operation, Order
from webapp.services.idempotency import run_once
from webapp.services.ledger_views import Balance, balance_of

__all__ = [
    "Balance",
    "accrue",
    "adjust",
    "balance",
    "cancel",
    "expire_due",
    "hold",
    "redeem",
    "release",
    "reverse",
]

Result = dict[str, Any]


def accrue(session: Session, actor: Actor, key: str, *, customer_id: int, points: int,
           order_id: int | None = None, expires_at: datetime | None = None,
           now: datetime | None = None) -> Result:
    """Credit points to available; any clawback debt is settled first."""
    rules.require_points(points)
    now = now or utcnow()
    params = {"customer": customer_id, "points": points, "order": order_id, "expires": expires_at}

    def work(store: LedgerStore, accounts: dict[rules.AccountKind, int]) -> Operation:
        _check_order(store, order_id, customer_id)
        op = store.add_operation(customer_id=customer_id, kind=Op.ACCRUAL, points=points,
                                 order_id=order_id, staff_id=actor.staff_id, created_at=now)
        credit_available(store, op, accounts, customer_id, points, now, expires_at)
        return op

    return _write(session, actor, key, "accrue", params, customer_id, work)


def redeem(session: Session, actor: Actor, key: str, *, customer_id: int, points: int,
           order_id: int | None = None, now: datetime | None = None) -> Result:
    """Spend available points, oldest lots first; expired lots are never spent (I8)."""
    rules.require_points(points)
    now = now or utcnow()
    params = {"customer": customer_id, "points": points, "order": order_id}

    def work(store: LedgerStore, accounts: dict[rules.AccountKind, int]) -> Operation:
        if order_id is not None:
            _order(store, order_id, customer_id)
        plan = rules.consume(store.open_lots(customer_id), points, now)
        op = store.add_operation(customer_id=customer_id, kind=Op.REDEMPTION, points=points,
                                 order_id=order_id, staff_id=actor.staff_id, created_at=now)
        store.take_from_lots(op, plan, accounts[K.AVAILABLE], store.system_account(K.REDEEMED))
        return op

    return _write(session, actor, key, "redeem", params, customer_id, work)


def hold(session: Session, actor: Actor, key: str, *, customer_id: int, points: int,
         release_at: datetime, order_id: int | None = None,
         now: datetime | None = None) -> Result:
    """Credit points to pending; they become available on release (I7)."""
    rules.require_points(points)
    now = now or utcnow()
    params = {"customer": customer_id, "points": points, "order": order_id, "release": release_at}

    def work(store: LedgerStore, accounts: dict[rules.AccountKind, int]) -> Operation:
        _check_order(store, order_id, customer_id)
        op = store.add_operation(customer_id=customer_id, kind=Op.HOLD, points=points,
                                 order_id=order_id, staff_id=actor.staff_id,
                                 release_at=release_at, created_at=now)
        store.move(op, store.system_account(K.ISSUED), accounts[K.PENDING], points)
        return op

    return _write(session, actor, key, "hold", params, customer_id, work)


def release(session: Session, actor: Actor, key: str, *, hold_id: int,
            expires_at: datetime | None = None, now: datetime | None = None) -> Result:
    """Move a hold's points (less any refunded share) from pending to available."""
    return _resolve(session, actor, key, hold_id, Op.RELEASE, expires_at, now)


def cancel(session: Session, actor: Actor, key: str, *, hold_id: int,
           now: datetime | None = None) -> Result:
    """Give a hold's points back to the business: they never become available."""
    return _resolve(session, actor, key, hold_id, Op.CANCEL, None, now)


def _resolve(session: Session, actor: Actor, key: str, hold_id: int, kind: Op,
             expires_at: datetime | None, now: datetime | None) -> Result:
    now = now or utcnow()
    held = session.get(Operation, hold_id)
    if held is None or held.business_id != actor.business_id or held.kind != Op.HOLD:
        raise NotFound("No such pending hold.", hold_id=hold_id)
    customer_id = held.customer_id
    assert customer_id is not None
    params = {"hold": hold_id, "expires": expires_at}

    def work(store: LedgerStore, accounts: dict[rules.AccountKind, int]) -> Operation:
        if session.scalar(select(Operation.id).where(Operation.hold_id == hold_id)):
            raise AlreadyResolved("This pending hold was already resolved.", hold_id=hold_id)
        amount = held.points
        if held.order_id is not None:  # a refund may already have taken part of it
            amount -= store.moved_for_order(held.order_id, [Op.REVERSAL], debit=accounts[K.PENDING])
        op = store.add_operation(customer_id=customer_id, kind=kind, points=amount,
                                 hold_id=hold_id, order_id=held.order_id,
                                 staff_id=actor.staff_id, created_at=now)
        if amount > 0 and kind is Op.RELEASE:
            store.move(op, accounts[K.PENDING], store.system_account(K.ISSUED), amount)
            credit_available(store, op, accounts, customer_id, amount, now, expires_at)
        elif amount > 0:
            store.move(op, accounts[K.PENDING], store.system_account(K.ISSUED), amount)
        return op

    return _write(session, actor, key, kind.value, params, customer_id, work)


def reverse(session: Session, actor: Actor, key: str, *, order_id: int, refund_minor: int,
            expires_at: datetime | None = None, now: datetime | None = None) -> Result:
    """Refund all or part of an order: reverse its points proportionally (I5).

    Earned points come back out of pending (if not yet released), then available;
    what was already spent goes to the customer's clawback debt, settled from later
    accruals, so no balance goes negative. Redeemed points are given back.
    """
    _require_role(actor, Role.MANAGER)
    rules.require_money(refund_minor, allow_zero=False)
    now = now or utcnow()
    order = session.get(Order, order_id)
    if order is None or order.business_id != actor.business_id:
        raise UnknownOrder("No such order.", order_id=order_id)
    customer_id = order.customer_id
    params = {"order": order_id, "refund": refund_minor}

    def work(store: LedgerStore, accounts: dict[rules.AccountKind, int]) -> Operation:
        session.refresh(order)  # read under the customer's lock
        if order.refunded_minor + refund_minor > order.total_minor:
            raise InvalidAmount("The refund is larger than what is left of the order.",
                                left=order.total_minor - order.refunded_minor)
        order.refunded_minor += refund_minor
        full = order.refunded_minor == order.total_minor
        order.status = "refunded" if full else "partially_refunded"
        issued, available = store.system_account(K.ISSUED), accounts[K.AVAILABLE]
        earned = store.moved_for_order(order_id, [Op.ACCRUAL, Op.HOLD], debit=issued)
        taken = store.moved_for_order(order_id, [Op.REVERSAL], credit=issued)
        spent = store.moved_for_order(order_id, [Op.REDEMPTION])
        returned = store.moved_for_order(order_id, [Op.REVERSAL], debit=store.system_account(
            K.REDEEMED))
        to_take = rules.refund_share(earned, order.total_minor, order.refunded_minor, taken)
        to_return = rules.refund_share(spent, order.total_minor, order.refunded_minor, returned)
        op = store.add_operation(customer_id=customer_id, kind=Op.REVERSAL,
                                 points=to_take - to_return, order_id=order_id,
                                 staff_id=actor.staff_id, created_at=now)
        to_take -= _take_from_pending(store, op, accounts, order_id, to_take)
        plan = rules.consume_up_to(store.open_lots(customer_id), to_take, now)
        to_take -= store.take_from_lots(op, plan, available, issued)
        if to_take:  # already spent: the customer owes it, settled from later accruals
            store.move(op, accounts[K.CLAWBACK], issued, to_take)
        if to_return:
            lot = store.add_lot(customer_id, op, to_return, now, expires_at)
            store.move(op, store.system_account(K.REDEEMED), available, to_return, lot_id=lot)
        return op

    return _write(session, actor, key, "reverse", params, customer_id, work)


def adjust(session: Session, actor: Actor, key: str, *, customer_id: int, points: int,
           reason: str, expires_at: datetime | None = None,
           now: datetime | None = None) -> Result:
    """A manual correction by a manager: positive credits, negative debits; reason required."""
    _require_role(actor, Role.MANAGER)
    if actor.staff_id is None:
        raise PermissionDenied("Only a staff member can adjust points.")
    rules.require_points(points, allow_negative=True)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("An adjustment needs a reason.")
    if len(reason) > 500:
        raise InvalidInput("The reason is longer than 500 characters.")
    now = now or utcnow()
    params = {"customer": customer_id, "points": points, "reason": reason, "expires": expires_at}

    def work(store: LedgerStore, accounts: dict[rules.AccountKind, int]) -> Operation:
        op = store.add_operation(customer_id=customer_id, kind=Op.ADJUSTMENT, points=points,
                                 reason=reason, staff_id=actor.staff_id, created_at=now)
        if points > 0:
            lot = store.add_lot(customer_id, op, points, now, expires_at)
            store.move(op, store.system_account(K.ADJUSTED), accounts[K.AVAILABLE], points,
                       lot_id=lot)
        else:
            plan = rules.consume(store.open_lots(customer_id), -points, now)
            store.take_from_lots(op, plan, accounts[K.AVAILABLE], store.system_account(K.ADJUSTED))
        return op

    return _write(session, actor, key, "adjust", params, customer_id, work)


def expire_due(session: Session, actor: Actor, now: datetime | None = None) -> int:
    """Expire every lot whose time has come, one customer per transaction; returns points.

    Safe to run again at any time or after a crash: a lot once expired has nothing left.
    """
    now = now or utcnow()
    customers = session.scalars(
        select(Lot.customer_id).where(
            Lot.business_id == actor.business_id, Lot.remaining > 0, Lot.expires_at <= now
        ).distinct()
    ).all()
    session.rollback()
    total = 0
    for customer_id in customers:
        store = LedgerStore(session, actor.business_id)
        try:
            accounts = store.lock_customer(customer_id)
            plan = rules.due_for_expiry(store.open_lots(customer_id), now)
            if plan:
                points = sum(p for _, p in plan)
                op = store.add_operation(customer_id=customer_id, kind=Op.EXPIRY, points=points,
                                         created_at=now)
                store.take_from_lots(op, plan, accounts[K.AVAILABLE],
                                     store.system_account(K.EXPIRED))
                total += points
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return total


def balance(session: Session, actor: Actor, customer_id: int,
            now: datetime | None = None, horizon: timedelta = timedelta(days=30)) -> Balance:
    """Available, pending (with release times), owed, and what expires within ``horizon``."""
    result = balance_of(session, actor.business_id, customer_id, now or utcnow(), horizon)
    session.rollback()
    return result


# -- shared steps ---------------------------------------------------------------------

Work = Callable[[LedgerStore, dict[rules.AccountKind, int]], Operation]


def _write(session: Session, actor: Actor, key: str, name: str, params: dict[str, Any],
           customer_id: int, work: Work) -> Result:
    def run() -> Result:
        store = LedgerStore(session, actor.business_id)
        accounts = store.lock_customer(customer_id)
        op = work(store, accounts)
        balances = store.balances(customer_id)
        return {
            "operation_id": op.id,
            "kind": op.kind,
            "points": op.points,
            "available": balances[K.AVAILABLE],
            "pending": balances[K.PENDING],
            "owed": -balances[K.CLAWBACK],
        }

    return run_once(session, actor.business_id, key, name, params, run)


def credit_available(store: LedgerStore, op: Operation, accounts: dict[rules.AccountKind, int],
                     customer_id: int, points: int, now: datetime,
                     expires_at: datetime | None) -> None:
    """Credit an accrual: settle any clawback debt first, the rest as a new lot."""
    issued = store.system_account(K.ISSUED)
    owed = -store.balances(customer_id)[K.CLAWBACK]
    settle, credit = rules.settle_from_accrual(points, owed)
    if settle:
        store.move(op, issued, accounts[K.CLAWBACK], settle)
    if credit:
        lot = store.add_lot(customer_id, op, credit, now, expires_at)
        store.move(op, issued, accounts[K.AVAILABLE], credit, lot_id=lot)


def _take_from_pending(store: LedgerStore, op: Operation, accounts: dict[rules.AccountKind, int],
                       order_id: int, wanted: int) -> int:
    """Take up to ``wanted`` from this order's still-unresolved hold."""
    held = store.session.scalar(
        select(Operation).where(Operation.order_id == order_id, Operation.kind == Op.HOLD)
    )
    if held is None or wanted == 0:
        return 0
    if store.session.scalar(select(Operation.id).where(Operation.hold_id == held.id)):
        return 0
    still = held.points - store.moved_for_order(order_id, [Op.REVERSAL],
                                                debit=accounts[K.PENDING])
    take = min(still, wanted)
    if take > 0:
        store.move(op, accounts[K.PENDING], store.system_account(K.ISSUED), take)
    return max(take, 0)


def _check_order(store: LedgerStore, order_id: int | None, customer_id: int) -> None:
    if order_id is None:
        return
    _order(store, order_id, customer_id)
    if store.session.scalar(
        select(Operation.id).where(Operation.order_id == order_id,
                                   Operation.kind.in_([Op.ACCRUAL, Op.HOLD]))
    ):
        raise DuplicateAccrual("This order has already earned its points.", order_id=order_id)


def _order(store: LedgerStore, order_id: int, customer_id: int) -> Order:
    order = store.session.get(Order, order_id)
    if order is None or order.business_id != store.business_id or order.customer_id != customer_id:
        raise UnknownOrder("No such order for this customer.", order_id=order_id)
    return order


def _require_role(actor: Actor, role: Role) -> None:
    if not actor.is_at_least(role):
        raise PermissionDenied("Your role does not allow this.", needed=role.value)
