"""What the counter keeps besides the ledger: staff notes, customer confirmations of
large redemptions, the audit trail, abuse flags and staff invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime


class CustomerNote(Base):
    """A note staff leave on a customer ("prefers Saturdays", "Lada, oil every 8k km")."""

    __tablename__ = "customer_notes"
    __table_args__ = (Index("ix_customer_notes_customer", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RedeemConfirmation(Base):
    """A one-time code sent to the customer's phone to confirm a large redemption.

    Only a hash of the code is stored; it is good for a few minutes, a few attempts,
    and one close (``used_at`` is set in the close's transaction).
    """

    __tablename__ = "redeem_confirmations"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_redeem_confirmations_customer", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    points: Mapped[int]
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEvent(Base):
    """Who did what, when, where and from which device: append-only (migration 0004)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_customer", "business_id", "customer_id", "at"),
        Index("ix_audit_events_staff", "business_id", "staff_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    ip: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str | None] = mapped_column(String(200))


class AbuseFlag(Base):
    """A limit crossed (too many accruals, redeeming right after earning...): a manager
    looks and resolves it. ``window`` makes one flag per subject and period."""

    __tablename__ = "abuse_flags"
    __table_args__ = (
        UniqueConstraint("business_id", "kind", "subject", "window"),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        Index("ix_abuse_flags_open", "business_id", "status", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(40))  # "customer:12", "staff:3"
    window: Mapped[str] = mapped_column(String(40))  # "2026-11-29", "2026-11-29T14"
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    status: Mapped[str] = mapped_column(String(10), default="open")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(String(500))


class StaffInvite(Base):
    """A one-time link an owner gives a new or locked-out staff member to set a password."""

    __tablename__ = "staff_invites"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
