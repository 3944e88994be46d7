"""Staff sign-in: check a login and password within one business, and who they act as.

Each signed-in browser is a ``staff_sessions`` row: its cookie carries a random token
whose hash is the row's, and signing out ends the row, so a copy of the cookie taken
before sign-out opens nothing afterwards. Every session also carries the member's
``session_epoch``: raising it (sign out everywhere, an owner resetting access or
deactivating the member) ends every session at once, because :func:`load` refuses a
session whose epoch is not the current one.

Attempts are limited before any password is checked (:mod:`webapp.domain.sign_in_limits`,
counted in :mod:`webapp.services.staff.rate_counters`). :func:`start` is several transactions,
each a scope of the unit of work (:mod:`webapp.services.unit_of_work`): the attempt is
counted and committed first, the password is checked in a read, a success gives the
attempt back and then starts the session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from webapp.domain import sign_in_limits
from webapp.domain.actor import Actor, Role
from webapp.domain.addresses import address_key
from webapp.domain.clock import utcnow
from webapp.domain.errors import Conflict, NotFound, PermissionDenied
from webapp.domain.tokens import token_hash
from webapp.persistence.models import StaffSession, StaffUser, staff_branches
from webapp.services.business import settings as counter_settings
from webapp.services.staff import audit
from webapp.services.staff.accounts import TIMING_HASH, passwords, verify_password
from webapp.services.staff.rate_counters import Counters
from webapp.services.unit_of_work import UnitOfWork, Work, reads, writes

# A session ends this long after sign-in whatever happens: a copied cookie that is kept
# busy (so never idle) still stops working. Longer than any shift.
LIFETIME = timedelta(hours=14)


class TooManySignIns(Conflict):
    """An attempt refused by a sign-in limit before any password is checked."""

    code = "too_many_sign_ins"
    status = 429

    def __init__(self, refusal: sign_in_limits.Refusal) -> None:
        seconds = max(1, int(refusal.retry_after.total_seconds() + 0.999))
        if refusal.limit is sign_in_limits.Limit.LOGIN:
            super().__init__("sign_in_login_locked", seconds=seconds)
        else:
            super().__init__("sign_in_failures_locked", minutes=max(1, -(-seconds // 60)))
        self.refusal = refusal


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
    """A successful sign-in: who, after how many idle minutes the session ends, and the
    session's token for the browser's cookie (only its hash is stored)."""

    who: SignedIn
    idle_timeout_minutes: int
    token: str


@reads
def authenticate(session: Session, business_id: int, login: str, password: str) -> StaffUser | None:
    """The active staff member of this business with this login and password, or None."""
    login = (login or "").strip().lower()
    member = session.scalars(
        select(StaffUser).where(StaffUser.business_id == business_id, StaffUser.login == login)
    ).first()
    if member is None:
        passwords.verify(password or "", TIMING_HASH)
        return None
    ok = verify_password(member, password or "") and member.active
    if ok:
        _ = member.branches  # load before the read transaction ends
    return member if ok else None


def start(session: Work, counters: Counters, business_id: int, login: str, password: str,
          *, ip: str | None, device: str | None, known_device: str | None = None,
          now: datetime | None = None) -> Started | None:
    """Sign in with a login and password: a new session, None for a wrong pair (one
    answer for every failure), or TooManySignIns before any password is checked.

    ``known_device`` is the id of a browser that signed this login in before (its
    signed cookie says so): it is limited on its own, not by the login's shared counts.

    Not one scope but four, one after the other: the count (committed before the
    password is checked, so a failure stays counted), the password check (a read), the
    success given back, the new session. Call it with no scope open.
    """
    work = UnitOfWork.of(session)
    now = now or utcnow()
    keys = sign_in_limits.keys(business_id, login, address_key(ip), known_device)
    window = sign_in_limits.window_start(now)
    refused = counters.hit_unless(
        keys.all(), window, now,
        lambda counts: sign_in_limits.refusal(counts, now, keys.known_device))
    if refused is not None:
        raise TooManySignIns(refused)
    member = authenticate(work, business_id, login, password)
    if member is None:
        return None
    counters.unhit(keys.all(), window)  # only failures count against the limits
    return started(work, member, ip=ip, device=device, now=now)


@writes
def started(session: Session, member: StaffUser, *, ip: str | None, device: str | None,
            now: datetime | None = None) -> Started:
    """A new session for a member already known to be who they say, committed."""
    who = signed_in(member)
    minutes = counter_settings.load(session, who.business_id).idle_timeout_minutes
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(business_id=who.business_id, staff_id=who.staff_id,
                             token_hash=token_hash(token), ip=ip,
                             device=(device or "")[:200] or None, created_at=now or utcnow()))
    return Started(who, minutes, token)


@writes
def end(session: Session, token: str, now: datetime | None = None) -> None:
    """End the session behind this token (sign-out), and commit; an unknown or already
    ended one is left as it is."""
    if not token:
        return
    session.execute(update(StaffSession)
                    .where(StaffSession.token_hash == token_hash(token),
                           StaffSession.ended_at.is_(None))
                    .values(ended_at=now or utcnow()))


def signed_in(member: StaffUser) -> SignedIn:
    return SignedIn(
        member.id,
        member.business_id,
        Role(member.role),
        member.display_name,
        frozenset(b.id for b in member.branches),
        member.session_epoch,
    )


@writes
def load(session: Session, business_id: int, staff_id: int, session_epoch: int,
         token: str, now: datetime | None = None) -> SignedIn | None:
    """The session's staff member again, if still active, in this business, the session
    not ended (signed out) nor older than :data:`LIFETIME`, and of the member's current
    epoch (not signed out everywhere since)."""
    # Every staff request runs this: one prebuilt query, no ORM objects. A write scope
    # though it only reads: it ends with a commit, not a read scope's rollback, since
    # psycopg forgets its prepared statements at every rollback, and then no statement
    # of the request's own work is ever prepared.
    if not token:
        return None
    oldest = (now or utcnow()) - LIFETIME
    rows = session.execute(_LOAD, {"staff_id": staff_id, "token_hash": token_hash(token),
                                   "oldest": oldest}).all()
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
    .join(StaffSession, StaffSession.staff_id == StaffUser.id)
    .outerjoin(staff_branches, (staff_branches.c.business_id == StaffUser.business_id)
               & (staff_branches.c.staff_id == StaffUser.id))
    .where(StaffUser.id == bindparam("staff_id"),
           StaffSession.token_hash == bindparam("token_hash"),
           StaffSession.ended_at.is_(None),
           StaffSession.created_at > bindparam("oldest", type_=StaffSession.created_at.type))
)


@writes
def sign_out_everywhere(session: Session, actor: Actor, staff_id: int) -> None:
    """End every session of a staff member, and commit.

    A member may do it for themselves; an owner for anyone in their business. A staff
    id of another business is NotFound.
    """
    if actor.staff_id != staff_id and not actor.is_at_least(Role.OWNER):
        raise PermissionDenied("sign_out_owner_only")
    member = session.get(StaffUser, staff_id)
    if member is None or member.business_id != actor.business_id:
        raise NotFound("unknown_staff_member")
    end_sessions(member)
    audit.record(session, actor, "staff.sign_out_everywhere", details={"staff_id": staff_id})


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
