"""Ledger rules that need no database: amounts, lots, refunds, settlement.

The points ledger is double-entry: every transfer moves a positive amount from
one account to another. Customer accounts: ``available`` and ``pending`` never
go below zero; ``clawback`` never goes above zero (it is what the customer owes
after a refund of points already spent). Business accounts (``issued``,
``redeemed``, ``expired``, ``adjusted``) are counterparties and may go either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from webapp.domain.errors import InsufficientPoints, InvalidAmount, InvalidInput

# No loyalty program hands out a billion points in one go; anything above is a typo or an attack.
MAX_POINTS = 1_000_000_000


class AccountKind(StrEnum):
    AVAILABLE = "available"
    PENDING = "pending"
    CLAWBACK = "clawback"
    ISSUED = "issued"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    ADJUSTED = "adjusted"

    @property
    def per_customer(self) -> bool:
        return self in CUSTOMER_ACCOUNTS


CUSTOMER_ACCOUNTS = frozenset({AccountKind.AVAILABLE, AccountKind.PENDING, AccountKind.CLAWBACK})
SYSTEM_ACCOUNTS = frozenset(set(AccountKind) - CUSTOMER_ACCOUNTS)


class OperationKind(StrEnum):
    ACCRUAL = "accrual"
    REDEMPTION = "redemption"
    HOLD = "hold"
    RELEASE = "release"
    CANCEL = "cancel"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"
    EXPIRY = "expiry"


def require_points(value: object, *, allow_negative: bool = False) -> int:
    """Validate a points amount: a whole, non-zero number within MAX_POINTS."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount("points_not_whole", value=value)
    if value == 0:
        raise InvalidAmount("points_zero", value=value)
    if value < 0 and not allow_negative:
        raise InvalidAmount("points_not_positive", value=value)
    if abs(value) > MAX_POINTS:
        raise InvalidAmount("points_too_many", value=value, max=MAX_POINTS)
    return value


def require_money(value: object, *, allow_zero: bool = True) -> int:
    """Validate an amount of money in minor units (kopecks)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount("money_not_whole", value=value)
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidAmount("amount_not_positive", value=value)
    if value > 100 * MAX_POINTS:
        raise InvalidAmount("amount_too_large", value=value)
    return value


def require_refund(value: object) -> int:
    """A refund's amount: money above zero, refused in a refund's own words otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
        raise InvalidAmount("refund_not_positive", value=value)
    return require_money(value, allow_zero=False)


def require_adjustment(value: object) -> int:
    """An adjustment's points: either sign, not zero (which an adjustment's words refuse)."""
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        raise InvalidAmount("adjustment_zero", value=value)
    return require_points(value, allow_negative=True)


@dataclass(frozen=True)
class Lot:
    """A batch of available points that shares an earning time and an expiry."""

    id: int
    remaining: int
    earned_at: datetime
    expires_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.remaining > 0 and (self.expires_at is None or self.expires_at > now)


def _fifo_key(lot: Lot) -> tuple[bool, datetime, datetime, int]:
    # Oldest expiry first (never-expiring last), then oldest earning: the customer
    # loses the fewest points to expiry.
    return (lot.expires_at is None, lot.expires_at or lot.earned_at, lot.earned_at, lot.id)


def consume(lots: Iterable[Lot], amount: int, now: datetime) -> list[tuple[int, int]]:
    """Pick ``(lot_id, points)`` to take ``amount`` from usable lots, oldest first.

    Raises InsufficientPoints when the usable lots do not cover the amount; expired
    lots are never usable (I8).
    """
    plan: list[tuple[int, int]] = []
    left = amount
    for lot in sorted((lot for lot in lots if lot.usable(now)), key=_fifo_key):
        take = min(lot.remaining, left)
        plan.append((lot.id, take))
        left -= take
        if left == 0:
            return plan
    raise InsufficientPoints(
        "points_short",
        available=amount - left,
        requested=amount,
    )


def consume_up_to(lots: Iterable[Lot], amount: int, now: datetime) -> list[tuple[int, int]]:
    """Like :func:`consume` but takes what there is instead of failing."""
    usable = sum(lot.remaining for lot in lots if lot.usable(now))
    return consume(lots, min(amount, usable), now) if min(amount, usable) > 0 else []


def due_for_expiry(lots: Iterable[Lot], now: datetime) -> list[tuple[int, int]]:
    """Lots whose expiry time has come and that still hold points."""
    return [
        (lot.id, lot.remaining)
        for lot in sorted(lots, key=_fifo_key)
        if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= now
    ]


def settle_from_accrual(accrual: int, debt: int) -> tuple[int, int]:
    """Split an accrual into (settles the clawback debt, credited to available)."""
    settle = min(accrual, max(debt, 0))
    return settle, accrual - settle


def refund_share(earned: int, order_total: int, refunded_total: int, already: int) -> int:
    """Points to reverse now so that the cumulative reversal is proportional (I5).

    ``refunded_total`` is the money refunded so far including this refund. The
    cumulative target is rounded down, so a full refund reverses exactly
    ``earned`` and partial refunds never reverse more than their share.
    """
    if order_total <= 0:
        return earned - already
    target = earned * min(refunded_total, order_total) // order_total
    return max(target - already, 0)


def fingerprint(operation: str, params: Mapping[str, Any]) -> str:
    """A stable hash of a request, to tell a retry from a different request (I4)."""
    canonical = json.dumps(
        {"op": operation, **params}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: object) -> str:
    """An idempotency key: 8 to 200 printable ASCII characters."""
    if not (isinstance(key, str) and 8 <= len(key) <= 200 and key.isascii() and key.isprintable()):
        raise InvalidInput("idempotency_key_malformed")
    return key
