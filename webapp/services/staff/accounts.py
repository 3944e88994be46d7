"""Staff accounts and their passwords (argon2 through passlib's maintained fork).

:func:`create_staff` is a write scope of the unit of work
(:mod:`webapp.services.unit_of_work`); the rest are checks and helpers that run in
their caller's transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from passlib.context import CryptContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain.actor import Role
from webapp.domain.errors import AlreadyExists, InvalidInput
from webapp.persistence.models import Branch, StaffUser
from webapp.services.unit_of_work import writes

MIN_PASSWORD = 10
# Longer is not a password anyone types; passlib refuses more than 4096 bytes with an
# exception of its own (1024 characters are at most 4096 bytes of UTF-8).
MAX_PASSWORD = 1024


class _Passwords(CryptContext):
    """passlib's context, where a password too long to be real is simply wrong."""

    def verify(self, secret: Any, hash: Any, scheme: Any = None, category: Any = None,
               **kwds: Any) -> bool:
        if isinstance(secret, str | bytes) and len(secret) > MAX_PASSWORD:
            super().verify("", hash, scheme, category, **kwds)  # as long as a wrong one
            return False
        return bool(super().verify(secret, hash, scheme, category, **kwds))


passwords = _Passwords(schemes=["argon2"], deprecated="auto")
# A stored hash starting with this matches no password (an invited member before they
# set one, or a member whose access the owner reset). Argon2 hashes start with "$".
UNUSABLE_PREFIX = "!"
# Verified instead when the stored hash is unusable, so the answer takes the same time.
TIMING_HASH = passwords.hash("not a real password, only for timing")


class WeakPassword(InvalidInput):
    """A password shorter than :data:`MIN_PASSWORD`."""

    code = "weak_password"


@writes
def create_staff(
    session: Session,
    *,
    business_id: int,
    login: str,
    password: str,
    role: str,
    display_name: str | None = None,
    branch_ids: list[int] | None = None,
) -> StaffUser:
    """Create a staff member with an argon2 password hash (a write scope: it commits
    unless called inside another one)."""
    login = check_login(login)
    check_password(password)
    check_role(role)
    chosen = business_branches(session, business_id, branch_ids)
    staff = StaffUser(
        business_id=business_id,
        login=login,
        role=role,
        display_name=display_name or login,
        password_hash=passwords.hash(password),
        branches=chosen,
    )
    session.add(staff)
    try:
        session.flush()  # the unique login is checked here, not at the scope's commit
    except IntegrityError:
        raise AlreadyExists("login_taken", login=login) from None
    return staff


def check_login(login: str) -> str:
    """The login normalised (trimmed, lower case), or InvalidInput."""
    login = (login or "").strip().lower()
    if not login or len(login) > 64 or not all(c.isalnum() or c in "._-@" for c in login):
        raise InvalidInput("login_malformed", field="login")
    return login


def check_password(password: str) -> None:
    """WeakPassword unless the password has at least MIN_PASSWORD characters;
    InvalidInput past MAX_PASSWORD."""
    if len(password or "") < MIN_PASSWORD:
        raise WeakPassword(
            min=MIN_PASSWORD, field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(
            "password_too_long", max=MAX_PASSWORD, field="password"
        )


def check_role(role: str) -> Role:
    """The role, or InvalidInput for anything but cashier, manager or owner."""
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput("role_unknown", field="role") from None


def business_branches(
    session: Session, business_id: int, branch_ids: Iterable[int] | None
) -> list[Branch]:
    """The chosen branches of this business (all of them for None), or InvalidInput."""
    branches = list(
        session.scalars(select(Branch).where(Branch.business_id == business_id).order_by(Branch.id))
    )
    if branch_ids is None:
        return branches
    wanted = set(branch_ids)
    chosen = [b for b in branches if b.id in wanted]
    if len(chosen) != len(wanted):
        raise InvalidInput("branch_foreign", field="branch_ids")
    return chosen


def set_password(staff: StaffUser, password: str) -> None:
    """Store a new argon2 hash for the member (no commit)."""
    check_password(password)
    staff.password_hash = passwords.hash(password)


def unusable_password() -> str:
    """A stored value that no password matches (random, so no two rows share it)."""
    return UNUSABLE_PREFIX + secrets.token_hex(16)


def has_usable_password(staff: StaffUser) -> bool:
    return not staff.password_hash.startswith(UNUSABLE_PREFIX)


def verify_password(staff: StaffUser, password: str) -> bool:
    """Check a password in constant time against the stored hash (never an unusable one)."""
    if not has_usable_password(staff):
        passwords.verify(password, TIMING_HASH)
        return False
    return bool(passwords.verify(password, staff.password_hash))
