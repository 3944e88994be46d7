"""Web push: the browsers that asked for notifications, and the reminders already sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime


class PushSubscription(Base):
    """One browser's push subscription (the Push API's ``PushSubscription.toJSON()``).

    The endpoint is a secret capability URL at the browser's push service; the keys
    encrypt each message for that browser only. A push service answering 404 or 410
    means the subscription is gone, and the row is deleted. So is signing out the
    device session it was made in (``session_id``).
    """

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        Index("ix_push_subscriptions_customer", "business_id", "customer_id"),
        Index("ix_push_subscriptions_session", "business_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("customer_sessions.id"))
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))  # base64url P-256 public key
    auth: Mapped[str] = mapped_column(String(50))  # base64url 16-byte auth secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PushReminder(Base):
    """A reminder already sent, so a second run of ``regulars push remind`` sends
    nothing new: ``expiring`` once per lot (``ref`` is the lot's id), ``sleeping``
    once per absence (``ref``: the last paid order's time, microseconds since 1970)."""

    __tablename__ = "push_reminders"
    __table_args__ = (
        CheckConstraint("kind IN ('expiring', 'sleeping')", name="kind"),
        UniqueConstraint("business_id", "customer_id", "kind", "ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(12))
    ref: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
