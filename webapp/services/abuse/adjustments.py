"""Abuse checks of manual adjustments: a large one (above the approval limit) and
frequent ones (by one staff member, or on one customer, in the business's local day)
raise flags for the owner's "Подозрительное" page. Flagged only, never refused here
(what the owner must approve is :mod:`webapp.services.ledger.adjustment_checks`).

The counts walk the audit trail, where every adjustment ("adjust") and every request
for one ("adjustment_request.create") leaves an event in its own transaction:
ix_audit_events_staff and ix_audit_events_customer, both led by business_id. An
owner's approval is the end of a request already counted, not a new adjustment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from webapp.domain import abuse as rules
from webapp.domain.actor import Actor
from webapp.domain.counter_settings import AbuseLimits
from webapp.persistence.models import AuditEvent
from webapp.services.abuse.records import record_crossings

COUNTED = ("adjust", "adjustment_request.create")
# Counts go on past the limit, so that a resolved flag comes back when more follow in
# its day; bounded so that even an abuser's day stays cheap to count.
COUNT_CAP = 10_000


def check(
    session: Session, actor: Actor, *, customer_id: int, points: int, reference: str,
    now: datetime, limits: AbuseLimits, zone: ZoneInfo,
) -> list[str]:
    """Flag what this adjustment crosses, in the caller's transaction (no commit), before
    its own audit event is written; returns the kinds crossed.

    ``reference`` names the adjustment ("operation:12") or the request ("request:3").
    """
    start, end = rules.local_day(now, zone)
    wanted: dict[str, ScalarSelect[Any]] = {}
    if limits.adjustments_per_staff_day and actor.staff_id is not None:
        wanted["staff"] = _events(actor.business_id, AuditEvent.staff_id == actor.staff_id,
                                  start, end, cap=COUNT_CAP)
    if limits.adjustments_per_customer_day:
        wanted["customer"] = _events(actor.business_id, AuditEvent.customer_id == customer_id,
                                     start, end, cap=COUNT_CAP)
    found = (session.execute(select(*(q.label(k) for k, q in wanted.items()))).one()._mapping
             if wanted else {})
    counts = rules.AdjustmentCounts(
        customer_id=customer_id,
        staff_id=actor.staff_id,
        points=points,
        reference=reference,
        # this adjustment has no audit event yet: count it here
        staff_adjustments_today=found["staff"] + 1 if "staff" in found else None,
        customer_adjustments_today=found["customer"] + 1 if "customer" in found else None,
    )
    verdict = rules.check_adjustment(limits, counts, now, zone)
    record_crossings(session, actor, verdict, customer_id=customer_id,
                     staff_id=actor.staff_id, now=now, extra={"points": points})
    return verdict.kinds


def _events(business_id: int, who: ColumnElement[bool], start: datetime, end: datetime,
            cap: int) -> ScalarSelect[int]:
    """Adjustments and requests in [start, end) by one staff member or on one customer.

    Counts at most ``cap`` rows.
    """
    rows = (
        select(AuditEvent.id)
        .where(AuditEvent.business_id == business_id, who,
               AuditEvent.at >= start, AuditEvent.at < end,
               AuditEvent.action.in_(COUNTED))
        .limit(cap)
        .subquery()
    )
    return select(func.count()).select_from(rows).scalar_subquery()
