"""Forfeiting a customer's points when their account is closed: a step on the
customer's locked ledger, composed by :mod:`webapp.services.customers.profile` inside
its write scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.ledger_store import LedgerStore
from webapp.persistence.models import Operation
from webapp.services.ledger.operations import expire_lots, resolve_hold, write_adjustment


@dataclass(frozen=True)
class Forfeited:
    operation_id: int | None  # the adjustment that took the points; None with nothing to take
    points: int
    expired: int  # already past expiry: expired first (I8), not forfeited
    cancelled_pending: int


def forfeit_all(store: LedgerStore, reason: str, now: datetime) -> Forfeited:
    """Close a locked customer's points (account deleted; in the caller's write scope):
    expire what is due, cancel unresolved holds so nothing arrives later (I7), and take
    the rest as an adjustment with ``reason``. The entries stay; only balances reach zero."""
    expired = expire_lots(store, now)
    resolution = aliased(Operation)
    holds = store.session.scalars(select(Operation).where(
        Operation.customer_id == store.customer_id, Operation.kind == Op.HOLD,
        ~select(resolution.id).where(resolution.hold_id == Operation.id).exists())
        .order_by(Operation.id)).all()
    cancelled = sum(resolve_hold(store, held, Op.CANCEL, None, None, now).points
                    for held in holds)
    points = sum(lot.remaining for lot in store.open_lots() if lot.usable(now))
    if not points:
        return Forfeited(None, 0, expired, cancelled)
    op = write_adjustment(store, None, -points, reason, None, now)
    return Forfeited(op.id, points, expired, cancelled)
