"""Adjustment requests as the back office lists them: waiting for the owner, or
decided, for the business or one customer (managers and owners see them). Deciding
them is :mod:`webapp.services.ledger.adjustment_requests`. A read scope of the unit of work
(:mod:`webapp.services.unit_of_work`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from webapp.domain.actor import Actor, Role
from webapp.domain.errors import PermissionDenied
from webapp.persistence.models import AdjustmentRequest, Business, Customer, StaffUser
from webapp.services.unit_of_work import reads


@dataclass(frozen=True)
class RequestView:
    """A request as the lists show it (wording of its status is the page's)."""

    id: int
    customer_id: int
    customer: str  # name, or card number
    points: int
    reason: str
    status: str  # "pending", "approved", "rejected"
    requested_by: str | None
    requested_at: str  # the business's local time
    decided_by: str | None
    decided_at: str | None
    note: str | None
    by_system: bool  # decided by the system (the account was closed), not by the owner


@reads
def requests(session: Session, actor: Actor, *, customer_id: int | None = None,
             pending: bool = True, limit: int = 100) -> list[RequestView]:
    """Pending requests (or, with ``pending=False``, decided ones), newest first;
    one customer's with ``customer_id``. Managers and owners."""
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("corrections_managers_only")
    zone = ZoneInfo(session.scalar(select(Business.timezone)
                                   .where(Business.id == actor.business_id)) or "UTC")
    asked, decider = aliased(StaffUser), aliased(StaffUser)
    query = (
        select(AdjustmentRequest, Customer.name, Customer.card_number,
               asked.display_name, decider.display_name)
        .join(Customer, Customer.id == AdjustmentRequest.customer_id)
        .join(asked, asked.id == AdjustmentRequest.requested_by)
        .outerjoin(decider, decider.id == AdjustmentRequest.decided_by)
        .where(AdjustmentRequest.business_id == actor.business_id)
        .order_by(AdjustmentRequest.requested_at.desc(), AdjustmentRequest.id.desc())
        .limit(limit)
    )
    query = query.where(AdjustmentRequest.status == "pending" if pending
                        else AdjustmentRequest.status != "pending")
    if customer_id is not None:
        query = query.where(AdjustmentRequest.customer_id == customer_id)
    rows = session.execute(query).all()
    return [
        RequestView(r.id, r.customer_id, name or card, r.points, r.reason, r.status, who,
                    _local(r.requested_at, zone), decided,
                    _local(r.decided_at, zone) if r.decided_at else None, r.decision_note,
                    by_system=r.decided_at is not None and r.decided_by is None)
        for r, name, card, who, decided in rows
    ]


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")
