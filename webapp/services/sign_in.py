"""Staff sign-in: check a login and password within one business, and who they act as.

Every session carries the member's ``session_epoch``: raising it (sign out everywhere,
an owner resetting access or deactivating the member) ends every session at once,
because :func:`load` refuses a session whose epoch is not the current one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.domain.errors import NotFound, PermissionDenied
from webapp.persistence.models import StaffUser, staff_branches
from webapp.services import audit, counter_settings
from webapp.services.staff import TIMING_HASH, passwords, verify_password


@dataclass(frozen=True)
class SignedIn:
    """What a request needs to know about the signed-in staff member (no ORM object)."""

    staff_id: int
    business_id: int
    role: Role
    display_name: str
    branch_ids: frozenset[int]
    session_epoch: int = 0


@dataclass(frozen=True)
class Started:
    """A successful sign-in: who, and after how many idle minutes the session ends."""

    who: SignedIn
    idle_timeout_minutes: int


def authenticate(session: Session, business_id: int, login: str, password: str) -> StaffUser | None:
    """The active staff member of this business with this login and password, or None."""
    login = (login or "").strip().lower()
    member = session.scalars(
        select(StaffUser).where(StaffUser.business_id == business_id, StaffUser.login == login)
    ).first()
    if member is None:
        passwords.verify(password or "", TIMING_HASH)
        session.rollback()
        return None
    ok = verify_password(member, password or "") and member.active
    if ok:
        _ = member.branches  # load before the read transaction ends
    session.rollback()
    return member if ok else None


def start(session: Session, business_id: int, login: str, password: str) -> Started | None:
    """Check the password (see :func:`authenticate`) and what the new session needs."""
    member = authenticate(session, business_id, login, password)
    if member is None:
        return None
    return started(session, member)


def started(session: Session, member: StaffUser) -> Started:
    """The session start for a member already known to be who they say."""
    who = signed_in(member)
    minutes = counter_settings.load(session, who.business_id).idle_timeout_minutes
    session.rollback()
    return Started(who, minutes)


def signed_in(member: StaffUser) -> SignedIn:
    return SignedIn(
        member.id,
        member.business_id,
        Role(member.role),
        member.display_name,
        frozenset(b.id for b in member.branches),
        member.session_epoch,
    )


def load(session: Session, business_id: int, staff_id: int, session_epoch: int) -> SignedIn | None:
    """The session's staff member again, if still active, in this business, and the
    session is of the member's current epoch (not signed out everywhere since)."""
    # Every staff request runs this: one prebuilt query, no ORM objects. It ends its
    # read with a commit, not a rollback: psycopg forgets its prepared statements at
    # every rollback, and then no statement of the request's own work is ever prepared.
    rows = session.execute(_LOAD, {"staff_id": staff_id}).all()
    session.commit()
    if not rows:
        return None
    first = rows[0]
    if (not first.active or first.business_id != business_id
            or first.session_epoch != session_epoch):
        return None
    return SignedIn(first.id, first.business_id, Role(first.role), first.display_name,
                    frozenset(r.branch_id for r in rows if r.branch_id is not None),
                    first.session_epoch)


_LOAD = (
    select(StaffUser.id, StaffUser.business_id, StaffUser.role, StaffUser.display_name,
           StaffUser.active, StaffUser.session_epoch, staff_branches.c.branch_id)
    .outerjoin(staff_branches, staff_branches.c.staff_id == StaffUser.id)
    .where(StaffUser.id == bindparam("staff_id"))
)


def sign_out_everywhere(session: Session, actor: Actor, staff_id: int) -> None:
    """End every session of a staff member, and commit.

    A member may do it for themselves; an owner for anyone in their business. A staff
    id of another business is NotFound.
    """
    if actor.staff_id != staff_id and not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("Only the owner signs other staff members out.")
    member = session.get(StaffUser, staff_id)
    if member is None or member.business_id != actor.business_id:
        session.rollback()
        raise NotFound("No such staff member.")
    end_sessions(member)
    audit.record(session, actor, "staff.sign_out_everywhere", details={"staff_id": staff_id})
    session.commit()


def end_sessions(member: StaffUser) -> None:
    """Raise the member's epoch in SQL (no lost update when two requests do it), no commit."""
    member.session_epoch = StaffUser.session_epoch + 1


def actor_for(staff_user: StaffUser | SignedIn) -> Actor:
    """The actor that service calls made on this staff member's behalf take."""
    if isinstance(staff_user, StaffUser):
        staff_user = signed_in(staff_user)
    return Actor.staff(
        staff_user.business_id, staff_user.staff_id, staff_user.role, staff_user.branch_ids
    )
