"""Read models of the ledger: what a customer has, what is pending, what expires.

The one place balances are read: :func:`balance` in a read scope of its own,
:func:`balance_of` inside a caller's scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from webapp.domain.actor import Actor
from webapp.domain.clock import utcnow
from webapp.domain.errors import UnknownCustomer
from webapp.domain.ledger import AccountKind as K
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import Account, Customer, Lot, Operation, Transfer
from webapp.services.unit_of_work import reads

# What "expiring soon" means on the card, the counter panel and a balance read.
EXPIRING_HORIZON = timedelta(days=30)


@dataclass(frozen=True)
class Balance:
    """A customer's points at one moment."""

    available: int
    pending: int
    owed: int
    pending_releases: list[tuple[datetime | None, int]] = field(default_factory=list)
    expiring: list[tuple[datetime, int]] = field(default_factory=list)

    @property
    def expiring_total(self) -> int:
        return sum(points for _, points in self.expiring)


@reads
def balance(session: Session, actor: Actor, customer_id: int,
            now: datetime | None = None, horizon: timedelta = EXPIRING_HORIZON) -> Balance:
    """Available, pending (with release times), owed, and what expires within ``horizon``."""
    return balance_of(session, actor.business_id, customer_id, now or utcnow(), horizon)


def balance_of(session: Session, business_id: int, customer_id: int, now: datetime,
               horizon: timedelta = EXPIRING_HORIZON) -> Balance:
    """Read a customer's balance in the caller's transaction (it writes nothing)."""
    rows = session.execute(
        select(Account.kind, Account.balance)
        .join(Customer, Customer.id == Account.customer_id)
        .where(Customer.id == customer_id, Customer.business_id == business_id)
    ).all()
    if not rows:
        raise UnknownCustomer(customer_id=customer_id)
    balances = {K(kind): value or 0 for kind, value in rows}
    expiring = session.execute(
        select(Lot.expires_at, func.sum(Lot.remaining))
        .where(
            Lot.customer_id == customer_id,
            Lot.remaining > 0,
            Lot.expires_at > now,
            Lot.expires_at <= now + horizon,
        )
        .group_by(Lot.expires_at)
        .order_by(Lot.expires_at)
    ).all()
    resolution = aliased(Operation)
    refund = aliased(Operation)
    pending = aliased(Account)
    # What refunds already took out of pending for the hold's order is not coming.
    refunded = (
        select(func.coalesce(func.sum(Transfer.amount), 0))
        .join(refund, refund.id == Transfer.operation_id)
        .join(pending, pending.id == Transfer.debit_account_id)
        .where(refund.kind == Op.REVERSAL, refund.order_id == Operation.order_id,
               pending.kind == K.PENDING, Transfer.business_id == Operation.business_id)
        .correlate(Operation)
        .scalar_subquery()
    )
    holds = session.execute(
        select(Operation.release_at, Operation.points - refunded)
        .outerjoin(resolution, resolution.hold_id == Operation.id)
        .where(Operation.customer_id == customer_id, Operation.kind == Op.HOLD,
               resolution.id.is_(None))
        .order_by(Operation.release_at)
    ).all()
    return Balance(
        available=balances[K.AVAILABLE],
        pending=balances[K.PENDING],
        owed=-balances[K.CLAWBACK],
        pending_releases=[(at, int(points)) for at, points in holds if points > 0],
        expiring=[(at, int(points)) for at, points in expiring if at is not None],
    )
