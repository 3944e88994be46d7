"""What the customer app keeps: sign-in codes, device sessions, consents, the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime


class SignInCode(Base):
    """A one-time code texted to a phone to sign in (or join) the customer app.

    Only a hash is stored. Codes exist for phones nobody has joined with yet, so the
    row names the phone, not a customer: the answer never tells who is a customer.
    """

    __tablename__ = "sign_in_codes"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_sign_in_codes_phone", "business_id", "phone", "created_at"),
        Index("ix_sign_in_codes_ip", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    phone: Mapped[str] = mapped_column(String(16))  # E.164
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    ip: Mapped[str | None] = mapped_column(String(45))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CustomerSession(Base):
    """A signed-in device of a customer: listed in the profile and revocable there.

    The cookie carries a random token; only its sha256 is stored.
    """

    __tablename__ = "customer_sessions"
    __table_args__ = (
        Index("ix_customer_sessions_customer", "business_id", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Consent(Base):
    """One consent event (152-FZ): given or withdrawn, of which text, when, how, from where.

    Append-only history: the current state of a kind is its newest row. Consent to the
    processing of personal data and consent to advertising are separate kinds.
    """

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint("kind IN ('personal_data', 'advertising')", name="kind"),
        Index("ix_consents_customer", "business_id", "customer_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool]
    text_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # pwa, counter, api
    # Who took it at the counter (the customer confirmed on the screen or by code).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    ip: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(Base):
    """A side effect (SMS, push, wallet update) written in the same transaction as the
    change that caused it, and sent later by ``regulars worker`` with retries."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        CheckConstraint("purpose IN ('service', 'advertising')", name="purpose"),
        Index("ix_outbox_due", "status", "run_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(32))  # sms, ...
    purpose: Mapped[str] = mapped_column(String(12), default="service")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
