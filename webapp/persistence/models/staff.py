"""Staff accounts: cashiers, managers, owners."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime
from webapp.persistence.models.business import Branch

staff_branches = Table(
    "staff_branches",
    Base.metadata,
    Column("business_id", ForeignKey("businesses.id"), primary_key=True),
    Column("staff_id", ForeignKey("staff_users.id"), primary_key=True),
    Column("branch_id", ForeignKey("branches.id"), primary_key=True),
)


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        UniqueConstraint("business_id", "login"),
        CheckConstraint("role IN ('cashier', 'manager', 'owner')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    login: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of every session of this member: raising it signs them out everywhere.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # The join names the business too, so the ORM writes the member's business into
    # each staff_branches row it inserts.
    branches: Mapped[list[Branch]] = relationship(
        secondary=staff_branches,
        primaryjoin=lambda: and_(StaffUser.id == foreign(staff_branches.c.staff_id),
                                 StaffUser.business_id == foreign(staff_branches.c.business_id)),
        secondaryjoin=lambda: Branch.id == foreign(staff_branches.c.branch_id),
    )


class StaffSession(Base):
    """One signed-in browser of a staff member. The browser's signed cookie carries a
    random token whose hash is here; signing out ends the row, so a copy of the cookie
    taken before sign-out opens nothing afterwards."""

    __tablename__ = "staff_sessions"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
