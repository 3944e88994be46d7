"""The points ledger: accounts, operations, transfers, entries, lots, idempotency keys.

Operations, transfers and entries are append-only (triggers in the migrations
refuse UPDATE and DELETE, I6). Account balances and lot remainders are caches of
the entries, kept by guarded updates and checked by ``regulars check-ledger``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.clock import utcnow
from webapp.persistence.base import Base, UTCDateTime

_CUSTOMER_KINDS = "('available', 'pending', 'clawback')"


class Account(Base):
    """A customer's available/pending/clawback account or a business's system account.

    System accounts carry no cached balance (NULL): every order would otherwise
    update the same row and serialise the whole business behind one lock.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('available', 'pending', 'clawback', 'issued', 'redeemed', 'expired',"
            " 'adjusted')",
            name="kind",
        ),
        CheckConstraint(
            f"(customer_id IS NOT NULL) = (kind IN {_CUSTOMER_KINDS})", name="owner_matches_kind"
        ),
        CheckConstraint(
            "(kind IN ('available', 'pending') AND balance >= 0)"
            " OR (kind = 'clawback' AND balance <= 0)"
            f" OR (kind NOT IN {_CUSTOMER_KINDS} AND balance IS NULL)",
            name="balance_sign",
        ),
        Index(
            "uq_accounts_customer_kind",
            "customer_id",
            "kind",
            unique=True,
            sqlite_where=text("customer_id IS NOT NULL"),
            postgresql_where=text("customer_id IS NOT NULL"),
        ),
        Index(
            "uq_accounts_system_kind",
            "business_id",
            "kind",
            unique=True,
            sqlite_where=text("customer_id IS NULL"),
            postgresql_where=text("customer_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(12))
    balance: Mapped[int | None] = mapped_column(BigInteger)


class Operation(Base):
    """One business event in the ledger (an accrual, a redemption, a refund...)."""

    __tablename__ = "operations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('accrual', 'redemption', 'hold', 'release', 'cancel', 'reversal',"
            " 'adjustment', 'expiry')",
            name="kind",
        ),
        CheckConstraint("kind <> 'adjustment' OR length(reason) > 0", name="adjustment_reason"),
        CheckConstraint(
            "(kind IN ('release', 'cancel')) = (hold_id IS NOT NULL)", name="resolution_has_hold"
        ),
        # I5: one accrual per order, whether it lands at once or goes through pending.
        Index(
            "uq_operations_order_accrual",
            "order_id",
            unique=True,
            sqlite_where=text("kind IN ('accrual', 'hold')"),
            postgresql_where=text("kind IN ('accrual', 'hold')"),
        ),
        # I7: a hold resolves exactly once.
        Index(
            "uq_operations_hold_resolution",
            "hold_id",
            unique=True,
            sqlite_where=text("hold_id IS NOT NULL"),
            postgresql_where=text("hold_id IS NOT NULL"),
        ),
        Index("ix_operations_customer_created", "customer_id", "created_at"),
        Index("ix_operations_order", "order_id"),
        Index("ix_operations_staff_created", "business_id", "staff_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(12))
    points: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    # A hold's planned release; a lot's expiry is on the lot.
    release_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Transfer(Base):
    """A positive amount moved from one account to another: two entries."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        # Led by the business, the column a sharded cluster would distribute by.
        Index("ix_transfers_business_operation", "business_id", "operation_id"),
        Index("ix_transfers_business_lot", "business_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    # The lot this transfer created (into available) or consumed (out of available).
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Entry(Base):
    """One leg of a transfer: a signed amount on one account."""

    __tablename__ = "entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        UniqueConstraint("business_id", "transfer_id", "account_id"),
        Index("ix_entries_business_account", "business_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always its account's and its operation's business (checked by check-ledger).
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)


class Lot(Base):
    """Points that became available together and expire together (I8)."""

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("initial > 0", name="initial_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= initial", name="remaining_in_range"),
        Index("ix_lots_customer_open", "customer_id", "remaining"),
        Index("ix_lots_business_expiry", "business_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    source_operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    initial: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdempotencyKey(Base):
    """A request already carried out, kept at least 30 days (I4)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("business_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    result: Mapped[str] = mapped_column(Text)  # JSON of what the first call returned
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
