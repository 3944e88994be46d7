"""Customers and the vehicles or devices they bring."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime


def _new_secret() -> bytes:
    return secrets.token_bytes(32)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("business_id", "phone"),
        UniqueConstraint("business_id", "card_number"),
        UniqueConstraint("business_id", "referral_code"),
        CheckConstraint("status IN ('active', 'blocked', 'merged', 'deleted')", name="status"),
        CheckConstraint(
            "(status = 'merged') = (merged_into_id IS NOT NULL)", name="merged_has_target"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    phone: Mapped[str] = mapped_column(String(16))  # E.164
    name: Mapped[str | None] = mapped_column(String(200))
    birthday: Mapped[date | None] = mapped_column(Date())
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    referral_code: Mapped[str] = mapped_column(String(12))
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    card_number: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(8), default="active")
    # Key of the rotating check-in code; the phone receives it at sign-in (DESIGN.md).
    checkin_secret: Mapped[bytes] = mapped_column(LargeBinary(32), default=_new_secret)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # Who signed them up at the counter (abuse flags count joins with no orders).
    joined_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the person deleted their account or withdrew consent: the row stays for
    # the ledger's history, with nothing left that identifies them.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Asset(Base):
    """A vehicle (plate, VIN) or a device (serial, IMEI) that belongs to a customer."""

    __tablename__ = "assets"
    __table_args__ = (
        CheckConstraint("kind IN ('plate', 'vin', 'serial', 'imei')", name="kind"),
        Index("ix_assets_business_search", "business_id", "search_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(64))
    # Upper case, no spaces, Cyrillic look-alikes folded to Latin: what searches compare.
    search_key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckinUse(Base):
    """A rotating check-in code already accepted: each is good for one scan only."""

    __tablename__ = "checkin_uses"
    __table_args__ = (UniqueConstraint("business_id", "customer_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    step: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
