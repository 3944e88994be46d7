"""The owner's staff list: invite members, reset their access, (de)activate them,
change their role and branches.

An invitation is a one-time link valid for :data:`INVITE_HOURS`: only the sha256 of
its token is stored, and the raw token is returned once, for the owner to pass on.
Until the member sets a password through it, their stored hash matches no password.
Every call is scoped to the actor's business: another business's staff id is
NotFound, the same answer as an id that does not exist. Every call is one scope of the
unit of work (:mod:`webapp.services.unit_of_work`): a change commits at its end, and
any refusal rolls it back.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.errors import (
    AlreadyExists,
    Conflict,
    NotFound,
    PermissionDenied,
)
from webapp.domain.tokens import token_hash
from webapp.persistence.models import Branch, StaffInvite, StaffUser
from webapp.services.staff import accounts as staff
from webapp.services.staff import audit
from webapp.services.staff.sign_in import end_sessions
from webapp.services.unit_of_work import reads, writes

INVITE_HOURS = 72


class InvalidInvite(NotFound):
    """The invitation link is unknown, expired, already used or replaced (one answer)."""

    code = "invalid_invite"


class OwnAccount(Conflict):
    """An owner may not lock themselves out: deactivate, demote or reset themselves."""

    code = "own_account"


@dataclass(frozen=True)
class Invitation:
    staff_id: int
    token: str  # shown once; only its hash is stored
    expires_at: datetime


@dataclass(frozen=True)
class Member:
    id: int
    login: str
    display_name: str
    role: Role
    active: bool
    branch_ids: frozenset[int]
    has_password: bool  # False until the member accepts their invitation
    invite_expires_at: datetime | None  # a pending, still valid invitation


@dataclass(frozen=True)
class BranchRow:
    id: int
    name: str


@dataclass(frozen=True)
class Directory:
    """The staff page's data: every member and every branch of the business."""

    members: list[Member]
    branches: list[BranchRow]


@dataclass(frozen=True)
class InviteDetails:
    """What the invitation page shows the member before they set a password."""

    staff_id: int
    login: str
    display_name: str
    expires_at: datetime


@reads
def list_staff(session: Session, actor: Actor) -> Directory:
    """Every staff member of the actor's business (owner only), by name."""
    _owner(actor)
    now = utcnow()
    members = list(
        session.scalars(
            select(StaffUser)
            .where(StaffUser.business_id == actor.business_id)
            .options(selectinload(StaffUser.branches))
            .order_by(StaffUser.display_name, StaffUser.id)
        )
    )
    pending = dict(
        session.execute(
            select(StaffInvite.staff_id, StaffInvite.expires_at).where(
                StaffInvite.business_id == actor.business_id,
                StaffInvite.used_at.is_(None),
                StaffInvite.expires_at > now,
            )
        ).all()
    )
    branches = [
        BranchRow(b.id, b.name)
        for b in session.scalars(
            select(Branch).where(Branch.business_id == actor.business_id).order_by(Branch.id)
        )
    ]
    found = [_member(m, pending.get(m.id)) for m in members]
    return Directory(found, branches)


@writes
def invite(
    session: Session,
    actor: Actor,
    *,
    login: str,
    display_name: str,
    role: str,
    branch_ids: Iterable[int] | None,
) -> Invitation:
    """Add a staff member who has no password yet and an invitation for them; commit.

    ``branch_ids`` None or empty: no branch assigned, so the member works at every
    branch (those opened later too).
    """
    _owner(actor)
    login = staff.check_login(login)
    staff.check_role(role)
    chosen = _branches(session, actor, branch_ids)
    member = StaffUser(
        business_id=actor.business_id,
        login=login,
        role=role,
        display_name=(display_name or "").strip()[:200] or login,
        password_hash=staff.unusable_password(),
        branches=chosen,
    )
    session.add(member)
    try:
        session.flush()
    except IntegrityError:
        raise AlreadyExists("login_taken", login=login) from None
    invitation = _new_invite(session, actor, member)
    audit.record(
        session,
        actor,
        "staff.invite",
        details={"staff_id": member.id, "login": login, "role": role},
    )
    return invitation


@reads
def invite_details(session: Session, business_id: int, token: str) -> InviteDetails:
    """Who a still valid invitation is for; InvalidInvite otherwise."""
    invite_row, member = _valid_invite(session, business_id, token)
    return InviteDetails(member.id, member.login, member.display_name, invite_row.expires_at)


@writes
def accept(session: Session, business_id: int, token: str, password: str) -> StaffUser:
    """Set the member's password through a valid invitation, use it up, and commit.

    Unknown, expired, used and replaced tokens all get the same InvalidInvite; a short
    password gets WeakPassword and uses nothing up.
    """
    invite_row, member = _valid_invite(session, business_id, token)
    staff.check_password(password)
    now = utcnow()
    # Only one of two concurrent acceptances gets the row.
    used = cast(
        "CursorResult[Any]",
        session.execute(
            update(StaffInvite)
            .where(StaffInvite.id == invite_row.id, StaffInvite.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if used.rowcount != 1:
        raise InvalidInvite()
    staff.set_password(member, password)
    _ = member.branches  # loaded for the caller, who signs the member in
    audit.record(
        session,
        Actor.staff(member.business_id, member.id, Role(member.role)),
        "staff.invite_accepted",
        details={"staff_id": member.id},
    )
    return member


@writes
def reset_access(session: Session, actor: Actor, staff_id: int) -> Invitation:
    """Make the member's password unusable, end all their sessions, and invite them
    again (earlier invitations stop working); commit."""
    _owner(actor)
    member = _find(session, actor, staff_id)
    if member.id == actor.staff_id:
        raise OwnAccount("own_reset")
    member.password_hash = staff.unusable_password()
    end_sessions(member)
    invitation = _new_invite(session, actor, member)
    audit.record(session, actor, "staff.reset_access", details={"staff_id": member.id})
    return invitation


@writes
def set_active(session: Session, actor: Actor, staff_id: int, active: bool) -> None:
    """Let the member sign in again, or not (their sessions end); commit."""
    _owner(actor)
    member = _find(session, actor, staff_id)
    if member.id == actor.staff_id and not active:
        raise OwnAccount("own_deactivate")
    if member.active != active:
        member.active = active
        if not active:
            end_sessions(member)  # a later reactivation does not revive old sessions
        audit.record(
            session,
            actor,
            "staff.activate" if active else "staff.deactivate",
            details={"staff_id": member.id},
        )


@writes
def set_role_and_branches(
    session: Session, actor: Actor, staff_id: int, *, role: str, branch_ids: Iterable[int] | None
) -> None:
    """Change the member's role and branches (None or empty: every branch); commit.

    The member's open sessions see the change on their next request.
    """
    _owner(actor)
    new_role = staff.check_role(role)
    member = _find(session, actor, staff_id)
    if member.id == actor.staff_id and new_role is not Role.OWNER:
        raise OwnAccount("own_demote")
    chosen = _branches(session, actor, branch_ids)
    member.role = new_role.value
    member.branches = chosen
    audit.record(
        session,
        actor,
        "staff.set_role",
        details={
            "staff_id": member.id,
            "role": new_role.value,
            "branch_ids": sorted(b.id for b in member.branches),
        },
    )


def _owner(actor: Actor) -> None:
    if not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("staff_owner_only")


def _branches(session: Session, actor: Actor, branch_ids: Iterable[int] | None) -> list[Branch]:
    wanted = list(branch_ids or [])
    if not wanted:
        return []
    return staff.business_branches(session, actor.business_id, wanted)


def _find(session: Session, actor: Actor, staff_id: int) -> StaffUser:
    member = session.get(StaffUser, staff_id)
    if member is None or member.business_id != actor.business_id:
        raise NotFound("unknown_staff_member")
    return member


def _new_invite(session: Session, actor: Actor, member: StaffUser) -> Invitation:
    """Revoke the member's pending invitations and add a new one (no commit)."""
    now = utcnow()
    session.execute(
        update(StaffInvite)
        .where(StaffInvite.staff_id == member.id, StaffInvite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=INVITE_HOURS)
    session.add(
        StaffInvite(
            business_id=member.business_id,
            staff_id=member.id,
            token_hash=token_hash(token),
            created_by=actor.staff_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return Invitation(member.id, token, expires_at)


def _valid_invite(session: Session, business_id: int, token: str) -> tuple[StaffInvite, StaffUser]:
    found = None
    if token and len(token) <= 100:
        found = session.execute(
            select(StaffInvite, StaffUser)
            .join(StaffUser, StaffUser.id == StaffInvite.staff_id)
            .where(
                StaffInvite.token_hash == token_hash(token),
                StaffInvite.business_id == business_id,
                StaffUser.business_id == business_id,
            )
        ).first()
    if (
        found is None
        or found[0].used_at is not None
        or found[0].expires_at <= utcnow()
        or not found[1].active
    ):
        raise InvalidInvite()
    return found[0], found[1]


def _member(member: StaffUser, invite_expires_at: datetime | None) -> Member:
    return Member(
        member.id,
        member.login,
        member.display_name,
        Role(member.role),
        member.active,
        frozenset(b.id for b in member.branches),
        staff.has_usable_password(member),
        invite_expires_at,
    )
