"""Orders: what a customer paid for at a branch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("business_id", "external_ref"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint("discount_minor >= 0 AND discount_minor <= total_minor",
                        name="discount_within_total"),
        CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= total_minor", name="refund_within_total"
        ),
        CheckConstraint(
            "status IN ('open', 'closed', 'partially_refunded', 'refunded')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    external_ref: Mapped[str | None] = mapped_column(String(100))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    service_category: Mapped[str | None] = mapped_column(String(64))
    # What the program gave on this order (the quote applied), and which version.
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    program_version_id: Mapped[int | None] = mapped_column(ForeignKey("program_versions.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
