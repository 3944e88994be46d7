"""Wallet passes: one per customer, the Apple devices it is registered on, and what
Google Wallet has been told."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime


class WalletPass(Base):
    """A customer's loyalty pass, the same card for Apple Wallet and Google Wallet.

    ``serial`` is random (it appears in URLs). Apple's authentication token is not
    stored: it is derived from the app's secret key and the serial. ``updated_at`` is
    the pass's version: it moves whenever anything the pass shows changes.
    """

    __tablename__ = "wallet_passes"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Google Wallet: whether the loyalty object exists there, and the day's message count
    # (Google shows at most a few messages a day per pass; more are not sent).
    google_object: Mapped[bool] = mapped_column(default=False)
    google_message_day: Mapped[date | None] = mapped_column(Date())
    google_messages: Mapped[int] = mapped_column(default=0)


class PassRegistration(Base):
    """An Apple device that added the pass and wants pushes when it changes."""

    __tablename__ = "pass_registrations"
    __table_args__ = (
        UniqueConstraint("business_id", "device_id", "pass_id"),
        Index("ix_pass_registrations_pass", "business_id", "pass_id"),
        # Apple asks by device alone (its web service names no business): that lookup
        # keeps its own index, and on a sharded cluster it asks every shard.
        Index("ix_pass_registrations_device", "device_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    device_id: Mapped[str] = mapped_column(String(64))  # Apple's deviceLibraryIdentifier
    push_token: Mapped[str] = mapped_column(String(200))
    pass_id: Mapped[int] = mapped_column(ForeignKey("wallet_passes.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
