"""What a program costs a month, before it is launched.

The seeds' fourth mistake is "Нет учёта расходов": a program nobody costs out may be
losing money within half a year. :func:`simulate` turns a program and a few assumptions
(measured from the business's own orders where it has enough of them) into monthly
money: discounts, points that will be spent, stamp-card rewards, SMS; and how many extra
visits pay for it all. Exact rational arithmetic inside, whole minor units out.

Steady state is assumed: points spent this month are the share of points earned that
customers eventually spend, and each tier holds a fixed share of customers (and, for
simplicity, of revenue).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from webapp.domain import wording as w
from webapp.domain.errors import InvalidInput
from webapp.domain.money import format_money
from webapp.domain.program import BP, Mechanic, ProgramSettings, validate

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
    message_cost: int = 300  # minor units per SMS (push is free; the seeds: from 500 ₽/month)
    # Share of revenue from each tier's customers (the rest: below tier 1). Default: a
    # plausible split of customers (DEFAULT_TIER_MIX), taken as the split of revenue.
    tier_mix_bp: tuple[int, ...] | None = None
    stamp_share_bp: int = 2500  # share of visits in a stamp card's category, if not measured
    categories: tuple[Category, ...] = ()  # measured shares; they win over stamp_share_bp
    new_customers_month_bp: int = 500  # new customers a month, per active customer
    measured_orders: int = 0  # how many orders these were measured from; 0: typical numbers


@dataclass(frozen=True)
class Estimate:
    """A month of the program in money (minor units), with each number explained."""

    monthly_revenue: int  # before discounts
    discounts: int
    points_cost: int  # points that will be spent, in money, including one-off bonuses
    stamp_rewards: int
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
    for share, discount_bp, accrual_bp, cap_bp in _groups(s, a):
        group = revenue * share
        accrual += share * accrual_bp
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
    sms = Fraction(a.customers * a.messages_per_customer_month_bp, BP)
    messages = _floor(sms * a.message_cost)
    if messages:
        lines.append(("messages", {"count": round(sms), "unit": a.message_cost,
                                   "amount": messages}))
    # Costs nobody can know from the settings: say so rather than guess.
    if s.earns_points and s.bonuses.referral:
        lines.append(("not_counted", {"what": "referral"}))
    if s.bonuses.gift_visit is not None:
        lines.append(("not_counted", {"what": "gift", "visit": s.bonuses.gift_visit}))
    if any(t.perks or t.entitlements for t in s.tiers):
        lines.append(("not_counted", {"what": "perks"}))
    total = _floor(discounts) + points_cost + stamp_rewards + messages
    share_bp = _floor(Fraction(total * BP) / revenue) if revenue else 0
    per_visit = Fraction(a.average_check * a.margin_bp, BP)
    extra = -(-Fraction(total) // per_visit)  # rounded up: a part-visit pays nothing
    lines.append(("total", {"amount": total, "share_bp": share_bp}))
    lines.append(("break_even", {
        "visits": int(extra), "visits_now": round(visits), "margin_bp": a.margin_bp,
        "growth_bp": round(extra * BP / visits) if visits else 0}))
    return Estimate(_floor(revenue), _floor(discounts), points_cost, stamp_rewards, messages,
                    total, share_bp, int(extra), lines)


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


def estimate_text(estimate: Estimate, lang: str, currency: str) -> list[str]:
    """One line per number of the estimate, in the customer-facing language."""
    ru = w.is_ru(lang)

    def m(minor: int) -> str:  # an estimate in whole roubles: kopecks would be false precision
        return format_money(round(Fraction(minor, 100)) * 100, currency, lang)

    texts: list[str] = []
    for code, p in estimate.lines:
        texts.append(_LINES[code][0 if ru else 1](p, m, ru))
    return texts


# Each line's text: (ru, en), given the params, a money formatter and the language.
_Render = Any
_LINES: dict[str, tuple[_Render, _Render]] = {
    "revenue": (
        lambda p, m, ru: f"Выручка в месяц — {m(p['amount'])}: {p['customers']} "
        f"{w.plural(p['customers'], 'активный клиент', 'активных клиента', 'активных клиентов')},"
        f" {p['visits']} {w.plural(p['visits'], 'визит', 'визита', 'визитов')} по"
        f" {m(p['average_check'])} ({_source(p, ru)}).",
        lambda p, m, ru: f"Revenue a month: {m(p['amount'])} from"
        f" {_en(p['customers'], 'active customer')}, {_en(p['visits'], 'visit')} at"
        f" {m(p['average_check'])} ({_source(p, ru)})."),
    "discounts": (
        lambda p, m, ru: f"Скидки — {m(p['amount'])} ({w.percent(p['rate_bp'], ru)} выручки).",
        lambda p, m, ru: f"Discounts: {m(p['amount'])} ({w.percent(p['rate_bp'], ru)} of"
        f" revenue)."),
    "points": (
        lambda p, m, ru: f"Бонусы — {m(p['amount'])}: начисляется"
        f" {w.percent(p['accrual_bp'], ru)}, клиенты тратят"
        f" {w.percent(p['redemption_bp'], ru)} начисленного.",
        lambda p, m, ru: f"Points: {m(p['amount'])}; {w.percent(p['accrual_bp'], ru)} earned,"
        f" {w.percent(p['redemption_bp'], ru)} of it spent."),
    "welcome": (
        lambda p, m, ru: f"Бонусы за регистрацию — {m(p['amount'])} ({p['customers']}"
        f" {w.plural(p['customers'], 'новый клиент', 'новых клиента', 'новых клиентов')} в"
        f" месяц).",
        lambda p, m, ru: f"Welcome bonuses: {m(p['amount'])}"
        f" ({_en(p['customers'], 'new customer')} a month)."),
    "birthday": (
        lambda p, m, ru: f"Бонусы на день рождения — {m(p['amount'])} ({p['customers']}"
        f" {w.plural(p['customers'], 'именинник', 'именинника', 'именинников')} в месяц).",
        lambda p, m, ru: f"Birthday bonuses: {m(p['amount'])}"
        f" ({_en(p['customers'], 'birthday')} a month)."),
    "stamp": (
        lambda p, m, ru: f"«{w.clean(p['title'])}» — {m(p['amount'])}"
        f" ({_tenths(p['rewards_x10'], ru)} {_reward_ru(p['rewards_x10'])} в месяц).",
        lambda p, m, ru: f"“{w.clean(p['title'])}”: {m(p['amount'])}"
        f" ({_tenths(p['rewards_x10'], ru)} reward{'s' * (p['rewards_x10'] != 10)} a"
        f" month)."),
    "messages": (
        lambda p, m, ru: f"SMS-напоминания — {m(p['amount'])} ({p['count']} × {m(p['unit'])}).",
        lambda p, m, ru: f"SMS reminders: {m(p['amount'])} ({p['count']} × {m(p['unit'])})."),
    "not_counted": (
        lambda p, m, ru: {"referral": "Бонусы за друзей не учтены: их окупают новые клиенты.",
                          "gift": f"Подарок на {p.get('visit')}-й визит не учтён: его стоимость"
                                  f" не указана.",
                          "perks": "Привилегии уровней (бесплатная диагностика и другие) не"
                                   " учтены."}[p["what"]],
        lambda p, m, ru: {"referral": "Referral bonuses are not counted: new customers pay"
                                      " for them.",
                          "gift": f"The gift on visit {p.get('visit')} is not counted: its cost"
                                  f" is not known.",
                          "perks": "Tier perks (free diagnostics and the like) are not"
                                   " counted."}[p["what"]]),
    "total": (
        lambda p, m, ru: f"Итого программа стоит {m(p['amount'])} в месяц —"
        f" {w.percent(p['share_bp'], ru)} выручки.",
        lambda p, m, ru: f"In all, the program costs {m(p['amount'])} a month:"
        f" {w.percent(p['share_bp'], ru)} of revenue."),
    "break_even": (
        lambda p, m, ru: f"Она окупается, если при марже {w.percent(p['margin_bp'], ru)}"
        f" клиенты придут ещё {p['visits']} {w.plural(p['visits'], 'раз', 'раза', 'раз')} в"
        f" месяц (+{w.percent(p['growth_bp'], ru)} к нынешним {p['visits_now']}"
        f" {w.plural(p['visits_now'], 'визиту', 'визитам', 'визитам')}).",
        lambda p, m, ru: f"It pays for itself at a {w.percent(p['margin_bp'], ru)} margin with"
        f" {p['visits']} extra visits a month (+{w.percent(p['growth_bp'], ru)} on today's"
        f" {p['visits_now']})."),
}


def _en(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _tenths(n: int, ru: bool) -> str:
    """A count in tenths, so that 0.4 rewards a month do not show as 0."""
    whole, tenth = divmod(n, 10)
    return f"{whole}{',' if ru else '.'}{tenth}" if tenth else str(whole)


def _reward_ru(x10: int) -> str:
    if x10 % 10:  # a fraction takes the genitive singular: "0,4 награды"
        return "награды"
    return w.plural(x10 // 10, "награда", "награды", "наград")


def _source(p: dict[str, Any], ru: bool) -> str:
    n = p["measured_orders"]
    if not n:
        return "типичные цифры" if ru else "typical numbers"
    return (f"по {n} {w.plural(n, 'заказу', 'заказам', 'заказам')} за полгода" if ru
            else f"measured from {n} orders")


def _groups(s: ProgramSettings, a: Assumptions) -> list[tuple[Fraction, int, int, int]]:
    """(share of revenue, discount, accrual, redeem cap) for each tier and below tier 1."""
    base_discount = s.discount_bp if s.mechanic is Mechanic.DISCOUNT else 0
    base_accrual = s.accrual_bp if s.earns_points else 0
    if not s.tiers:
        return [(Fraction(1), base_discount, base_accrual, s.redeem_cap_bp)]
    mix = a.tier_mix_bp or _default_mix(len(s.tiers))
    if len(mix) != len(s.tiers) or min(mix) < 0 or sum(mix) > BP:
        raise InvalidInput("tier_mix_malformed", field="tier_mix_bp")
    groups = [(Fraction(BP - sum(mix), BP), base_discount, base_accrual, s.redeem_cap_bp)]
    for share, t in zip(mix, s.tiers, strict=True):
        accrual = base_accrual if t.accrual_bp is None or not s.earns_points else t.accrual_bp
        cap = s.redeem_cap_bp if t.redeem_cap_bp is None else t.redeem_cap_bp
        # As the quote does: a tier's own discount replaces the card's, 0 keeps the card's.
        groups.append((Fraction(share, BP), t.discount_bp or base_discount, accrual, cap))
    return groups


def _bonuses(s: ProgramSettings, a: Assumptions, lines: list[tuple[str, dict[str, Any]]]) -> int:
    """Welcome and birthday points that will be spent, in money."""
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
                            ("new_customers_month_bp", 0, BP)):
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
