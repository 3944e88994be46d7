"""Abuse flags as managers see them: the open list, resolving with a note (not a flag
about oneself; flags about manual adjustments only the owner), and the limits
(owners change them). The checks that raise flags are :mod:`webapp.services.abuse.checks`.

Each call is one scope of the unit of work (:mod:`webapp.services.unit_of_work`): a
read, or a write that commits at its end and rolls back on any refusal."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.domain import abuse as rules
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import AlreadyResolved, InvalidInput, NotFound, PermissionDenied
from webapp.persistence.models import AbuseFlag, Branch, Business, Customer, StaffUser
from webapp.services.business import settings as counter_settings
from webapp.services.staff import audit
from webapp.services.unit_of_work import reads, writes

NOTE_MAX = 500


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
    # None if this staff member may resolve it; else why not: "own" (it is about them),
    # "owner" (only the owner resolves it).
    not_theirs: str | None = None


@reads
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
    views = []
    for flag, card, name, staff_name, branch_name in rows:
        refusal = _refusal(actor, flag.kind, flag.subject, flag.staff_id)
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
                None if refusal is None else refusal.params["why"],
            )
        )
    return views


@writes
def resolve(
    session: Session, actor: Actor, flag_id: int, note: str, now: datetime | None = None
) -> None:
    """Close a flag with the manager's note (required, at most 500 characters), in a
    write scope.

    Another business's flag is :class:`NotFound`; a resolved one :class:`AlreadyResolved`;
    one this staff member may not resolve :class:`PermissionDenied`
    (:func:`webapp.domain.abuse.refusal_to_resolve`).
    """
    _require_manager(actor)
    note = (note or "").strip()
    if not note:
        raise InvalidInput("flag_note_missing")
    if len(note) > NOTE_MAX:
        raise InvalidInput("flag_note_too_long", max=NOTE_MAX)
    now = now or utcnow()
    flag = session.execute(
        select(AbuseFlag.kind, AbuseFlag.customer_id, AbuseFlag.subject,
               AbuseFlag.staff_id).where(
            AbuseFlag.id == flag_id, AbuseFlag.business_id == actor.business_id
        )
    ).first()
    if flag is None:
        raise NotFound("unknown_flag")
    refusal = _refusal(actor, flag.kind, flag.subject, flag.staff_id)
    if refusal is not None:
        raise refusal
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
        raise AlreadyResolved("flag_resolved")
    audit.record(
        session,
        actor,
        "abuse_flag.resolve",
        customer_id=flag.customer_id,
        details={"flag_id": flag_id, "kind": flag.kind, "note": note},
        at=now,
    )


@reads
def current_limits(session: Session, actor: Actor) -> AbuseLimits:
    """The business's abuse limits (managers read them, owners change them)."""
    _require_manager(actor)
    return counter_settings.load(session, actor.business_id).abuse


@writes
def save_limits(session: Session, actor: Actor, new: AbuseLimits) -> AbuseLimits:
    """Store new abuse limits, keeping the other counter settings (owners only), in a
    write scope."""
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("limits_owner_only")
    current = counter_settings.load(session, actor.business_id)
    return counter_settings.save(session, actor, replace(current, abuse=new)).abuse


def _refusal(actor: Actor, kind: str, subject: str,
             staff_id: int | None) -> PermissionDenied | None:
    return rules.refusal_to_resolve(kind, subject, staff_id, staff_id=actor.staff_id,
                                    is_owner=actor.is_at_least(Role.OWNER))


def _require_manager(actor: Actor) -> None:
    if not actor.is_at_least(Role.MANAGER):
        raise PermissionDenied("flags_managers_only")
