"""Staff accounts and their passwords (argon2 through passlib's maintained fork)."""

from __future__ import annotations

from passlib.context import CryptContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain.actor import Role
from webapp.domain.errors import AlreadyExists, InvalidInput
from webapp.persistence.models import Branch, StaffUser

passwords = CryptContext(schemes=["argon2"], deprecated="auto")

MIN_PASSWORD = 10


def create_staff(session: Session, *, business_id: int, login: str, password: str,
                 role: str, display_name: str | None = None,
                 branch_ids: list[int] | None = None) -> StaffUser:
    """Create a staff member with an argon2 password hash, and commit."""
    login = (login or "").strip().lower()
    if not login or len(login) > 64 or not all(c.isalnum() or c in "._-@" for c in login):
        raise InvalidInput("A login is 1 to 64 letters, digits or . _ - @.")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD} characters.")
    try:
        Role(role)
    except ValueError:
        raise InvalidInput("The role is cashier, manager or owner.") from None
    branches = list(session.scalars(select(Branch).where(Branch.business_id == business_id)))
    chosen = [b for b in branches if branch_ids is None or b.id in branch_ids]
    if branch_ids is not None and len(chosen) != len(set(branch_ids)):
        raise InvalidInput("A branch does not belong to this business.")
    staff = StaffUser(business_id=business_id, login=login, role=role,
                      display_name=display_name or login,
                      password_hash=passwords.hash(password), branches=chosen)
    session.add(staff)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyExists("This login is taken.", login=login) from None
    return staff


def verify_password(staff: StaffUser, password: str) -> bool:
    """Check a password in constant time against the stored hash."""
    return bool(passwords.verify(password, staff.password_hash))
