"""What a program change does to the business's current customers, read from their real
order histories and balances (:func:`webapp.domain.program_change.impact`).

Read-only: the owner's page shows it in the preview, before the change is saved.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.errors import PermissionDenied
from webapp.domain.program import ProgramSettings
from webapp.domain.program_change import Impact, customers_from, impact
from webapp.domain.tiers import PaidOrder
from webapp.persistence.models import Account, Customer, Order
from webapp.services.program import versions as programs
from webapp.services.unit_of_work import reads


@reads
def change_impact(session: Session, actor: Actor, settings: ProgramSettings,
                  now: datetime | None = None) -> Impact:
    """What replacing the program in force with ``settings`` does to current customers."""
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("program_owner_only")
    return read_impact(session, actor, settings, now)


def read_impact(session: Session, actor: Actor, settings: ProgramSettings,
                now: datetime | None = None) -> Impact:
    """:func:`change_impact` in the caller's read scope."""
    now = now or utcnow()
    business = actor.business_id
    current = programs.current(session, actor, now)
    labels = {cid: name or card for cid, name, card in session.execute(
        select(Customer.id, Customer.name, Customer.card_number)
        .where(Customer.business_id == business, Customer.status == "active"))}
    histories: dict[int, list[PaidOrder]] = defaultdict(list)
    for cid, at, amount, category, asset in session.execute(
            select(Order.customer_id, Order.closed_at, Order.total_minor - Order.refunded_minor,
                   Order.service_category, Order.asset_id)
            .where(Order.business_id == business, Order.closed_at.is_not(None),
                   Order.closed_at <= now)
            .order_by(Order.customer_id, Order.closed_at, Order.id)):
        if at is not None:  # the query asks for closed orders only
            histories[cid].append(PaidOrder(at, amount, category, asset))
    points = {cid: int(total or 0) for cid, total in session.execute(
        select(Account.customer_id, func.sum(Account.balance))
        .where(Account.business_id == business, Account.customer_id.is_not(None),
               Account.kind.in_(("available", "pending")))
        .group_by(Account.customer_id)) if cid is not None}
    return impact(current.settings if current else None, settings,
                  customers_from(histories, points, labels), now)
