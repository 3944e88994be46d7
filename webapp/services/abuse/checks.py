"""Abuse checks: count what the limits watch, raise one flag per subject and window
(:mod:`webapp.services.abuse.records`), refuse above the hard limit. What managers
see and do with the flags is :mod:`webapp.services.abuse.flags`.

:func:`check_close` runs inside the close's transaction, after the order's own
ledger operations and before its audit event are written. :func:`check_join`,
:func:`record_refusal` and :func:`record_alone` are write scopes of the unit of work
(:mod:`webapp.services.unit_of_work`): called with no scope open they commit their
flags themselves, which is how a flag outlives the refused request's rolled-back
transaction (the caller ends its own scope before calling them, and raises after).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from webapp.domain import abuse as rules
from webapp.domain.abuse import AbuseBlocked, CloseCounts, Crossing, Kind
from webapp.domain.actor import Actor, ActorKind, Role
from webapp.domain.clock import utcnow
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import (
    UnknownCustomer,
)
from webapp.domain.ledger import OperationKind as Op
from webapp.persistence.models import (
    AuditEvent,
    Customer,
    Operation,
    Order,
)
from webapp.services.abuse.records import Known, record, record_crossings, status_of
from webapp.services.business import settings as counter_settings
from webapp.services.staff import audit
from webapp.services.unit_of_work import writes

_EARNED = (Op.ACCRUAL.value, Op.HOLD.value)  # points credited, at once or via pending


def check_close(
    session: Session, actor: Actor, *, customer_id: int, accrued: int, redeemed: int,
    now: datetime, limits: AbuseLimits, zone: ZoneInfo,
) -> list[str]:
    """Check a close against the limits; return the kinds of the limits it crosses.

    ``limits`` and ``zone`` are the business's (``counter_settings.load_with_zone``),
    which the close has already read for its own checks.

    Records a flag for each crossing not yet flagged in its window, in the caller's
    transaction (no commit). Raises :class:`AbuseBlocked` when ``hard_block`` is on,
    a count goes over twice its limit and the actor is below a manager: the caller's
    transaction then rolls back, so the order and its ledger rows are never written.
    """
    if not accrued and not redeemed:
        return []
    staff_id = actor.staff_id if actor.kind is ActorKind.STAFF else None
    start, end = rules.local_day(now, zone)
    # The counts this close needs, as one prebuilt statement of scalar subqueries.
    customer = bool(accrued and limits.accruals_per_customer_day)
    staff = bool(accrued and staff_id is not None and limits.accruals_per_staff_hour)
    last = bool(redeemed and limits.redeem_after_accrual_minutes)
    found: Any = {}
    # With the counts, the status of each flag they could raise (records.status_of).
    local = now.astimezone(zone)
    subjects = {"customer_subject": rules.customer(customer_id),
                "staff_subject": rules.staff(staff_id) if staff_id is not None else "",
                "day_window": rules.day_key(local), "hour_window": rules.hour_key(local)}
    if customer or staff or last:
        found = session.execute(_counts(customer, staff, last), {
            "business_id": actor.business_id, "customer_id": customer_id,
            "day_start": start, "day_end": end,
            "customer_cap": 2 * limits.accruals_per_customer_day + 1,
            "staff_id": staff_id, "since": now - rules.HOUR, "now": now,
            "staff_cap": 2 * limits.accruals_per_staff_hour + 2,  # this close's own too
            "last_since": now - timedelta(minutes=limits.redeem_after_accrual_minutes),
            **subjects,
        }).one()._mapping
    known: Known = {
        (kind.value, subjects[subject], subjects[window]): found[f"{name}_flag"]
        for name, (kind, subject, window) in _FLAGGED.items() if f"{name}_flag" in found}
    counts = CloseCounts(
        customer_id=customer_id,
        staff_id=staff_id,
        customer_accruals_today=found.get("customer"),
        # this close's own accrual (written at ``now``) is among them
        staff_accruals_last_hour=found.get("staff"),
        last_accrual_at=found.get("last"),
    )
    verdict = rules.check_close(limits, counts, now, zone)
    if verdict.blocked and not actor.is_at_least(Role.MANAGER):
        raise AbuseBlocked(verdict.crossings)
    record_crossings(
        session,
        actor,
        verdict,
        customer_id=customer_id,
        staff_id=staff_id,
        now=now,
        extra={"accrued": accrued, "redeemed": redeemed},
        known=known,
    )
    return verdict.kinds


@writes
def check_join(
    session: Session, actor: Actor, *, customer_id: int, now: datetime | None = None
) -> list[str]:
    """After a counter join: flag the staff member who signed up too many customers
    today who have no order yet, in a write scope; returns the kinds crossed."""
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
        if known is None:
            raise UnknownCustomer(customer_id=customer_id)
        return []  # signed up by the customer themselves or by the system
    settings, zone = counter_settings.load_with_zone(session, actor.business_id)
    limits = settings.abuse
    if not limits.joins_without_orders_per_staff_day:
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
    record_crossings(
        session, actor, verdict, customer_id=customer_id, staff_id=joined_by, now=now, extra={}
    )
    return verdict.kinds


@writes
def record_refusal(session: Session, actor: Actor, refused: AbuseBlocked, *,
                   customer_id: int, now: datetime | None = None) -> None:
    """After a close was refused (its transaction rolled back): keep the flags and an
    audit event, so the manager sees the attempt. A write scope: call it after the
    refused close's scope has ended, so that it commits on its own."""
    now = now or utcnow()
    staff_id = actor.staff_id if actor.kind is ActorKind.STAFF else None
    for crossing in refused.crossings:
        record(session, actor, crossing, customer_id=customer_id, staff_id=staff_id,
               now=now, extra={})
    audit.record(session, actor, "close_refused", customer_id=customer_id,
                 details={"kinds": [str(c.kind) for c in refused.crossings]}, at=now)


@writes
def record_alone(session: Session, actor: Actor, crossing: Crossing, *,
                 now: datetime) -> None:
    """Keep the flag of an action refused for another reason (its own transaction was
    rolled back): in a write scope of its own, once per subject and window. Call it
    with the refused action's scope ended (or inside a scope that will commit)."""
    record(session, actor, crossing, customer_id=None, staff_id=None, now=now, extra={})


_operations = cast(Table, Operation.__table__)
_audit = cast(Table, AuditEvent.__table__)
_ops = _operations.c


def _customer_accruals() -> ScalarSelect[int]:
    """Points earned on orders by one customer in [day_start, day_end):
    ix_operations_customer_created.

    Bonuses the program gives by itself (referral: no order) are not the counter's doing.
    Counts at most ``customer_cap`` rows: only "over the limit" and "over twice it" matter.
    """
    rows = (
        select(_ops.id).where(
            _ops.customer_id == bindparam("customer_id"),
            _ops.created_at >= bindparam("day_start"),
            _ops.created_at < bindparam("day_end"),
            _ops.business_id == bindparam("business_id"),
            _ops.kind.in_(_EARNED),
            _ops.order_id.is_not(None),
        ).limit(bindparam("customer_cap")).subquery()
    )
    return select(func.count()).select_from(rows).scalar_subquery()


def _staff_accruals() -> ScalarSelect[int]:
    """Earlier accruals on orders by one staff member in (since, now]:
    ix_operations_staff_created (business_id, staff_id, created_at).

    An order has at most one accrual or hold (uq_operations_order_accrual), so the
    rows need no de-duplication and the count stops at ``staff_cap`` rows. The close
    being checked has written its accrual (at ``now``) before the check: it is counted.
    """
    rows = (
        select(_ops.id).where(
            _ops.business_id == bindparam("business_id"),
            _ops.staff_id == bindparam("staff_id"),
            _ops.created_at > bindparam("since"),
            _ops.created_at <= bindparam("now"),
            _ops.kind.in_(_EARNED),
            _ops.order_id.is_not(None),
        ).limit(bindparam("staff_cap")).subquery()
    )
    return select(func.count()).select_from(rows).scalar_subquery()


def _last_accrual() -> ScalarSelect[datetime]:
    """The latest credit (any accrual, bonuses included) to the customer in
    [last_since, now), its own excluded: ix_operations_customer_created."""
    return select(func.max(_ops.created_at)).where(
        _ops.customer_id == bindparam("customer_id"),
        _ops.created_at >= bindparam("last_since"),
        _ops.created_at < bindparam("now"),
        _ops.kind.in_(_EARNED),
    ).scalar_subquery()


@functools.cache
def _counts(customer: bool, staff: bool, last: bool) -> Select[Any]:
    """The counts statement for this combination, built once per process (building
    SQL expressions per close cost more than running them)."""
    wanted: list[Any] = []
    for name, on, count in (("customer", customer, _customer_accruals),
                            ("staff", staff, _staff_accruals), ("last", last, _last_accrual)):
        if on:
            kind, subject, window = _FLAGGED[name]
            wanted += [count().label(name),
                       status_of(kind, subject, window).label(f"{name}_flag")]
    return select(*wanted)


# The flag each count can raise: its kind and the parameters naming its subject and window.
_FLAGGED = {"customer": (Kind.CUSTOMER_ACCRUALS_DAY, "customer_subject", "day_window"),
            "staff": (Kind.STAFF_ACCRUALS_HOUR, "staff_subject", "hour_window"),
            "last": (Kind.REDEEM_AFTER_ACCRUAL, "customer_subject", "day_window")}


__all__ = ["AbuseBlocked", "Kind", "check_close", "check_join", "record_alone",
           "record_crossings",
           "record_refusal"]
