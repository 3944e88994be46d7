"""The audit trail: who did what to which customer, when, at which branch, from where.

:func:`record` adds an event inside the caller's transaction (the change and its
audit row commit or roll back together: the caller's scope of the unit of work ends
it); the table is append-only (migration 0004). :func:`trail` is a read scope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.errors import PermissionDenied
from webapp.persistence.models import AuditEvent, Branch, StaffUser
from webapp.services.unit_of_work import reads

# On the table, not the entity: skips the ORM's insert path on every close.
_INSERT = insert(cast(Table, AuditEvent.__table__))


def record(session: Session, actor: Actor, action: str, *, customer_id: int | None = None,
           order_id: int | None = None, details: dict[str, Any] | None = None,
           at: datetime | None = None) -> None:
    """Write one audit event in the current transaction (no commit)."""
    session.execute(_INSERT, event(actor, action, customer_id=customer_id, order_id=order_id,
                                   details=details, at=at))


def event(actor: Actor, action: str, *, customer_id: int | None = None,
          order_id: int | None = None, details: dict[str, Any] | None = None,
          at: datetime | None = None) -> dict[str, Any]:
    """The columns of one audit event, as :func:`record` writes them: for a caller that
    writes it with another row (:func:`~webapp.services.unit_of_work.run_once`'s key)."""
    return {
        "business_id": actor.business_id, "at": at or utcnow(), "action": action,
        "staff_id": actor.staff_id, "customer_id": customer_id,
        "branch_id": actor.branch_id, "order_id": order_id,
        "details": json.dumps(details or {}, sort_keys=True, default=str),
        "ip": actor.ip, "device": (actor.device or "")[:200] or None,
    }


@dataclass(frozen=True)
class Event:
    at: datetime
    action: str
    staff_id: int | None
    staff_name: str | None
    customer_id: int | None
    branch_name: str | None
    order_id: int | None
    details: dict[str, Any]
    ip: str | None
    device: str | None


@reads
def trail(session: Session, actor: Actor, *, customer_id: int | None = None,
          staff_id: int | None = None, limit: int = 200) -> list[Event]:
    """The newest events first, for one customer or one staff member (managers and up)."""
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("audit_managers_only")
    query = (
        select(AuditEvent, StaffUser.display_name, Branch.name)
        .outerjoin(StaffUser, StaffUser.id == AuditEvent.staff_id)
        .outerjoin(Branch, Branch.id == AuditEvent.branch_id)
        .where(AuditEvent.business_id == actor.business_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    if customer_id is not None:
        query = query.where(AuditEvent.customer_id == customer_id)
    if staff_id is not None:
        query = query.where(AuditEvent.staff_id == staff_id)
    rows = session.execute(query).all()
    return [Event(e.at, e.action, e.staff_id, name, e.customer_id, branch, e.order_id,
                  json.loads(e.details), e.ip, e.device) for e, name, branch in rows]
