"""Tiers, stamp cards and entitlements, derived from order history only (I10).

A paid order counts once with its amount net of refunds; an order refunded in full
does not count. Months of a rolling window are 30 days each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from webapp.domain.program import (
    MONTH,
    Entitlement,
    Period,
    ProgramSettings,
    StampCard,
    Tier,
)


@dataclass(frozen=True)
class PaidOrder:
    at: datetime
    amount: int  # minor units, net of refunds
    category: str | None = None
    asset_id: int | None = None
    # (category, asset) of each line not returned; None: the order's own category
    marks: tuple[tuple[str, int | None], ...] | None = None

    def stamps(self) -> tuple[tuple[str, int | None], ...]:
        """What the order stamps: its lines' categories (with their vehicle or device)."""
        if self.marks is not None:
            return self.marks
        return ((self.category, self.asset_id),) if self.category else ()


@dataclass(frozen=True)
class NextTier:
    name: str
    orders_missing: int | None  # None: this path does not lead to the tier
    spend_missing: int | None


@dataclass(frozen=True)
class KeepTier:
    """What keeping the current tier needs within the rolling window."""

    name: str
    window_months: int
    orders_missing: int | None
    spend_missing: int | None


@dataclass(frozen=True)
class StampStatus:
    category: str
    title: str
    have: int  # stamps on the card now, 0 .. every-1
    every: int
    reward_next: bool  # the next order of this category gets the reward


@dataclass(frozen=True)
class EntitlementStatus:
    code: str
    title: str
    limit: int
    per: Period
    used: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def _counted(orders: Sequence[PaidOrder]) -> list[PaidOrder]:
    return [o for o in orders if o.amount > 0]


def reached(tiers: Sequence[Tier], count: int, spend: int) -> int | None:
    """The highest tier whose order count OR spend is reached (None below the first)."""
    best = None
    for index, tier in enumerate(tiers):
        by_orders = tier.min_orders is not None and count >= tier.min_orders
        by_spend = tier.min_spend is not None and spend >= tier.min_spend
        if by_orders or by_spend:
            best = index
    return best


def _window_tier(s: ProgramSettings, orders: Sequence[PaidOrder], at: datetime) -> int | None:
    start = at - MONTH * s.tier_window_months if s.tier_window_months else None
    recent = [o for o in orders if o.at <= at and (start is None or o.at > start)]
    return reached(s.tiers, len(recent), sum(o.amount for o in recent))


def tier_index(s: ProgramSettings, orders: Sequence[PaidOrder], at: datetime) -> int | None:
    """The customer's tier at ``at`` under the program's counting and downgrade rules."""
    if not s.tiers:
        return None
    paid = _counted(orders)
    if s.tier_window_months is None:
        return _window_tier(s, paid, at)
    if s.downgrade_grace_days is None:  # never downgrade: the best ever reached
        moments = [o.at for o in paid if o.at <= at] + [at]
        return _best(_window_tier(s, paid, t) for t in moments)
    grace = timedelta(days=s.downgrade_grace_days)
    return _best([_window_tier(s, paid, at), _window_tier(s, paid, at - grace)])


def _best(indexes: Iterable[int | None]) -> int | None:
    found = [i for i in indexes if i is not None]
    return max(found) if found else None


def next_tier(s: ProgramSettings, orders: Sequence[PaidOrder], at: datetime) -> NextTier | None:
    """The next tier and what is missing on each path (visits, spend)."""
    current = tier_index(s, orders, at)
    following = 0 if current is None else current + 1
    if following >= len(s.tiers):
        return None
    tier = s.tiers[following]
    paid = _counted(orders)
    start = at - MONTH * s.tier_window_months if s.tier_window_months else None
    recent = [o for o in paid if o.at <= at and (start is None or o.at > start)]
    count, spend = len(recent), sum(o.amount for o in recent)
    return NextTier(
        tier.name,
        max(tier.min_orders - count, 0) if tier.min_orders is not None else None,
        max(tier.min_spend - spend, 0) if tier.min_spend is not None else None,
    )


def keep_tier(s: ProgramSettings, orders: Sequence[PaidOrder], at: datetime) -> KeepTier | None:
    """For windowed tiers that can be lost: what the current window still needs."""
    current = tier_index(s, orders, at)
    if current is None or s.tier_window_months is None or s.downgrade_grace_days is None:
        return None
    tier = s.tiers[current]
    paid = _counted(orders)
    recent = [o for o in paid if at - MONTH * s.tier_window_months < o.at <= at]
    count, spend = len(recent), sum(o.amount for o in recent)
    return KeepTier(
        tier.name, s.tier_window_months,
        max(tier.min_orders - count, 0) if tier.min_orders is not None else None,
        max(tier.min_spend - spend, 0) if tier.min_spend is not None else None,
    )


def stamp_status(card: StampCard, orders: Sequence[PaidOrder],
                 asset_id: int | None = None) -> StampStatus:
    """Stamps on a card: every order with a line of its category is a stamp (one per
    order; a returned line takes its stamp back); the N-th gets the reward."""
    qualifying = [o for o in _counted(orders) if any(
        category == card.category and (not card.per_asset or asset == asset_id)
        for category, asset in o.stamps())]
    have = len(qualifying) % card.every
    return StampStatus(card.category, card.title, have, card.every, have == card.every - 1)


def entitlement_status(entitlement: Entitlement, uses: Sequence[tuple[str, datetime]],
                       at: datetime) -> EntitlementStatus:
    """How much of a perk is left in its period (a visit, the calendar month or year)."""
    if entitlement.per is Period.VISIT:
        used = 0
    elif entitlement.per is Period.MONTH:
        used = sum(1 for code, t in uses if code == entitlement.code
                   and (t.year, t.month) == (at.year, at.month))
    else:
        used = sum(1 for code, t in uses if code == entitlement.code and t.year == at.year)
    return EntitlementStatus(entitlement.code, entitlement.title, entitlement.limit,
                             entitlement.per, used)


def progress(settings: ProgramSettings, nxt: NextTier | None) -> int:
    """How far along the way to the next tier, in percent (0-100), on the nearer path.

    A tier is reached by order count OR spend, so the bar shows whichever path is
    further along; 100 when there is no next tier.
    """
    if nxt is None:
        return 100
    tier = next((t for t in settings.tiers if t.name == nxt.name), None)
    if tier is None:
        return 0
    shares = []
    if tier.min_orders and nxt.orders_missing is not None:
        shares.append(1 - min(nxt.orders_missing, tier.min_orders) / tier.min_orders)
    if tier.min_spend and nxt.spend_missing is not None:
        shares.append(1 - min(nxt.spend_missing, tier.min_spend) / tier.min_spend)
    # Floor, so the bar never shows 100 % before the tier is reached.
    return min(int(max(shares, default=0.0) * 100), 99)
