"""Manual adjustments the owner must approve, waiting for the decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime


class AdjustmentRequest(Base):
    """A manager's adjustment the owner must approve: pending until the owner approves
    it (the ledger adjustment is written then, ``operation_id``) or rejects it with a
    note, or the system rejects it because the customer's account was closed.

    The constraints keep the states honest: a decision has when (and an approval who),
    an approved request points at exactly one adjustment, a rejected one says why.
    """

    __tablename__ = "adjustment_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        CheckConstraint("points <> 0", name="points_not_zero"),
        # A rejection without a staff member is the system's (the account was closed).
        CheckConstraint(
            "(status = 'pending' AND decided_by IS NULL AND decided_at IS NULL)"
            " OR (status = 'approved' AND decided_by IS NOT NULL AND decided_at IS NOT NULL)"
            " OR (status = 'rejected' AND decided_at IS NOT NULL)",
            name="decided",
        ),
        CheckConstraint(
            "(status = 'approved') = (operation_id IS NOT NULL)", name="approved_has_operation"
        ),
        CheckConstraint(
            "status <> 'rejected' OR length(decision_note) > 0", name="rejected_has_note"
        ),
        Index("ix_adjustment_requests_status", "business_id", "status", "requested_at"),
        Index("ix_adjustment_requests_customer", "business_id", "customer_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(String(500))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"), unique=True)
