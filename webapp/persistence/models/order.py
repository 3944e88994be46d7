"""Orders: what a customer paid for at a branch, line by line.

An order (a work order, заказ-наряд) holds lines: works, parts and other items, each
with its category from the business's own list. The order's total is the sum of its
lines; what the program gave on each line (discount, points spent and earned) is
kept on the line, so a return of some lines reverses exactly what they earned.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
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
    # The first line's category: what one-line orders and older reports read.
    service_category: Mapped[str | None] = mapped_column(String(64))
    # What the program gave on this order (the quote applied), and which version.
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    program_version_id: Mapped[int | None] = mapped_column(ForeignKey("program_versions.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrderLine(Base):
    """One work, part or other item of an order, and what the program gave on it."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("business_id", "order_id", "position"),
        CheckConstraint("kind IN ('work', 'part', 'other')", name="kind"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
        CheckConstraint("amount_minor = quantity * unit_price_minor", name="amount_is_product"),
        CheckConstraint("discount_minor >= 0 AND discount_minor <= amount_minor",
                        name="discount_within_amount"),
        CheckConstraint("accrued_points >= 0 AND redeemed_points >= 0", name="points_positive"),
        CheckConstraint("returned_quantity >= 0 AND returned_quantity <= quantity",
                        name="returned_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ... as typed
    name: Mapped[str] = mapped_column(String(200))  # "" on a quick one-line order
    kind: Mapped[str] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(64))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)  # stamp reward + card or tier
    redeemed_points: Mapped[int] = mapped_column(BigInteger)  # the order's points spent here
    accrued_points: Mapped[int] = mapped_column(BigInteger)  # earned on this line
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)


class ServiceCategory(Base):
    """A category of the business's works and parts, named for people in ru and en."""

    __tablename__ = "service_categories"
    __table_args__ = (
        UniqueConstraint("business_id", "code"),
        CheckConstraint("kind IN ('work', 'part', 'other')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    code: Mapped[str] = mapped_column(String(64))  # what lines and stamp cards name
    name_ru: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8), default="work")  # a new line's kind
    active: Mapped[bool] = mapped_column(default=True)
