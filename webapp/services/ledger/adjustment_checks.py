"""What a manual adjustment must pass before the ledger writes it: the customer's
account is open, and a manager's adjustment is within what they may apply without
the owner (its own size, their day's total, the day's total on the customer: see
:mod:`webapp.domain.adjustments`).

Runs inside the adjustment's transaction, after the customer's ledger is locked, so
the customer's total cannot change under it. The staff member's total spans other
customers: their staff row is locked too (FOR UPDATE on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), so parallel adjustments by one
manager on different customers cannot each see the same total and all pass.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.domain import abuse as abuse_rules
from webapp.domain import adjustments
from webapp.domain.actor import Actor, Role
from webapp.domain.adjustments import DayTotals
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import CustomerNotActive, UnknownCustomer
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import AuditEvent, Customer, Operation, StaffUser
from webapp.services.business import settings as counter_settings


def before_adjusting(session: Session, actor: Actor, *, customer_id: int, points: int,
                     now: datetime) -> tuple[AbuseLimits, ZoneInfo]:
    """Refuse what must not be written (CustomerNotActive, ApprovalRequired); return the
    business's limits and time zone for the flags checked after writing."""
    require_active(session, actor.business_id, customer_id)
    settings, zone = counter_settings.load_with_zone(session, actor.business_id)
    if actor.is_at_least(Role.OWNER) or actor.staff_id is None:
        return settings.abuse, zone
    today = DayTotals()
    if abs(points) <= settings.abuse.adjustment_approval_above:  # else refused on size alone
        session.execute(select(StaffUser.id).where(StaffUser.id == actor.staff_id)
                        .with_for_update())
        today = day_totals(session, actor.business_id, actor.staff_id, customer_id,
                           *abuse_rules.local_day(now, zone))
    adjustments.require_right_to_apply(settings.abuse, points, today, is_owner=False)
    return settings.abuse, zone


def require_active(session: Session, business_id: int, customer_id: int) -> None:
    """CustomerNotActive unless the business's customer is active (UnknownCustomer if
    it is not the business's)."""
    status = session.scalar(select(Customer.status).where(
        Customer.id == customer_id, Customer.business_id == business_id))
    if status is None:
        raise UnknownCustomer(customer_id=customer_id)
    if status != "active":
        raise CustomerNotActive(
            )


def day_totals(session: Session, business_id: int, staff_id: int, customer_id: int,
               start: datetime, end: datetime) -> DayTotals:
    """Points adjusted either way in [start, end): by this staff member, and on this
    customer by anyone but an owner (what the owner applied or approved is theirs).

    operations has no index on staff_id: the staff member's adjustments are found
    through the audit trail (ix_audit_events_staff; every staff adjustment records an
    "adjust" event in its own transaction) and then ix_operations_customer_created.
    """
    adjusted = (Operation.kind == Op.ADJUSTMENT.value, Operation.business_id == business_id,
                Operation.created_at >= start, Operation.created_at < end)
    touched = select(AuditEvent.customer_id).where(
        AuditEvent.business_id == business_id, AuditEvent.staff_id == staff_id,
        AuditEvent.at >= start, AuditEvent.at < end, AuditEvent.action == "adjust")
    by_staff = select(func.coalesce(func.sum(func.abs(Operation.points)), 0)).where(
        *adjusted, Operation.staff_id == staff_id, Operation.customer_id.in_(touched))
    on_customer = (
        select(func.coalesce(func.sum(func.abs(Operation.points)), 0))
        .join(StaffUser, StaffUser.id == Operation.staff_id)
        .where(*adjusted, Operation.customer_id == customer_id, StaffUser.role != "owner"))
    row = session.execute(select(by_staff.scalar_subquery(),
                                 on_customer.scalar_subquery())).one()
    return DayTotals(staff=int(row[0]), customer=int(row[1]))
