"""The quote: everything the counter shows and the close applies, from one pure function.

``quote(settings, version_id, customer, draft, now)`` is run when the counter opens
an order and again inside the closing transaction, which applies exactly its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webapp.domain import tiers
from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.ledger import require_money
from webapp.domain.program import BP, Mechanic, Period, ProgramSettings, Tier, points_for, share_of
from webapp.domain.tiers import (
    EntitlementStatus,
    KeepTier,
    NextTier,
    PaidOrder,
    StampStatus,
)

VISIT_GIFT = "visit_gift"


@dataclass(frozen=True)
class OrderDraft:
    total: int  # minor units, before any discount
    category: str | None = None
    asset_id: int | None = None
    redeem_points: int = 0
    use: tuple[str, ...] = ()  # entitlement codes the customer uses on this order


@dataclass(frozen=True)
class CustomerState:
    available: int
    orders: tuple[PaidOrder, ...] = ()
    entitlement_uses: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True)
class Line:
    """One explained number: a code the UI renders in the user's language, and its values."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Quote:
    version_id: int | None
    total: int
    stamp_discount: int
    discount_bp: int
    discount: int
    max_redeem_points: int
    redeem_points: int
    redeem_value: int
    paid: int  # money the customer pays after discounts and points
    accrue_points: int
    tier_before: str | None
    tier_after: str | None
    next_tier: NextTier | None
    keep_tier: KeepTier | None
    stamps: tuple[StampStatus, ...]
    entitlements: tuple[EntitlementStatus, ...]
    used: tuple[str, ...]  # entitlement codes applied, stamp rewards included
    lines: tuple[Line, ...]

    @property
    def total_discount(self) -> int:
        return self.stamp_discount + self.discount


def quote(s: ProgramSettings, version_id: int | None, customer: CustomerState,
          draft: OrderDraft, now: datetime) -> Quote:
    """Compute the order's discount, points to redeem and earn, tiers, stamps and perks."""
    require_money(draft.total)
    if isinstance(draft.redeem_points, bool) or not isinstance(draft.redeem_points, int) \
            or draft.redeem_points < 0:
        raise InvalidAmount("redeem_points_malformed")
    lines: list[Line] = []
    before = tiers.tier_index(s, customer.orders, now)
    tier = s.tiers[before] if before is not None else None

    stamp_discount, used = 0, []
    for card in s.stamp_cards:
        status = tiers.stamp_status(card, customer.orders, draft.asset_id)
        if draft.category == card.category and status.reward_next and draft.total > 0:
            stamp_discount = max(stamp_discount, share_of(draft.total, card.reward_bp))
            used.append(f"stamp:{card.category}")
            lines.append(Line("stamp_reward", {"title": card.title, "amount": stamp_discount,
                                               "bp": card.reward_bp}))

    # A tier never gives less than the card: the larger discount applies.
    card_rate = s.discount_bp if s.mechanic is Mechanic.DISCOUNT else 0
    tier_rate = tier.discount_bp if tier else 0
    rate = discount_rate(s, tier)
    discount = share_of(draft.total - stamp_discount, rate)
    if discount:
        lines.append(Line("discount", {"bp": rate, "amount": discount,
                                       "tier": tier.name if tier and tier_rate >= card_rate
                                       and tier_rate else None}))
    after_discount = draft.total - stamp_discount - discount

    max_points = 0
    if s.earns_points:
        cap = tier.redeem_cap_bp if tier and tier.redeem_cap_bp is not None else s.redeem_cap_bp
        allowed = draft.total >= s.min_order_for_redeem
        max_points = min(customer.available, share_of(after_discount, cap) // s.point_value
                         ) if allowed else 0
        lines.append(Line("max_redeem", {"points": max_points, "bp": cap,
                                         "available": customer.available,
                                         "minimum": s.min_order_for_redeem,
                                         "allowed": allowed}))
    if draft.redeem_points > max_points:
        raise InvalidAmount("redeem_over_cap", max=max_points,
                            requested=draft.redeem_points)
    redeem_value = draft.redeem_points * s.point_value
    paid = after_discount - redeem_value
    if draft.redeem_points:
        lines.append(Line("redeem", {"points": draft.redeem_points, "value": redeem_value}))

    accrue = 0
    if s.earns_points:
        accrual_bp = tier.accrual_bp if tier and tier.accrual_bp is not None else s.accrual_bp
        base = after_discount if s.accrue_on_redeemed else paid
        accrue = points_for(base, accrual_bp, s.point_value)
        lines.append(Line("accrue", {"points": accrue, "bp": accrual_bp, "base": base}))

    available_perks = _entitlements(s, tier, customer, now)
    for code in draft.use:
        perk = next((p for p in available_perks if p.code == code), None)
        if perk is None or perk.remaining <= 0:
            raise InvalidInput("perk_unavailable", code=code)
        used.append(code)
        lines.append(Line("perk_used", {"title": perk.title}))

    after_orders = (*customer.orders,
                    PaidOrder(now, draft.total, draft.category, draft.asset_id))
    after = tiers.tier_index(s, after_orders, now)
    if after != before and after is not None:
        lines.append(Line("tier_reached", {"tier": s.tiers[after].name}))
    following = tiers.next_tier(s, after_orders, now)
    if following:
        lines.append(Line("next_tier", {"tier": following.name,
                                        "orders": following.orders_missing,
                                        "spend": following.spend_missing}))
    keep = tiers.keep_tier(s, after_orders, now)
    if keep:
        lines.append(Line("keep_tier", {"tier": keep.name, "months": keep.window_months,
                                        "orders": keep.orders_missing,
                                        "spend": keep.spend_missing}))
    stamps = tuple(tiers.stamp_status(card, after_orders, draft.asset_id)
                   for card in s.stamp_cards)
    for stamp in stamps:
        lines.append(Line("stamps", {"title": stamp.title, "have": stamp.have,
                                     "every": stamp.every}))
    return Quote(version_id, draft.total, stamp_discount, rate, discount, max_points,
                 draft.redeem_points, redeem_value, paid, accrue,
                 tier.name if tier else None, s.tiers[after].name if after is not None else None,
                 following, keep, stamps, tuple(available_perks), tuple(used), tuple(lines))


def discount_rate(s: ProgramSettings, tier: Tier | None) -> int:
    """The order's discount rate: the larger of the card's and the tier's (the estimate
    costs discounts through this too)."""
    card_rate = s.discount_bp if s.mechanic is Mechanic.DISCOUNT else 0
    return max(card_rate, tier.discount_bp if tier else 0)


def _entitlements(s: ProgramSettings, tier: Any, customer: CustomerState,
                  now: datetime) -> list[EntitlementStatus]:
    perks = [tiers.entitlement_status(e, customer.entitlement_uses, now)
             for e in (tier.entitlements if tier else ())]
    gift = s.bonuses.gift_visit
    if gift is not None and len([o for o in customer.orders if o.amount > 0]) + 1 == gift:
        perks.append(EntitlementStatus(VISIT_GIFT, s.bonuses.gift_title, 1, Period.VISIT, 0))
    return perks


__all__ = ["BP", "CustomerState", "Line", "OrderDraft", "Quote", "discount_rate", "quote"]
