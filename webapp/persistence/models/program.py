"""Program versions (settings never rewritten, each effective from a time) and the
entitlements customers used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime


class ProgramVersion(Base):
    __tablename__ = "program_versions"
    __table_args__ = (
        UniqueConstraint("business_id", "version"),
        CheckConstraint("version > 0", name="version_positive"),
        Index("ix_program_versions_effective", "business_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    version: Mapped[int]
    preset: Mapped[str | None] = mapped_column(String(40))
    settings: Mapped[str] = mapped_column(Text)  # JSON of webapp.domain.program.to_dict
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class EntitlementUse(Base):
    """A perk or a stamp reward used on an order (counted against its limit)."""

    __tablename__ = "entitlement_uses"
    __table_args__ = (
        UniqueConstraint("order_id", "code"),
        Index("ix_entitlement_uses_customer", "customer_id", "code", "used_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    code: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
