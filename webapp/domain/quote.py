"""The quote: everything the counter shows and the close applies, from one pure function.

``quote(settings, version_id, customer, draft, now)`` is run when the counter opens
an order and again inside the closing transaction, which applies exactly its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webapp.domain import order_lines, tiers
from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.ledger import require_money
from webapp.domain.order_lines import OrderLine, PricedLine, check_lines, spread_points
from webapp.domain.program import BP, Mechanic, Period, ProgramSettings, Tier, share_of
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
    """An order as typed at the counter: its lines, or (the quick flow) one total.

    With ``lines`` the total is their sum (a ``total`` that disagrees is refused) and the
    order's category is its first line's that has one; without them the order is one
    line of ``total`` in ``category``.
    """

    total: int = 0  # minor units, before any discount
    category: str | None = None
    asset_id: int | None = None
    redeem_points: int = 0
    use: tuple[str, ...] = ()  # entitlement codes the customer uses on this order
    lines: tuple[OrderLine, ...] = ()

    def __post_init__(self) -> None:
        if not self.lines:
            return
        check_lines(self.lines)
        total = sum(line.amount for line in self.lines)
        if self.total not in (0, total):
            raise InvalidAmount("lines_total_mismatch", total_minor=self.total,
                                lines_minor=total)
        object.__setattr__(self, "total", total)
        if self.category is None:
            object.__setattr__(self, "category", next(
                (line.category for line in self.lines if line.category), None))

    @property
    def items(self) -> tuple[OrderLine, ...]:
        """The lines to price: as typed, or the quick flow's one line."""
        if self.lines:
            return self.lines
        return (OrderLine(unit_price=self.total, category=self.category),)

    def asset_of(self, line: OrderLine) -> int | None:
        """The vehicle or device a line is for: its own, else the order's."""
        return line.asset_id if line.asset_id is not None else self.asset_id


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
    items: tuple[PricedLine, ...] = ()  # what each order line gets
    # Cashback: points are told as money, each worth this many minor units (else None).
    money_points: int | None = None

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

    items = draft.items
    rewards, used = _stamp_rewards(s, customer, draft, lines)
    stamp_discount = sum(rewards)

    # A tier never gives less than the card: the larger discount applies, to every
    # line a line rule does not keep it off.
    rate = discount_rate(s, tier)
    discounts = [share_of(line.amount - reward, rate) if order_lines.discounted(s, line) else 0
                 for line, reward in zip(items, rewards, strict=True)]
    discount = sum(discounts)
    if discount:  # the tier's name when its rate is the one given
        lines.append(Line("discount", {"bp": rate, "amount": discount,
                                       "tier": tier.name if tier and tier.discount_bp == rate
                                       else None}))
    left = [line.amount - reward - cut
            for line, reward, cut in zip(items, rewards, discounts, strict=True)]
    after_discount = sum(left)

    max_points = 0
    if s.earns_points:
        cap = tier.redeem_cap_bp if tier and tier.redeem_cap_bp is not None else s.redeem_cap_bp
        allowed = draft.total >= s.min_order_for_redeem
        # Points pay for whole points of a line: the rooms of the lines bound the cap.
        room = sum(share // s.point_value for share in left)
        max_points = min(customer.available, share_of(after_discount, cap) // s.point_value,
                         room) if allowed else 0
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
    spent = spread_points(draft.redeem_points, left, s.point_value)

    base_rate = 0
    if s.earns_points:
        base_rate = tier.accrual_bp if tier and tier.accrual_bp is not None else s.accrual_bp
    priced = []
    for i, line in enumerate(items):
        value = spent[i] * s.point_value
        base = left[i] if s.accrue_on_redeemed else left[i] - value
        line_rate, points = (order_lines.accrual(s, line, base_rate, base)
                             if s.earns_points else (0, 0))
        priced.append(PricedLine(i + 1, line, rewards[i], discounts[i], spent[i], value,
                                 line_rate, points))
    accrue = sum(p.accrue_points for p in priced)
    if s.earns_points:
        base = after_discount if s.accrue_on_redeemed else paid
        rates = {p.accrual_bp for p in priced if p.line.amount}
        lines.append(Line("accrue", {"points": accrue, "bp": base_rate, "base": base,
                                     "mixed": bool(rates - {base_rate})}))

    available_perks = _entitlements(s, tier, customer, now)
    for code in draft.use:
        perk = next((p for p in available_perks if p.code == code), None)
        if perk is None or perk.remaining <= 0:
            raise InvalidInput("perk_unavailable", code=code)
        used.append(code)
        lines.append(Line("perk_used", {"title": perk.title}))

    after_orders = (*customer.orders, PaidOrder(
        now, draft.total, draft.category, draft.asset_id,
        marks=tuple((line.category, draft.asset_of(line)) for line in items
                    if line.category and line.amount > 0)))
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
                 following, keep, stamps, tuple(available_perks), tuple(used), tuple(lines),
                 tuple(priced), s.point_value if s.mechanic is Mechanic.CASHBACK else None)


def _stamp_rewards(s: ProgramSettings, customer: CustomerState, draft: OrderDraft,
                   explained: list[Line]) -> tuple[list[int], list[str]]:
    """Each line's stamp reward: a card whose next order is rewarded gives its reward to
    its first matching line (one card per line), for that line's vehicle on a per-asset
    card. Returns the reward per line and the cards used."""
    items = draft.items
    rewards = [0] * len(items)
    used = []
    for card in s.stamp_cards:
        for i, line in enumerate(items):
            if line.category != card.category or line.amount <= 0 or rewards[i]:
                continue
            status = tiers.stamp_status(card, customer.orders, draft.asset_of(line))
            if status.reward_next:
                rewards[i] = order_lines.stamp_reward(card, line)
                used.append(f"stamp:{card.category}")
                explained.append(Line("stamp_reward", {
                    "title": card.title, "amount": rewards[i], "bp": card.reward_bp}))
            break
    return rewards, used


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


__all__ = ["BP", "CustomerState", "Line", "OrderDraft", "OrderLine", "PricedLine", "Quote",
           "discount_rate", "quote"]
