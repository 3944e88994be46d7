"""Points ledger use cases: accrue, redeem, hold/release/cancel, reverse, adjust,
expire (balances are read in :mod:`webapp.services.ledger.balances`). No Flask here:
callers pass the unit of work (or a session), the actor and the key.

Every write runs through :func:`webapp.services.unit_of_work.run_once`, whose write
scope ends the transaction; each returns a dict with the operation id and the
customer's balances after it; nothing here ends a transaction itself.
:func:`earn` and :func:`spend` are the steps other services (closing an order)
compose inside their own scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from webapp.domain import adjustments
from webapp.domain import ledger as rules
from webapp.domain.actor import Actor, ActorKind, Role
from webapp.domain.clock import utcnow
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
from webapp.persistence.ledger_store import LedgerStore, OperationRow
from webapp.persistence.models import Lot, Operation, Order, OrderLine
from webapp.services.abuse import adjustments as abuse_adjustments
from webapp.services.ledger import adjustment_checks
from webapp.services.notify import wallet_updates
from webapp.services.staff import audit
from webapp.services.unit_of_work import UnitOfWork, Work, run_once

Result = dict[str, Any]


def accrue(session: Work, actor: Actor, key: str, *, customer_id: int, points: int,
           order_id: int | None = None, expires_at: datetime | None = None,
           now: datetime | None = None) -> Result:
    """Credit points to available; any clawback debt is settled first."""
    rules.require_points(points)
    now = now or utcnow()
    params = {"customer": customer_id, "points": points, "order": order_id, "expires": expires_at}

    def work(store: LedgerStore) -> OperationRow:
        _check_unaccrued_order(store, order_id)
        return credit_new(store, kind=Op.ACCRUAL, points=points, expires_at=expires_at,
                          created_at=now, order_id=order_id, staff_id=actor.staff_id)

    return write(session, actor, key, "accrue", params, customer_id, work)


def redeem(session: Work, actor: Actor, key: str, *, customer_id: int, points: int,
           order_id: int | None = None, now: datetime | None = None) -> Result:
    """Spend available points, soonest-expiring lots first; expired lots never (I8)."""
    rules.require_points(points)
    now = now or utcnow()
    params = {"customer": customer_id, "points": points, "order": order_id}

    def work(store: LedgerStore) -> OperationRow:
        if order_id is not None:
            _order_of(store, order_id)
        return spend(store, points, order_id, actor.staff_id, now)

    return write(session, actor, key, "redeem", params, customer_id, work)


def hold(session: Work, actor: Actor, key: str, *, customer_id: int, points: int,
         release_at: datetime, order_id: int | None = None,
         now: datetime | None = None) -> Result:
    """Credit points to pending; they become available on release (I7)."""
    rules.require_points(points)
    now = now or utcnow()
    params = {"customer": customer_id, "points": points, "order": order_id, "release": release_at}

    def work(store: LedgerStore) -> OperationRow:
        _check_unaccrued_order(store, order_id)
        op = store.add_operation(kind=Op.HOLD, points=points, order_id=order_id,
                                 staff_id=actor.staff_id, release_at=release_at, created_at=now)
        store.move(op, K.ISSUED, K.PENDING, points)
        return op

    return write(session, actor, key, "hold", params, customer_id, work)


def release(session: Work, actor: Actor, key: str, *, hold_id: int,
            expires_at: datetime | None = None, now: datetime | None = None) -> Result:
    """Move a hold's points (less any refunded share) from pending to available."""
    return _resolve(session, actor, key, hold_id, Op.RELEASE, expires_at, now)


def cancel(session: Work, actor: Actor, key: str, *, hold_id: int,
           now: datetime | None = None) -> Result:
    """Give a hold's points back to the business: they never become available."""
    return _resolve(session, actor, key, hold_id, Op.CANCEL, None, now)


def _resolve(session: Work, actor: Actor, key: str, hold_id: int, kind: Op,
             expires_at: datetime | None, now: datetime | None) -> Result:
    now = now or utcnow()
    with UnitOfWork.of(session).read() as db:
        held = db.get(Operation, hold_id)
        if held is None or held.business_id != actor.business_id or held.kind != Op.HOLD:
            raise NotFound("unknown_hold", hold_id=hold_id)
        customer_id = held.customer_id
    assert customer_id is not None
    params = {"hold": hold_id, "expires": expires_at}

    def work(store: LedgerStore) -> OperationRow:
        if store.session.scalar(select(Operation.id).where(Operation.hold_id == hold_id)):
            raise AlreadyResolved(hold_id=hold_id)
        return resolve_hold(store, held, kind, actor.staff_id, expires_at, now)

    return write(session, actor, key, kind.value, params, customer_id, work)


def resolve_hold(store: LedgerStore, held: Operation, kind: Op, staff_id: int | None,
                 expires_at: datetime | None, now: datetime) -> OperationRow:
    """Release or cancel one unresolved hold on a locked store (in the caller's scope)."""
    amount = held.points
    if held.order_id is not None:  # a refund may already have taken part of it
        amount -= store.moved_for_order(held.order_id, [Op.REVERSAL], debit=K.PENDING)
    op = store.add_operation(kind=kind, points=amount, hold_id=held.id,
                             order_id=held.order_id, staff_id=staff_id, created_at=now)
    if amount > 0:
        store.move(op, K.PENDING, K.ISSUED, amount)
        if kind is Op.RELEASE:
            earn(store, op, amount, expires_at)
    return op


def reverse(session: Work, actor: Actor, key: str, *, order_id: int, refund_minor: int,
            expires_at: datetime | None = None, now: datetime | None = None) -> Result:
    """Refund an amount of a one-line order: reverse its points proportionally (I5).

    See :func:`reverse_points` for where the points come from and go. An order of
    several lines is returned by line (:mod:`webapp.services.ledger.returns`).
    """
    require_role(actor, Role.MANAGER)
    rules.require_refund(refund_minor)
    now = now or utcnow()
    with UnitOfWork.of(session).read() as db:
        order = db.get(Order, order_id)
        if order is None or order.business_id != actor.business_id:
            raise UnknownOrder(order_id=order_id)
        customer_id = order.customer_id
    params = {"order": order_id, "refund": refund_minor}

    def work(store: LedgerStore) -> OperationRow:
        store.session.refresh(order)  # read under the customer's lock
        # One way per order: by amount (a one-line order), or by line (returns.py).
        lines = list(store.session.scalars(select(OrderLine).where(
            OrderLine.business_id == actor.business_id, OrderLine.order_id == order_id)))
        if order.refunded_minor + refund_minor > order.total_minor:
            raise InvalidAmount("refund_over_left",
                                left_minor=order.total_minor - order.refunded_minor)
        if len(lines) > 1 or any(line.returned_quantity for line in lines):
            raise InvalidInput("refund_by_lines", order_id=order_id)
        order.refunded_minor += refund_minor
        order.status = ("refunded" if order.refunded_minor == order.total_minor
                        else "partially_refunded")
        if order.status == "refunded" and lines:  # the line went back too: its stamp
            lines[0].returned_quantity = lines[0].quantity
        so_far = reversed_so_far(store, order_id)
        to_take = rules.refund_share(so_far.earned, order.total_minor, order.refunded_minor,
                                     so_far.taken)
        to_return = rules.refund_share(so_far.spent, order.total_minor,
                                       order.refunded_minor, so_far.returned)
        return reverse_points(store, order_id, to_take, to_return, actor.staff_id, now,
                              expires_at)

    return write(session, actor, key, "reverse", params, customer_id, work)


@dataclass(frozen=True)
class Reversed:
    """What an order's operations moved: points earned and spent, and what reversals
    took back and gave back so far."""

    earned: int
    taken: int
    spent: int
    returned: int


def reversed_so_far(store: LedgerStore, order_id: int) -> Reversed:
    """The order's points so far (under the customer's lock)."""
    # A cancelled hold never reached the customer: the order did not earn it.
    return Reversed(
        earned=(store.moved_for_order(order_id, [Op.ACCRUAL, Op.HOLD], debit=K.ISSUED)
                - store.moved_for_order(order_id, [Op.CANCEL], credit=K.ISSUED)),
        taken=store.moved_for_order(order_id, [Op.REVERSAL], credit=K.ISSUED),
        spent=store.moved_for_order(order_id, [Op.REDEMPTION]),
        returned=store.moved_for_order(order_id, [Op.REVERSAL], debit=K.REDEEMED),
    )


def reverse_points(store: LedgerStore, order_id: int, to_take: int, to_return: int,
                   staff_id: int | None, now: datetime,
                   expires_at: datetime | None) -> OperationRow:
    """Write one reversal: take ``to_take`` earned points back, give ``to_return`` spent
    points back (I5).

    Earned points come back out of pending (if not yet released), then available;
    what was already spent goes to the customer's clawback debt, settled from later
    accruals, so no balance goes negative.
    """
    op = store.add_operation(kind=Op.REVERSAL, points=to_take - to_return,
                             order_id=order_id, staff_id=staff_id, created_at=now)
    to_take -= _take_from_pending(store, op, order_id, to_take)
    plan = rules.consume_up_to(store.open_lots(), to_take, now)
    to_take -= store.take_from_lots(op, plan, K.ISSUED)
    if to_take:  # already spent: the customer owes it, settled from later accruals
        store.move(op, K.CLAWBACK, K.ISSUED, to_take)
    if to_return:
        lot = store.add_lot(op, to_return, expires_at)
        store.move(op, K.REDEEMED, K.AVAILABLE, to_return, lot_id=lot)
    store.session.flush()
    return op


def adjust(session: Work, actor: Actor, key: str, *, customer_id: int, points: int,
           reason: str, expires_at: datetime | None = None,
           now: datetime | None = None) -> Result:
    """A manual correction with a real reason: positive credits, negative debits.

    Managers and owners, on an active customer; what the owner must approve is
    ApprovalRequired for a manager (:mod:`webapp.services.ledger.adjustment_checks`), who
    asks through :mod:`webapp.services.ledger.adjustment_requests`. Flagged when large or
    frequent."""
    require_role(actor, Role.MANAGER)
    if actor.staff_id is None:
        raise PermissionDenied("adjust_staff_only")
    rules.require_adjustment(points)
    reason = adjustments.require_reason(reason)
    now = now or utcnow()
    params = adjust_params(customer_id, points, reason, expires_at)

    def work(store: LedgerStore) -> OperationRow:
        limits, zone = adjustment_checks.before_adjusting(
            store.session, actor, customer_id=customer_id, points=points, now=now)
        op = write_adjustment(store, actor.staff_id, points, reason, expires_at, now)
        abuse_adjustments.check(store.session, actor, customer_id=customer_id, points=points,
                                reference=f"operation:{op.id}", now=now, limits=limits,
                                zone=zone)
        return op

    return write(session, actor, key, "adjust", params, customer_id, work, at=now)


def adjust_params(customer_id: int, points: int, reason: str,
                  expires_at: datetime | None) -> dict[str, Any]:
    """An adjustment's idempotency fingerprint: a request made instead has the same."""
    return {"customer": customer_id, "points": points, "reason": reason, "expires": expires_at}


def write_adjustment(store: LedgerStore, staff_id: int | None, points: int, reason: str,
                     expires_at: datetime | None, now: datetime) -> OperationRow:
    """Write an adjustment on a locked store (in the caller's scope): a credit becomes a
    lot, a debit takes from the usable lots (InsufficientPoints if short)."""
    op = store.add_operation(kind=Op.ADJUSTMENT, points=points, reason=reason,
                             staff_id=staff_id, created_at=now)
    if points > 0:
        lot = store.add_lot(op, points, expires_at)
        store.move(op, K.ADJUSTED, K.AVAILABLE, points, lot_id=lot)
    else:
        store.take_from_lots(op, rules.consume(store.open_lots(), -points, now), K.ADJUSTED)
    return op


def expire_due(session: Work, actor: Actor, now: datetime | None = None) -> int:
    """Expire every lot whose time has come, one customer per write scope; returns points.

    Each customer's scope commits on its own, so an error with one customer keeps
    what was already expired for the others. Safe to run again at any time or after
    a crash: a lot once expired has nothing left.
    """
    now = now or utcnow()
    uow = UnitOfWork.of(session)
    with uow.read() as db:
        customers = db.scalars(
            select(Lot.customer_id).where(
                Lot.business_id == actor.business_id, Lot.remaining > 0, Lot.expires_at <= now
            ).distinct()
        ).all()
    total = 0
    for customer_id in customers:
        with uow.write() as db:
            store = LedgerStore(db, actor.business_id).lock(customer_id)
            expired = expire_lots(store, now)
            if expired:
                wallet_updates.changed(db, customer_id, now)
        total += expired
    return total


def expire_lots(store: LedgerStore, now: datetime) -> int:
    """Expire a locked customer's lots whose time has come (in the caller's scope);
    returns points."""
    plan = rules.due_for_expiry(store.open_lots(), now)
    if not plan:
        return 0
    points = sum(p for _, p in plan)
    op = store.add_operation(kind=Op.EXPIRY, points=points, created_at=now)
    store.take_from_lots(op, plan, K.EXPIRED)
    return points


# -- steps other services compose ------------------------------------------------------

def earn(store: LedgerStore, op: OperationRow, points: int,
         expires_at: datetime | None) -> None:
    """Credit points from the business: settle any clawback debt first, the rest as a lot."""
    settle, credit = rules.settle_from_accrual(points, -store.balances[K.CLAWBACK])
    if settle:
        store.move(op, K.ISSUED, K.CLAWBACK, settle)
    if credit:
        lot = store.add_lot(op, credit, expires_at)
        store.move(op, K.ISSUED, K.AVAILABLE, credit, lot_id=lot)


def credit_new(store: LedgerStore, *, kind: Op, points: int, expires_at: datetime | None,
               created_at: datetime, **fields: Any) -> OperationRow:
    """Write an operation of ``points`` credited from the business (:func:`earn`): when
    the customer owes no clawback, its rows in one round trip on PostgreSQL
    (:meth:`LedgerStore.add_credited`)."""
    if store.balances[K.CLAWBACK]:
        op = store.add_operation(kind=kind, points=points, created_at=created_at, **fields)
        earn(store, op, points, expires_at)
        return op
    return store.add_credited(kind=kind, points=points, created_at=created_at,
                              expires_at=expires_at, debit=K.ISSUED, credit=K.AVAILABLE,
                              **fields)


def spend(store: LedgerStore, points: int, order_id: int | None, staff_id: int | None,
          now: datetime) -> OperationRow:
    """Write a redemption of ``points`` from the usable lots; InsufficientPoints if short."""
    plan = rules.consume(store.open_lots(), points, now)
    return store.add_taken(kind=Op.REDEMPTION, points=points, created_at=now, plan=plan,
                           credit=K.REDEEMED, order_id=order_id, staff_id=staff_id)


def result_of(store: LedgerStore, op: OperationRow | None) -> Result:
    """What a ledger write returns: the operation and the customer's balances after it."""
    return {
        "operation_id": op.id if op else None,
        "kind": op.kind if op else None,
        "points": op.points if op else 0,
        "available": store.balances[K.AVAILABLE],
        "pending": store.balances[K.PENDING],
        "owed": -store.balances[K.CLAWBACK],
    }


Step = Callable[[LedgerStore], OperationRow]


def write(session: Work, actor: Actor, key: str, name: str, params: dict[str, Any],
          customer_id: int, work: Step, at: datetime | None = None) -> Result:
    """Do ``work`` on the customer's locked ledger in :func:`run_once`'s write scope.

    ``run_once`` is the outermost scope here (no ``@writes`` around it), so a lost race
    on the same key still answers with the winner's result.
    """
    uow = UnitOfWork.of(session)

    def run() -> Result:
        db = uow.session
        store = LedgerStore(db, actor.business_id).lock(customer_id)
        result = result_of(store, work(store))
        wallet_updates.changed(db, customer_id)
        if actor.kind is not ActorKind.SYSTEM:
            audit.record(db, actor, name, customer_id=customer_id,
                         order_id=params.get("order"), details={**params, **result}, at=at)
        return result

    return run_once(session, actor.business_id, key, name, params, run)


def _take_from_pending(store: LedgerStore, op: OperationRow, order_id: int,
                       wanted: int) -> int:
    """Take up to ``wanted`` from this order's still-unresolved hold."""
    held = store.session.scalar(
        select(Operation).where(Operation.order_id == order_id, Operation.kind == Op.HOLD)
    )
    if held is None or wanted == 0:
        return 0
    if store.session.scalar(select(Operation.id).where(Operation.hold_id == held.id)):
        return 0
    still = held.points - store.moved_for_order(order_id, [Op.REVERSAL], debit=K.PENDING)
    take = min(still, wanted)
    if take > 0:
        store.move(op, K.PENDING, K.ISSUED, take)
    return max(take, 0)


def _check_unaccrued_order(store: LedgerStore, order_id: int | None) -> None:
    if order_id is None:
        return
    _order_of(store, order_id)
    if store.session.scalar(
        select(Operation.id).where(Operation.order_id == order_id,
                                   Operation.kind.in_([Op.ACCRUAL, Op.HOLD]))
    ):
        raise DuplicateAccrual(order_id=order_id)


def _order_of(store: LedgerStore, order_id: int) -> Order:
    order = store.session.get(Order, order_id)
    if (order is None or order.business_id != store.business_id
            or order.customer_id != store.customer_id):
        raise UnknownOrder("order_not_customers", order_id=order_id)
    return order


def require_role(actor: Actor, role: Role) -> None:
    """PermissionDenied unless the actor holds ``role`` or a higher one."""
    if not actor.is_at_least(role):
        raise PermissionDenied("role_not_allowed", needed=role.value)
