"""Manual adjustments from the customer page, and the owner's approval of large ones.

:func:`submit` is the page's correction: within the business's approval limit (and
for the owner above it) it is a ledger adjustment at once; a manager's above it
becomes a pending request and the ledger is not touched. The owner approves it
(:func:`approve`: the adjustment is written then, by the owner, with the request's
reason) or rejects it with a reason (:func:`reject`). Large and frequent ones are
flagged (:mod:`webapp.services.abuse_adjustments`); every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, aliased

from webapp.domain import adjustments
from webapp.domain import ledger as ledger_rules
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import (
    AlreadyResolved,
    InsufficientPoints,
    NotFound,
    PermissionDenied,
)
from webapp.domain.ledger import AccountKind as K
from webapp.persistence.base import utcnow
from webapp.persistence.ledger_store import LedgerStore
from webapp.persistence.models import AdjustmentRequest, Business, Customer, StaffUser
from webapp.services import abuse_adjustments, audit, counter_settings, ledger, wallet_updates
from webapp.services.idempotency import run_once

_requests = cast(Table, AdjustmentRequest.__table__)
_INSERT = insert(_requests).returning(_requests.c.id)
STATUS = {"pending": "ждёт одобрения", "approved": "одобрено", "rejected": "отклонено"}


@dataclass(frozen=True)
class Submitted:
    """What the page's correction did: applied (``request_id`` None) or asked for."""

    points: int
    available: int  # after the adjustment, or as it stays while the request waits
    request_id: int | None
    limit: int


@dataclass(frozen=True)
class Decided:
    request_id: int
    customer_id: int
    status: str  # "approved" or "rejected"
    points: int
    available: int | None  # after an approval, when this call wrote it
    already: bool  # the request had this decision before (a double submit)


@dataclass(frozen=True)
class RequestView:
    id: int
    customer_id: int
    customer: str  # name, or card number
    points: int
    reason: str
    status: str
    status_text: str  # Russian
    requested_by: str | None
    requested_at: str  # the business's local time
    decided_by: str | None
    decided_at: str | None
    note: str | None


def submit(session: Session, actor: Actor, key: str, *, customer_id: int, points: int,
           reason: str, now: datetime | None = None) -> Submitted:
    """Correct a customer's points, or ask the owner to when it is above the limit."""
    _require_manager(actor)
    ledger_rules.require_points(points, allow_negative=True)
    reason = adjustments.require_reason(reason)
    limits = counter_settings.load(session, actor.business_id).abuse
    session.rollback()
    if not adjustments.needs_approval(limits, points) or actor.is_at_least(Role.OWNER):
        done = ledger.adjust(session, actor, key, customer_id=customer_id, points=points,
                             reason=reason, now=now)
        return Submitted(points, int(done["available"]), None, limits.adjustment_approval_above)
    return _ask(session, actor, key, customer_id, points, reason, now or utcnow())


def _ask(session: Session, actor: Actor, key: str, customer_id: int, points: int,
         reason: str, now: datetime) -> Submitted:
    """A pending request; the same key twice makes one (I4, like a ledger write)."""
    params = {"customer": customer_id, "points": points, "reason": reason}

    def work() -> dict[str, Any]:
        available = LedgerStore(session, actor.business_id).read(customer_id).balances[
            K.AVAILABLE]  # UnknownCustomer for another business's customer
        if points < 0 and available < -points:  # it could never be approved
            raise InsufficientPoints(
                "Not enough points: {available} available, {requested} requested.",
                available=available, requested=-points)
        settings, zone = counter_settings.load_with_zone(session, actor.business_id)
        request_id = session.execute(_INSERT, {
            "business_id": actor.business_id, "customer_id": customer_id, "points": points,
            "reason": reason, "status": "pending", "requested_by": actor.staff_id,
            "requested_at": now}).scalar_one()
        abuse_adjustments.check(session, actor, customer_id=customer_id, points=points,
                                reference=f"request:{request_id}", now=now,
                                limits=settings.abuse, zone=zone)
        audit.record(session, actor, "adjustment_request.create", customer_id=customer_id,
                     details={"request_id": request_id, "points": points, "reason": reason,
                              "limit": settings.abuse.adjustment_approval_above}, at=now)
        return {"request_id": request_id, "available": available,
                "limit": settings.abuse.adjustment_approval_above}

    done = run_once(session, actor.business_id, key, "adjustment_request", params, work)
    return Submitted(points, int(done["available"]), int(done["request_id"]),
                     int(done["limit"]))


def approve(session: Session, actor: Actor, request_id: int,
            now: datetime | None = None) -> Decided:
    """The owner approves: the adjustment is written once, by the owner as the approver,
    with the request's reason; commits.

    Exactly once without a key: the request leaves "pending" by a guarded update in
    the adjustment's own transaction, so of two approvals (a double submit, two tabs)
    one writes and the other finds it approved. A rejected one is AlreadyResolved;
    a debit the customer can no longer cover is InsufficientPoints (it stays pending).
    """
    _require_owner(actor)
    now = now or utcnow()
    request = _request(session, actor, request_id)
    if request.status != "pending":
        return _already(session, request, "approved")
    try:
        store = LedgerStore(session, actor.business_id).lock(request.customer_id)
        op = ledger.write_adjustment(store, actor.staff_id, request.points, request.reason,
                                     None, now)
        if not _decide(session, actor, request_id, now, status="approved", operation_id=op.id):
            session.rollback()
            return _already(session, _request(session, actor, request_id), "approved")
        wallet_updates.changed(session, request.customer_id)
        audit.record(session, actor, "adjustment_request.approve",
                     customer_id=request.customer_id,
                     details={"request_id": request_id, "points": request.points,
                              "reason": request.reason, "requested_by": request.requested_by,
                              "operation_id": op.id,
                              "available": store.balances[K.AVAILABLE]}, at=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Decided(request_id, request.customer_id, "approved", request.points,
                   store.balances[K.AVAILABLE], already=False)


def reject(session: Session, actor: Actor, request_id: int, note: str,
           now: datetime | None = None) -> Decided:
    """The owner rejects with a reason (the same rule as an adjustment's); nothing is
    written to the ledger; commits. An approved one is AlreadyResolved."""
    _require_owner(actor)
    now = now or utcnow()
    request = _request(session, actor, request_id)
    try:
        note = adjustments.require_reason(note)
        if request.status != "pending" or not _decide(
                session, actor, request_id, now, status="rejected", decision_note=note):
            session.rollback()
            return _already(session, _request(session, actor, request_id), "rejected")
        audit.record(session, actor, "adjustment_request.reject",
                     customer_id=request.customer_id,
                     details={"request_id": request_id, "points": request.points,
                              "reason": request.reason, "note": note,
                              "requested_by": request.requested_by}, at=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Decided(request_id, request.customer_id, "rejected", request.points, None,
                   already=False)


def requests(session: Session, actor: Actor, *, customer_id: int | None = None,
             pending: bool = True, limit: int = 100) -> list[RequestView]:
    """Pending requests (or, with ``pending=False``, decided ones), newest first;
    one customer's with ``customer_id``. Managers and owners."""
    _require_manager(actor)
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
    session.rollback()
    return [
        RequestView(r.id, r.customer_id, name or card, r.points, r.reason, r.status,
                    STATUS.get(r.status, r.status), who, _local(r.requested_at, zone),
                    decided, _local(r.decided_at, zone) if r.decided_at else None,
                    r.decision_note)
        for r, name, card, who, decided in rows
    ]


@dataclass(frozen=True)
class _Request:
    id: int
    customer_id: int
    points: int
    reason: str
    status: str
    requested_by: int


def _request(session: Session, actor: Actor, request_id: int) -> _Request:
    """The business's request as it is now; NotFound for another business's."""
    row = session.execute(
        select(AdjustmentRequest.id, AdjustmentRequest.customer_id, AdjustmentRequest.points,
               AdjustmentRequest.reason, AdjustmentRequest.status,
               AdjustmentRequest.requested_by)
        .where(AdjustmentRequest.id == request_id,
               AdjustmentRequest.business_id == actor.business_id)).first()
    if row is None:
        session.rollback()
        raise NotFound("No such adjustment request.", request_id=request_id)
    return _Request(*row)


def _decide(session: Session, actor: Actor, request_id: int, now: datetime,
            **values: Any) -> bool:
    """Move a pending request to its decision; False if it was no longer pending."""
    done = session.execute(
        update(AdjustmentRequest)
        .where(AdjustmentRequest.id == request_id,
               AdjustmentRequest.business_id == actor.business_id,
               AdjustmentRequest.status == "pending")
        .values(decided_by=actor.staff_id, decided_at=now, **values)
        .execution_options(synchronize_session=False))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _already(session: Session, request: _Request, wanted: str) -> Decided:
    """A request decided before: the same decision again is done; the other one is not."""
    session.rollback()
    if request.status != wanted:
        raise AlreadyResolved("This adjustment request was already decided.",
                              request_id=request.id)
    return Decided(request.id, request.customer_id, request.status, request.points, None,
                   already=True)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def _require_manager(actor: Actor) -> None:
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("Only managers and owners correct points.")


def _require_owner(actor: Actor) -> None:
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("Only the owner approves or rejects adjustment requests.")
