"""What a program costs a month, before it is launched.

The seeds' fourth mistake is "Нет учёта расходов": a program nobody costs out may be
losing money within half a year. :func:`simulate` turns a program and a few assumptions
(measured from the business's own orders where it has enough of them) into monthly
money: discounts, points that will be spent, stamp-card rewards, perks and gifts,
referral bonuses, SMS; and how many extra visits pay for it all. Exact rational
arithmetic inside, whole minor units out. The discount rate is the quote's own
(:func:`webapp.domain.quote.discount_rate`), so the estimate and the counter agree.

Steady state is assumed: points spent this month are the share of points earned that
customers eventually spend, and each tier holds a fixed share of customers (and, for
simplicity, of revenue and visits). What cannot be measured is an assumption the
estimate states: how much of a perk's limit is used, how many newcomers reach the gift's
visit, how many come through a friend. The wording is :mod:`webapp.domain.estimate_text`.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from webapp.domain.errors import InvalidInput
from webapp.domain.program import BP, Period, ProgramSettings, Tier, validate
from webapp.domain.quote import discount_rate

DEFAULT_SMS_PRICE = 300  # minor units per SMS when the business has set none (push is free)
# Plausible shares of customers per tier when nothing is measured: most stay low.
DEFAULT_TIER_MIX = {1: (BP,), 2: (7000, 3000), 3: (6000, 3000, 1000),
                    4: (5000, 3000, 1500, 500)}


@dataclass(frozen=True)
class Category:
    """A service category's share of visits and its own average check, as measured."""

    name: str
    share_bp: int
    average_check: int


@dataclass(frozen=True)
class Assumptions:
    """What the estimate takes as given: measured (see measured_orders) or typical."""

    customers: int = 300  # active customers
    visits_per_customer_month_bp: int = 2500  # 0.25 visits per customer a month
    average_check: int = 300_000  # minor units; the seeds' "средний чек 3 000 ₽"
    redemption_share_bp: int = 7000  # share of issued points eventually spent
    margin_bp: int = 3000  # gross margin on a service order
    messages_per_customer_month_bp: int = 10000  # SMS reminders per customer a month
    message_cost: int = DEFAULT_SMS_PRICE  # minor units per SMS: the business's own price
    # Share of revenue from each tier's customers (the rest: below tier 1). Default: a
    # plausible split of customers (DEFAULT_TIER_MIX), taken as the split of revenue.
    tier_mix_bp: tuple[int, ...] | None = None
    stamp_share_bp: int = 2500  # share of visits in a stamp card's category, if not measured
    categories: tuple[Category, ...] = ()  # measured shares; they win over stamp_share_bp
    new_customers_month_bp: int = 500  # new customers a month, per active customer
    measured_orders: int = 0  # how many orders these were measured from; 0: typical numbers
    perk_use_bp: int = 5000  # share of a perk's limit customers actually use
    gift_reach_bp: int = 5000  # share of new customers who come back for the gift's visit
    referral_share_bp: int = 2000  # share of new customers who come through a friend
    # Revenue by line kind ((kind, share), ...), measured from order lines; () with line
    # rules: a car service's typical 60 % works, 40 % parts (stated in the estimate).
    kind_mix_bp: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Estimate:
    """A month of the program in money (minor units), with each number explained."""

    monthly_revenue: int  # before discounts
    discounts: int
    points_cost: int  # points that will be spent, in money, including one-off bonuses
    stamp_rewards: int
    perks: int  # perks used and visit gifts given, at their value to the business
    messages: int
    total_cost: int
    cost_share_bp: int  # total_cost / monthly_revenue
    extra_visits_to_break_even: int  # per month: total_cost / (average_check × margin), up
    lines: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def simulate(settings: ProgramSettings, assumptions: Assumptions) -> Estimate:
    """Estimate a program's monthly cost; InvalidSetting/InvalidInput on impossible inputs."""
    validate(settings)
    a = _checked(assumptions)
    s = settings
    visits = Fraction(a.customers * a.visits_per_customer_month_bp, BP)
    revenue = visits * a.average_check
    lines: list[tuple[str, dict[str, Any]]] = [("revenue", {
        "customers": a.customers, "visits": round(visits), "average_check": a.average_check,
        "amount": _floor(revenue), "measured_orders": a.measured_orders})]
    discounts = spent = accrual = Fraction(0)
    kinds = _kind_mix(s, a, lines)
    for share, group_discount_bp, group_accrual_bp, cap_bp, _ in _groups(s, a):
        for kind_share, discount_bp, accrual_bp in _by_kind(s, kinds, group_discount_bp,
                                                            group_accrual_bp):
            group = revenue * share * kind_share
            accrual += share * kind_share * accrual_bp
            discounts += group * discount_bp / BP
            paid = group * (BP - discount_bp) / BP
            rate = Fraction(accrual_bp * a.redemption_share_bp, BP * BP)
            # The part paid with points earns nothing unless accrue_on_redeemed: x = r·(P − x).
            earned = paid * rate if s.accrue_on_redeemed else paid * rate / (1 + rate)
            spent += min(earned, paid * cap_bp / BP)
    if discounts:
        lines.append(("discounts", {"rate_bp": _floor(discounts * BP / revenue),
                                    "amount": _floor(discounts)}))
    points_cost = _floor(spent)
    if s.earns_points:
        lines.append(("points", {"accrual_bp": _floor(accrual), "amount": points_cost,
                                 "redemption_bp": a.redemption_share_bp}))
        points_cost += _bonuses(s, a, lines)
    stamp_rewards = 0
    for card in s.stamp_cards:
        measured = next((c for c in a.categories if c.name == card.category), None)
        category_share = measured.share_bp if measured else a.stamp_share_bp
        check = measured.average_check if measured else a.average_check
        rewards = visits * category_share / BP / card.every
        cost = _floor(rewards * check * card.reward_bp / BP)
        stamp_rewards += cost
        lines.append(("stamp", {"title": card.title, "every": card.every,
                                "rewards_x10": round(rewards * 10), "amount": cost}))
    perks = _perks(s, a, visits, lines)
    sms = Fraction(a.customers * a.messages_per_customer_month_bp, BP)
    messages = _floor(sms * a.message_cost)
    if messages:
        lines.append(("messages", {"count": round(sms), "unit": a.message_cost,
                                   "amount": messages}))
    total = _floor(discounts) + points_cost + stamp_rewards + perks + messages
    share_bp = _floor(Fraction(total * BP) / revenue) if revenue else 0
    per_visit = Fraction(a.average_check * a.margin_bp, BP)
    extra = -(-Fraction(total) // per_visit)  # rounded up: a part-visit pays nothing
    lines.append(("total", {"amount": total, "share_bp": share_bp}))
    lines.append(("break_even", {
        "visits": int(extra), "visits_now": round(visits), "margin_bp": a.margin_bp,
        "growth_bp": round(extra * BP / visits) if visits else 0}))
    return Estimate(_floor(revenue), _floor(discounts), points_cost, stamp_rewards, perks,
                    messages, total, share_bp, int(extra), lines)


def assumptions_from_history(orders: Iterable[tuple[datetime, int, int]], now: datetime,
                             months: int = 6, **known: Any) -> Assumptions:
    """Measure customers, visits and the average check from (closed_at, customer, total).

    Only orders in the last ``months`` calendar months count; other assumptions keep
    their defaults unless given in ``known``. No orders at all: the defaults.
    """
    start = months_before(now, months)
    count = total = 0
    seen: set[int] = set()
    for closed_at, customer_id, total_minor in orders:
        if start < closed_at <= now:
            count += 1
            total += total_minor
            seen.add(customer_id)
    if not count:
        return Assumptions(**known)
    return Assumptions(**{
        "customers": len(seen),
        "visits_per_customer_month_bp": round(Fraction(count * BP, len(seen) * months)),
        "average_check": round(Fraction(total, count)), "measured_orders": count, **known})


def categories_from_history(orders: Iterable[tuple[str | None, int]]) -> tuple[Category, ...]:
    """Shares of visits and average checks per service category from (category, total)."""
    counts: dict[str, list[int]] = {}
    count = 0
    for category, total_minor in orders:
        count += 1
        if category:
            counts.setdefault(category, []).append(total_minor)
    return tuple(Category(name, round(Fraction(len(totals) * BP, count)),
                          round(Fraction(sum(totals), len(totals))))
                 for name, totals in sorted(counts.items()))


TYPICAL_KIND_MIX = (("work", 6000), ("part", 4000))


def _kind_mix(s: ProgramSettings, a: Assumptions, lines: list[tuple[str, dict[str, Any]]]
              ) -> tuple[tuple[str, Fraction], ...]:
    """Revenue shares by line kind, when line rules make the kind matter (else one
    share for every line). States the assumption when it is not measured."""
    if not any(r.kind is not None for r in s.line_rules):
        return (("", Fraction(1)),)
    mix = a.kind_mix_bp or TYPICAL_KIND_MIX
    if min(share for _, share in mix) < 0 or sum(share for _, share in mix) != BP:
        raise InvalidInput("kind_mix_malformed", field="kind_mix_bp")
    if not a.kind_mix_bp:
        lines.append(("kind_mix", {"parts_bp": dict(mix).get("part", 0)}))
    return tuple((kind, Fraction(share, BP)) for kind, share in mix)


def _by_kind(s: ProgramSettings, kinds: tuple[tuple[str, Fraction], ...], discount_bp: int,
             accrual_bp: int) -> list[tuple[Fraction, int, int]]:
    """(share, discount, accrual) per line kind, as the quote prices lines of that kind."""
    rules = {r.kind: r for r in s.line_rules if r.kind is not None}
    found = []
    for kind, share in kinds:
        rule = rules.get(kind)
        found.append((share,
                      discount_bp if rule is None or rule.discounted else 0,
                      rule.accrual_bp if rule is not None and rule.accrual_bp is not None
                      and s.earns_points else accrual_bp))
    return found


def kind_mix_from_history(lines: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Revenue shares by line kind from (kind, amount) of the order lines kept."""
    totals: dict[str, int] = {}
    for kind, amount in lines:
        totals[kind] = totals.get(kind, 0) + max(amount, 0)
    whole = sum(totals.values())
    if not whole or set(totals) == {"other"}:  # one-line orders say nothing of the kinds
        return ()
    shares = [(kind, int(Fraction(amount * BP, whole))) for kind, amount in sorted(totals.items())]
    short = BP - sum(share for _, share in shares)  # rounding: the largest kind takes it
    biggest = max(range(len(shares)), key=lambda i: shares[i][1])
    shares[biggest] = (shares[biggest][0], shares[biggest][1] + short)
    return tuple(shares)


def _groups(s: ProgramSettings, a: Assumptions
            ) -> list[tuple[Fraction, int, int, int, Tier | None]]:
    """(share of revenue, discount, accrual, redeem cap, tier) for each tier and below
    tier 1 (tier None)."""
    base_accrual = s.accrual_bp if s.earns_points else 0
    if not s.tiers:
        return [(Fraction(1), discount_rate(s, None), base_accrual, s.redeem_cap_bp, None)]
    mix = a.tier_mix_bp or _default_mix(len(s.tiers))
    if len(mix) != len(s.tiers) or min(mix) < 0 or sum(mix) > BP:
        raise InvalidInput("tier_mix_malformed", field="tier_mix_bp")
    groups: list[tuple[Fraction, int, int, int, Tier | None]] = [
        (Fraction(BP - sum(mix), BP), discount_rate(s, None), base_accrual, s.redeem_cap_bp,
         None)]
    for share, t in zip(mix, s.tiers, strict=True):
        accrual = base_accrual if t.accrual_bp is None or not s.earns_points else t.accrual_bp
        cap = s.redeem_cap_bp if t.redeem_cap_bp is None else t.redeem_cap_bp
        groups.append((Fraction(share, BP), discount_rate(s, t), accrual, cap, t))
    return groups


def _perks(s: ProgramSettings, a: Assumptions, visits: Fraction,
           lines: list[tuple[str, dict[str, Any]]]) -> int:
    """Tier perks used and visit gifts given a month, at the value the owner gave them;
    a perk or gift without a value is named as not counted."""
    uses: dict[str, Fraction] = {}
    costs: dict[str, Fraction] = {}
    unpriced: list[str] = []
    for share, *_, tier in _groups(s, a):
        for perk in tier.entitlements if tier else ():
            if not perk.value_minor:
                if perk.title not in unpriced:
                    unpriced.append(perk.title)
                continue
            per_month = {Period.VISIT: visits, Period.MONTH: Fraction(a.customers),
                         Period.YEAR: Fraction(a.customers, 12)}[perk.per]
            used = per_month * share * perk.limit * a.perk_use_bp / BP
            uses[perk.title] = uses.get(perk.title, Fraction(0)) + used
            costs[perk.title] = costs.get(perk.title, Fraction(0)) + used * perk.value_minor
    total = 0
    for title, used in uses.items():
        cost = _floor(costs[title])
        total += cost
        lines.append(("perk", {"title": title, "uses_x10": round(used * 10), "amount": cost,
                               "use_bp": a.perk_use_bp}))
    if unpriced:
        lines.append(("not_counted", {"what": "perks", "titles": "\n".join(unpriced)}))
    b = s.bonuses
    if b.gift_visit is not None:
        if b.gift_value_minor:
            gifts = Fraction(a.customers * a.new_customers_month_bp * a.gift_reach_bp, BP * BP)
            cost = _floor(gifts * b.gift_value_minor)
            total += cost
            lines.append(("gift", {"title": b.gift_title, "visit": b.gift_visit,
                                   "gifts_x10": round(gifts * 10), "amount": cost,
                                   "reach_bp": a.gift_reach_bp}))
        else:
            lines.append(("not_counted", {"what": "gift", "visit": b.gift_visit}))
    return total


def _bonuses(s: ProgramSettings, a: Assumptions, lines: list[tuple[str, dict[str, Any]]]) -> int:
    """Welcome, birthday and referral points that will be spent, in money."""
    total = 0
    spent = Fraction(s.point_value * a.redemption_share_bp, BP)
    for code, points, people in (
            ("welcome", s.bonuses.welcome,
             Fraction(a.customers * a.new_customers_month_bp, BP)),
            ("birthday", s.bonuses.birthday, Fraction(a.customers, 12))):
        if points:
            cost = _floor(people * points * spent)
            total += cost
            lines.append((code, {"customers": round(people), "points": points,
                                 "amount": cost}))
    if s.bonuses.referral:  # to both sides, for each newcomer a friend brought
        friends = Fraction(a.customers * a.new_customers_month_bp * a.referral_share_bp,
                           BP * BP)
        cost = _floor(friends * 2 * s.bonuses.referral * spent)
        total += cost
        lines.append(("referral", {"customers": round(friends), "points": s.bonuses.referral,
                                   "share_bp": a.referral_share_bp, "amount": cost}))
    return total


def _default_mix(n: int) -> tuple[int, ...]:
    if n in DEFAULT_TIER_MIX:
        return DEFAULT_TIER_MIX[n]
    weights = [2 ** (n - 1 - i) for i in range(n)]  # each tier half the one below
    shares = [BP * weight // sum(weights) for weight in weights]
    return (shares[0] + BP - sum(shares), *shares[1:])


def _checked(a: Assumptions) -> Assumptions:
    for name, low, high in (("customers", 0, 10**7), ("visits_per_customer_month_bp", 0, 10**6),
                            ("average_check", 1, 10**11), ("redemption_share_bp", 0, BP),
                            ("margin_bp", 1, BP), ("messages_per_customer_month_bp", 0, 10**6),
                            ("message_cost", 0, 10**6), ("stamp_share_bp", 0, BP),
                            ("new_customers_month_bp", 0, BP), ("perk_use_bp", 0, BP),
                            ("gift_reach_bp", 0, BP), ("referral_share_bp", 0, BP)):
        value = getattr(a, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput("assumption_range", field=name, low=low, high=high)
    return a


def months_before(now: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (31 March - 1 = 28/29 February)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    return now.replace(year=year, month=month + 1,
                       day=min(now.day, monthrange(year, month + 1)[1]))


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator
