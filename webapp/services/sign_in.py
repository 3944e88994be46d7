"""Staff sign-in: check a login and password within one business, and who they act as."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.persistence.models import StaffUser
from webapp.services.staff import passwords, verify_password

# Verified when the login is unknown, so both failures take the same time.
_DUMMY_HASH = passwords.hash("not a real password, only for timing")


@dataclass(frozen=True)
class SignedIn:
    """What a request needs to know about the signed-in staff member (no ORM object)."""

    staff_id: int
    business_id: int
    role: Role
    display_name: str
    branch_ids: frozenset[int]


def authenticate(session: Session, business_id: int, login: str,
                 password: str) -> StaffUser | None:
    """The active staff member of this business with this login and password, or None."""
    login = (login or "").strip().lower()
    member = session.scalars(select(StaffUser).where(
        StaffUser.business_id == business_id, StaffUser.login == login)).first()
    if member is None:
        passwords.verify(password or "", _DUMMY_HASH)
        session.rollback()
        return None
    ok = verify_password(member, password or "") and member.active
    if ok:
        _ = member.branches  # load before the read transaction ends
    session.rollback()
    return member if ok else None


def signed_in(member: StaffUser) -> SignedIn:
    return SignedIn(member.id, member.business_id, Role(member.role), member.display_name,
                    frozenset(b.id for b in member.branches))


def load(session: Session, business_id: int, staff_id: int) -> SignedIn | None:
    """The session's staff member again, if still active and still in this business."""
    member = session.get(StaffUser, staff_id)
    found = (signed_in(member)
             if member is not None and member.active and member.business_id == business_id
             else None)
    session.rollback()
    return found


def actor_for(staff_user: StaffUser | SignedIn) -> Actor:
    """The actor that service calls made on this staff member's behalf take."""
    if isinstance(staff_user, StaffUser):
        staff_user = signed_in(staff_user)
    return Actor.staff(staff_user.business_id, staff_user.staff_id, staff_user.role,
                       staff_user.branch_ids)
