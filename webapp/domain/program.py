"""Loyalty program settings: one main mechanic, optional tiers and stamp cards,
one-off bonuses, expiry. Pure data with validation; no I/O.

Percentages are integer basis points (500 = 5 %) and money is integer minor units,
so every computation is exact; rounding to whole points happens in one place,
:func:`points_for`, always down.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from webapp.domain.errors import InvalidInput

BP = 10_000  # basis points in 100 %
MONTH = timedelta(days=30)  # a program's months (expiry, tier windows) are 30 days


class InvalidSetting(InvalidInput):
    """A program setting that cannot work; the message names the field."""

    code = "invalid_setting"


class Mechanic(StrEnum):
    DISCOUNT = "discount"  # a fixed percentage off, no points
    BONUS = "bonus"  # earn X % as points, pay up to Y % of an order with them
    CASHBACK = "cashback"  # the same arithmetic, told as money back
    NONE = "none"  # tiers or stamp cards alone


class Period(StrEnum):
    VISIT = "visit"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class Entitlement:
    """A perk the counter can mark as used, e.g. free diagnostics once per visit."""

    code: str
    title: str
    limit: int = 1
    per: Period = Period.VISIT
    value_minor: int = 0  # what one use costs the business (the estimate); 0: not given


@dataclass(frozen=True)
class Tier:
    """A level reached by paid order count OR paid spend, whichever comes first."""

    name: str
    min_orders: int | None = None
    min_spend: int | None = None  # minor units
    discount_bp: int = 0
    accrual_bp: int | None = None  # None: the program's rate
    redeem_cap_bp: int | None = None
    perks: tuple[str, ...] = ()
    entitlements: tuple[Entitlement, ...] = ()


@dataclass(frozen=True)
class StampCard:
    """Every N-th order of a service category is free or discounted."""

    category: str
    title: str
    every: int
    reward_bp: int = BP  # 10 000 = free: a share of the matching line
    per_asset: bool = False  # count per vehicle/device instead of per customer
    reward_minor: int | None = None  # a fixed reward instead, up to the line's amount


LINE_KINDS = ("work", "part", "other")


@dataclass(frozen=True)
class LineRule:
    """How the lines of one kind (work, part, other) or one category earn and discount.

    A category's rule wins over its kind's. ``accrual_bp`` replaces the program's and
    the tier's rate on those lines (0: no points on parts); ``discounted=False`` keeps
    the card's and the tier's discount off them (the margin on parts).
    """

    kind: str | None = None
    category: str | None = None
    accrual_bp: int | None = None
    discounted: bool = True


@dataclass(frozen=True)
class Bonuses:
    welcome: int = 0
    referral: int = 0  # to both sides, after the referee's first paid order
    referral_monthly_limit: int = 10  # per referrer
    birthday: int = 0
    birthday_window_days: int = 7
    gift_visit: int | None = None  # a gift on the N-th visit
    gift_title: str = ""
    gift_value_minor: int = 0  # what the gift costs the business (the estimate); 0: not given


@dataclass(frozen=True)
class ProgramSettings:
    mechanic: Mechanic = Mechanic.BONUS
    discount_bp: int = 0
    accrual_bp: int = 500
    redeem_cap_bp: int = 2000
    accrue_on_redeemed: bool = False  # does the part paid with points earn points?
    min_order_for_redeem: int = 0  # minor units
    point_value: int = 100  # minor units one point is worth (100 = 1 ₽)
    expiry_months: int | None = 12
    tiers: tuple[Tier, ...] = ()
    tier_window_months: int | None = None  # None: lifetime
    downgrade_grace_days: int | None = None  # None: tiers are never lost
    stamp_cards: tuple[StampCard, ...] = ()
    bonuses: Bonuses = field(default_factory=Bonuses)
    line_rules: tuple[LineRule, ...] = ()

    @property
    def earns_points(self) -> bool:
        return self.mechanic in (Mechanic.BONUS, Mechanic.CASHBACK)


def points_expire_at(settings: ProgramSettings, now: datetime) -> datetime | None:
    """When points earned at ``now`` expire under ``settings`` (None: never)."""
    return now + MONTH * settings.expiry_months if settings.expiry_months else None


def points_for(amount_minor: int, rate_bp: int, point_value: int) -> int:
    """Points earned on an amount at a rate: the one place points are rounded (down)."""
    if amount_minor <= 0 or rate_bp <= 0:
        return 0
    return amount_minor * rate_bp // (BP * point_value)


def share_of(amount_minor: int, rate_bp: int) -> int:
    """A percentage of an amount of money, rounded down to a minor unit."""
    return max(amount_minor, 0) * rate_bp // BP


# -- validation ---------------------------------------------------------------------


@dataclass(frozen=True)
class Warning:
    """An allowed but costly choice, with what it costs (the seeds' mistakes)."""

    field: str
    code: str
    params: dict[str, Any]


def validate(settings: ProgramSettings) -> list[Warning]:
    """Raise InvalidSetting for impossible values; return warnings for over-generous ones."""
    s = settings
    _bp("discount_bp", s.discount_bp, allow_full=False)
    _bp("accrual_bp", s.accrual_bp, allow_full=False)
    _bp("redeem_cap_bp", s.redeem_cap_bp)
    _count("min_order_for_redeem", s.min_order_for_redeem, low=0, high=10**11)
    _count("point_value", s.point_value, low=1, high=100_000)
    if s.expiry_months is not None:
        _count("expiry_months", s.expiry_months, low=1, high=120)
    if s.mechanic is Mechanic.DISCOUNT and s.discount_bp <= 0:
        raise InvalidSetting("discount_zero", field="discount_bp")
    if s.earns_points and s.accrual_bp <= 0:
        raise InvalidSetting("accrual_zero", field="accrual_bp")
    if s.earns_points and s.redeem_cap_bp <= 0:  # the seeds: points nobody can spend
        raise InvalidSetting("points_unspendable", field="redeem_cap_bp")
    if s.mechanic is Mechanic.NONE and not (s.tiers or s.stamp_cards):
        raise InvalidSetting("program_empty", field="mechanic")
    _validate_tiers(s)
    for i, card in enumerate(s.stamp_cards):
        _count(f"stamp_cards[{i}].every", card.every, low=2, high=100)
        _bp(f"stamp_cards[{i}].reward_bp", card.reward_bp)
        _text(f"stamp_cards[{i}].category", card.category, 64)
        _text(f"stamp_cards[{i}].title", card.title, 100)
        if card.reward_minor is not None:
            _count(f"stamp_cards[{i}].reward_minor", card.reward_minor, low=1, high=10**11)
        elif card.reward_bp <= 0:
            raise InvalidSetting("stamp_reward_zero",
                                 field=f"stamp_cards[{i}].reward_bp")
    _validate_line_rules(s)
    b = s.bonuses
    for name in ("welcome", "referral", "birthday"):
        _count(f"bonuses.{name}", getattr(b, name), low=0, high=1_000_000)
    _count("bonuses.referral_monthly_limit", b.referral_monthly_limit, low=0, high=1000)
    _count("bonuses.birthday_window_days", b.birthday_window_days, low=0, high=31)
    if b.gift_visit is not None:
        _count("bonuses.gift_visit", b.gift_visit, low=2, high=1000)
        _text("bonuses.gift_title", b.gift_title, 100)
    _count("bonuses.gift_value_minor", b.gift_value_minor, low=0, high=10**11)
    if not s.earns_points and (b.welcome or b.referral or b.birthday):
        raise InvalidSetting("bonuses_need_points", field="bonuses")
    return _warnings(s)


def _validate_tiers(s: ProgramSettings) -> None:
    previous: Tier | None = None
    for i, tier in enumerate(s.tiers):
        where = f"tiers[{i}]"
        _text(f"{where}.name", tier.name, 40)
        if tier.min_orders is None and tier.min_spend is None:
            raise InvalidSetting("tier_threshold_missing", field=where)
        if tier.min_orders is not None:
            _count(f"{where}.min_orders", tier.min_orders, low=0, high=10_000)
        if tier.min_spend is not None:
            _count(f"{where}.min_spend", tier.min_spend, low=0, high=10**11)
        _bp(f"{where}.discount_bp", tier.discount_bp, allow_full=False)
        if tier.accrual_bp is not None:
            _bp(f"{where}.accrual_bp", tier.accrual_bp, allow_full=False)
        if tier.redeem_cap_bp is not None:
            _bp(f"{where}.redeem_cap_bp", tier.redeem_cap_bp)
        for j, ent in enumerate(tier.entitlements):
            _text(f"{where}.entitlements[{j}].title", ent.title, 100)
            _count(f"{where}.entitlements[{j}].limit", ent.limit, low=1, high=1000)
            _count(f"{where}.entitlements[{j}].value_minor", ent.value_minor, low=0,
                   high=10**11)
        if previous is not None and not _above(tier, previous):
            raise InvalidSetting("tier_order", field=where)
        previous = tier
    if s.tier_window_months is not None:
        _count("tier_window_months", s.tier_window_months, low=1, high=120)
    if s.downgrade_grace_days is not None:
        if s.tier_window_months is None:
            raise InvalidSetting("downgrade_needs_window",
                                 field="downgrade_grace_days")
        _count("downgrade_grace_days", s.downgrade_grace_days, low=0, high=365)


def _validate_line_rules(s: ProgramSettings) -> None:
    seen = set()
    for i, rule in enumerate(s.line_rules):
        where = f"line_rules[{i}]"
        if (rule.kind is None) == (rule.category is None):
            raise InvalidSetting("line_rule_target", field=where)
        if rule.kind is not None and rule.kind not in LINE_KINDS:
            raise InvalidSetting("line_rule_target", field=where)
        if rule.category is not None:
            _text(f"{where}.category", rule.category, 64)
        if rule.accrual_bp is not None:
            _bp(f"{where}.accrual_bp", rule.accrual_bp, allow_full=False)
        if not isinstance(rule.discounted, bool):
            raise InvalidSetting("settings_malformed", field=where, error="discounted")
        target = (rule.kind, rule.category)
        if target in seen:
            raise InvalidSetting("line_rule_twice", field=where)
        seen.add(target)


def _above(tier: Tier, lower: Tier) -> bool:
    """Higher on every path both tiers share, strictly on one, or reached by a new path."""
    shared = [(tier.min_orders, lower.min_orders), (tier.min_spend, lower.min_spend)]
    both = [(a, b) for a, b in shared if a is not None and b is not None]
    if any(a < b for a, b in both):
        return False
    new_path = any(a is not None and b is None for a, b in shared)
    return new_path or any(a > b for a, b in both)


def _warnings(s: ProgramSettings) -> list[Warning]:
    found: list[Warning] = []
    top_discount = max([s.discount_bp, *(t.discount_bp for t in s.tiers)])
    if top_discount > 2000:
        found.append(Warning("discount_bp", "discount_over_20", {"bp": top_discount}))
    caps = [s.redeem_cap_bp, *(t.redeem_cap_bp for t in s.tiers if t.redeem_cap_bp)]
    if s.earns_points and max(caps) > 5000:
        found.append(Warning("redeem_cap_bp", "redeem_cap_over_50", {"bp": max(caps)}))
    rates = [s.accrual_bp, *(t.accrual_bp for t in s.tiers if t.accrual_bp)]
    if s.earns_points and max(rates) > 1000:
        found.append(Warning("accrual_bp", "accrual_over_10", {"bp": max(rates)}))
    if s.earns_points and s.expiry_months is not None and s.expiry_months < 3:
        found.append(Warning("expiry_months", "expiry_under_3_months",
                             {"months": s.expiry_months}))
    for card in s.stamp_cards:
        if card.every < 4 and card.reward_bp == BP:
            found.append(Warning("stamp_cards", "stamp_every_under_4", {"every": card.every}))
    return found


def _bp(name: str, value: object, allow_full: bool = True) -> None:
    high = BP if allow_full else BP - 1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise InvalidSetting("setting_percent_range", field=name, high_bp=high)


def _count(name: str, value: object, *, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSetting("setting_count_range", field=name, low=low,
                             high=high)


def _text(name: str, value: object, limit: int) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidSetting("setting_text_length", field=name, limit=limit)


# -- (de)serialisation: settings are stored as JSON with each program version ----------


def to_dict(settings: ProgramSettings) -> dict[str, Any]:
    return asdict(settings)


def from_dict(data: dict[str, Any]) -> ProgramSettings:
    """Build settings from stored or submitted JSON; InvalidSetting on a wrong shape."""
    try:
        tiers = tuple(
            Tier(**{**t, "perks": tuple(t.get("perks", ())),
                    "entitlements": tuple(Entitlement(**{**e, "per": Period(e.get(
                        "per", "visit"))}) for e in t.get("entitlements", ()))})
            for t in data.get("tiers", ())
        )
        cards = tuple(StampCard(**c) for c in data.get("stamp_cards", ()))
        bonuses = Bonuses(**data.get("bonuses", {}))
        rules = tuple(LineRule(**r) for r in data.get("line_rules", ()))
        rest = {k: v for k, v in data.items()
                if k not in ("tiers", "stamp_cards", "bonuses", "line_rules")}
        rest["mechanic"] = Mechanic(rest.get("mechanic", "bonus"))
        return ProgramSettings(**rest, tiers=tiers, stamp_cards=cards, bonuses=bonuses,
                               line_rules=rules)
    except (TypeError, ValueError, AttributeError) as error:
        raise InvalidSetting("settings_malformed", error=str(error)) from None


def with_changes(settings: ProgramSettings, **changes: Any) -> ProgramSettings:
    """A copy with some fields changed (presets edited on the owner page)."""
    return replace(settings, **changes)
