"""Manual adjustments from the customer page, and the owner's approval of the ones
the owner must approve.

:func:`submit` is the page's correction: the owner's, and a manager's within what a
manager may apply alone (:mod:`webapp.services.ledger.adjustment_checks`: its size, their
day's total, the day's total on the customer), is a ledger adjustment at once; any
other becomes a pending request saying why, and the ledger is not touched. The owner
approves it (:func:`approve`: the adjustment is written then, by the owner, with the
request's reason) or rejects it with a reason (:func:`reject`); closing the
customer's account rejects their pending requests (:func:`reject_for_closed_account`).
Large and frequent ones are flagged (:mod:`webapp.services.abuse.adjustments`);
every step is audited. Submitting is a keyed write
(:func:`webapp.services.unit_of_work.run_once`); approving and rejecting are write
scopes of the unit of work, followed by a read when another decision came first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from webapp.domain import adjustments
from webapp.domain import ledger as ledger_rules
from webapp.domain.actor import Actor, Role
from webapp.domain.adjustments import ApprovalRequired
from webapp.domain.clock import utcnow
from webapp.domain.errors import (
    AlreadyResolved,
    InsufficientPoints,
    NotFound,
    PermissionDenied,
)
from webapp.domain.ledger import AccountKind as K
from webapp.persistence.ledger_store import LedgerStore
from webapp.persistence.models import AdjustmentRequest
from webapp.services.abuse import adjustments as abuse_adjustments
from webapp.services.business import settings as counter_settings
from webapp.services.ledger import adjustment_checks
from webapp.services.ledger import operations as ledger
from webapp.services.notify import wallet_updates
from webapp.services.staff import audit
from webapp.services.unit_of_work import UnitOfWork, Work, reads, run_once

_requests = cast(Table, AdjustmentRequest.__table__)
_INSERT = insert(_requests).returning(_requests.c.id)
# The note of a request the system rejected (decided_by is NULL) when the account closed.
CLOSED_ACCOUNT_NOTE = "rejected automatically: the customer's account was closed"


@dataclass(frozen=True)
class Submitted:
    """What the page's correction did: applied (``request_id`` None) or asked for, and
    then why the owner must approve it (``why``: a :class:`~webapp.domain.adjustments.Why`
    value; ``total`` the points it counts, ``limit`` the limit they go over)."""

    points: int
    available: int  # after the adjustment, or as it stays while the request waits
    request_id: int | None
    why: str | None = None
    total: int | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Decided:
    request_id: int
    customer_id: int
    status: str  # "approved" or "rejected"
    points: int
    available: int | None  # after an approval, when this call wrote it
    already: bool  # the request had this decision before (a double submit)


def submit(session: Session, actor: Actor, key: str, *, customer_id: int, points: int,
           reason: str, now: datetime | None = None) -> Submitted:
    """Correct a customer's points, or ask the owner to when they must approve it.

    The ledger decides under the customer's lock (ApprovalRequired for a manager);
    the request is then made under the same key and fingerprint, so a double submit
    finds whichever the first one did.
    """
    _require_manager(actor)
    ledger_rules.require_adjustment(points)
    reason = adjustments.require_reason(reason)
    now = now or utcnow()
    try:
        done = ledger.adjust(session, actor, key, customer_id=customer_id, points=points,
                             reason=reason, now=now)
    except ApprovalRequired as needed:
        done = _ask(session, actor, key, customer_id, points, reason, now, needed)
    if done.get("request_id") is None:
        return Submitted(points, int(done["available"]), None)
    return Submitted(points, int(done["available"]), int(done["request_id"]),
                     str(done["why"]), int(done["total"]), int(done["limit"]))


def _ask(work: Work, actor: Actor, key: str, customer_id: int, points: int,
         reason: str, now: datetime, needed: ApprovalRequired) -> dict[str, Any]:
    """A pending request; the same key twice makes one (I4, like a ledger write)."""
    params = ledger.adjust_params(customer_id, points, reason, None)
    uow = UnitOfWork.of(work)

    def ask() -> dict[str, Any]:
        session = uow.session  # inside run_once's write scope
        # Locked like a ledger write: an account being closed meanwhile is seen closed.
        available = LedgerStore(session, actor.business_id).lock(customer_id).balances[
            K.AVAILABLE]  # UnknownCustomer for another business's customer
        adjustment_checks.require_active(session, actor.business_id, customer_id)
        if points < 0 and available < -points:  # it could never be approved
            raise InsufficientPoints(
                "points_short",
                available=available, requested=-points)
        settings, zone = counter_settings.load_with_zone(session, actor.business_id)
        request_id = session.execute(_INSERT, {
            "business_id": actor.business_id, "customer_id": customer_id, "points": points,
            "reason": reason, "status": "pending", "requested_by": actor.staff_id,
            "requested_at": now}).scalar_one()
        abuse_adjustments.check(session, actor, customer_id=customer_id, points=points,
                                reference=f"request:{request_id}", now=now,
                                limits=settings.abuse, zone=zone)
        why = {"why": needed.why.value, "total": needed.total, "limit": needed.limit}
        audit.record(session, actor, "adjustment_request.create", customer_id=customer_id,
                     details={"request_id": request_id, "points": points, "reason": reason,
                              **why}, at=now)
        return {"request_id": request_id, "available": available, **why}

    return run_once(uow, actor.business_id, key, "adjust", params, ask)


def approve(session: Work, actor: Actor, request_id: int,
            now: datetime | None = None) -> Decided:
    """The owner approves: the adjustment is written once, by the owner as the approver,
    with the request's reason; commits.

    Exactly once without a key: the request leaves "pending" by a guarded update in
    the adjustment's own transaction, so of two approvals (a double submit, two tabs)
    one writes and the other finds it approved. A rejected one is AlreadyResolved;
    a debit the customer can no longer cover is InsufficientPoints, and a customer who
    is no longer active CustomerNotActive (it stays pending: the owner rejects it).
    """
    _require_owner(actor)
    now = now or utcnow()
    work = UnitOfWork.of(session)
    outermost = work.depth == 0
    try:
        with work.write() as db:
            request = _request(db, actor, request_id)
            if request.status != "pending":
                return _already(request, "approved")
            store = LedgerStore(db, actor.business_id).lock(request.customer_id)
            adjustment_checks.require_active(db, actor.business_id, request.customer_id)
            op = ledger.write_adjustment(store, actor.staff_id, request.points,
                                         request.reason, None, now)
            if not _decide(db, actor, request_id, now, status="approved",
                           operation_id=op.id):
                raise _DecidedMeanwhile("request_decided", request_id=request_id)
            wallet_updates.changed(db, request.customer_id)
            audit.record(db, actor, "adjustment_request.approve",
                         customer_id=request.customer_id,
                         details={"request_id": request_id, "points": request.points,
                                  "reason": request.reason,
                                  "requested_by": request.requested_by,
                                  "operation_id": op.id,
                                  "available": store.balances[K.AVAILABLE]}, at=now)
    except _DecidedMeanwhile:
        if not outermost:  # the caller's transaction holds the adjustment: only it can undo it
            raise
        # Rolled back, adjustment and all: the other decision is read anew.
        return _already(_read_request(work, actor, request_id), "approved")
    return Decided(request_id, request.customer_id, "approved", request.points,
                   store.balances[K.AVAILABLE], already=False)


def reject(session: Work, actor: Actor, request_id: int, note: str,
           now: datetime | None = None) -> Decided:
    """The owner rejects with a reason (the same rule as an adjustment's); nothing is
    written to the ledger; commits. An approved one is AlreadyResolved."""
    _require_owner(actor)
    now = now or utcnow()
    work = UnitOfWork.of(session)
    with work.write() as db:
        request = _request(db, actor, request_id)
        note = adjustments.require_reason(note)
        decided = request.status == "pending" and _decide(
            db, actor, request_id, now, status="rejected", decision_note=note)
        if decided:
            audit.record(db, actor, "adjustment_request.reject",
                         customer_id=request.customer_id,
                         details={"request_id": request_id, "points": request.points,
                                  "reason": request.reason, "note": note,
                                  "requested_by": request.requested_by}, at=now)
    if not decided:  # nothing was written: the decision there is, read anew
        return _already(_read_request(work, actor, request_id), "rejected")
    return Decided(request_id, request.customer_id, "rejected", request.points, None,
                   already=False)


def reject_for_closed_account(session: Session, actor: Actor, customer_id: int,
                              now: datetime) -> int:
    """Reject the customer's pending requests as their account is closed, in the
    closing's transaction (no commit): the system decides (no staff member), with
    :data:`CLOSED_ACCOUNT_NOTE`; each is audited. Returns how many."""
    rejected = session.execute(
        update(AdjustmentRequest)
        .where(AdjustmentRequest.business_id == actor.business_id,
               AdjustmentRequest.customer_id == customer_id,
               AdjustmentRequest.status == "pending")
        .values(status="rejected", decided_by=None, decided_at=now,
                decision_note=CLOSED_ACCOUNT_NOTE)
        .returning(AdjustmentRequest.id, AdjustmentRequest.points,
                   AdjustmentRequest.requested_by)
        .execution_options(synchronize_session=False)).all()
    for request_id, points, requested_by in rejected:
        audit.record(session, actor, "adjustment_request.reject", customer_id=customer_id,
                     details={"request_id": request_id, "points": points, "by": "system",
                              "note": CLOSED_ACCOUNT_NOTE, "requested_by": requested_by},
                     at=now)
    return len(rejected)


@reads
def customer_of(session: Session, actor: Actor, request_id: int) -> int:
    """The customer a request of the business is for (NotFound for another business's)."""
    _require_manager(actor)
    return _request(session, actor, request_id).customer_id


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
        raise NotFound("unknown_adjustment_request", request_id=request_id)
    return _Request(*row)


@reads
def _read_request(session: Session, actor: Actor, request_id: int) -> _Request:
    """:func:`_request` in a read scope of its own."""
    return _request(session, actor, request_id)


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


def _already(request: _Request, wanted: str) -> Decided:
    """A request decided before: the same decision again is done; the other one is not."""
    if request.status != wanted:
        raise AlreadyResolved("request_decided", request_id=request.id)
    return Decided(request.id, request.customer_id, request.status, request.points, None,
                   already=True)


class _DecidedMeanwhile(AlreadyResolved):
    """Another decision took the request while this approval wrote its adjustment: the
    approval's scope rolls back (and, nested in a caller's scope, the caller's)."""


def _require_manager(actor: Actor) -> None:
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("corrections_managers_only")


def _require_owner(actor: Actor) -> None:
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("requests_owner_only")
