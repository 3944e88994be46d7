"""Abuse flags: count what the limits watch, raise one flag per subject and window,
refuse above the hard limit, and let managers see and resolve the flags.

:func:`check_close` runs inside the close's transaction, after the order's own
ledger operations and before its audit event are written; :func:`check_join` runs
after a counter join has committed and commits its flag itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from webapp.domain import abuse as rules
from webapp.domain.abuse import AbuseBlocked, CloseCounts, Crossing, Kind, Verdict
from webapp.domain.actor import Actor, ActorKind, Role
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import (
    AlreadyResolved,
    InvalidInput,
    NotFound,
    PermissionDenied,
    UnknownCustomer,
)
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.base import utcnow
from webapp.persistence.models import (
    AbuseFlag,
    AuditEvent,
    Branch,
    Business,
    Customer,
    Operation,
    Order,
    StaffUser,
)
from webapp.services import audit, counter_settings

_EARNED = (Op.ACCRUAL.value, Op.HOLD.value)  # points credited, at once or via pending
NOTE_MAX = 500


def check_close(
    session: Session, actor: Actor, *, customer_id: int, accrued: int, redeemed: int, now: datetime
) -> list[str]:
    """Check a close against the limits; return the kinds of the limits it crosses.

    Records a flag for each crossing not yet flagged in its window, in the caller's
    transaction (no commit). Raises :class:`AbuseBlocked` when ``hard_block`` is on,
    a count goes over twice its limit and the actor is below a manager: the caller's
    transaction then rolls back, so the order and its ledger rows are never written.
    """
    if not accrued and not redeemed:
        return []
    limits, zone = _limits_and_zone(session, actor.business_id)
    staff_id = actor.staff_id if actor.kind is ActorKind.STAFF else None
    start, end = rules.local_day(now, zone)
    counts = CloseCounts(
        customer_id=customer_id,
        staff_id=staff_id,
        customer_accruals_today=(
            _customer_accruals(session, actor.business_id, customer_id, start, end,
                               cap=2 * limits.accruals_per_customer_day + 1)
            if accrued and limits.accruals_per_customer_day
            else None
        ),
        staff_accruals_last_hour=(
            _staff_accruals(session, actor.business_id, staff_id, now,
                            cap=2 * limits.accruals_per_staff_hour + 1) + 1
            if accrued and staff_id is not None and limits.accruals_per_staff_hour
            else None
        ),
        last_accrual_at=(
            _last_accrual(session, customer_id, now, limits.redeem_after_accrual_minutes)
            if redeemed and limits.redeem_after_accrual_minutes
            else None
        ),
    )
    verdict = rules.check_close(limits, counts, now, zone)
    if verdict.blocked and not actor.is_at_least(Role.MANAGER):
        raise AbuseBlocked(verdict.crossings)
    _record_all(
        session,
        actor,
        verdict,
        customer_id=customer_id,
        staff_id=staff_id,
        now=now,
        extra={"accrued": accrued, "redeemed": redeemed},
    )
    return verdict.kinds


def check_join(
    session: Session, actor: Actor, *, customer_id: int, now: datetime | None = None
) -> list[str]:
    """After a counter join: flag the staff member who signed up too many customers
    today who have no order yet. Commits; returns the kinds crossed."""
    now = now or utcnow()
    joined_by = session.scalar(
        select(Customer.joined_by_staff_id).where(
            Customer.id == customer_id, Customer.business_id == actor.business_id
        )
    )
    if joined_by is None:
        known = session.scalar(
            select(Customer.id).where(
                Customer.id == customer_id, Customer.business_id == actor.business_id
            )
        )
        session.rollback()
        if known is None:
            raise UnknownCustomer("No such customer.", customer_id=customer_id)
        return []  # signed up by the customer themselves or by the system
    limits, zone = _limits_and_zone(session, actor.business_id)
    if not limits.joins_without_orders_per_staff_day:
        session.rollback()
        return []
    start, end = rules.local_day(now, zone)
    # No index on customers.joined_by_staff_id: this filters the business's customers
    # (ix_customers_business_id); it runs once per counter join, not on the close path.
    count = (
        session.scalar(
            select(func.count(Customer.id)).where(
                Customer.business_id == actor.business_id,
                Customer.joined_by_staff_id == joined_by,
                Customer.created_at >= start,
                Customer.created_at < end,
                ~exists().where(Order.customer_id == Customer.id),  # ix_orders_customer_id
            )
        )
        or 0
    )
    verdict = rules.check_joins(
        limits, staff_id=joined_by, joins_without_orders_today=count, now=now, zone=zone
    )
    _record_all(
        session, actor, verdict, customer_id=customer_id, staff_id=joined_by, now=now, extra={}
    )
    session.commit()
    return verdict.kinds


def record_refusal(session: Session, actor: Actor, refused: AbuseBlocked, *,
                   customer_id: int, now: datetime | None = None) -> None:
    """After a close was refused (its transaction rolled back): keep the flags and an
    audit event, so the manager sees the attempt. Commits."""
    now = now or utcnow()
    staff_id = actor.staff_id if actor.kind is ActorKind.STAFF else None
    for crossing in refused.crossings:
        _record(session, actor, crossing, customer_id=customer_id, staff_id=staff_id,
                now=now, extra={})
    audit.record(session, actor, "close_refused", customer_id=customer_id,
                 details={"kinds": [str(c.kind) for c in refused.crossings]}, at=now)
    session.commit()


@dataclass(frozen=True)
class FlagView:
    """An open flag as the manager's list shows it (``raised_at`` in the business's zone)."""

    id: int
    kind: str
    window: str
    raised_at: datetime
    count: int | None
    limit: int | None
    customer_id: int | None
    customer_card: str | None
    customer_name: str | None
    staff_id: int | None
    staff_name: str | None
    branch_name: str | None


def open_flags(session: Session, actor: Actor, *, limit: int = 200) -> list[FlagView]:
    """The business's open flags, newest first (managers and owners)."""
    _require_manager(actor)
    rows = session.execute(
        select(AbuseFlag, Customer.card_number, Customer.name, StaffUser.display_name, Branch.name)
        .outerjoin(Customer, Customer.id == AbuseFlag.customer_id)
        .outerjoin(StaffUser, StaffUser.id == AbuseFlag.staff_id)
        .outerjoin(Branch, Branch.id == AbuseFlag.branch_id)
        .where(AbuseFlag.business_id == actor.business_id, AbuseFlag.status == "open")
        .order_by(AbuseFlag.raised_at.desc(), AbuseFlag.id.desc())  # ix_abuse_flags_open
        .limit(limit)
    ).all()
    zone = ZoneInfo(
        session.scalar(select(Business.timezone).where(Business.id == actor.business_id)) or "UTC"
    )
    session.rollback()
    views = []
    for flag, card, name, staff_name, branch_name in rows:
        details: dict[str, Any] = json.loads(flag.details or "{}")
        views.append(
            FlagView(
                flag.id,
                flag.kind,
                flag.window,
                flag.raised_at.astimezone(zone),
                details.get("count"),
                details.get("limit"),
                flag.customer_id,
                card,
                name,
                flag.staff_id,
                staff_name,
                branch_name,
            )
        )
    return views


def resolve(
    session: Session, actor: Actor, flag_id: int, note: str, now: datetime | None = None
) -> None:
    """Close a flag with the manager's note (required, at most 500 characters); commits.

    Another business's flag is :class:`NotFound`; a resolved one :class:`AlreadyResolved`.
    """
    _require_manager(actor)
    note = (note or "").strip()
    if not note:
        raise InvalidInput("Say what was found: the note is required.")
    if len(note) > NOTE_MAX:
        raise InvalidInput("The note is at most {max} characters.", max=NOTE_MAX)
    now = now or utcnow()
    flag = session.execute(
        select(AbuseFlag.kind, AbuseFlag.customer_id, AbuseFlag.status).where(
            AbuseFlag.id == flag_id, AbuseFlag.business_id == actor.business_id
        )
    ).first()
    if flag is None:
        session.rollback()
        raise NotFound("No such flag.")
    # Guarded update: of two managers resolving at once, exactly one wins.
    done = session.execute(
        update(AbuseFlag)
        .where(
            AbuseFlag.id == flag_id,
            AbuseFlag.business_id == actor.business_id,
            AbuseFlag.status == "open",
        )
        .values(status="resolved", resolved_by=actor.staff_id, resolved_at=now, resolution=note)
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        raise AlreadyResolved("This flag was already resolved.")
    audit.record(
        session,
        actor,
        "abuse_flag.resolve",
        customer_id=flag.customer_id,
        details={"flag_id": flag_id, "kind": flag.kind, "note": note},
        at=now,
    )
    session.commit()


def current_limits(session: Session, actor: Actor) -> AbuseLimits:
    """The business's abuse limits (managers read them, owners change them)."""
    _require_manager(actor)
    try:
        return counter_settings.load(session, actor.business_id).abuse
    finally:
        session.rollback()


def save_limits(session: Session, actor: Actor, new: AbuseLimits) -> AbuseLimits:
    """Store new abuse limits, keeping the other counter settings (owners only); commits."""
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("Only the owner changes the abuse limits.")
    current = counter_settings.load(session, actor.business_id)
    try:
        return counter_settings.save(session, actor, replace(current, abuse=new)).abuse
    except BaseException:
        session.rollback()
        raise


def _require_manager(actor: Actor) -> None:
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("Only managers and owners see abuse flags.")


def _limits_and_zone(session: Session, business_id: int) -> tuple[AbuseLimits, ZoneInfo]:
    settings, zone = counter_settings.load_with_zone(session, business_id)
    return settings.abuse, zone


def _customer_accruals(
    session: Session, business_id: int, customer_id: int, start: datetime, end: datetime,
    cap: int,
) -> int:
    """Points earned on orders by one customer in [start, end): ix_operations_customer_created.

    Bonuses the program gives by itself (referral: no order) are not the counter's doing.
    Counts at most ``cap`` rows: only "over the limit" and "over twice it" matter.
    """
    rows = (
        select(Operation.id).where(
            Operation.customer_id == customer_id,
            Operation.created_at >= start,
            Operation.created_at < end,
            Operation.business_id == business_id,
            Operation.kind.in_(_EARNED),
            Operation.order_id.is_not(None),
        ).limit(cap).subquery()
    )
    return session.scalar(select(func.count()).select_from(rows)) or 0


def _staff_accruals(session: Session, business_id: int, staff_id: int, now: datetime,
                    cap: int) -> int:
    """Earlier accruals on orders by one staff member in the last hour.

    operations has no index on staff_id, so this walks the audit trail's
    ix_audit_events_staff (business_id, staff_id, at) — every staff close and ledger
    write records an event with its order in the same transaction — and reaches the
    operations through ix_operations_order. The close being checked has no audit
    event yet: the caller adds it.
    """
    since = now - rules.HOUR
    rows = (
        select(Operation.id)
        .select_from(AuditEvent)
        .join(
            Operation,
            and_(
                Operation.order_id == AuditEvent.order_id,
                Operation.kind.in_(_EARNED),
                Operation.staff_id == staff_id,
                Operation.created_at > since,
                Operation.created_at <= now,
            ),
        )
        .where(
            AuditEvent.business_id == business_id,
            AuditEvent.staff_id == staff_id,
            AuditEvent.at > since,
            AuditEvent.at <= now,
            AuditEvent.order_id.is_not(None),
        )
        .distinct()
        .limit(cap)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(rows)) or 0


def _last_accrual(
    session: Session, customer_id: int, now: datetime, minutes: int
) -> datetime | None:
    """The latest credit (any accrual, bonuses included) to the customer in the last
    ``minutes`` before this close, its own excluded: ix_operations_customer_created."""
    at: datetime | None = session.scalar(
        select(func.max(Operation.created_at)).where(
            Operation.customer_id == customer_id,
            Operation.created_at >= now - timedelta(minutes=minutes),
            Operation.created_at < now,
            Operation.kind.in_(_EARNED),
        )
    )
    return at


def _record_all(
    session: Session,
    actor: Actor,
    verdict: Verdict,
    *,
    customer_id: int | None,
    staff_id: int | None,
    now: datetime,
    extra: dict[str, int],
) -> None:
    for crossing in verdict.crossings:
        _record(
            session,
            actor,
            crossing,
            customer_id=customer_id,
            staff_id=staff_id,
            now=now,
            extra=extra,
        )


def _record(
    session: Session,
    actor: Actor,
    crossing: Crossing,
    *,
    customer_id: int | None,
    staff_id: int | None,
    now: datetime,
    extra: dict[str, int],
) -> None:
    """Insert the flag unless its (business, kind, subject, window) already has one.

    ``ON CONFLICT DO NOTHING`` (both engines): a flag raised meanwhile by a concurrent
    action is left as it is, one statement, and the close's transaction is not aborted.
    """
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        _FLAGS).on_conflict_do_nothing()
    session.execute(statement, {
        "business_id": actor.business_id, "kind": crossing.kind.value,
        "subject": crossing.subject, "window": crossing.window,
        "customer_id": customer_id, "staff_id": staff_id, "branch_id": actor.branch_id,
        "details": json.dumps({**crossing.details(), **extra}, sort_keys=True),
        "status": "open", "raised_at": now, "resolved_by": None, "resolved_at": None,
        "resolution": None,
    })


_FLAGS = cast(Table, AbuseFlag.__table__)


__all__ = [
    "AbuseBlocked",
    "FlagView",
    "Kind",
    "check_close",
    "check_join",
    "current_limits",
    "open_flags",
    "resolve",
    "save_limits",
]
